package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// selfCheckPages are pages that do what the attack looks for, each one thing, so that the
// hook and the structural checks are seen to catch it before their silence counts.
var selfCheckPages = []struct {
	path, csp, body string
	admin           bool              // a moderation page, where the preview's sandboxed frame is allowed
	fires           map[bool][]string // by whether the tab keeps the CSP: kinds that must fire
	rules           []string          // structural rules that must be found
}{
	{"/clean", "script-src 'self'", `<p>Rien à signaler.</p><script src="/js/own.js"></script>`, false, nil, nil},
	{"/inline", "", `<script>xss(1)</script>`, false, map[bool][]string{true: {firedScript, firedException}, false: {firedScript, firedException}}, []string{"script element"}},
	{"/disguised", "", `<script>xss(10)
//# sourceURL=ORIGIN/js/own.js
</script>`, false, map[bool][]string{true: {firedScript}, false: {firedScript}}, []string{"script element"}},
	{"/dialog", "", `<img src="/nothing.png" onerror="alert(2)">`, false, map[bool][]string{true: {firedDialog}, false: {firedDialog}}, []string{"event handler attribute onerror"}},
	{"/refresh", "", `<meta http-equiv="refresh" content="0;url=/landed">`, false, map[bool][]string{true: {firedNavigation}, false: {firedNavigation}}, nil},
	{"/refresh-later", "", `<meta http-equiv="refresh" content="30;url=/landed">`, false, nil, []string{"meta http-equiv"}},
	{"/csp", "script-src 'self'", `<script>xss(4)</script>`, false, map[bool][]string{true: {firedCSP}, false: {firedScript}}, []string{"script element"}},
	{"/sandboxed", "", `<iframe sandbox srcdoc="<p>x</p><script>xss(5)</script>"></iframe>`, false, map[bool][]string{true: {firedCSP}, false: {firedCSP}}, []string{"iframe", "srcdoc attribute", "script element"}},
	{"/overlay", "", `<div id="comment-form"></div><div class="comment-body"><h2 id="comment-form" style="position:fixed;inset:0;z-index:9999">x</h2><p id="xssid7" name="xssnm7">y</p></div>`, false, nil,
		[]string{"style attribute in a citizen's content", "element positioned fixed in a citizen's content", "fixed element covering the page", "id taken from the theme", "id chosen by a citizen", "name attribute in a citizen's content"}},
	{"/admin/preview", "default-src 'none'; frame-src 'self'", `<iframe class="preview" sandbox src="/preview-frame"></iframe>`, true, map[bool][]string{true: {firedCSP}, false: {firedCSP}},
		[]string{"style attribute in a citizen's content", "element positioned fixed in a citizen's content", "event handler attribute onerror"}},
	{"/url", "", `<a href=" JaVa&#x09;script:xss(8)">x</a><form action="/x"><button formaction="data:text/html,x">y</button></form>`, false, nil,
		[]string{"href with a javascript: URL", "formaction with a data: URL", "form element"}},
}

// selfCheck loads the self-check pages in a tab that keeps their CSP and in one that does
// not, and fails the test when a detector misses what its page does, or finds something on
// the clean page, or takes the moderation preview's sandboxed frame for a citizen's.
func selfCheck(t *testing.T, b context.Context) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/js/own.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write([]byte("document.documentElement.dataset.own = 'yes';"))
	})
	mux.HandleFunc("/landed", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<!doctype html><title>ici</title>")) })
	mux.HandleFunc("/preview-frame", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><html lang="fr"><title>Aperçu</title><style>body{margin:1rem}</style><body><p style="position:fixed;inset:0">x</p><img src="/nothing.png" onerror="xss(9)"></body></html>`))
	})
	for _, p := range selfCheckPages {
		mux.HandleFunc(p.path, func(w http.ResponseWriter, r *http.Request) {
			if p.csp != "" {
				w.Header().Set("Content-Security-Policy", p.csp)
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			body := strings.ReplaceAll(p.body, "ORIGIN", "http://"+r.Host)
			w.Write([]byte(`<!doctype html><html lang="fr"><title>Auto-contrôle</title><body>` + body + `</body></html>`))
		})
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, keep := range []bool{true, false} {
		x := newXSSTab(t, b, srv.URL, keep)
		for _, p := range selfCheckPages {
			cc := &checkContext{origin: srv.URL, surface: "site", chosen: map[string]bool{"xssid7": true}}
			if p.admin {
				cc.surface = "admin"
			}
			v := x.load(srv.URL+p.path, func(s *pageSnapshot) []finding { return cc.unexpected(s.check(cc)) })
			if v.Err != nil {
				t.Fatal(v.Err)
			}
			time.Sleep(100 * time.Millisecond) // what comes late is the visit's too
			x.settle()
			kinds := map[string]bool{}
			for _, f := range v.Fired {
				kinds[f.Kind] = true
			}
			for _, k := range p.fires[keep] {
				if !kinds[k] {
					t.Errorf("hook self-check (CSP kept: %v): %s should fire %q; fired %v", keep, p.path, k, v.Fired)
				}
			}
			rules := map[string]bool{}
			for _, f := range v.Found {
				rules[f.Rule] = true
			}
			for _, r := range p.rules {
				if !rules[r] {
					t.Errorf("structural self-check: %s should find %q; found %v", p.path, r, v.Found)
				}
			}
			if p.admin && rules["iframe"] {
				t.Errorf("structural self-check: %s took the preview's sandboxed frame for a citizen's: %v", p.path, v.Found)
			}
			if p.fires == nil && len(v.Fired) > 0 || p.rules == nil && p.fires == nil && len(v.Found) > 0 {
				t.Errorf("self-check: the clean page %s gave fired %v, found %v", p.path, v.Fired, v.Found)
			}
			if p.path == "/clean" && !keep {
				// The site's own script ran, and was not counted.
				if own, err := evalHarness[string](x, `document.documentElement.dataset.own || ""`); err != nil || own != "yes" {
					t.Errorf("self-check: the page's own script did not run (%q, %v)", own, err)
				}
			}
		}
	}
}
