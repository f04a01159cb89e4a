package commentsvc

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/parvis/parvis/internal/antispam"
)

// The confirmation page is how a person without JavaScript gets through the anti-spam
// check when the page they posted from could not carry a token's question: a static page
// posts no token, and an answer without a token proves nothing. A browser's post refused
// for want of a token, a valid answer or a fresh form is answered with a page of the
// service's own holding everything the person typed, a new token and its question, and a
// button to send again. A bot gets no further with it than with the challenge endpoint:
// one token, one question, one submission.

// confirmable tells the refusals that such a page mends: no fault of the person's but a
// page without JavaScript, a wrong or missing answer, a form too old, sent already, or sent
// too soon after it was shown.
func confirmable(reason string) bool {
	switch reason {
	case antispam.ReasonChallenge, antispam.ReasonTokenInvalid, antispam.ReasonTokenExpired,
		antispam.ReasonTokenReused, antispam.ReasonTooFast:
		return true
	}
	return false
}

// confirmCSS is the page's only style, allowed by its hash: the page needs no script and
// loads nothing.
const confirmCSS = `body{margin:0;font:1rem/1.6 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#161616;background:#f6f6f6}
main{max-width:40rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;border-top:4px solid #000091}
h1{font-size:1.5rem;margin-top:0}h2{font-size:1.15rem}
a{color:#000091}
.summary dt{font-weight:600}.summary dd{margin:0 0 .75rem;white-space:pre-wrap;overflow-wrap:anywhere}
.field{margin:1rem 0}.field label{display:block;font-weight:600}
.hint{margin:.25rem 0;color:#3a3a3a;font-size:.9rem}
input[type=text],input[type=file]{font:inherit;padding:.4rem;border:1px solid #3a3a3a;border-radius:.25rem;max-width:100%}
input[type=text]{width:20rem}
button{font:inherit;padding:.5rem 1.25rem;border:0;border-radius:.25rem;background:#000091;color:#fff;cursor:pointer}
.req,.warning{color:#ce0500}
:focus-visible{outline:2px solid #0a76f6;outline-offset:2px}`

var confirmCSP = func() string {
	sum := sha256.Sum256([]byte(confirmCSS))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
}()

// confirmStrings are the page's texts, in the site's language.
var confirmStrings = map[string]map[string]string{
	"fr": {
		"title":         "Encore une étape",
		"lead_question": "Pour vérifier que ce formulaire est rempli par une personne, une question doit encore vous être posée.",
		"lead_wrong":    "La réponse à la question de vérification n’était pas la bonne.",
		"lead_token":    "Le formulaire avait expiré ou avait déjà été envoyé.",
		"lead_fast":     "Le formulaire a été envoyé très peu de temps après son affichage.",
		"nothing_kept":  "Votre envoi n’est pas encore enregistré, mais ce que vous avez écrit est conservé sur cette page.",
		"do_answer":     "Répondez à la question ci-dessous, puis envoyez à nouveau.",
		"do_check":      "Vérifiez votre envoi ci-dessous, puis envoyez-le à nouveau.",
		"files_lost":    "Les fichiers joints ne peuvent pas être conservés : merci de les choisir à nouveau ci-dessous, ou de revenir au formulaire.",
		"summary":       "Ce que vous avez écrit",
		"question_help": "Cette question vérifie que le formulaire est rempli par une personne. Les nombres peuvent s’écrire en chiffres ou en lettres. Si la question vous pose problème, répondez comme vous pouvez : une autre vous sera posée.",
		"send":          "Envoyer à nouveau",
		"back":          "Revenir au formulaire",
	},
	"en": {
		"title":         "One more step",
		"lead_question": "To check that a person is filling in this form, one question remains to be asked.",
		"lead_wrong":    "The answer to the check question was not the right one.",
		"lead_token":    "The form had expired or had already been sent.",
		"lead_fast":     "The form was sent very soon after it was shown.",
		"nothing_kept":  "Your submission is not recorded yet, but what you wrote is kept on this page.",
		"do_answer":     "Answer the question below, then send again.",
		"do_check":      "Check your submission below, then send it again.",
		"files_lost":    "Attached files cannot be kept: please choose them again below, or go back to the form.",
		"summary":       "What you wrote",
		"question_help": "This question checks that a person is filling in the form. Numbers may be written in digits or in words. If the question is a problem for you, answer as best you can: you will be asked another one.",
		"send":          "Send again",
		"back":          "Back to the form",
	},
}

type confirmPage struct {
	Lang, Site, Lead, Back, Token string
	T                             map[string]string
	CSS                           template.CSS
	Hidden                        []confirmValue
	Summary                       []confirmValue // Name unused: Label and Value
	Files                         []confirmFile
	Question                      *antispam.Question
}

type confirmValue struct{ Name, Label, Value string }

type confirmFile struct {
	Name, ID, Label, Accept string
	Required                bool
}

// confirm answers a browser's post refused for reason (confirmable) with the confirmation
// page: 422, so that nothing takes it for a success. values are the post's values, as the
// form decoded them; the anti-spam options are dropped and the rest carried as they were,
// escaped by the template. Uploads cannot be carried: the page says so and asks for the
// files again, with a link back to the form.
//
// With the site's pages (WithPages) the page is the one the form was sent from, refilled
// as for any other refusal (refill.go), the question shown next to its answer.
func (s *Service) confirm(w http.ResponseWriter, r *http.Request, form string, values url.Values, reason string) {
	lang := s.cfg.Language
	t, ok := confirmStrings[lang]
	if !ok {
		lang, t = "fr", confirmStrings["fr"]
	}
	spec := s.cfg.Forms[form]
	p := confirmPage{Lang: lang, Site: s.cfg.Title, T: t, CSS: template.CSS(confirmCSS), Back: s.confirmBack(r, values)}
	wrong := reason == antispam.ReasonChallenge && strings.TrimSpace(values.Get("options[answer]")) != ""
	switch {
	case wrong:
		p.Lead = t["lead_wrong"]
	case reason == antispam.ReasonChallenge:
		p.Lead = t["lead_question"]
	case reason == antispam.ReasonTooFast:
		p.Lead = t["lead_fast"]
	default:
		p.Lead = t["lead_token"]
	}
	p.Token = s.checker.Issue(form, s.now())
	if antispam.Difficulty(p.Token) > 0 {
		q, _ := s.checker.QuestionFor(p.Token, lang)
		p.Question = &q
	}
	if s.citizen.read != nil {
		rf := &refill{form: form, title: t["title"], values: values, files: chosenFiles(r), lead: p.Lead + " " + t["nothing_kept"],
			token: p.Token, quest: p.Question, next: t["do_check"]}
		if p.Question != nil {
			rf.next, rf.asked = "", msg(lang, "answer_needed")
			if wrong {
				rf.asked = msg(lang, "answer_wrong")
			}
		}
		if fp := s.findForm(r, form, values); fp != nil {
			s.fill(fp, rf)
			s.writeSitePage(w, http.StatusUnprocessableEntity, fp.doc)
			return
		}
	}
	upload := func(key string) (string, bool) {
		name, ok := strings.CutPrefix(key, "fields[")
		name, ok2 := strings.CutSuffix(name, "]")
		if !ok || !ok2 || spec == nil || spec.Fields[name] == nil {
			return name, false
		}
		typ := spec.Fields[name].Type
		return name, typ == "image" || typ == "file"
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range values {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		switch k {
		case "options[token]", "options[pow]", "options[question]", "options[answer]":
			continue
		}
		if _, up := upload(k); up {
			continue // an empty file input: nothing to carry
		}
		for _, v := range values[k] {
			p.Hidden = append(p.Hidden, confirmValue{Name: k, Value: v})
		}
	}
	if spec != nil {
		for _, name := range spec.FieldOrder() {
			f := spec.Fields[name]
			label := f.Label
			if label == "" {
				label = strings.ToUpper(name[:1]) + strings.ReplaceAll(name[1:], "_", " ")
			}
			key := "fields[" + name + "]"
			if name == spec.Antispam.Honeypot {
				continue
			}
			if _, up := upload(key); up {
				if r.MultipartForm != nil && len(r.MultipartForm.File[key]) > 0 {
					p.Files = append(p.Files, confirmFile{Name: key, ID: "confirm-" + name, Label: label,
						Accept: strings.Join(f.Accept, ","), Required: f.Required})
				}
				continue
			}
			if v := values.Get(key); strings.TrimSpace(v) != "" {
				p.Summary = append(p.Summary, confirmValue{Label: label, Value: v})
			}
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	csp := confirmCSP
	if so := s.siteOrigin(); so != "" {
		// The redirect a form may ask for goes to the site, which this page must allow.
		csp = strings.Replace(csp, "form-action 'self'", "form-action 'self' "+so, 1)
	}
	h.Set("Content-Security-Policy", csp)
	w.WriteHeader(http.StatusUnprocessableEntity)
	if err := pages.ExecuteTemplate(w, "confirm.html", p); err != nil {
		s.log.Error("rendering a page", "page", "confirm.html", "err", err)
	}
}

// confirmBack is the way back to the form: the page the submission names as its redirect
// (without its "sent" anchor), else the page that posted it, when either is the site's,
// else the site's home. The confirmation page itself, which posts to the service, is none.
func (s *Service) confirmBack(r *http.Request, values url.Values) string {
	if to := values.Get("options[redirect]"); to != "" && s.safeRedirect(r, to) {
		if i := strings.IndexByte(to, '#'); i >= 0 {
			to = to[:i]
		}
		return to
	}
	if ref := r.Referer(); ref != "" && s.safeRedirect(r, ref) {
		if u, err := url.Parse(ref); err == nil && u.Path != r.URL.Path {
			return ref
		}
	}
	return s.cfg.RelURL("/")
}
