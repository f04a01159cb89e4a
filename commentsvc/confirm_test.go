package commentsvc

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parvis/parvis/internal/antispam"
)

// challenged runs the test site with the challenge on, on a clock of the test's.
func challenged(t *testing.T) (*fixture, *clock) {
	c := &clock{}
	return newFixture(t, WithChallenge(true), WithClock(c.Now)), c
}

// answered returns a comment that passes by its answer: a token and its question.
func (f *fixture) answered(overrides map[string]string) url.Values {
	v := f.comment(overrides)
	tok := v.Get("options[token]")
	q, _ := f.svc.checker.QuestionFor(tok, "fr")
	a, _ := f.svc.checker.AnswerFor(tok)
	v.Set("options[question]", q.ID)
	v.Set("options[answer]", a)
	return v
}

// Finding 5: a flood of 100 posts with one token and its answer, through the service's
// HTTP handler, yields exactly one submission; the same post sent again is a duplicate,
// answered as the first time.
func TestFinding5FloodOneToken(t *testing.T) {
	f, _ := challenged(t)
	json := map[string]string{"Accept": "application/json"}
	flood := f.answered(nil)
	codes := map[int]int{}
	for i := range 100 {
		flood.Set("fields[message]", "Message numéro "+strconv.Itoa(i))
		res := f.post(t, "/api/v1/entries/comment", form, flood.Encode(), json)
		codes[res.StatusCode]++
		if res.StatusCode == 422 {
			var body struct{ Error string }
			decodeJSON(t, res, &body)
			if body.Error != antispam.ReasonTokenReused {
				t.Fatalf("post %d refused for %q", i, body.Error)
			}
		}
	}
	if codes[http.StatusAccepted] != 1 || codes[422] != 99 {
		t.Fatalf("statuses %v, want one 202 and 99 refusals", codes)
	}
	// The same submission resent, a browser's retry: the first one's answer every time.
	same := f.answered(nil).Encode()
	ids := map[string]bool{}
	for range 5 {
		res := f.post(t, "/api/v1/entries/comment", form, same, json)
		var body struct{ ID string }
		decodeJSON(t, res, &body)
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("resend: %d", res.StatusCode)
		}
		ids[body.ID] = true
	}
	st, err := f.svc.queue.Stats(t.Context())
	if err != nil || st.Ready != 2 || len(ids) != 1 {
		t.Fatalf("queue %+v (%v), %d IDs for one resent submission; want 2 items", st, err, len(ids))
	}
	// A browser's replay gets the confirmation page, with a fresh token: not a submission.
	flood.Set("fields[message]", "Encore un")
	res := f.post(t, "/api/v1/entries/comment", form, flood.Encode(), nil)
	if p := readConfirm(t, res); p.token == flood.Get("options[token]") {
		t.Fatal("the page gave back the spent token")
	}
	if st, _ := f.svc.queue.Stats(t.Context()); st.Ready != 2 {
		t.Errorf("queue %+v", st)
	}
}

// Finding 5: without JavaScript a static page posts no token. The service answers with a
// page that carries what was typed, a token and its question; answering it sends the
// submission, whose text survives the round trip. A JSON client keeps its JSON error.
func TestFinding5ConfirmRoundTrip(t *testing.T) {
	message := "Bonjour,\nle « marché » <b>couvert</b> & la fontaine \"rénovée\" ?"
	static := func(f *fixture) url.Values {
		// As the static page posts it: placeholders where the token and question would be.
		return f.comment(map[string]string{
			"options[token]": antispam.Placeholder, "options[question]": antispam.QuestionPlaceholder, "options[answer]": "",
			"options[pow]": "", "fields[message]": message, "fields[email]": "claire@example.org",
			"options[redirect]": "https://www.testville.example/articles/budget/#comment-sent",
		})
	}
	tests := []struct {
		name  string
		first func(f *fixture) url.Values // the post the page answers
		lead  string
	}{
		{"static page without JavaScript", static, "une question doit encore vous être posée"},
		{"no token at all", func(f *fixture) url.Values {
			v := static(f)
			v.Del("options[token]")
			return v
		}, "une question doit encore vous être posée"},
		{"wrong answer", func(f *fixture) url.Values {
			v := f.answered(map[string]string{"fields[message]": message, "fields[email]": "claire@example.org",
				"options[redirect]": "https://www.testville.example/articles/budget/#comment-sent"})
			v.Set("options[answer]", "une réponse au hasard")
			return v
		}, "n’était pas la bonne"},
		{"forged token", func(f *fixture) url.Values {
			v := static(f)
			v.Set("options[token]", "p1.comment.x.19.y.z")
			return v
		}, "avait expiré ou avait déjà été envoyé"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := challenged(t)
			first := tt.first(f)
			res := f.post(t, "/api/v1/entries/comment", form, first.Encode(), map[string]string{"Referer": "https://www.testville.example/articles/budget/"})
			p := readConfirm(t, res)
			if !strings.Contains(p.body, tt.lead) || !strings.Contains(p.body, `href="https://www.testville.example/articles/budget/"`) {
				t.Errorf("the page does not say %q or link back:\n%s", tt.lead, p.body)
			}
			for _, k := range []string{"fields[name]", "fields[message]", "fields[email]", "options[page]", "options[redirect]"} {
				if p.values.Get(k) != first.Get(k) {
					t.Errorf("%s carried as %q, want %q", k, p.values.Get(k), first.Get(k))
				}
			}
			if p.values.Has("options[pow]") || p.values.Has("options[answer]") || p.values.Get("options[token]") == first.Get("options[token]") {
				t.Errorf("anti-spam options carried over: %v", p.values)
			}
			// A wrong answer to the page asks again, with another token.
			wrong := cloneValues(p.values)
			wrong.Set("options[answer]", "pas du tout")
			// Sent from the page, which the service answered at the form's address.
			fromPage := map[string]string{"Origin": f.srv.URL, "Referer": f.srv.URL + "/api/v1/entries/comment"}
			again := readConfirm(t, f.post(t, "/api/v1/entries/comment", form, wrong.Encode(), fromPage))
			if again.token == p.token || !strings.Contains(again.body, "n’était pas la bonne") {
				t.Fatalf("a wrong answer on the page: token %v, %s", again.token == p.token, again.body)
			}
			// The right answer sends it, from the service's own origin, to the redirect.
			ok := cloneValues(again.values)
			answer, _ := f.svc.checker.AnswerFor(again.token)
			ok.Set("options[answer]", answer)
			res = f.post(t, "/api/v1/entries/comment", form, ok.Encode(), fromPage)
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "https://www.testville.example/articles/budget/#comment-sent" {
				b, _ := io.ReadAll(res.Body)
				t.Fatalf("%d %q: %s", res.StatusCode, res.Header.Get("Location"), b)
			}
			p2 := leaseOne(t, f)
			if p2.Fields["message"] != message || p2.Fields["name"] != "Claire M." || p2.Private["email"] != "claire@example.org" {
				t.Errorf("what was typed did not survive: %+v", p2)
			}
		})
	}
	// Scripts keep their JSON error.
	f, _ := challenged(t)
	res := f.post(t, "/api/v1/entries/comment", form, static(f).Encode(), map[string]string{"Accept": "application/json"})
	var body struct{ Error string }
	decodeJSON(t, res, &body)
	if res.StatusCode != 422 || body.Error != antispam.ReasonChallenge {
		t.Errorf("JSON client: %d %q", res.StatusCode, body.Error)
	}
}

// The page is the service's own, strict: no script, its style allowed by its hash, what
// was typed escaped; it comes in the site's language.
func TestConfirmPageIsStrict(t *testing.T) {
	f, _ := challenged(t)
	v := f.comment(map[string]string{"options[token]": "\x00", "fields[name]": `"><script>alert(1)</script>`,
		"fields[message]": "<img src=x onerror=alert(1)>"})
	res := f.post(t, "/api/v1/entries/comment", form, v.Encode(), nil)
	p := readConfirm(t, res)
	csp := res.Header.Get("Content-Security-Policy")
	style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(p.body)
	if style == nil {
		t.Fatal("no style")
	}
	sum := sha256.Sum256([]byte(style[1]))
	for _, want := range []string{"default-src 'none'", "style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'",
		"form-action 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers %v", res.Header)
	}
	if strings.Contains(p.body, "<script") || strings.Contains(p.body, "<img") || strings.Contains(p.body, " action=") {
		t.Errorf("raw markup, or a form posting elsewhere:\n%s", p.body)
	}
	if p.values.Get("fields[name]") != `"><script>alert(1)</script>` {
		t.Errorf("name carried as %q", p.values.Get("fields[name]"))
	}
	for _, want := range []string{`<html lang="fr">`, "Encore une étape", `<label for="answer">`, `aria-describedby="answer-help"`,
		"Ce que vous avez écrit", "<dt>Nom</dt>", "Envoyer à nouveau"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("page lacks %q:\n%s", want, p.body)
		}
	}
	if q, _ := f.svc.checker.QuestionFor(p.token, "fr"); p.questionID != q.ID || p.question != q.Text {
		t.Errorf("the page asks %q (%s), its token %+v", p.question, p.questionID, q)
	}

	// In English on an English site; without the challenge, no question, only the check.
	_, _, opts := parts(t, strings.Replace(siteArchive, "language: fr", "language: en", 1), time.Hour)
	svc, err := New(append(opts, WithChallenge(false))...)
	if err != nil {
		t.Fatal(err)
	}
	en := &fixture{svc: svc, srv: httptest.NewServer(svc.Handler())}
	t.Cleanup(en.srv.Close)
	p = readConfirm(t, en.post(t, "/api/v1/entries/comment", form, en.comment(map[string]string{"options[token]": "\x00"}).Encode(), nil))
	if !strings.Contains(p.body, `<html lang="en">`) || !strings.Contains(p.body, "One more step") ||
		!strings.Contains(p.body, "Check your submission below") || p.questionID != "" {
		t.Errorf("English page:\n%s", p.body)
	}
	res = en.post(t, "/api/v1/entries/comment", form, p.values.Encode(), nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("confirmed without a question: %d", res.StatusCode)
	}
}

// A form with uploads: the files cannot be carried, so the page asks for them again, in a
// multipart form, and links back; sent too soon, it asks to wait.
func TestConfirmPageUploads(t *testing.T) {
	f, clk := challenged(t)
	var img bytes.Buffer
	png.Encode(&img, image.NewGray(image.Rect(0, 0, 20, 20)))
	post := func(values url.Values, withFile bool) *http.Response {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k, vs := range values {
			for _, v := range vs {
				mw.WriteField(k, v)
			}
		}
		if withFile {
			fw, _ := mw.CreateFormFile("fields[image]", "lavoir.png")
			fw.Write(img.Bytes())
		}
		mw.Close()
		return f.post(t, "/api/v1/entries/photo", mw.FormDataContentType(), buf.String(), map[string]string{"Origin": f.srv.URL})
	}
	p := readConfirm(t, post(url.Values{"fields[title]": {"Le lavoir"}, "fields[caption]": {"Au printemps"}}, true))
	for _, want := range []string{`enctype="multipart/form-data"`, `<input id="confirm-image" name="fields[image]" type="file" required>`, "Les fichiers joints ne peuvent pas être conservés", `href="/"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("page lacks %q:\n%s", want, p.body)
		}
	}
	if p.values.Has("fields[image]") || p.values.Get("fields[title]") != "Le lavoir" {
		t.Errorf("carried %v", p.values)
	}
	// The photo form keeps the default minimum time: sent at once, the page comes back.
	v := cloneValues(p.values)
	answer, _ := f.svc.checker.AnswerFor(p.token)
	v.Set("options[answer]", answer)
	p = readConfirm(t, post(v, true))
	if !strings.Contains(p.body, "très peu de temps") {
		t.Errorf("too soon:\n%s", p.body)
	}
	clk.Advance(5 * time.Second)
	v = cloneValues(p.values)
	answer, _ = f.svc.checker.AnswerFor(p.token)
	v.Set("options[answer]", answer)
	if res := post(v, true); res.StatusCode != http.StatusSeeOther {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("%d: %s", res.StatusCode, b)
	}
	if got := leaseOne(t, f); len(got.Uploads) != 1 || got.Fields["title"] != "Le lavoir" {
		t.Errorf("%+v", got)
	}
}

// confirmation is what a test reads of the confirmation page.
type confirmation struct {
	body                        string
	values                      url.Values // the form's values, but the answer
	token, questionID, question string
}

var (
	hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
	labelRE  = regexp.MustCompile(`<label for="answer">([^<]*) <span class="req">`)
)

func readConfirm(t *testing.T, res *http.Response) confirmation {
	t.Helper()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
		!bytes.Contains(b, []byte(`<form method="post"`)) {
		t.Fatalf("not the confirmation page: %d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	p := confirmation{body: string(b), values: url.Values{}}
	for _, m := range hiddenRE.FindAllStringSubmatch(p.body, -1) {
		p.values.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	p.token, p.questionID = p.values.Get("options[token]"), p.values.Get("options[question]")
	if m := labelRE.FindStringSubmatch(p.body); m != nil {
		p.question = html.UnescapeString(m[1])
	}
	return p
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// leaseOne takes the one submission waiting in the queue.
func leaseOne(t *testing.T, f *fixture) payload {
	t.Helper()
	items, err := f.svc.queue.Lease(t.Context(), 10, time.Minute)
	if err != nil || len(items) != 1 {
		t.Fatalf("%d items, %v", len(items), err)
	}
	var p payload
	if err := json.Unmarshal(items[0].Payload, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func decodeJSON(t *testing.T, res *http.Response, v any) {
	t.Helper()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("%d, not JSON: %v", res.StatusCode, err)
	}
}
