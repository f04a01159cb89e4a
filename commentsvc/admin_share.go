package commentsvc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parvis/parvis/internal/share"
	"github.com/parvis/parvis/internal/site"
	"github.com/parvis/parvis/internal/store"
)

// Shared dossiers in the moderation pages and the admin API: who a dossier is shared with,
// inviting a person (the service mails their personal link), removing one (the key is
// rotated, the site rebuilt, the others get a new link), rotating the key. The keys and the
// addresses stay in the private store (internal/share).

// WithSharing lets the service seal shared dossiers' members in: it accepts their
// contributions (a submission to a shared page carrying the current key's token) and serves
// the invitation pages. The build must seal with the same Manager (generator.WithSealer).
func WithSharing(m *share.Manager) Option { return func(s *Service) { s.sharing = m } }

// sharedTarget finds the shared page a submission is about and checks that it carries the
// dossier's current token (options[share], which the shell adds from the key). Without a
// token the page is unknown, as any unpublished page; with an old one the sender is told
// that the key changed.
func (s *Service) sharedTarget(st *site.Site, ref, token string) (*site.Page, string) {
	p := share.SharedPage(st, ref)
	if p == nil || s.sharing == nil || token == "" {
		return nil, "unknown_page"
	}
	if !s.sharing.Admits(share.DossierOf(p), token) {
		return nil, "share_key"
	}
	return p, ""
}

// shareRebuild rebuilds the site for a change of keys, and returns it as built.
func (s *Service) shareRebuild(ctx context.Context) (*site.Site, error) {
	if err := s.Publish(ctx); err != nil {
		return nil, err
	}
	return s.Site(), nil
}

// shareMessages are the invitation page's strings.
var shareMessages = map[string]map[string]string{
	"fr": {
		"title":        "Dossiers partagés",
		"intro":        "Un dossier partagé n’est publié que chiffré. Chaque membre reçoit par courriel un lien personnel qui porte la clé du dossier ; le site ne la voit jamais. Retirer une personne change la clé, reconstruit le site et envoie un nouveau lien aux autres membres.",
		"none":         "Le site n’a aucun dossier partagé : un dossier l’est quand son _index.md indique « visibility: shared ».",
		"no_mail":      "Les invitations ne peuvent pas être envoyées : parvis.yaml ne donne pas d’expéditeur (service.mailFrom).",
		"ref":          "Dossier %s",
		"key":          "Clé n° %d, créée le %s",
		"no_key":       "Pas encore de clé : elle est créée à la première invitation.",
		"gone":         "Ce dossier n’est plus partagé dans le site ; sa clé et ses membres restent dans le stockage privé.",
		"members":      "Membres",
		"col_email":    "Adresse",
		"col_added":    "Invité le",
		"col_link":     "Lien",
		"col_action":   "Action",
		"link_current": "envoyé (clé n° %d)",
		"link_owed":    "à envoyer",
		"no_member":    "Personne n’est encore invité.",
		"revoke":       "Retirer",
		"revoke_label": "Retirer %s du dossier",
		"invite":       "Inviter une personne",
		"email":        "Adresse électronique",
		"email_help":   "Elle reste dans le stockage privé du service, jamais dans Git ni dans le site.",
		"send":         "Envoyer l’invitation",
		"rotate":       "Changer la clé et renvoyer les liens",
		"rotate_help":  "Les liens déjà envoyés n’ouvriront plus le dossier ; chaque membre en reçoit un nouveau.",
		"invited":      "L’invitation est envoyée : la personne reçoit son lien personnel par courriel.",
		"revoked":      "La personne ne fait plus partie du dossier. Nouvelle clé n° %d ; nouveaux liens envoyés : %d.",
		"rotated":      "Nouvelle clé n° %d ; nouveaux liens envoyés : %d.",
		"failed":       "L’opération a échoué : %s",
		"bad_email":    "Saisissez une adresse électronique, de la forme nom@domaine.fr.",
	},
	"en": {
		"title":        "Shared dossiers",
		"intro":        "A shared dossier is published only encrypted. Each member gets a personal link by e-mail that carries the dossier's key; the site never sees it. Removing someone changes the key, rebuilds the site and sends the other members a new link.",
		"none":         "The site has no shared dossier: a dossier is one when its _index.md says “visibility: shared”.",
		"no_mail":      "Invitations cannot be sent: parvis.yaml names no sender (service.mailFrom).",
		"ref":          "Dossier %s",
		"key":          "Key no. %d, made on %s",
		"no_key":       "No key yet: it is made with the first invitation.",
		"gone":         "This dossier is no longer shared in the site; its key and members stay in the private store.",
		"members":      "Members",
		"col_email":    "Address",
		"col_added":    "Invited on",
		"col_link":     "Link",
		"col_action":   "Action",
		"link_current": "sent (key no. %d)",
		"link_owed":    "to be sent",
		"no_member":    "Nobody is invited yet.",
		"revoke":       "Remove",
		"revoke_label": "Remove %s from the dossier",
		"invite":       "Invite someone",
		"email":        "E-mail address",
		"email_help":   "It stays in the service's private store, never in Git nor in the site.",
		"send":         "Send the invitation",
		"rotate":       "Change the key and send the links again",
		"rotate_help":  "The links already sent will no longer open the dossier; each member gets a new one.",
		"invited":      "The invitation is sent: the person gets their personal link by e-mail.",
		"revoked":      "The person is no longer part of the dossier. New key no. %d; new links sent: %d.",
		"rotated":      "New key no. %d; new links sent: %d.",
		"failed":       "The operation failed: %s",
		"bad_email":    "Enter an e-mail address, such as name@domain.org.",
	},
}

func shareMsg(lang, key string, args ...any) string {
	m, ok := shareMessages[lang]
	if !ok {
		m = shareMessages["fr"]
	}
	s, ok := m[key]
	if !ok {
		return adminMsg(lang, key, args...)
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// shareRoutes mounts the invitation pages and their API.
func (a *admin) shareRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /admin/shared", a.page(a.authed(a.handleShares)))
	m.HandleFunc("POST /admin/shared/{action}", a.page(a.authed(a.handleShareAction)))
	s := a.s
	m.HandleFunc("GET /admin/api/shares", s.apiAuth(s.apiShares))
	m.HandleFunc("GET /admin/api/shares/{dossier}/members", s.apiAuth(s.apiShareMembers))
	m.HandleFunc("POST /admin/api/shares/{dossier}/{action}", s.apiAuth(s.apiShareAction))
}

type shareView struct {
	adminPage
	Dossiers []shareDossierView
	NoMail   bool
	Done     string
	Error    string
	Email    string // the address typed, kept on an error
	ErrorFor string // the dossier whose form the error is about
}

type shareDossierView struct {
	share.Dossier
	Slug    string
	Members []store.ShareMember
}

// shareTemplate parses the page with the layout. It is seldom shown: it is parsed each time
// rather than kept beside the moderation pages' own set.
func (a *admin) shareTemplate() (*template.Template, error) {
	funcs := template.FuncMap{
		"T":    adminMsg,
		"S":    shareMsg,
		"when": func(t time.Time) string { return adminTime(a.lang, t, a.s.cfg.Location) },
		"iso":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	}
	return template.New("share.html").Funcs(funcs).ParseFS(adminFS, "templates/admin/layout.html", "templates/admin/share.html")
}

func (a *admin) renderShares(w http.ResponseWriter, status int, sess *session, v shareView) {
	v.adminPage = a.pageFor(shareMsg(a.lang, "title"), sess)
	s := a.s
	if s.sharing == nil {
		a.errorPage(w, http.StatusNotFound, sess, adminMsg(a.lang, "not_found_title"), adminMsg(a.lang, "not_found_page"))
		return
	}
	st := s.Site()
	list, err := s.sharing.Dossiers(st)
	if err != nil {
		a.unavailable(w, sess, "listing shared dossiers", err)
		return
	}
	for _, d := range list {
		dv := shareDossierView{Dossier: d, Slug: strings.TrimPrefix(d.Ref, "dossiers/")}
		if d.InSite {
			if dv.Members, err = s.sharing.Members(st, d.Ref); err != nil {
				a.unavailable(w, sess, "listing a dossier's members", err)
				return
			}
		}
		v.Dossiers = append(v.Dossiers, dv)
	}
	v.NoMail = s.mail == nil || s.cfg.Service.MailFrom == ""
	var buf strings.Builder
	t, err := a.shareTemplate()
	if err == nil {
		err = t.ExecuteTemplate(&buf, "layout", v)
	}
	if err != nil {
		s.log.Error("rendering a moderation page", "view", "share.html", "err", err)
		http.Error(w, adminMsg(a.lang, "unavailable"), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
}

func (a *admin) handleShares(w http.ResponseWriter, r *http.Request, sess *session) {
	v := shareView{}
	q := r.URL.Query()
	n := func(k string) int { i, _ := strconv.Atoi(q.Get(k)); return i }
	// The outcome of the last action, from the redirect that followed it: numbers only, so
	// that no address goes into an address bar or a browser's history.
	switch q.Get("done") {
	case "invited":
		v.Done = shareMsg(a.lang, "invited")
	case "revoked":
		v.Done = shareMsg(a.lang, "revoked", n("v"), n("sent"))
	case "rotated":
		v.Done = shareMsg(a.lang, "rotated", n("v"), n("sent"))
	}
	a.renderShares(w, http.StatusOK, sess, v)
}

// handleShareAction invites, revokes or rotates, then redirects to the page (POST, then GET).
func (a *admin) handleShareAction(w http.ResponseWriter, r *http.Request, sess *session) {
	s := a.s
	if s.sharing == nil {
		a.handleNotFound(w, r)
		return
	}
	action, dossier, email := r.PathValue("action"), r.PostForm.Get("dossier"), strings.TrimSpace(r.PostForm.Get("email"))
	ctx := context.WithoutCancel(r.Context()) // a rebuild under way is finished even if the browser leaves
	out, err := s.shareAction(ctx, action, dossier, email)
	if errors.Is(err, errUnknownAction) {
		a.handleNotFound(w, r)
		return
	}
	s.log.Info("moderation: shared dossier", "action", action, "dossier", dossier, "moderator", sess.User, "err", err)
	if err != nil {
		msg := shareMsg(a.lang, "failed", err.Error())
		if action == "invite" {
			if _, aerr := share.CheckAddress(email); aerr != nil {
				msg = shareMsg(a.lang, "bad_email")
			}
		}
		a.renderShares(w, http.StatusUnprocessableEntity, sess, shareView{Error: msg, Email: email, ErrorFor: dossier})
		return
	}
	q := url.Values{"done": {action + "d"}, "v": {strconv.Itoa(out.Version)}, "sent": {strconv.Itoa(len(out.Sent))}}
	if action == "rotate" {
		q.Set("done", "rotated")
	}
	http.Redirect(w, r, a.root+"shared?"+q.Encode(), http.StatusSeeOther)
}

var errUnknownAction = errors.New("unknown action")

func (s *Service) shareAction(ctx context.Context, action, dossier, email string) (*share.Outcome, error) {
	st := s.Site()
	switch action {
	case "invite":
		return s.sharing.Invite(ctx, st, dossier, email, s.shareRebuild)
	case "revoke":
		return s.sharing.Revoke(ctx, st, dossier, email, s.shareRebuild)
	case "rotate":
		return s.sharing.Rotate(ctx, st, dossier, s.shareRebuild)
	}
	return nil, errUnknownAction
}

func (s *Service) apiShares(w http.ResponseWriter, r *http.Request) {
	if s.sharing == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "this service does not share dossiers"})
		return
	}
	l, err := s.sharing.Dossiers(s.Site())
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	if l == nil {
		l = []share.Dossier{}
	}
	writeJSON(w, http.StatusOK, l)
}

func (s *Service) apiShareMembers(w http.ResponseWriter, r *http.Request) {
	if s.sharing == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "this service does not share dossiers"})
		return
	}
	l, err := s.sharing.Members(s.Site(), r.PathValue("dossier"))
	if err != nil {
		writeJSON(w, shareStatus(err), map[string]string{"error": err.Error()})
		return
	}
	if l == nil {
		l = []store.ShareMember{}
	}
	writeJSON(w, http.StatusOK, l)
}

func (s *Service) apiShareAction(w http.ResponseWriter, r *http.Request) {
	if s.sharing == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "this service does not share dossiers"})
		return
	}
	var body struct {
		Email string `json:"email"`
	}
	if r.ContentLength != 0 {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&body); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "expected {\"email\": \"…\"}"})
			return
		}
	}
	action, dossier := r.PathValue("action"), r.PathValue("dossier")
	out, err := s.shareAction(context.WithoutCancel(r.Context()), action, dossier, body.Email)
	s.log.Info("shared dossier", "action", action, "dossier", dossier, "via", "command line", "err", err)
	if err != nil {
		// An outcome with an error: the key changed, and some links did not go.
		if out != nil {
			writeJSON(w, http.StatusBadGateway, map[string]any{"error": err.Error(), "outcome": out})
			return
		}
		writeJSON(w, shareStatus(err), map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func shareStatus(err error) int {
	switch {
	case errors.Is(err, errUnknownAction), errors.Is(err, share.ErrNotShared), errors.Is(err, share.ErrNoMember):
		return http.StatusNotFound
	case errors.Is(err, share.ErrNoMail):
		return http.StatusConflict
	case strings.Contains(err.Error(), "not an e-mail address"):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}
