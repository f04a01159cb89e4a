package commentsvc

import (
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"

	"github.com/parvis/parvis/internal/antispam"
	"github.com/parvis/parvis/internal/site"
)

//go:embed templates
var templateFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{"T": msg}).ParseFS(templateFS, "templates/*.html"))

// fieldError is one field's fault, as the answer shows it.
type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// fail answers a submission refused before what it holds could be read.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, status int, code, message string, fields map[string]string) {
	s.failForm(w, r, nil, status, code, message, fields)
}

// failForm answers a refused submission with what is wrong, per field where it applies:
// JSON for scripts; for a browser, the page the form was sent from with the form filled
// again with values (what was posted, nil when it could not be read) and each message next
// to its field (refill.go). Without the site's pages the service's own form stands in for
// it; a refusal that no correction mends (an unknown form, a post from another site) gets a
// page that says so, with a way back.
func (s *Service) failForm(w http.ResponseWriter, r *http.Request, values url.Values, status int, code, message string, fields map[string]string) {
	s.refuse(w, r, values, chosenFiles(r), status, code, message, fields)
}

// failTooLarge answers a post larger than its form allows, before its body was read: for a
// browser, the text it holds is read past its files' bytes (salvage), so that the form comes
// back filled, saying which files to choose again.
func (s *Service) failTooLarge(w http.ResponseWriter, r *http.Request, message string) {
	var values url.Values
	var files map[string]bool
	if !wantsJSON(r) {
		values, files = salvage(r)
	}
	s.refuse(w, r, values, files, http.StatusRequestEntityTooLarge, "too_large", message, nil)
}

func (s *Service) refuse(w http.ResponseWriter, r *http.Request, values url.Values, files map[string]bool, status int, code, message string, fields map[string]string) {
	if wantsJSON(r) {
		body := map[string]any{"error": code, "message": message}
		if len(fields) > 0 {
			body["fields"] = fields
		}
		writeJSON(w, status, body)
		return
	}
	name := formName(r)
	if _, known := s.forms[name]; known && code != "origin" && code != "unknown_form" {
		rf := &refill{form: name, values: values, fields: fields, lead: message, files: files, noCarry: values == nil}
		if len(fields) == 1 && message == msg(s.cfg.Language, "invalid") {
			rf.lead = "" // the one message says it better
		}
		if s.answerForm(w, r, status, rf) {
			return
		}
	}
	var list []fieldError
	for f, m := range fields {
		list = append(list, fieldError{f, m})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Field < list[j].Field })
	back := r.Referer()
	if back == "" || !s.safeRedirect(r, back) {
		back = s.cfg.RelURL("/")
	}
	s.servicePage(w, status, "error", map[string]any{
		"Lang": s.cfg.Language, "Site": s.cfg.Title, "Title": msg(s.cfg.Language, "error_title"),
		"Message": message, "Fields": list, "Back": back,
	})
}

// answerForm fills rf's form in the page it was sent from, else in the service's own form
// page, with a fresh token and its question, and answers with it. It reports false when
// the form is not one of the service's.
func (s *Service) answerForm(w http.ResponseWriter, r *http.Request, status int, rf *refill) bool {
	if rf.token == "" {
		rf.token = s.checker.Issue(rf.form, s.now())
	}
	if rf.quest == nil && antispam.Difficulty(rf.token) > 0 {
		if q, ok := s.checker.QuestionFor(rf.token, s.cfg.Language); ok {
			rf.quest = &q
		}
	}
	fp := s.findForm(r, rf.form, rf.values)
	if fp == nil {
		fp = s.plainForm(r, rf)
	}
	if fp == nil {
		return false
	}
	s.fill(fp, rf)
	s.writeSitePage(w, status, fp.doc)
	return true
}

// formName is the form a request posts to, on either route.
func formName(r *http.Request) string {
	if n := r.PathValue("form"); n != "" {
		return n
	}
	return r.PathValue("property")
}

// chosenFiles lists the file inputs a multipart post carried a file in.
func chosenFiles(r *http.Request) map[string]bool {
	if r.MultipartForm == nil {
		return nil
	}
	out := map[string]bool{}
	for k, l := range r.MultipartForm.File {
		for _, fh := range l {
			if fh.Filename != "" || fh.Size > 0 {
				out[k] = true
			}
		}
	}
	return out
}

func (s *Service) page(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		s.log.Error("rendering a page", "page", name, "err", err)
	}
}

func hasComment(l []*site.Comment, id string) bool {
	for _, c := range l {
		if c.ID == id || hasComment(c.Replies, id) {
			return true
		}
	}
	return false
}

// messages holds the service's strings, in the site's language.
var messages = map[string]map[string]string{
	"fr": {
		"unknown_form":         "Le formulaire « %s » n’existe pas.",
		"origin":               "Ce formulaire doit être envoyé depuis le site.",
		"media_type":           "Le formulaire doit être envoyé comme un formulaire web (urlencoded ou multipart).",
		"too_large":            "L’envoi est trop volumineux (%d Ko au plus).",
		"malformed":            "L’envoi est mal formé.",
		"invalid":              "Certains champs sont à corriger.",
		"unknown_field":        "Le formulaire contient un champ inattendu.",
		"invalid_option":       "Le formulaire ne peut pas être envoyé tel quel : rechargez la page et réessayez.",
		"unknown_page":         "La page concernée n’existe pas.",
		"share_key":            "La clé de ce dossier partagé a changé : ouvrez le dernier lien que vous avez reçu, puis envoyez à nouveau.",
		"comments_closed":      "Les commentaires sont fermés sur cette page.",
		"unknown_parent":       "Le commentaire auquel vous répondez n’est pas publié.",
		"rate":                 "Trop d’envois en peu de temps. Merci de réessayer dans un moment.",
		"spam_honeypot":        "Votre envoi a été refusé.",
		"spam_too_fast":        "Le formulaire a été envoyé trop vite. Merci de patienter quelques secondes avant de l’envoyer.",
		"spam_token":           "Le formulaire a expiré ou est invalide. Merci de recharger la page.",
		"spam_token_expired":   "Le formulaire a expiré. Merci de recharger la page.",
		"spam_challenge":       "La réponse à la question de vérification est incorrecte.",
		"spam_links":           "Votre message contient trop de liens.",
		"spam_blocked_word":    "Votre message contient un mot refusé par la modération.",
		"unavailable":          "Le service est momentanément indisponible. Votre envoi n’a pas été enregistré : merci de réessayer.",
		"error_title":          "Votre envoi n’a pas pu être enregistré",
		"back":                 "Revenir au formulaire",
		"receipt_title":        "Suivi de votre contribution",
		"status_pending":       "En attente de modération",
		"status_published":     "Publiée",
		"status_rejected":      "Refusée",
		"receipt_pending":      "Votre contribution a bien été reçue. Elle sera publiée après relecture par l’équipe de modération.",
		"receipt_published":    "Votre contribution est en ligne.",
		"receipt_rejected":     "Votre contribution n’a pas été retenue.",
		"reason":               "Motif",
		"see":                  "La voir sur le site",
		"status_queued":        "Reçue",
		"receipt_queued":       "Votre contribution a bien été reçue. Elle est transmise à l’équipe de modération, qui la relira avant publication.",
		"sent_form":            "Formulaire",
		"sent_what":            "Votre contribution",
		"sent_where":           "Où elle paraîtra",
		"where_site":           "Sur le site, une fois acceptée",
		"follow_title":         "Suivre votre contribution",
		"follow_text":          "Cette page indique où en est votre contribution. Pour y revenir plus tard, ajoutez-la à vos favoris ou copiez son adresse\u00a0:",
		"back_page":            "Revenir à la page «\u00a0%s\u00a0»",
		"back_home":            "Revenir à l’accueil du site",
		"title_error":          "Erreur\u00a0: %s",
		"file_again":           "Le fichier «\u00a0%s\u00a0» n’a pas pu être conservé\u00a0: choisissez-le à nouveau.",
		"nothing_carried":      "Ce que vous aviez saisi n’a pas pu être conservé ici : le bouton «\u00a0Retour\u00a0» de votre navigateur le retrouve souvent.",
		"answer_needed":        "Répondez à la question de vérification, puis envoyez à nouveau.",
		"answer_wrong":         "La réponse n’était pas la bonne\u00a0: répondez à cette nouvelle question, puis envoyez à nouveau.",
		"send":                 "Envoyer",
		"question_help":        "Cette question vérifie que le formulaire est rempli par une personne. Les nombres peuvent s’écrire en chiffres ou en lettres.",
		"received":             "Reçue le",
		"not_found":            "Aucune contribution ne correspond à ce lien.",
		"mail_published_title": "Votre contribution est publiée",
		"mail_published_body":  "Bonjour,\n\nVotre contribution est en ligne : %s\n\nMerci de votre participation.\n",
		"mail_rejected_title":  "Votre contribution n’a pas été retenue",
		"mail_rejected_body":   "Bonjour,\n\nVotre contribution n’a pas été retenue.\nMotif : %s\n\nSuivi : %s\n",
		"closed_elsewhere":     "Refusée par la modération.",
	},
	"en": {
		"unknown_form":         "There is no form %q.",
		"origin":               "This form must be sent from the site.",
		"media_type":           "The form must be sent as a web form (urlencoded or multipart).",
		"too_large":            "The submission is too large (%d KB at most).",
		"malformed":            "The submission is malformed.",
		"invalid":              "Some fields need correcting.",
		"unknown_field":        "The form holds an unexpected field.",
		"invalid_option":       "The form cannot be sent as it is: reload the page and try again.",
		"unknown_page":         "The page concerned does not exist.",
		"share_key":            "The key of this shared dossier has changed: open the latest link you were sent, then send again.",
		"comments_closed":      "Comments are closed on this page.",
		"unknown_parent":       "The comment you are answering is not published.",
		"rate":                 "Too many submissions in a short time. Please try again in a moment.",
		"spam_honeypot":        "Your submission was refused.",
		"spam_too_fast":        "The form was sent too quickly. Please wait a few seconds before sending it.",
		"spam_token":           "The form has expired or is invalid. Please reload the page.",
		"spam_token_expired":   "The form has expired. Please reload the page.",
		"spam_challenge":       "The answer to the check question is wrong.",
		"spam_links":           "Your message holds too many links.",
		"spam_blocked_word":    "Your message holds a word the moderators refuse.",
		"unavailable":          "The service is unavailable for a moment. Your submission was not recorded: please try again.",
		"error_title":          "Your submission could not be recorded",
		"back":                 "Back to the form",
		"receipt_title":        "Your contribution",
		"status_pending":       "Awaiting moderation",
		"status_published":     "Published",
		"status_rejected":      "Rejected",
		"receipt_pending":      "Your contribution was received. It will be published once a moderator has read it.",
		"receipt_published":    "Your contribution is online.",
		"receipt_rejected":     "Your contribution was not accepted.",
		"reason":               "Reason",
		"see":                  "See it on the site",
		"status_queued":        "Received",
		"receipt_queued":       "Your contribution was received. It is on its way to the moderators, who will read it before it is published.",
		"sent_form":            "Form",
		"sent_what":            "Your contribution",
		"sent_where":           "Where it will appear",
		"where_site":           "On the site, once accepted",
		"follow_title":         "Follow your contribution",
		"follow_text":          "This page says where your contribution stands. To come back to it later, bookmark it or copy its address:",
		"back_page":            "Back to the page “%s”",
		"back_home":            "Back to the site’s home page",
		"title_error":          "Error: %s",
		"file_again":           "The file “%s” could not be kept: choose it again.",
		"nothing_carried":      "What you typed could not be kept here: your browser’s Back button often brings it back.",
		"answer_needed":        "Answer the check question, then send again.",
		"answer_wrong":         "The answer was not the right one: answer this new question, then send again.",
		"send":                 "Send",
		"question_help":        "This question checks that a person is filling in the form. Numbers may be written in digits or in words.",
		"received":             "Received on",
		"not_found":            "No contribution matches this link.",
		"mail_published_title": "Your contribution is published",
		"mail_published_body":  "Hello,\n\nYour contribution is online: %s\n\nThank you for taking part.\n",
		"mail_rejected_title":  "Your contribution was not accepted",
		"mail_rejected_body":   "Hello,\n\nYour contribution was not accepted.\nReason: %s\n\nFollow-up: %s\n",
		"closed_elsewhere":     "Rejected by the moderators.",
	},
}

// msg returns a string in lang (French when the language is unknown), formatted with args.
func msg(lang, key string, args ...any) string {
	m, ok := messages[lang]
	if !ok {
		m = messages["fr"]
	}
	s, ok := m[key]
	if !ok {
		s = messages["fr"][key]
	}
	if s == "" {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}
