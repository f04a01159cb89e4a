package commentsvc

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestAdminLogin(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	storeHash, _ := bcrypt.GenerateFromPassword([]byte("another long password"), bcrypt.MinCost)
	if err := h.svc.AddModerator("bruno.l", string(storeHash)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, user, password string
		status               int
		want                 []string
	}{
		{"account from parvis.yaml", "ana", anaPassword, http.StatusSeeOther, nil},
		{"account from the store", "bruno.l", "another long password", http.StatusSeeOther, nil},
		{"name typed with capitals and spaces", " Ana ", anaPassword, http.StatusSeeOther, nil},
		{"wrong password", "ana", "wrong password", http.StatusUnauthorized, []string{"Identifiant ou mot de passe incorrect.", `value="ana"`, `aria-describedby="login-error"`}},
		{"unknown user", "nobody", anaPassword, http.StatusUnauthorized, []string{"Identifiant ou mot de passe incorrect."}},
		{"password of another account", "bruno.l", anaPassword, http.StatusUnauthorized, []string{"Identifiant ou mot de passe incorrect."}},
		{"empty fields", "", "", http.StatusUnprocessableEntity, []string{"Saisissez votre identifiant.", "Saisissez votre mot de passe.", `aria-invalid="true" aria-describedby="name-error"`, `href="#password"`}},
		{"over-long password", "ana", strings.Repeat("x", 2000), http.StatusUnauthorized, []string{"Identifiant ou mot de passe incorrect."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := h.client(t)
			p := c.login(tt.user, tt.password)
			if p.StatusCode != tt.status {
				t.Fatalf("status %d, want %d\n%s", p.StatusCode, tt.status, p.body)
			}
			mustContain(t, "the login answer", p.body, tt.want...)
			sess := setCookie(p.Response, sessionCookie)
			if tt.status != http.StatusSeeOther {
				if sess != nil {
					t.Errorf("a failed login set a session cookie")
				}
				return
			}
			if p.Header.Get("Location") != "/admin/" {
				t.Errorf("redirected to %q", p.Header.Get("Location"))
			}
			if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Path != "/admin/" || sess.Secure || len(sess.Value) < 40 {
				t.Errorf("session cookie %+v", sess)
			}
			queue := c.get("/admin/")
			if queue.StatusCode != http.StatusOK {
				t.Fatalf("queue after login: %d", queue.StatusCode)
			}
			mustContain(t, "the queue", queue.body, "Connecté en tant que "+strings.ToLower(strings.TrimSpace(tt.user)))
		})
	}
}

// TestAdminLoginTiming checks that an unknown name costs a bcrypt comparison like a known
// one, so that timing does not tell which accounts exist.
func TestAdminLoginTiming(t *testing.T) {
	h := newHarness(t, harnessConfig{noAccount: true})
	a := newAdmin(h.svc)
	if err := h.svc.AddModerator("slow", mustHash(t, "a password of the account", 8)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if ok, err := a.verify(t.Context(), "slow", "wrong"); ok || err != nil {
		t.Fatal(ok, err)
	}
	known := time.Since(start)
	start = time.Now()
	if ok, err := a.verify(t.Context(), "unknown", "wrong"); ok || err != nil {
		t.Fatal(ok, err)
	}
	unknown := time.Since(start) // includes making the dummy hash once, at the same cost
	start = time.Now()
	if ok, err := a.verify(t.Context(), "unknown", "wrong"); ok || err != nil {
		t.Fatal(ok, err)
	}
	again := time.Since(start)
	if c, err := bcrypt.Cost(a.dummyHash); err != nil || c != 8 {
		t.Errorf("the dummy hash has cost %d (%v), want the accounts' 8", c, err)
	}
	if again < known/4 || unknown < known/4 {
		t.Errorf("an unknown name took %s (then %s), a known one %s: the dummy comparison is missing", unknown, again, known)
	}
}

func mustHash(t *testing.T, password string, cost int) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func TestAdminNoAccount(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessConfig{noAccount: true})
	c := h.client(t)
	p := c.get("/admin/login")
	if p.StatusCode != http.StatusOK {
		t.Fatalf("status %d", p.StatusCode)
	}
	mustContain(t, "the login page", p.body, "Aucun compte de modération", "parvis moderate adduser NOM --site DOSSIER_DU_SITE", "parvis moderate hash")
	mustNotContain(t, "the login page", p.body, `type="password"`)
	// No default account exists: the usual names are refused. The page has no form, so the
	// token is signed here as the page would have.
	tok := newAdmin(h.svc).mac("login", c.cookie(loginCookie).Value)
	for _, name := range []string{"admin", "moderator", "parvis"} {
		p := c.post("/admin/login", url.Values{"csrf": {tok}, "name": {name}, "password": {name}})
		if p.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: status %d", name, p.StatusCode)
		}
	}
	// An account added with parvis moderate adduser works at once.
	if err := h.svc.AddModerator("claire", mustHash(t, "a long enough password", bcrypt.MinCost)); err != nil {
		t.Fatal(err)
	}
	if p := c.get("/admin/login"); !strings.Contains(p.body, `type="password"`) {
		t.Errorf("the login form is missing once an account exists")
	}
	if p := c.login("claire", "a long enough password"); p.StatusCode != http.StatusSeeOther {
		t.Errorf("login with the new account: %d", p.StatusCode)
	}
}

// proxiedHarness is a harness whose service trusts the loopback peer as its proxy, so
// that a test can speak from any address with X-Forwarded-For.
func proxiedHarness(t *testing.T) *harness {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(anaPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(strings.Replace(adminSite, "PASSWORD_HASH", string(hash), 1), "REASONS", "", 1)
	repoDir, _, opts := parts(t, text, time.Second)
	c := &clock{}
	svc, err := New(append(opts, WithClock(c.Now), WithTrustedProxies(netip.MustParsePrefix("127.0.0.0/8")))...)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.AddModerator("demo", mustHash(t, demoPassword, bcrypt.MinCost)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	tr := &http.Transport{MaxIdleConnsPerHost: 8}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		srv.Close()
	})
	return &harness{svc: svc, srv: srv, clock: c, repo: repoDir, tr: tr}
}

const demoPassword = "belcombe-demo-2026"

// loginFrom signs in through the login form from a client address, as a proxy would say.
func (c *client) loginFrom(addr, name, password string) page {
	c.t.Helper()
	if c.cookie(loginCookie) == nil {
		// The pre-session cookie the login page gives (a signed-in browser is not shown it).
		u, _ := url.Parse(c.h.srv.URL + "/admin/")
		c.c.Jar.SetCookies(u, []*http.Cookie{{Name: loginCookie, Value: randomToken(32), Path: "/admin/"}})
	}
	tok := (&admin{s: c.h.svc}).mac("login", c.cookie(loginCookie).Value)
	return c.post("/admin/login", url.Values{"csrf": {tok}, "name": {name}, "password": {password}}, "X-Forwarded-For", addr)
}

func retryAfter(t *testing.T, p page) time.Duration {
	t.Helper()
	n, err := strconv.Atoi(p.Header.Get("Retry-After"))
	if err != nil {
		t.Fatalf("status %d, Retry-After %q", p.StatusCode, p.Header.Get("Retry-After"))
	}
	return time.Duration(n) * time.Second
}

// TestFinding7RotatingAddressesDoNotLockTheModeratorOut: a thousand addresses failing
// against an account used to lock it for everyone, the right password included. Now they
// slow strangers only: the moderator gets in from her own address, from her own browser,
// and even from a new address at the first try.
func TestFinding7RotatingAddressesDoNotLockTheModeratorOut(t *testing.T) {
	t.Parallel()
	h := proxiedHarness(t)
	const own = "192.0.2.10"
	desk := h.client(t)
	if p := desk.loginFrom(own, "demo", demoPassword); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("first sign-in: %d\n%s", p.StatusCode, p.body)
	}
	if desk.cookie(deviceCookie) == nil {
		t.Fatal("no device cookie after signing in")
	}

	attacker := h.client(t)
	// Each address's first try runs bcrypt: 300 of them prove the point in a few seconds,
	// under the race detector too.
	const flood = 300
	for i := range flood {
		addr := fmt.Sprintf("10.%d.%d.1", i>>8, i&255)
		// Wrong, then told to wait (429) once the account's count is past its free tries.
		if p := attacker.loginFrom(addr, "demo", "wrong password"); p.StatusCode != http.StatusUnauthorized && p.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("attempt %d: status %d", i, p.StatusCode)
		}
	}
	// Each first try from an address was checked, and counted.
	f, err := h.svc.store.Failures(h.clock.Now(), failureMemory, "user:demo")
	if err != nil || f["user:demo"].Count != flood {
		t.Fatalf("the account counted %+v (%v), want %d failures", f, err, flood)
	}
	t.Logf("login flood: %d addresses, %d failures against demo", flood, f["user:demo"].Count)

	for _, tt := range []struct {
		name string
		c    *client
		addr string
	}{
		{"her own browser, from her address", desk, own},
		{"a new browser, from her address", h.client(t), own},
		{"her own browser, from another address", desk, "198.51.100.20"},
		{"a new browser, from a new address, first try", h.client(t), "198.51.100.7"},
	} {
		if p := tt.c.loginFrom(tt.addr, "demo", demoPassword); p.StatusCode != http.StatusSeeOther {
			t.Errorf("%s: status %d, want a sign-in\n%s", tt.name, p.StatusCode, p.body)
		}
	}
	// An address of the flood that tries again is slowed by the account's count (the last
	// one: the delay runs from that address's own failure, in real time).
	p := attacker.loginFrom(fmt.Sprintf("10.%d.%d.1", (flood-1)>>8, (flood-1)&255), "demo", "wrong password")
	if p.StatusCode != http.StatusTooManyRequests || retryAfter(t, p) < 30*time.Second {
		t.Errorf("a second try from an address of the flood: %d, Retry-After %q", p.StatusCode, p.Header.Get("Retry-After"))
	}
	mustContain(t, "the answer", p.body, "Trop de tentatives de connexion ont échoué")
}

// TestFinding7OneAddressSlowedThenBlocked: one address that keeps failing waits longer at
// each failure, then is refused for a while, the right password included; the moderator's
// own browser still gets in from it.
func TestFinding7OneAddressSlowedThenBlocked(t *testing.T) {
	t.Parallel()
	h := proxiedHarness(t)
	desk := h.client(t)
	if p := desk.loginFrom("192.0.2.10", "ana", anaPassword); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", p.StatusCode)
	}
	const addr = "203.0.113.5"
	c := h.client(t)
	var delays []time.Duration
	for i := 1; i <= addrThrottle.block; i++ {
		p := c.loginFrom(addr, "ana", "wrong")
		if i < addrThrottle.free {
			if p.StatusCode != http.StatusUnauthorized {
				t.Fatalf("failure %d: status %d", i, p.StatusCode)
			}
			continue
		}
		if p.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("failure %d: status %d, want 429", i, p.StatusCode)
		}
		d := retryAfter(t, p)
		delays = append(delays, d)
		// Held back: the right password waits too, and costs no password check.
		if p := c.loginFrom(addr, "ana", anaPassword); p.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("the right password while held back after %d failures: %d", i, p.StatusCode)
		}
		if i < addrThrottle.block {
			h.clock.Advance(d)
		}
	}
	t.Logf("delays after each failure: %v", delays)
	for i := 1; i < len(delays)-1; i++ {
		if delays[i] < delays[i-1] {
			t.Errorf("the delay fell from %v to %v", delays[i-1], delays[i])
		}
	}
	if delays[1] <= delays[0] || delays[4] < 8*delays[0]/2 {
		t.Errorf("the delay does not grow: %v", delays)
	}
	if max := slices.Max(delays[:len(delays)-1]); max > addrThrottle.maxDelay+time.Second {
		t.Errorf("a delay of %v, past the cap of %v", max, addrThrottle.maxDelay)
	}
	if last := delays[len(delays)-1]; last < addrThrottle.blockFor {
		t.Errorf("after %d failures: Retry-After %v, want a block of %v", addrThrottle.block, last, addrThrottle.blockFor)
	}
	p := c.loginFrom(addr, "ana", anaPassword)
	if p.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the right password from a blocked address: %d", p.StatusCode)
	}
	mustContain(t, "the block page", p.body, "bloquée jusqu’à")
	// Another address is not concerned, and the moderator's browser is known wherever it is.
	if p := h.client(t).loginFrom("203.0.113.99", "bruno", "wrong"); p.StatusCode != http.StatusUnauthorized {
		t.Errorf("another address: %d", p.StatusCode)
	}
	if p := desk.loginFrom(addr, "ana", anaPassword); p.StatusCode != http.StatusSeeOther {
		t.Errorf("the moderator's own browser from the blocked address: %d", p.StatusCode)
	}
	h.clock.Advance(addrThrottle.blockFor + time.Second)
	if p := c.loginFrom(addr, "ana", anaPassword); p.StatusCode != http.StatusSeeOther {
		t.Errorf("after the block: %d\n%s", p.StatusCode, p.body)
	}
}

// TestAdminThrottleSameForAnyName: the throttle answers an unknown name as it answers an
// account, so that it does not tell which names exist.
func TestAdminThrottleSameForAnyName(t *testing.T) {
	t.Parallel()
	h := proxiedHarness(t)
	seq := func(name, addr string) []int {
		var out []int
		c := h.client(t)
		for range addrThrottle.free + 2 {
			out = append(out, c.loginFrom(addr, name, "wrong").StatusCode)
		}
		return out
	}
	if a, g := seq("ana", "203.0.113.1"), seq("ghost", "203.0.113.2"); !slices.Equal(a, g) {
		t.Errorf("an account answered %v, an unknown name %v", a, g)
	}
}

// TestAdminThrottleForgets: a success clears the address's failures, and failures are
// forgotten after a quiet spell.
func TestAdminThrottleForgets(t *testing.T) {
	t.Parallel()
	h := proxiedHarness(t)
	for round := range 3 {
		c := h.client(t)
		for i := 1; i < addrThrottle.free; i++ {
			// Another name each round: the account's own count is not what is tested.
			if p := c.loginFrom("203.0.113.1", fmt.Sprint("bruno", round), "wrong"); p.StatusCode != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d", i, p.StatusCode)
			}
		}
		if p := c.loginFrom("203.0.113.1", "ana", anaPassword); p.StatusCode != http.StatusSeeOther {
			t.Fatalf("login: %d", p.StatusCode)
		}
	}
	c := h.client(t)
	for i := 1; i < addrThrottle.free; i++ {
		c.loginFrom("203.0.113.2", "bruno", "wrong")
	}
	h.clock.Advance(failureMemory + time.Minute)
	for i := 1; i < addrThrottle.free; i++ {
		if p := c.loginFrom("203.0.113.2", "bruno", "wrong"); p.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d after a quiet hour: %d", i, p.StatusCode)
		}
	}
}

func TestAdminSession(t *testing.T) {
	t.Parallel()
	t.Run("idle expiry", func(t *testing.T) {
		h := newHarness(t)
		c := h.signedIn(t)
		h.clock.Advance(sessionIdle + time.Minute)
		p := c.get("/admin/")
		if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/admin/login?expired=1&next=%2Fadmin%2F" {
			t.Fatalf("after the idle time: %d to %q", p.StatusCode, p.Header.Get("Location"))
		}
		login := c.get(p.Header.Get("Location"))
		mustContain(t, "the login page", login.body, "Votre session a expiré")
	})
	t.Run("activity keeps it, up to the limit", func(t *testing.T) {
		h := newHarness(t)
		c := h.signedIn(t)
		step := sessionIdle / 3 // not a divisor of the idle time: activity alone would go past the limit
		for elapsed := step; elapsed < sessionMax; elapsed += step {
			h.clock.Advance(step)
			if p := c.get("/admin/"); p.StatusCode != http.StatusOK {
				t.Fatalf("an active session ended after %v: %d", elapsed, p.StatusCode)
			}
		}
		h.clock.Advance(step + time.Minute)
		if p := c.get("/admin/"); p.StatusCode != http.StatusSeeOther {
			t.Fatalf("a session %v after signing in, active all along: %d, want a new sign-in", sessionMax, p.StatusCode)
		}
	})
	t.Run("back to the page asked for", func(t *testing.T) {
		h := newHarness(t)
		id := h.submitComment(t, "Claire", "Bonjour")
		c := h.client(t)
		p := c.get("/admin/submissions/" + id)
		want := "/admin/login?next=%2Fadmin%2Fsubmissions%2F" + id
		if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != want {
			t.Fatalf("%d to %q, want %q", p.StatusCode, p.Header.Get("Location"), want)
		}
		tok := csrfRE.FindStringSubmatch(c.get(p.Header.Get("Location")).body)[1]
		p = c.post("/admin/login", url.Values{"csrf": {tok}, "name": {"ana"}, "password": {anaPassword}, "next": {"/admin/submissions/" + id}})
		if p.Header.Get("Location") != "/admin/submissions/"+id {
			t.Errorf("after login: %q", p.Header.Get("Location"))
		}
	})
	t.Run("no open redirect", func(t *testing.T) {
		h := newHarness(t)
		for _, next := range []string{"https://evil.example/", "//evil.example/admin/", "/admin/../../evil", "/admin/%2e%2e/evil", "/\\evil.example", "/admin/login", "javascript:alert(1)", "/admin"} {
			c := h.client(t)
			p := c.post("/admin/login", url.Values{"csrf": {c.csrf("/admin/login")}, "name": {"ana"}, "password": {anaPassword}, "next": {next}})
			if loc := p.Header.Get("Location"); loc != "/admin/" {
				t.Errorf("next=%q redirected to %q", next, loc)
			}
		}
	})
	t.Run("logout", func(t *testing.T) {
		h := newHarness(t)
		c := h.signedIn(t)
		old := c.cookie(sessionCookie)
		p := c.post("/admin/logout", url.Values{"csrf": {c.csrf("/admin/")}})
		if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/admin/login?out=1" {
			t.Fatalf("logout: %d to %q", p.StatusCode, p.Header.Get("Location"))
		}
		if ck := setCookie(p.Response, sessionCookie); ck == nil || ck.MaxAge >= 0 {
			t.Errorf("the session cookie is not cleared: %+v", ck)
		}
		mustContain(t, "the login page", c.get("/admin/login?out=1").body, "Vous êtes déconnecté.")
		// The old token is dead on the server, not only forgotten by the browser.
		replay := h.client(t)
		u, _ := url.Parse(h.srv.URL + "/admin/")
		replay.c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: old.Value, Path: "/admin/"}})
		if p := replay.get("/admin/"); p.StatusCode != http.StatusSeeOther {
			t.Errorf("the logged-out token still opens the queue: %d", p.StatusCode)
		}
	})
	t.Run("deleted account", func(t *testing.T) {
		h := newHarness(t)
		if err := h.svc.AddModerator("temp", mustHash(t, "temporary password", bcrypt.MinCost)); err != nil {
			t.Fatal(err)
		}
		c := h.client(t)
		if p := c.login("temp", "temporary password"); p.StatusCode != http.StatusSeeOther {
			t.Fatal(p.StatusCode)
		}
		if err := h.svc.DeleteModerator("temp"); err != nil {
			t.Fatal(err)
		}
		if p := c.get("/admin/"); p.StatusCode != http.StatusSeeOther {
			t.Errorf("a deleted account's session still works: %d", p.StatusCode)
		}
	})
	t.Run("Secure behind HTTPS", func(t *testing.T) {
		// Finding 6: X-Forwarded-Proto is the word of a trusted proxy only.
		for _, tt := range []struct {
			name   string
			h      *harness
			secure bool
		}{{"trusted proxy", proxiedHarness(t), true}, {"any peer", newHarness(t), false}} {
			c := tt.h.client(t)
			req, _ := http.NewRequest("GET", tt.h.srv.URL+"/admin/login", nil)
			req.Header.Set("X-Forwarded-Proto", "https")
			p := c.do(req)
			if ck := setCookie(p.Response, loginCookie); ck == nil || ck.Secure != tt.secure {
				t.Errorf("%s: login cookie %+v, want Secure %v", tt.name, ck, tt.secure)
			}
		}
	})
}

// TestAdminCSRF sends a decision that a page of another site could forge, and one that
// lacks or mistakes the token: each is refused and the submission stays pending.
// wrongToken changes a token's first character (one token in 64 starts with "x" already).
func wrongToken(tok string) string {
	if tok[0] == 'x' {
		return "y" + tok[1:]
	}
	return "x" + tok[1:]
}

func TestAdminCSRF(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.signedIn(t)
	id := h.submitComment(t, "Claire", "Bonjour")
	tok := c.csrf("/admin/")
	tests := []struct {
		name    string
		form    url.Values
		headers []string
	}{
		{"no token", url.Values{}, nil},
		{"wrong token", url.Values{"csrf": {wrongToken(tok)}}, nil},
		{"token of the login form", url.Values{"csrf": {csrfRE.FindStringSubmatch(h.client(t).get("/admin/login").body)[1]}}, nil},
		{"other origin", url.Values{"csrf": {tok}}, []string{"Origin", "https://evil.example"}},
		{"null origin", url.Values{"csrf": {tok}}, []string{"Origin", "null"}},
		{"no origin, foreign referer", url.Values{"csrf": {tok}}, []string{"Origin", "", "Referer", "https://evil.example/page"}},
		{"no origin, no referer", url.Values{"csrf": {tok}}, []string{"Origin", ""}},
		{"cross-site fetch", url.Values{"csrf": {tok}}, []string{"Sec-Fetch-Site", "cross-site"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/admin/submissions/" + id + "/approve", "/admin/bulk", "/admin/logout"} {
				form := url.Values{"action": {"approve"}, "id": {id}}
				for k, v := range tt.form {
					form[k] = v
				}
				p := c.post(path, form, tt.headers...)
				if p.StatusCode != http.StatusForbidden {
					t.Errorf("%s: status %d", path, p.StatusCode)
				}
				mustContain(t, path, p.body, "Action refusée", "Rechargez la page")
			}
			if r := h.record(t, id); r.Status != "pending" {
				t.Fatalf("the submission was decided: %s", r.Status)
			}
		})
	}
	// The same request from the pages goes through, with a same-origin Referer alone too.
	if p := c.post("/admin/submissions/"+id+"/approve", url.Values{"csrf": {tok}}, "Origin", "", "Referer", h.srv.URL+"/admin/submissions/"+id); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("a genuine approval: %d\n%s", p.StatusCode, p.body)
	}
	h.waitStatus(t, id, "published")

	t.Run("login form", func(t *testing.T) {
		for _, tt := range []struct {
			name    string
			token   func(*client) string
			headers []string
			want    string
		}{
			{"no cookie", func(*client) string { return csrfRE.FindStringSubmatch(h.client(t).get("/admin/login").body)[1] }, nil, "bloque les cookies"},
			{"no token", func(*client) string { return "" }, nil, "bloque les cookies"},
			{"other origin", func(c *client) string { return c.csrf("/admin/login") }, []string{"Origin", "https://evil.example"}, "envoyé depuis un autre site"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				c := h.client(t)
				c.get("/admin/login")
				p := c.post("/admin/login", url.Values{"csrf": {tt.token(c)}, "name": {"ana"}, "password": {anaPassword}}, tt.headers...)
				if p.StatusCode != http.StatusForbidden || setCookie(p.Response, sessionCookie) != nil {
					t.Errorf("status %d", p.StatusCode)
				}
				mustContain(t, "the refusal", p.body, "Action refusée", tt.want)
			})
		}
	})
	t.Run("same host, plain HTTP behind HTTPS", func(t *testing.T) {
		h := proxiedHarness(t)
		c := h.client(t)
		if p := c.loginFrom("192.0.2.10", "ana", anaPassword); p.StatusCode != http.StatusSeeOther {
			t.Fatalf("login: %d", p.StatusCode)
		}
		p := c.post("/admin/logout", url.Values{"csrf": {c.csrf("/admin/")}}, "X-Forwarded-Proto", "https")
		if p.StatusCode != http.StatusForbidden {
			t.Errorf("an http:// origin behind an HTTPS proxy: status %d", p.StatusCode)
		}
	})
	t.Run("signed out", func(t *testing.T) {
		p := h.client(t).post("/admin/submissions/"+id+"/approve", url.Values{"csrf": {tok}})
		if p.StatusCode != http.StatusForbidden {
			t.Errorf("status %d", p.StatusCode)
		}
		mustContain(t, "the refusal", p.body, "Votre session a expiré", `href="/admin/login"`)
	})
}

// TestAdminHeaders checks the security headers of every kind of page.
func TestAdminHeaders(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.submitComment(t, "Claire", "Bonjour")
	c := h.signedIn(t)
	anon := h.client(t)
	tok := c.csrf("/admin/")
	pages := map[string]func() page{
		"login":        func() page { return anon.get("/admin/login") },
		"login failed": func() page { return anon.login("ana", "wrong") },
		"queue":        func() page { return c.get("/admin/?status=rejected") },
		"submission":   func() page { return c.get("/admin/submissions/" + id) },
		"not found":    func() page { return c.get("/admin/nothing-here") },
		"unknown id":   func() page { return c.get("/admin/submissions/01XYZ") },
		"forbidden":    func() page { return c.post("/admin/bulk", url.Values{"csrf": {"wrong"}}) },
		"bad reason":   func() page { return c.post("/admin/submissions/"+id+"/reject", url.Values{"csrf": {tok}}) },
		"redirect":     func() page { return anon.get("/admin/") },
	}
	want := map[string]string{
		"Content-Security-Policy": adminCSP,
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "same-origin",
		"Cache-Control":           "no-store",
		"X-Content-Type-Options":  "nosniff",
	}
	for name, get := range pages {
		p := get()
		for k, v := range want {
			if got := p.Header.Get(k); got != v {
				t.Errorf("%s (%d): %s = %q, want %q", name, p.StatusCode, k, got, v)
			}
		}
		if p.StatusCode != http.StatusSeeOther && !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: Content-Type %q", name, p.Header.Get("Content-Type"))
		}
	}
	for _, dir := range []string{"script-src", "'unsafe-inline'", "http:", "https:"} {
		if strings.Contains(adminCSP, dir) {
			t.Errorf("the CSP allows %s", dir)
		}
	}
}

// TestLoginGate: a burst of attempts sent together from one address cannot all reach the
// password check before the first is counted.
func TestLoginGate(t *testing.T) {
	var g loginGate
	for i := range loginsInFlight {
		if !g.enter("addr:a") {
			t.Fatalf("check %d refused", i+1)
		}
	}
	if g.enter("addr:a") {
		t.Errorf("check %d let through at once", loginsInFlight+1)
	}
	if !g.enter("addr:b") {
		t.Error("another address waits for this one")
	}
	g.leave("addr:a")
	if !g.enter("addr:a") {
		t.Error("a finished check did not give its place back")
	}
}
