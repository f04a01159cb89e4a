package commentsvc

import (
	"net/http"
	"net/url"
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

func TestAdminLockout(t *testing.T) {
	t.Parallel()
	t.Run("account", func(t *testing.T) {
		h := newHarness(t)
		for i := 1; i < maxFailuresAccount; i++ {
			if p := h.client(t).login("ana", "wrong"); p.StatusCode != http.StatusUnauthorized {
				t.Fatalf("failure %d: status %d", i, p.StatusCode)
			}
		}
		p := h.client(t).login("ana", "wrong")
		if p.StatusCode != http.StatusTooManyRequests || p.Header.Get("Retry-After") == "" {
			t.Fatalf("failure %d: status %d, Retry-After %q", maxFailuresAccount, p.StatusCode, p.Header.Get("Retry-After"))
		}
		mustContain(t, "the lockout page", p.body, "Trop de tentatives de connexion ont échoué", "bloquée jusqu’à")
		// Locked: the right password is refused too.
		if p := h.client(t).login("ana", anaPassword); p.StatusCode != http.StatusTooManyRequests {
			t.Errorf("right password while locked: %d", p.StatusCode)
		}
		// An unknown name is locked the same way, so the lockout does not tell names apart.
		for i := 0; i < maxFailuresAccount-1; i++ {
			h.client(t).login("ghost", "wrong")
		}
		if p := h.client(t).login("ghost", "wrong"); p.StatusCode != http.StatusTooManyRequests {
			t.Errorf("unknown name: status %d after %d failures", p.StatusCode, maxFailuresAccount)
		}
		h.clock.Advance(lockTime + time.Second)
		if p := h.client(t).login("ana", anaPassword); p.StatusCode != http.StatusSeeOther {
			t.Errorf("after the lock: %d\n%s", p.StatusCode, p.body)
		}
	})
	t.Run("address", func(t *testing.T) {
		h := newHarness(t)
		// Many names from one address: the address is locked even for a real account.
		for i := 0; i < maxFailuresAddress; i++ {
			h.client(t).login("name"+string(rune('a'+i)), "wrong")
		}
		if p := h.client(t).login("ana", anaPassword); p.StatusCode != http.StatusTooManyRequests {
			t.Errorf("right password from a locked address: %d", p.StatusCode)
		}
		h.clock.Advance(lockTime + time.Second)
		if p := h.client(t).login("ana", anaPassword); p.StatusCode != http.StatusSeeOther {
			t.Errorf("after the lock: %d", p.StatusCode)
		}
	})
	t.Run("failures spread out do not lock", func(t *testing.T) {
		h := newHarness(t)
		for i := 0; i < 2*maxFailuresAccount; i++ {
			if p := h.client(t).login("ana", "wrong"); p.StatusCode != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d", i, p.StatusCode)
			}
			h.clock.Advance(failureWindow / 4)
		}
	})
	t.Run("a success clears the account's failures", func(t *testing.T) {
		h := newHarness(t)
		for range 3 {
			for i := 0; i < maxFailuresAccount-1; i++ {
				h.client(t).login("ana", "wrong")
			}
			if p := h.client(t).login("ana", anaPassword); p.StatusCode != http.StatusSeeOther {
				t.Fatalf("login: %d", p.StatusCode)
			}
			h.clock.Advance(failureWindow / 2) // the address's count goes on; let it lapse
		}
	})
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
		h := newHarness(t)
		c := h.client(t)
		req, _ := http.NewRequest("GET", h.srv.URL+"/admin/login", nil)
		req.Header.Set("X-Forwarded-Proto", "https")
		p := c.do(req)
		if ck := setCookie(p.Response, loginCookie); ck == nil || !ck.Secure {
			t.Errorf("login cookie over HTTPS: %+v", ck)
		}
	})
}

// TestAdminCSRF sends a decision that a page of another site could forge, and one that
// lacks or mistakes the token: each is refused and the submission stays pending.
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
		{"wrong token", url.Values{"csrf": {"x" + tok[1:]}}, nil},
		{"token of the login form", url.Values{"csrf": {csrfRE.FindStringSubmatch(h.client(t).get("/admin/login").body)[1]}}, nil},
		{"other origin", url.Values{"csrf": {tok}}, []string{"Origin", "https://evil.example"}},
		{"null origin", url.Values{"csrf": {tok}}, []string{"Origin", "null"}},
		{"no origin, foreign referer", url.Values{"csrf": {tok}}, []string{"Origin", "", "Referer", "https://evil.example/page"}},
		{"no origin, no referer", url.Values{"csrf": {tok}}, []string{"Origin", ""}},
		{"cross-site fetch", url.Values{"csrf": {tok}}, []string{"Sec-Fetch-Site", "cross-site"}},
		{"same host, plain HTTP behind HTTPS", url.Values{"csrf": {tok}}, []string{"X-Forwarded-Proto", "https"}},
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
