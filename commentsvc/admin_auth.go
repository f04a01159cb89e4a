package commentsvc

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
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

// Sign-in throttling. Failures are counted per client address (an IPv6 client by its /64),
// per browser that has signed in to the account before (it carries a signed cookie), and
// per account. Past a few failures a count holds the next attempt back for a delay that
// doubles at each failure, and an address or a browser that keeps failing is refused for
// a while.
//
// Which counts hold an attempt back depends on who makes it. A browser that signed in to
// the account before answers for itself alone. Otherwise the address's count applies, and
// the account's too unless the address signed in to the account recently; the account's
// delay then runs from that address's own last failure, so that an address's first try is
// never held back by what others did. A flood against an account from a thousand addresses
// thus slows strangers, never the moderator at her own desk, and never turns into a lockout
// of the right password.
type throttle struct {
	free     int           // failures without delay
	delay    time.Duration // the first delay, doubled at each failure after it
	maxDelay time.Duration
	block    int // failures from which attempts wait blockFor (0: never)
	blockFor time.Duration
}

var (
	addrThrottle    = throttle{free: 5, delay: time.Second, maxDelay: time.Minute, block: 20, blockFor: 15 * time.Minute}
	browserThrottle = addrThrottle
	accountThrottle = throttle{free: 5, delay: time.Second, maxDelay: time.Minute}
)

const (
	failureMemory  = time.Hour           // a count is forgotten after this long without a failure
	knownFor       = 90 * 24 * time.Hour // a browser or an address that signed in is known this long
	deviceCookie   = "parvis_device"
	loginsInFlight = 2 // password checks under way at once for one address
)

// until is when an attempt held back by f may be made (the zero time: now).
func (t throttle) until(f store.Failures) time.Time {
	if f.Count < t.free || f.Last.IsZero() {
		return time.Time{}
	}
	if t.block > 0 && f.Count >= t.block {
		return f.Last.Add(t.blockFor)
	}
	d := t.maxDelay
	if n := f.Count - t.free; n < 30 {
		d = min(t.delay<<n, t.maxDelay)
	}
	return f.Last.Add(d)
}

// loginKeys are the counts one attempt is checked and counted against.
type loginKeys struct {
	addr    string // the client's address (group)
	account string // the account named, when the name can be one
	browser string // the browser, when it signed in to this account before
	known   bool   // the address signed in to this account recently
}

func (a *admin) loginKeys(r *http.Request, name string, now time.Time) (loginKeys, error) {
	addr := addrGroup(clientOf(r).addr).String()
	k := loginKeys{addr: "addr:" + addr}
	if !loginName.MatchString(name) {
		return k, nil
	}
	k.account = "user:" + name
	if id := a.browserID(r, name); id != "" {
		k.browser = "dev:" + id
	}
	since, err := a.s.store.KnownSince(knownKey(name, addr))
	k.known = !since.IsZero() && now.Sub(since) < knownFor
	return k, err
}

func knownKey(name, addr string) string { return "known:" + name + "|" + addr }

// all are the keys a failure counts against.
func (k loginKeys) all() []string {
	l := []string{k.addr}
	if k.account != "" {
		l = append(l, k.account)
	}
	if k.browser != "" {
		l = append(l, k.browser)
	}
	return l
}

// heldUntil is when the attempt may be made, given the failures counted under its keys.
func (k loginKeys) heldUntil(f map[string]store.Failures) time.Time {
	if k.browser != "" {
		return browserThrottle.until(f[k.browser])
	}
	t := addrThrottle.until(f[k.addr])
	if k.account != "" && !k.known {
		acc := store.Failures{Count: f[k.account].Count, Last: f[k.addr].Last}
		if u := accountThrottle.until(acc); u.After(t) {
			t = u
		}
	}
	return t
}

// browserID is the id of the browser's device cookie, when it was given at a sign-in to
// this account; "" otherwise.
func (a *admin) browserID(r *http.Request, name string) string {
	c, err := r.Cookie(deviceCookie)
	if err != nil || len(c.Value) > 128 {
		return ""
	}
	id, sig, ok := strings.Cut(c.Value, ".")
	if !ok || len(id) != 22 || !hmac.Equal([]byte(sig), []byte(a.mac("device", id, name))) {
		return ""
	}
	return id
}

// loginGate lets a few password checks run at once for one address, so that a burst of
// attempts sent together cannot all pass the throttle before the first is counted.
type loginGate struct {
	mu sync.Mutex
	n  map[string]int
}

func (g *loginGate) enter(key string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n == nil {
		g.n = map[string]int{}
	}
	if g.n[key] >= loginsInFlight {
		return false
	}
	g.n[key]++
	return true
}

func (g *loginGate) leave(key string) {
	g.mu.Lock()
	if g.n[key]--; g.n[key] <= 0 {
		delete(g.n, key)
	}
	g.mu.Unlock()
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
// pre-session token first, then the throttle (an attempt held back is refused before any
// password is checked, whatever it is), then the password.
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
	keys, err := a.loginKeys(r, name, now)
	if err != nil {
		a.unavailable(w, nil, "reading failed logins", err)
		return
	}
	failures, err := a.s.store.Failures(now, failureMemory, keys.all()...)
	if err != nil {
		a.unavailable(w, nil, "reading failed logins", err)
		return
	}
	if until := keys.heldUntil(failures); until.After(now) {
		a.locked(w, r, v, now, until)
		return
	}
	if !a.gate.enter(keys.addr) {
		a.locked(w, r, v, now, now.Add(time.Second))
		return
	}
	defer a.gate.leave(keys.addr)
	ok := false
	if len(password) <= maxPassword {
		if ok, err = a.verify(r.Context(), name, password); err != nil {
			a.unavailable(w, nil, "checking a password", err)
			return
		}
	}
	if !ok {
		failures, err := a.s.store.LoginFailed(now, failureMemory, keys.all()...)
		if err != nil {
			a.unavailable(w, nil, "counting a failed login", err)
			return
		}
		a.s.log.Warn("moderation: failed login", "name", name, "ip", clientIP(r))
		if until := keys.heldUntil(failures); until.After(now) {
			a.locked(w, r, v, now, until)
			return
		}
		v.Error = adminMsg(a.lang, "login_failed")
		a.loginPage(w, r, http.StatusUnauthorized, v)
		return
	}
	// The account's count stays: it slows only strangers, and a flood under way against
	// the account goes on being slowed after the moderator is in.
	clear := []string{keys.addr}
	if keys.browser != "" {
		clear = append(clear, keys.browser)
	}
	if err := a.s.store.LoginSucceeded(now, clear, []string{knownKey(name, strings.TrimPrefix(keys.addr, "addr:"))}); err != nil {
		a.s.log.Warn("clearing failed logins", "err", err)
	}
	if err := a.s.store.PurgeLogins(now, failureMemory, knownFor); err != nil {
		a.s.log.Warn("purging old failed logins", "err", err)
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
	id := strings.TrimPrefix(keys.browser, "dev:")
	if id == "" {
		id = randomToken(16)
	}
	http.SetCookie(w, a.cookie(r, deviceCookie, id+"."+a.mac("device", id, name), int(knownFor/time.Second)))
	http.SetCookie(w, a.cookie(r, sessionCookie, token, 0))
	http.SetCookie(w, a.cookie(r, loginCookie, "", -1))
	http.Redirect(w, r, a.safeNext(v.Next), http.StatusSeeOther)
}

// locked answers an attempt held back: a short delay in seconds, a long one as a time.
func (a *admin) locked(w http.ResponseWriter, r *http.Request, v loginView, now, until time.Time) {
	wait := int(until.Sub(now)/time.Second) + 1
	w.Header().Set("Retry-After", strconv.Itoa(wait))
	if wait <= 120 {
		v.Error = adminMsg(a.lang, "login_slowed", wait)
	} else {
		v.Error = adminMsg(a.lang, "login_locked", adminTime(a.lang, until, a.s.cfg.Location))
	}
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
