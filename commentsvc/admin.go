package commentsvc

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/parvis/parvis/internal/store"
)

// adminRoutes mounts the moderation surface: the JSON API for the command line, and the
// moderation pages for browsers.
func (s *Service) adminRoutes(m *http.ServeMux) {
	s.apiRoutes(m)
	newAdmin(s).routes(m)
}

// The moderation pages work without JavaScript: every decision is a plain form, answered
// with a redirect (Post/Redirect/Get) and a flash message. Security is in the middleware:
// strict headers on every page (page), a session and a CSRF check on every moderator's
// request (authed), and a signed pre-session token on the login form.
const (
	sessionCookie = "parvis_session"
	loginCookie   = "parvis_login"
	flashCookie   = "parvis_flash"

	sessionIdle   = 12 * time.Hour  // a session ends after this long without a request,
	sessionMax    = 24 * time.Hour  // and this long after signing in, active or not
	sessionTouch  = 5 * time.Minute // how often activity pushes the expiry back (one write)
	loginTokenAge = 12 * time.Hour  // the login form's pre-session token
	flashAge      = 5 * time.Minute // a flash message not shown by then is dropped

	adminPageSize = 25  // rows of the queue
	maxBulk       = 100 // submissions decided by one bulk action
	maxFormBytes  = 64 << 10
	maxPassword   = 1024 // bytes: bcrypt reads 72, more is only work for the server
)

// adminCSP allows nothing but the service's own style sheet, images and frames (a
// submission's preview, sandboxed), and forbids framing: the pages run no script at all,
// so a citizen's text that slipped through would still not run.
const adminCSP = "default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

//go:embed templates/admin
var adminFS embed.FS

// admin serves the moderation pages of one Service.
type admin struct {
	s       *Service
	lang    string
	root    string // the pages' path prefix as browsers see it: "/admin/" unless proxied below a path
	reasons []string
	views   map[string]*template.Template
	css     []byte
	cssURL  string

	// bcrypt is slow on purpose: a few checks at a time keep a flood of logins from
	// starving the rest of the service.
	bcryptSlots chan struct{}
	dummyOnce   sync.Once
	dummyHash   []byte
	gate        loginGate // password checks under way, per address

	excerptMu sync.Mutex
	excerpts  map[string]string // pending submissions' excerpts: a change's content is fixed
}

func newAdmin(s *Service) *admin {
	a := &admin{
		s:           s,
		lang:        s.cfg.Language,
		root:        "/admin/",
		reasons:     s.cfg.Service.Reasons,
		bcryptSlots: make(chan struct{}, max(2, runtime.GOMAXPROCS(0))),
		excerpts:    map[string]string{},
	}
	if u, err := url.Parse(s.base); err == nil && u.Host != "" {
		a.root = strings.TrimRight(u.Path, "/") + "/admin/"
	}
	if len(a.reasons) == 0 {
		a.reasons = adminDefaultReasons[a.lang]
		if a.reasons == nil {
			a.reasons = adminDefaultReasons["fr"]
		}
	}
	css, err := adminFS.ReadFile("templates/admin/admin.css")
	if err != nil {
		panic(err) // embedded: a missing file is a build fault
	}
	sum := sha256.Sum256(css)
	a.css, a.cssURL = css, a.root+"admin.css?v="+hex.EncodeToString(sum[:6])
	a.views = map[string]*template.Template{}
	funcs := template.FuncMap{
		"T":      adminMsg,
		"when":   func(t time.Time) string { return adminTime(a.lang, t, s.cfg.Location) },
		"iso":    func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"digits": func(n int) string { return adminDigits(a.lang, n) },
		"signal": func(sig string) string { return signalText(a.lang, sig) },
		"state":  func(st store.Status) string { return adminMsg(a.lang, "state_"+string(st)) },
	}
	for _, v := range []string{"login.html", "queue.html", "submission.html", "error.html"} {
		a.views[v] = template.Must(template.New(v).Funcs(funcs).ParseFS(adminFS, "templates/admin/layout.html", "templates/admin/"+v))
	}
	return a
}

func (a *admin) routes(m *http.ServeMux) {
	m.HandleFunc("GET /admin/{$}", a.page(a.authed(a.handleQueue)))
	m.HandleFunc("GET /admin/login", a.page(a.handleLoginForm))
	m.HandleFunc("POST /admin/login", a.page(a.handleLogin))
	m.HandleFunc("POST /admin/logout", a.page(a.authed(a.handleLogout)))
	m.HandleFunc("POST /admin/bulk", a.page(a.authed(a.handleBulk)))
	m.HandleFunc("GET /admin/submissions/{id}", a.page(a.authed(a.handleSubmission)))
	m.HandleFunc("GET /admin/submissions/{id}/files/{path...}", a.page(a.authed(a.handleFile)))
	m.HandleFunc("GET /admin/submissions/{id}/preview", a.page(a.authed(a.handlePreview)))
	m.HandleFunc("POST /admin/submissions/{id}/approve", a.page(a.authed(a.handleApprove)))
	m.HandleFunc("POST /admin/submissions/{id}/reject", a.page(a.authed(a.handleReject)))
	m.HandleFunc("GET /admin/admin.css", a.handleCSS)
	a.shareRoutes(m) // admin_share.go
	m.HandleFunc("GET /admin/{path...}", a.page(a.handleNotFound))
}

// page sets the headers every moderation page carries.
func (a *admin) page(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", adminCSP)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cross-Origin-Resource-Policy", "same-origin")
		hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		h(w, r)
	}
}

// handleCSS serves the pages' style sheet. Its address carries a hash of its content, so
// it can be cached for good.
func (a *admin) handleCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(a.css)
}

// adminPage is what the layout shows around every view.
type adminPage struct {
	Lang, Site, Title string
	Root, CSS         string
	User, CSRF        string // when signed in: the logout form needs the token
	Flash             *flashView
	OnQueue           bool // the queue is the page shown: its link in the header says so
}

func (a *admin) pageFor(title string, sess *session) adminPage {
	p := adminPage{Lang: a.lang, Site: a.s.cfg.Title, Title: title, Root: a.root, CSS: a.cssURL}
	if sess != nil {
		p.User, p.CSRF = sess.User, sess.CSRF
	}
	return p
}

// render writes a view. It renders to a buffer first, so that a template fault is a clean
// 500 rather than half a page.
func (a *admin) render(w http.ResponseWriter, status int, view string, data any) {
	var buf bytes.Buffer
	if err := a.views[view].ExecuteTemplate(&buf, "layout", data); err != nil {
		a.s.log.Error("rendering a moderation page", "view", view, "err", err)
		http.Error(w, adminMsg(a.lang, "unavailable"), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorView is a page that only says what went wrong, with a way on.
type errorView struct {
	adminPage
	Message  string
	Link     string
	LinkText string
}

func (a *admin) errorPage(w http.ResponseWriter, status int, sess *session, title, message string) {
	v := errorView{adminPage: a.pageFor(title, sess), Message: message, Link: a.root, LinkText: adminMsg(a.lang, "back_queue")}
	if sess == nil {
		v.Link, v.LinkText = a.root+"login", adminMsg(a.lang, "go_login")
	}
	a.render(w, status, "error.html", v)
}

func (a *admin) forbidden(w http.ResponseWriter, sess *session, key string) {
	a.errorPage(w, http.StatusForbidden, sess, adminMsg(a.lang, "forbidden_title"), adminMsg(a.lang, key))
}

func (a *admin) unavailable(w http.ResponseWriter, sess *session, what string, err error) {
	a.s.log.Error("moderation: "+what, "err", err)
	w.Header().Set("Retry-After", "5")
	a.errorPage(w, http.StatusServiceUnavailable, sess, adminMsg(a.lang, "unavailable"), adminMsg(a.lang, "unavailable"))
}

// handleNotFound answers the addresses under /admin/ that are no page, in the pages' look.
// It does not say whether one must sign in: there is nothing there either way.
func (a *admin) handleNotFound(w http.ResponseWriter, r *http.Request) {
	a.errorPage(w, http.StatusNotFound, a.currentSession(r), adminMsg(a.lang, "not_found_title"), adminMsg(a.lang, "not_found_page"))
}
