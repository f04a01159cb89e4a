package headers

import (
	"fmt"
	"testing"
)

func TestParseMatch(t *testing.T) {
	rules := Parse([]byte("# the site's own\n/articles/*\n  X-Robots-Tag: noindex\n\n/articles/citoyen/compte-rendu.pdf\n" +
		"  content-disposition: attachment\n  Content-Security-Policy: sandbox\nnot a rule\n  Orphan: x\n/pages/\n\tCache-Control: no-cache\n  : empty name\n/*\n  Cache-Control: max-age=5\n"))
	for _, tc := range []struct {
		paths []string
		want  string
	}{
		{[]string{"/articles/citoyen/compte-rendu.pdf"}, "[{X-Robots-Tag noindex} {Content-Disposition attachment} {Content-Security-Policy sandbox} {Cache-Control max-age=5}]"},
		{[]string{"/articles/x/index.html", "/articles/x/"}, "[{X-Robots-Tag noindex} {Cache-Control max-age=5}]"},
		{[]string{"/pages/index.html", "/pages/"}, "[{Cache-Control no-cache} {Cache-Control max-age=5}]"},
		{[]string{"/x"}, "[{Cache-Control max-age=5}]"},
	} {
		if got := fmt.Sprint(rules.Match(tc.paths...)); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.paths, got, tc.want)
		}
	}
	if got := Parse(nil).Match("/"); got != nil {
		t.Errorf("no rules: %v", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("/a\n  X: y\n/b/*\n\tZ: w\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, r := range Parse(b) {
			for _, h := range r.Headers {
				if h.Name == "" {
					t.Fatalf("a header without a name in %q", b)
				}
			}
		}
	})
}
