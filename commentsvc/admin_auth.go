package commentsvc

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/parvis/parvis/internal/store"
)

// session is a signed-in moderator's request: the stored session and its token, which
// only the cookie holds (the store keeps a hash of it).
type session struct {
	store.Session
	token string
}

// randomToken returns n random bytes, URL-safe.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+): it crashes the program instead
	return base64.RawURLEncoding.EncodeToString(b)
}

// mac signs a value with the service's key, for one purpose.
func (a *admin) mac(purpose string, parts ...string) string {
	m := hmac.New(sha256.New, a.s.secret)
	m.Write([]byte("admin-" + purpose))
	for _, p := range parts {
		m.Write([]byte{0})
		m.Write([]byte(p))
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// secure reports whether the browser reached the service over HTTPS: directly, or through
// a proxy on loopback that says so (the same trust clientIP gives X-Forwarded-For).
func secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback() && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func (a *admin) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: a.root, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure(r),
	}
}

// currentSession returns the request's session, or nil. It does not extend it.
func (a *admin) currentSession(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return nil
	}
	st, err := a.s.store.Session(c.Value, a.s.now())
	if err != nil {
		return nil
	}
	// An account removed from parvis.yaml or the store ends its sessions at once.
	if _, found, err := a.account(st.User); err != nil || !found {
		return nil
	}
	return &session{Session: *st, token: c.Value}
}

// authed lets a signed-in moderator through. A state-changing request must also come from
// the pages themselves: same origin, and the session's CSRF token in the form.
func (a *admin) authed(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess := a.currentSession(r)
		if sess == nil {
			_, noCookie := r.Cookie(sessionCookie)
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				// The path as the browser sees it, which a proxy may have put below a prefix.
				q := url.Values{"next": {a.root + strings.TrimPrefix(r.URL.RequestURI(), "/admin/")}}
				if noCookie == nil {
					q.Set("expired", "1")
				}
				http.Redirect(w, r, a.root+"login?"+q.Encode(), http.StatusSeeOther)
				return
			}
			a.forbidden(w, nil, "forbidden_login")
			return
		}
		if r.Method == http.MethodPost {
			if !a.sameOrigin(r) {
				a.forbidden(w, sess, "forbidden_csrf")
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				a.forbidden(w, sess, "forbidden_csrf")
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(sess.CSRF)) != 1 {
				a.forbidden(w, sess, "forbidden_csrf")
				return
			}
		}
		a.touch(sess)
		h(w, r, sess)
	}
}

// touch pushes an active session's expiry back, at most once every sessionTouch so that
// reading pages does not write to the store on every request, and never past sessionMax
// after signing in: a session taken from a moderator's browser does not live for ever.
func (a *admin) touch(sess *session) {
	now := a.s.now()
	created := sess.Created
	if created.IsZero() {
		created = sess.Expires.Add(-sessionIdle) // at the latest
	}
	limit := created.Add(sessionMax)
	if sess.Expires.Sub(now) > sessionIdle-sessionTouch || !sess.Expires.Before(limit) {
		return
	}
	sess.Expires = now.Add(sessionIdle)
	if sess.Expires.After(limit) {
		sess.Expires = limit
	}
	if err := a.s.store.PutSession(sess.token, sess.Session); err != nil {
		a.s.log.Warn("extending a moderator's session", "err", err)
	}
}

// sameOrigin checks that a browser's POST comes from a page of this service. A browser
// sends Origin with every POST, and Referer on same-origin requests under the pages'
// Referrer-Policy; a request with neither is refused, as is one that Fetch Metadata marks
// as coming from another site.
func (a *admin) sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	src := r.Header.Get("Origin")
	if src == "" || src == "null" {
		src = r.Header.Get("Referer")
	}
	if src == "" {
		return false
	}
	u, err := url.Parse(src)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	if secure(r) && u.Scheme != "https" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	// Behind a proxy that rewrites Host, the service's configured address is its own.
	b, err := url.Parse(a.s.base)
	return err == nil && b.Host != "" && strings.EqualFold(u.Host, b.Host)
}

// Accounts come from the store (parvis moderate adduser) and from parvis.yaml
// (service.moderators); the store's take precedence.
func (a *admin) account(name string) (hash string, found bool, err error) {
	m, err := a.s.store.Moderator(name)
	switch {
	case err == nil:
		return m.Hash, true, nil
	case !errors.Is(err, store.ErrNotFound):
		return "", false, err
	}
	for _, m := range a.s.cfg.Service.Moderators {
		if m.Name == name {
			return m.Password, true, nil
		}
	}
	return "", false, nil
}

func (a *admin) hasAccounts() (bool, error) {
	if len(a.s.cfg.Service.Moderators) > 0 {
		return true, nil
	}
	l, err := a.s.store.Moderators()
	return len(l) > 0, err
}

// verify checks a password. An unknown name costs a comparison with a dummy hash, so that
// the answer's timing does not tell which names exist.
func (a *admin) verify(ctx context.Context, name, password string) (bool, error) {
	hash, found, err := a.account(name)
	if err != nil {
		return false, err
	}
	if !found {
		if has, err := a.hasAccounts(); err != nil || !has {
			return false, err // no account at all: there is no name to give away
		}
		a.dummyOnce.Do(func() {
			a.dummyHash, _ = bcrypt.GenerateFromPassword([]byte(randomToken(16)), a.accountCost())
		})
		hash = string(a.dummyHash)
	}
	select {
	case a.bcryptSlots <- struct{}{}:
		defer func() { <-a.bcryptSlots }()
	case <-ctx.Done():
		return false, ctx.Err()
	}
	ok := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
	return found && ok, nil
}

// accountCost is the bcrypt cost of the accounts, which the dummy hash takes so that a
// check takes as long for an unknown name as for a real one.
func (a *admin) accountCost() int {
	hashes := []string{}
	for _, m := range a.s.cfg.Service.Moderators {
		hashes = append(hashes, m.Password)
	}
	if l, err := a.s.store.Moderators(); err == nil {
		for _, m := range l {
			hashes = append(hashes, m.Hash)
		}
	}
	for _, h := range hashes {
		if c, err := bcrypt.Cost([]byte(h)); err == nil {
			return c
		}
	}
	return bcrypt.DefaultCost
}

// loginName is a name that can be an account's: failures are counted against it. Any
// other input is wrong whatever the password, and counts against the address only, so
// that made-up names cannot fill the store.
var loginName = regexp.MustCompile(`^[a-z0-9_.-]{1,40}$`)

// lockKey is a failure counter and the failures it allows.
type lockKey struct {
	key string
	max int
}

// lockKeys are the counters a login attempt is checked and counted against.
func lockKeys(name, ip string) []lockKey {
	keys := []lockKey{{"addr:" + ip, maxFailuresAddress}}
	if loginName.MatchString(name) {
		keys = append(keys, lockKey{"user:" + name, maxFailuresAccount})
	}
	return keys
}

// loginView is the login page.
type loginView struct {
	adminPage
	Token     string // the pre-session CSRF token
	Next      string
	Name      string
	NoAccount bool
	Notice    string // signed out, session expired
	Error     string // the form's fault, for the error summary
	NameError string
	PassError string
}

// safeNext keeps a redirect after login on the moderation pages.
func (a *admin) safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return a.root
	}
	p := path.Clean("/" + u.Path)
	if p+"/" == a.root {
		p = a.root
	}
	if !strings.HasPrefix(p, a.root) || p == a.root+"login" {
		return a.root
	}
	return (&url.URL{Path: p, RawQuery: u.RawQuery}).String()
}

// loginToken returns the login form's pre-session token: a random value in a cookie, and
// its signature in the form. A page on another site can neither read the cookie nor sign a
// value it planted, so it cannot sign a moderator in to an account of its choosing.
func (a *admin) loginToken(w http.ResponseWriter, r *http.Request) string {
	nonce := ""
	if c, err := r.Cookie(loginCookie); err == nil && len(c.Value) == 43 {
		nonce = c.Value
	} else {
		nonce = randomToken(32)
		http.SetCookie(w, a.cookie(r, loginCookie, nonce, int(loginTokenAge/time.Second)))
	}
	return a.mac("login", nonce)
}

func (a *admin) loginTokenValid(r *http.Request) bool {
	c, err := r.Cookie(loginCookie)
	if err != nil || c.Value == "" {
		return false
	}
	return hmac.Equal([]byte(r.PostForm.Get("csrf")), []byte(a.mac("login", c.Value)))
}

func (a *admin) loginPage(w http.ResponseWriter, r *http.Request, status int, v loginView) {
	v.adminPage = a.pageFor(adminMsg(a.lang, "login_title"), nil)
	v.Token = a.loginToken(w, r)
	v.Next = a.safeNext(v.Next)
	has, err := a.hasAccounts()
	if err != nil {
		a.unavailable(w, nil, "reading accounts", err)
		return
	}
	v.NoAccount = !has
	a.render(w, status, "login.html", v)
}

// handleLoginForm shows the login page: GET /admin/login.
func (a *admin) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if a.currentSession(r) != nil {
		http.Redirect(w, r, a.safeNext(q.Get("next")), http.StatusSeeOther)
		return
	}
	v := loginView{Next: q.Get("next")}
	switch {
	case q.Get("out") != "":
		v.Notice = adminMsg(a.lang, "logged_out")
	case q.Get("expired") != "":
		v.Notice = adminMsg(a.lang, "session_expired")
	}
	a.loginPage(w, r, http.StatusOK, v)
}

// handleLogin signs a moderator in: POST /admin/login. Order matters: the origin and the
// pre-session token first, then the lockout (a locked account is refused even with the
// right password), then the password.
func (a *admin) handleLogin(w http.ResponseWriter, r *http.Request) {
	if !a.sameOrigin(r) {
		a.forbidden(w, nil, "forbidden_csrf")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil || !a.loginTokenValid(r) {
		a.forbidden(w, nil, "forbidden_cookie")
		return
	}
	name := strings.ToLower(strings.TrimSpace(r.PostForm.Get("name")))
	password := r.PostForm.Get("password")
	v := loginView{Next: r.PostForm.Get("next"), Name: name}
	if name == "" || password == "" {
		if name == "" {
			v.NameError = adminMsg(a.lang, "login_required_name")
		}
		if password == "" {
			v.PassError = adminMsg(a.lang, "login_required_pass")
		}
		v.Error = adminMsg(a.lang, "login_errors")
		a.loginPage(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	now := a.s.now()
	keys := lockKeys(name, clientIP(r))
	var until time.Time
	for _, k := range keys {
		if t := a.s.store.LockedUntil(k.key, now); t.After(until) {
			until = t
		}
	}
	if !until.IsZero() {
		a.locked(w, r, v, now, until)
		return
	}
	ok := false
	if len(password) <= maxPassword {
		var err error
		if ok, err = a.verify(r.Context(), name, password); err != nil {
			a.unavailable(w, nil, "checking a password", err)
			return
		}
	}
	if !ok {
		for _, k := range keys {
			t, err := a.s.store.LoginFailed(k.key, now, k.max, failureWindow, lockTime)
			if err != nil {
				a.unavailable(w, nil, "counting a failed login", err)
				return
			}
			if t.After(until) {
				until = t
			}
		}
		a.s.log.Warn("moderation: failed login", "name", name, "ip", clientIP(r))
		if !until.IsZero() {
			a.locked(w, r, v, now, until)
			return
		}
		v.Error = adminMsg(a.lang, "login_failed")
		a.loginPage(w, r, http.StatusUnauthorized, v)
		return
	}
	if err := a.s.store.LoginSucceeded("user:" + name); err != nil {
		a.s.log.Warn("clearing failed logins", "err", err)
	}
	if err := a.s.store.PurgeSessions(now); err != nil {
		a.s.log.Warn("purging expired sessions", "err", err)
	}
	// A new token at every login: a token planted before it (session fixation) is worth
	// nothing after.
	token := randomToken(32)
	if err := a.s.store.PutSession(token, store.Session{User: name, CSRF: randomToken(32), Expires: now.Add(sessionIdle), Created: now}); err != nil {
		a.unavailable(w, nil, "opening a session", err)
		return
	}
	a.s.log.Info("moderation: signed in", "name", name, "ip", clientIP(r))
	http.SetCookie(w, a.cookie(r, sessionCookie, token, 0))
	http.SetCookie(w, a.cookie(r, loginCookie, "", -1))
	http.Redirect(w, r, a.safeNext(v.Next), http.StatusSeeOther)
}

func (a *admin) locked(w http.ResponseWriter, r *http.Request, v loginView, now, until time.Time) {
	w.Header().Set("Retry-After", strconv.Itoa(int(until.Sub(now).Seconds())+1))
	v.Error = adminMsg(a.lang, "login_locked", adminTime(a.lang, until, a.s.cfg.Location))
	a.loginPage(w, r, http.StatusTooManyRequests, v)
}

// handleLogout ends the session: POST /admin/logout.
func (a *admin) handleLogout(w http.ResponseWriter, r *http.Request, sess *session) {
	if err := a.s.store.DeleteSession(sess.token); err != nil {
		a.unavailable(w, sess, "ending a session", err)
		return
	}
	http.SetCookie(w, a.cookie(r, sessionCookie, "", -1))
	http.SetCookie(w, a.cookie(r, flashCookie, "", -1))
	http.Redirect(w, r, a.root+"login?out=1", http.StatusSeeOther)
}
