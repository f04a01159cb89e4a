package commentsvc

import (
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"sort"

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

// fail answers a refused submission with what is wrong, per field where it applies: JSON for
// scripts, or a plain page for a browser without JavaScript, with a way back to the form.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, status int, code, message string, fields map[string]string) {
	if wantsJSON(r) {
		body := map[string]any{"error": code, "message": message}
		if len(fields) > 0 {
			body["fields"] = fields
		}
		writeJSON(w, status, body)
		return
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
	s.page(w, status, "error.html", map[string]any{
		"Lang": s.cfg.Language, "Site": s.cfg.Title, "Title": msg(s.cfg.Language, "error_title"),
		"Message": message, "Fields": list, "Back": back,
	})
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
		"keep_link":            "Gardez l’adresse de cette page pour suivre votre contribution.",
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
		"keep_link":            "Keep this page's address to follow your contribution.",
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
