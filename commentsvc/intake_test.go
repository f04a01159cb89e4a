package commentsvc

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/parvis/parvis/internal/antispam"
	"github.com/parvis/parvis/internal/queue"
)

const form = "application/x-www-form-urlencoded"

// TestIntakeRefusals posts every kind of bad submission and checks the status, the reason
// and, where it applies, the field named — and that nothing was queued.
func TestIntakeRefusals(t *testing.T) {
	f := newFixture(t)
	long := strings.Repeat("a", 41)
	tests := []struct {
		name    string
		path    string
		ctype   string
		body    string
		headers map[string]string
		status  int
		code    string
		field   string
	}{
		{"unknown form", "/api/v1/entries/nope", form, f.comment(nil).Encode(), nil, 404, "unknown_form", ""},
		{"JSON body", "/api/v1/entries/comment", "application/json", `{"name":"x"}`, nil, 415, "media_type", ""},
		{"no content type", "/api/v1/entries/comment", "", "x=y", nil, 415, "media_type", ""},
		{"too large", "/api/v1/entries/comment", form, f.comment(map[string]string{"fields[message]": strings.Repeat("x", 200000)}).Encode(), nil, 413, "too_large", ""},
		{"malformed escape", "/api/v1/entries/comment", form, f.comment(nil).Encode() + "&fields%5Bname%ZZ=x", nil, 400, "malformed", ""},
		{"semicolon separator", "/api/v1/entries/comment", form, f.comment(nil).Encode() + ";x=y", nil, 400, "malformed", ""},
		{"unknown field", "/api/v1/entries/comment", form, f.comment(map[string]string{"fields[url]": "x"}).Encode(), nil, 400, "unknown_field", "fields[url]"},
		{"repeated field", "/api/v1/entries/comment", form, f.comment(nil).Encode() + "&fields%5Bname%5D=Bob", nil, 400, "unknown_field", "fields[name]"},
		{"missing name", "/api/v1/entries/comment", form, f.comment(map[string]string{"fields[name]": "\x00"}).Encode(), nil, 422, "invalid", "fields[name]"},
		{"name too long", "/api/v1/entries/comment", form, f.comment(map[string]string{"fields[name]": long}).Encode(), nil, 422, "invalid", "fields[name]"},
		{"bad e-mail", "/api/v1/entries/comment", form, f.comment(map[string]string{"fields[email]": "not-an-address"}).Encode(), nil, 422, "invalid", "fields[email]"},
		{"honeypot", "/api/v1/entries/comment", form, f.comment(map[string]string{"fields[website]": "http://spam.example"}).Encode(), nil, 422, antispam.ReasonHoneypot, ""},
		{"no token", "/api/v1/entries/comment", form, f.comment(map[string]string{"options[token]": "\x00"}).Encode(), nil, 422, antispam.ReasonTokenInvalid, ""},
		{"forged token", "/api/v1/entries/comment", form, f.comment(map[string]string{"options[token]": "p1.comment.x.1.y.z"}).Encode(), nil, 422, antispam.ReasonTokenInvalid, ""},
		{"too many links", "/api/v1/entries/comment", form, f.comment(map[string]string{"fields[message]": "voir https://a.example et https://b.example"}).Encode(), nil, 422, antispam.ReasonLinks, ""},
		{"blocked word", "/api/v1/entries/comment", form, f.comment(map[string]string{"fields[message]": "Le meilleur CASINO en ligne"}).Encode(), nil, 422, antispam.ReasonBlockedWord, ""},
		{"unknown page", "/api/v1/entries/comment", form, f.comment(map[string]string{"options[page]": "articles/nope"}).Encode(), nil, 422, "unknown_page", ""},
		// Finding 10 of the hostile-input review: a bad option was counted as an unknown field.
		{"page leaving its folder", "/api/v1/entries/comment", form, f.comment(map[string]string{"options[page]": "../../etc"}).Encode(), nil, 400, "invalid_option", "options[page]"},
		{"comments closed", "/api/v1/entries/comment", form, f.comment(map[string]string{"options[page]": "articles/ferme"}).Encode(), nil, 422, "comments_closed", ""},
		{"unknown parent", "/api/v1/entries/comment", form, f.comment(map[string]string{"options[parent]": "zz"}).Encode(), nil, 422, "unknown_parent", ""},
		{"foreign origin", "/api/v1/entries/comment", form, f.comment(nil).Encode(), map[string]string{"Origin": "https://evil.example"}, 403, "origin", ""},
		{"Staticman route, unknown property", "/v3/entry/github/o/r/main/nope", form, f.comment(nil).Encode(), nil, 404, "unknown_form", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{"Accept": "application/json"}
			for k, v := range tt.headers {
				h[k] = v
			}
			res := f.post(t, tt.path, tt.ctype, tt.body, h)
			var body struct {
				Error   string            `json:"error"`
				Message string            `json:"message"`
				Fields  map[string]string `json:"fields"`
			}
			raw, _ := io.ReadAll(res.Body)
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatalf("status %d, not JSON: %s", res.StatusCode, raw)
			}
			if res.StatusCode != tt.status || body.Error != tt.code {
				t.Errorf("got %d %q, want %d %q: %s", res.StatusCode, body.Error, tt.status, tt.code, raw)
			}
			if body.Message == "" {
				t.Errorf("no message: %s", raw)
			}
			if tt.field != "" && body.Fields[tt.field] == "" {
				t.Errorf("no message for %s: %s", tt.field, raw)
			}
		})
	}
	st, err := f.svc.queue.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st != (queue.Stats{}) {
		t.Errorf("refused submissions were queued: %+v", st)
	}
}

// TestIntakeHTMLError checks that a browser without JavaScript gets a page in French that
// names the field, escapes what was sent, and links back to the form.
func TestIntakeHTMLError(t *testing.T) {
	f := newFixture(t)
	res := f.post(t, "/api/v1/entries/comment", form, f.comment(map[string]string{"fields[name]": "\x00"}).Encode(),
		map[string]string{"Referer": "https://www.testville.example/articles/budget/"})
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 422 || !strings.Contains(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("%d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{`lang="fr"`, "Nom", `href="https://www.testville.example/articles/budget/"`, "Revenir au formulaire"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("page lacks %q:\n%s", want, b)
		}
	}
	res = f.post(t, "/api/v1/entries/comment", form, f.comment(map[string]string{"fields[name]": strings.Repeat("<script>", 10)}).Encode(), nil)
	b, _ = io.ReadAll(res.Body)
	if bytes.Contains(b, []byte("<script>")) {
		t.Errorf("the error page holds raw markup:\n%s", b)
	}
}

func TestIntakeAccepts(t *testing.T) {
	f := newFixture(t, WithMetricsToken(testMetricsToken))
	body := f.comment(map[string]string{"fields[email]": "Claire@Example.org", "options[parent]": "c1"}).Encode()
	res := f.post(t, "/api/v1/entries/comment", form, body, map[string]string{"Accept": "application/json", "Origin": "https://www.testville.example"})
	if res.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("%d: %s", res.StatusCode, b)
	}
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "https://www.testville.example" {
		t.Errorf("CORS header %q", got)
	}
	var a map[string]string
	json.NewDecoder(res.Body).Decode(&a)

	// The same form sent again is the same submission.
	res = f.post(t, "/api/v1/entries/comment", form, body, map[string]string{"Accept": "application/json"})
	var b map[string]string
	json.NewDecoder(res.Body).Decode(&b)
	if res.StatusCode != http.StatusAccepted || a["id"] == "" || a["id"] != b["id"] || a["status_url"] != b["status_url"] {
		t.Errorf("a resent form made another submission: %v then %v", a, b)
	}
	st, _ := f.svc.queue.Stats(t.Context())
	if st.Ready != 1 {
		t.Errorf("queue: %+v, want one ready item", st)
	}
	req, _ := http.NewRequest("GET", f.srv.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+testMetricsToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{
		`parvis_submissions_accepted_total{form="comment"} 1`,
		`parvis_submissions_duplicate_total{form="comment"} 1`,
	} {
		if !strings.Contains(string(m), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// The queue reports its transactions: both posts went through one at least.
	for _, series := range []string{"parvis_queue_commit_requests_count", "parvis_queue_commit_seconds_count"} {
		var n float64
		for _, line := range strings.Split(string(m), "\n") {
			if v, ok := strings.CutPrefix(line, series+" "); ok {
				n, _ = strconv.ParseFloat(v, 64)
			}
		}
		if n < 1 {
			t.Errorf("%s = %v, want the queue's transactions counted", series, n)
		}
	}

	// Without Accept: JSON, a 303 to the redirect when it is the site's, else to the receipt,
	// on the site's address (the service has none of its own here).
	receipt := "https://www.testville.example/api/v1/submissions/"
	for redirect, want := range map[string]string{
		"https://www.testville.example/articles/budget/#comments": "https://www.testville.example/articles/budget/#comments",
		"https://evil.example/":                                   receipt,
		"//evil.example/":                                         receipt,
		"javascript:alert(1)":                                     receipt,
	} {
		v := f.comment(map[string]string{"options[redirect]": redirect, "fields[message]": "Message pour " + redirect})
		res := f.post(t, "/api/v1/entries/comment", form, v.Encode(), nil)
		loc := res.Header.Get("Location")
		if res.StatusCode == http.StatusBadRequest {
			continue // the form's policy refused the redirect option itself: fine too
		}
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, want) {
			t.Errorf("redirect %q: %d to %q, want a 303 to %q", redirect, res.StatusCode, loc, want)
		}
	}
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t, WithAntispam(antispam.Config{RatePerIP: rate.Every(time.Hour), BurstPerIP: 2, RatePerPage: rate.Inf}))
	var last *http.Response
	for i := 0; i < 3; i++ {
		last = f.post(t, "/api/v1/entries/comment", form, f.comment(map[string]string{"fields[message]": "Message " + string(rune('a'+i))}).Encode(), map[string]string{"Accept": "application/json"})
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Errorf("third post: %d, Retry-After %q", last.StatusCode, last.Header.Get("Retry-After"))
	}
}

func TestUploadCheckedByContent(t *testing.T) {
	f := newFixture(t)
	post := func(data []byte, filename string) *http.Response {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("fields[title]", "Le lavoir")
		mw.WriteField("fields[caption]", "Le lavoir au printemps")
		mw.WriteField("options[token]", f.token("photo"))
		fw, _ := mw.CreateFormFile("fields[image]", filename)
		fw.Write(data)
		mw.Close()
		return f.post(t, "/api/v1/entries/photo", mw.FormDataContentType(), buf.String(), map[string]string{"Accept": "application/json"})
	}
	if res := post([]byte("<?php echo 'hi'; ?>"), "photo.png"); res.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("a script named .png: %d", res.StatusCode)
	}
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	img.Set(1, 1, color.RGBA{200, 10, 10, 255})
	var png1 bytes.Buffer
	png.Encode(&png1, img)
	res := post(png1.Bytes(), "../../evil.sh")
	if res.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("a PNG: %d %s", res.StatusCode, b)
	}
}

// TestStaticmanRoute posts a Staticman theme's comment form unchanged: its own options are
// dropped, the property names the form.
func TestStaticmanRoute(t *testing.T) {
	f := newFixture(t)
	v := f.comment(nil)
	v.Set("options[origin]", "https://www.testville.example/articles/budget/")
	v.Set("options[reCaptcha][siteKey]", "k")
	v.Set("g-recaptcha-response", "r")
	res := f.post(t, "/v3/entry/github/mairie/site/main/comment", form, v.Encode(), map[string]string{"Accept": "application/json"})
	if res.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("%d: %s", res.StatusCode, b)
	}
	v.Set("options[other]", "x")
	res = f.post(t, "/v3/entry/github/mairie/site/main/comment", form, v.Encode(), map[string]string{"Accept": "application/json"})
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("an unknown option through Staticman's route: %d", res.StatusCode)
	}
}
