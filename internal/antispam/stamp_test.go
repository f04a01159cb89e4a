package antispam

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

const page = `<!doctype html><html lang="fr"><body>
<form class="comment-form" method="post" action="/api/v1/entries/comment" data-parvis-form="comment">
<input type="hidden" name="options[token]" value="parvis-form-token"></form>
<FORM method=post action="https://svc.example/v3/entry/github/o/r/main/event?x=1#f">
<input type="hidden" name="options[token]" value='parvis-form-token'></FORM>
<form data-other="1" action="/api/v1/entries/photo/" >
<input type="hidden" name="options[token]" value=parvis-form-token></form>
</body></html>`

var tokenRE = regexp.MustCompile(`p1\.[A-Za-z0-9_-]+\.[0-9a-z]+\.[0-9]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}`)

func TestStamp(t *testing.T) {
	c := newChecker(t, nil)
	out := string(c.Stamp([]byte(page), t0))
	if strings.Contains(out, Placeholder) {
		t.Fatalf("placeholder left:\n%s", out)
	}
	toks := tokenRE.FindAllString(out, -1)
	want := []string{"comment", "event", "photo"}
	if len(toks) != len(want) {
		t.Fatalf("%d tokens in\n%s", len(toks), out)
	}
	for i, tok := range toks {
		got, ok := c.parse(tok)
		if !ok || got.form != want[i] || !got.issued.Equal(t0) {
			t.Errorf("token %d: %+v, %v; want form %s", i, got, ok, want[i])
		}
	}
	if tokenRE.ReplaceAllString(out, Placeholder) != page {
		t.Error("Stamp changed more than the placeholders")
	}
	plain := []byte("<p>nothing to stamp</p>")
	if got := c.Stamp(plain, t0); &got[0] != &plain[0] {
		t.Error("a page without placeholder was copied")
	}
}

func TestStampHTML(t *testing.T) {
	c := newChecker(t, nil)
	c.now = func() time.Time { return t0 }
	files := fstest.MapFS{
		"index.html":       {Data: []byte(page), ModTime: t0},
		"about/index.html": {Data: []byte("<p>about</p>"), ModTime: t0},
		"css/site.css":     {Data: []byte("/* " + Placeholder + " */"), ModTime: t0},
	}
	srv := httptest.NewServer(c.StampHTML(http.FileServerFS(files)))
	defer srv.Close()
	get := func(method, path string, hdr map[string]string) (*http.Response, string) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}

	res, body := get("GET", "/", map[string]string{"If-Modified-Since": t0.Add(time.Hour).Format(http.TimeFormat)})
	if res.StatusCode != 200 || strings.Contains(body, Placeholder) || len(tokenRE.FindAllString(body, -1)) != 3 {
		t.Fatalf("%d:\n%s", res.StatusCode, body)
	}
	if res.ContentLength != int64(len(body)) || res.Header.Get("Last-Modified") != "" ||
		res.Header.Get("Cache-Control") != "private, no-cache" {
		t.Errorf("headers: %v (length %d)", res.Header, len(body))
	}
	_, again := get("GET", "/", nil)
	if again == body {
		t.Error("two fetches, the same tokens")
	}
	res, _ = get("HEAD", "/", nil)
	if res.StatusCode != 200 || res.Header.Get("Content-Length") != "" {
		t.Errorf("HEAD: %d %v", res.StatusCode, res.Header)
	}
	// A page without forms and other files are served as they are, 304 included.
	res, body = get("GET", "/about/", nil)
	if body != "<p>about</p>" || res.Header.Get("Last-Modified") == "" {
		t.Errorf("about: %v %q", res.Header, body)
	}
	res, body = get("GET", "/css/site.css", map[string]string{"If-Modified-Since": t0.Add(time.Hour).Format(http.TimeFormat)})
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("css: %d %q", res.StatusCode, body)
	}
	_, body = get("GET", "/css/site.css", nil)
	if !strings.Contains(body, Placeholder) {
		t.Errorf("css rewritten: %q", body)
	}
}

func TestChallengeHandler(t *testing.T) {
	c := newChecker(t, func(cfg *Config) { cfg.Origins = []string{"https://www.belcombe.fr"} })
	c.now = func() time.Time { return t0 }
	h := c.ChallengeHandler()
	do := func(method, target, origin string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	w := do("GET", "/api/v1/challenge?form=comment", "https://www.belcombe.fr")
	var got struct {
		Token      string   `json:"token"`
		Difficulty int      `json:"difficulty"`
		Question   Question `json:"question"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != 200 {
		t.Fatalf("%d %q: %v", w.Code, w.Body, err)
	}
	if tok, ok := c.parse(got.Token); !ok || tok.form != "comment" || got.Difficulty != testDifficulty {
		t.Errorf("answer %+v", got)
	}
	// Finding 5: the question is the token's, in the language asked for.
	if q, _ := c.QuestionFor(got.Token, "fr"); got.Question != q || q.ID == "" {
		t.Errorf("question %+v, the token's %+v", got.Question, q)
	}
	if err := json.Unmarshal(do("GET", "/api/v1/challenge?form=comment&lang=en", "").Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if q, _ := c.QuestionFor(got.Token, "en"); got.Question != q || !strings.HasPrefix(q.ID, "en-") {
		t.Errorf("question %+v, the token's %+v", got.Question, q)
	}
	hd := w.Header()
	if hd.Get("Access-Control-Allow-Origin") != "https://www.belcombe.fr" || hd.Get("Cache-Control") != "no-store" ||
		hd.Get("Content-Type") != "application/json" || hd.Get("Set-Cookie") != "" ||
		hd.Get("Access-Control-Allow-Credentials") != "" || hd.Get("Vary") != "Origin" {
		t.Errorf("headers %v", hd)
	}
	if w := do("GET", "/c?form=document", ""); !strings.Contains(w.Body.String(), `"difficulty":0`) {
		t.Errorf("form without challenge: %s", w.Body)
	}
	if w := do("GET", "/c?form=comment", "https://evil.example"); w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Error("foreign origin allowed")
	}
	for _, tt := range []struct {
		method, target string
		code           int
	}{
		{"GET", "/c", 404},
		{"GET", "/c?form=unknown", 404},
		{"GET", "/c?form=%22%3E", 404},
		{"POST", "/c?form=comment", 405},
		{"OPTIONS", "/c?form=comment", 204},
		{"HEAD", "/c?form=comment", 200},
	} {
		if w := do(tt.method, tt.target, ""); w.Code != tt.code || w.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.target, w.Code, tt.code)
		}
	}
	// Without a forms policy any well-formed name is served.
	open := newChecker(t, func(cfg *Config) { cfg.Forms = nil })
	if w := open.ChallengeHandler(); w == nil {
		t.Fatal("nil handler")
	}
	rec := httptest.NewRecorder()
	open.ChallengeHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/c?form=any_form", nil))
	if rec.Code != 200 {
		t.Errorf("open policy: %d", rec.Code)
	}
}

// questionPage has two forms with a question each, the second asking it before its token,
// and a stray question outside any form.
const questionPage = `<!doctype html><html lang="en-GB"><body>
<form action="/api/v1/entries/comment" data-parvis-form="comment">
<input type="hidden" name="options[token]" value="parvis-form-token">
<div class="parvis-question"><input type="hidden" name="options[question]" value="parvis-question-id">
<label for="a"><span class="parvis-question-text">Asked after sending.</span></label><input id="a" name="options[answer]"></div>
</form>
<form action="/api/v1/entries/article">
<input type="hidden" name="options[question]" value="parvis-question-id">
<label for="b"><span class="parvis-question-text">Asked after sending.</span></label><input id="b" name="options[answer]">
<input type="hidden" name="options[token]" value="parvis-form-token">
</form>
</body></html>`

// Finding 5: the question a stamped page asks is its form's token's, in the page's
// language, so that people without JavaScript answer the question Check will ask.
func TestFinding5StampQuestion(t *testing.T) {
	c := newChecker(t, nil)
	out := string(c.Stamp([]byte(questionPage), t0))
	if strings.Contains(out, Placeholder) || strings.Contains(out, QuestionPlaceholder) || strings.Contains(out, "Asked after") {
		t.Fatalf("placeholder left:\n%s", out)
	}
	toks := tokenRE.FindAllString(out, -1)
	ids := regexp.MustCompile(`en-[0-9a-f]{12}`).FindAllString(out, -1)
	texts := regexp.MustCompile(`<span class="parvis-question-text">([^<]*)</span>`).FindAllStringSubmatch(out, -1)
	if len(toks) != 2 || len(ids) != 2 || len(texts) != 2 || toks[0] == toks[1] {
		t.Fatalf("%d tokens, %d IDs, %d texts in\n%s", len(toks), len(ids), len(texts), out)
	}
	for i, form := range []string{"comment", "article"} {
		q, ok := c.QuestionFor(toks[i], "en")
		if !ok || mustParse(c, toks[i]).form != form || q.ID != ids[i] || html.EscapeString(q.Text) != texts[i][1] {
			t.Errorf("form %s: token %s asks %+v; the page %s %q", form, toks[i], q, ids[i], texts[i][1])
		}
	}
	// Nothing else changed.
	back := tokenRE.ReplaceAllString(out, Placeholder)
	back = regexp.MustCompile(`en-[0-9a-f]{12}`).ReplaceAllString(back, QuestionPlaceholder)
	back = regexp.MustCompile(`(<span class="parvis-question-text">)[^<]*</span>`).ReplaceAllString(back, "${1}Asked after sending.</span>")
	if back != questionPage {
		t.Errorf("Stamp changed more than the placeholders:\n%s", out)
	}
	// French by default; a text element without its end is left alone.
	fr := string(c.Stamp([]byte(`<form action="/x/comment"><input value="parvis-form-token"><input value="parvis-question-id"><span class="parvis-question-text">…`), t0))
	tok := tokenRE.FindString(fr)
	if q, _ := c.QuestionFor(tok, "fr"); !strings.Contains(fr, `value="`+q.ID+`"`) || !strings.HasSuffix(fr, `<span class="parvis-question-text">…`) {
		t.Errorf("%s", fr)
	}
}
