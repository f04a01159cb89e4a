package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// TestFinding1HeaderFiles checks that the static handler applies the built site's _headers:
// finding 1 of the hostile-input review asks that citizens' documents be served as
// downloads, so that active content a check missed cannot run in the site's origin.
func TestFinding1HeaderFiles(t *testing.T) {
	root := t.TempDir()
	for name, data := range map[string]string{
		"documents/x/x.pdf":  "%PDF-1.4\n%%EOF\n",
		"documents/y/y.pdf":  "%PDF-1.4\n%%EOF\n",
		"articles/a/a.odt":   "PK",
		"index.html":         "<p>accueil</p>",
		"_headers":           "# the site's own\n/articles/*\n  X-Robots-Tag: noindex\n\n/documents/x/x.pdf\n  Content-Disposition: attachment\n  content-security-policy: sandbox\nnot a rule\n",
		"documents/x/x.html": "<p>x</p>",
	} {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := headerFiles(root, staticHandler(root))
	get := func(p string) *http.Response {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		return rec.Result()
	}
	tests := []struct {
		path, header, want string
	}{
		{"/documents/x/x.pdf", "Content-Disposition", "attachment"},
		{"/documents/x/x.pdf", "Content-Security-Policy", "sandbox"},
		{"/documents/./x/x.pdf", "Content-Disposition", "attachment"},
		{"/documents/y/y.pdf", "Content-Disposition", ""},
		{"/articles/a/a.odt", "X-Robots-Tag", "noindex"},
		{"/", "Content-Disposition", ""},
	}
	for _, tt := range tests {
		if got := get(tt.path).Header.Get(tt.header); got != tt.want {
			t.Errorf("%s: %s %q, want %q", tt.path, tt.header, got, tt.want)
		}
	}
	if res := get("/_headers"); res.StatusCode != http.StatusNotFound {
		t.Errorf("/_headers is served: %d", res.StatusCode)
	}
	// A rebuild that changes the file changes the headers.
	if err := os.WriteFile(filepath.Join(root, "_headers"), []byte("/documents/y/y.pdf\n  Content-Disposition: attachment\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := get("/documents/y/y.pdf").Header.Get("Content-Disposition"); got != "attachment" {
		t.Errorf("after a rebuild: %q", got)
	}
	if got := get("/documents/x/x.pdf").Header.Get("Content-Disposition"); got != "" {
		t.Errorf("a rule gone: %q", got)
	}
}
