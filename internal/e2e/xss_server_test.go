package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parvis/parvis/internal/site"
	"github.com/parvis/parvis/internal/testenv"
)

// The server side of the XSS attack: the real parvis serve binary, built from this tree,
// on a copy of the demo site, spoken to over HTTP as browsers and the command line do.

// xssServer is parvis serve running the demo site for the attack.
type xssServer struct {
	bin, site, data, base string
	cfg                   *site.Config
	client                *http.Client
}

// startXSSServer builds parvis from this tree and serves a copy of content/ with it, with
// the proof of work off and the rate limits raised, as an attacker with many addresses and
// a solver would have it. Everything else (the headers, the CSP, the forms' rules) is the
// binary's own.
func startXSSServer(t *testing.T) *xssServer {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "parvis")
	if err := testenv.GoBuild(root, "./cmd/parvis")(context.Background(), bin); err != nil {
		t.Fatalf("build parvis: %v", err)
	}
	s := &xssServer{bin: bin, site: filepath.Join(dir, "site"), data: filepath.Join(dir, "var")}
	if err := copyDir(filepath.Join(root, "content"), s.site); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	s.base = "http://" + addr
	// The site's base URL is the address it is served at, so that its own links, its
	// redirects and its Origin checks are those of a real deployment.
	cfgPath := filepath.Join(s.site, site.ConfigFile)
	yml, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	yml = regexp.MustCompile(`(?m)^baseURL:.*$`).ReplaceAll(yml, []byte("baseURL: "+s.base+"/"))
	// Raw HTML on for the site's Markdown: a citizen's text must be rendered as a citizen's
	// whatever markdown.unsafe says (finding 3), so the attack runs where it would do most
	// harm.
	yml = regexp.MustCompile(`(?m)^(\s+)unsafe: false`).ReplaceAll(yml, []byte("${1}unsafe: true"))
	if !regexp.MustCompile(`(?m)^\s+unsafe: true`).Match(yml) {
		t.Fatalf("%s: no markdown.unsafe to turn on", cfgPath)
	}
	if err := os.WriteFile(cfgPath, yml, 0o644); err != nil {
		t.Fatal(err)
	}
	if s.cfg, err = site.LoadConfig(os.DirFS(s.site)); err != nil {
		t.Fatal(err)
	}
	testenv.Start(t, testenv.Server{
		Path: bin,
		Args: []string{"serve", "--site", s.site, "--data", s.data, "--addr", addr,
			"--antispam-challenge", "off",
			"--rate-per-ip", "100000", "--burst-per-ip", "100000",
			"--rate-per-page", "100000", "--burst-per-page", "100000"},
		Ready:   testenv.HTTPReady(s.base + "/healthz"),
		Timeout: 2 * time.Minute,
	})
	s.client = &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{MaxIdleConnsPerHost: 16},
	}
	return s
}

// get fetches a path of the site.
func (s *xssServer) get(path string) (int, []byte, string, error) {
	res, err := s.client.Get(s.base + path)
	if err != nil {
		return 0, nil, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header.Get("Content-Type"), err
}

// admin calls the admin API, as parvis moderate does through a running server, with the
// token the server keeps in its data folder. The attack calls it itself rather than run the
// command once per submission: the command's two-second probe of the server fails on a
// loaded machine, and then finds the store locked.
func (s *xssServer) admin(method, path string, out any) error {
	tok, err := os.ReadFile(filepath.Join(s.data, "admin.token"))
	if err != nil {
		return err
	}
	req, err := http.NewRequest(method, s.base+"/admin/api/"+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", fmt.Sprintf("Bearer %x", tok))
	res, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s /admin/api/%s: %s %s", method, path, res.Status, clip(string(body), 200))
	}
	return json.Unmarshal(body, out)
}

// record is what the admin API says of a submission.
type record struct {
	ID, Form, Page, Status, Change, URL, Title string
}

func (s *xssServer) records() (map[string]record, error) {
	var l []record
	if err := s.admin(http.MethodGet, "submissions", &l); err != nil {
		return nil, err
	}
	m := make(map[string]record, len(l))
	for _, r := range l {
		m[r.ID] = r
	}
	return m, nil
}

// waitFor waits until every id has one of the statuses (and, if pending, its change).
func (s *xssServer) waitFor(t *testing.T, ids []string, timeout time.Duration, statuses ...string) map[string]record {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		recs, err := s.records()
		if err != nil {
			t.Fatal(err)
		}
		left := 0
		var one record
		for _, id := range ids {
			r, ok := recs[id]
			done := ok && (r.Status != "pending" || r.Change != "")
			if !done || !containsString(statuses, r.Status) {
				left++
				one = r
				one.ID = id
			}
		}
		if left == 0 {
			return recs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d submissions are not %v after %s, e.g. %+v", left, len(ids), statuses, timeout, one)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// approve approves the submissions as the demo moderator, a few at a time.
func (s *xssServer) approve(t *testing.T, ids []string) {
	t.Helper()
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	next := make(chan string)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				var r record
				if err := s.admin(http.MethodPost, "submissions/"+id+"/approve?moderator=demo", &r); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for _, id := range ids {
		next <- id
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("approve: %v", err)
	}
}

// tokenRE finds a form's token in a page the server stamped.
var tokenRE = regexp.MustCompile(`name="options\[token\]" value="([^"]+)"`)

// token fetches a fresh form token: from the challenge endpoint, as challenge.js does, or
// else from the stamped form page, as a browser without JavaScript gets it.
func (s *xssServer) token(form, page string) (string, error) {
	status, body, _, err := s.get("/api/v1/challenge?form=" + url.QueryEscape(form))
	if err == nil && status == http.StatusOK {
		var c struct {
			Token string `json:"token"`
		}
		if json.Unmarshal(body, &c) == nil && c.Token != "" {
			return c.Token, nil
		}
	}
	status, body, _, err = s.get(page)
	if err != nil {
		return "", err
	}
	if m := tokenRE.FindSubmatch(body); m != nil && status == http.StatusOK {
		return string(m[1]), nil
	}
	return "", fmt.Errorf("no token for form %s, from the challenge endpoint or from %s (%d)", form, page, status)
}

// upload is a file a submission carries.
type upload struct {
	field, name, media string
	data               []byte
}

// answer is the service's answer to a submission.
type answer struct {
	status int
	ID     string            `json:"id"`
	Error  string            `json:"error"`
	Fields map[string]string `json:"fields"`
}

// post sends a submission as a browser's form would: urlencoded, or multipart when it
// carries files. It asks for JSON, as challenge.js does, to read the id or the faults.
func (s *xssServer) post(form string, values url.Values, files []upload) (answer, error) {
	var body io.Reader
	ct := "application/x-www-form-urlencoded"
	if len(files) == 0 {
		body = strings.NewReader(values.Encode())
	} else {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		for k, vs := range values {
			for _, v := range vs {
				if err := w.WriteField(k, v); err != nil {
					return answer{}, err
				}
			}
		}
		for _, f := range files {
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="fields[%s]"; filename=%q`, f.field, f.name))
			h.Set("Content-Type", f.media)
			pw, err := w.CreatePart(h)
			if err != nil {
				return answer{}, err
			}
			pw.Write(f.data)
		}
		w.Close()
		body, ct = &b, w.FormDataContentType()
	}
	req, err := http.NewRequest(http.MethodPost, s.base+"/api/v1/entries/"+form, body)
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Origin", s.base)
	res, err := s.client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	var a answer
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &a); err != nil && res.StatusCode != http.StatusAccepted {
		a.Error = strconv.Itoa(res.StatusCode) + " " + clip(string(raw), 200)
	}
	a.status = res.StatusCode
	return a, nil
}

// searchPage finds the page parvis serve answers searches on, following a redirect
// (/search to /search/), and reports whether there is one.
func (s *xssServer) searchPage() (string, bool) {
	for _, p := range []string{"/search", "/search/"} {
		if q, ok := s.searchAt(p); ok {
			return q, true
		}
	}
	return "", false
}

// searchAt answers for one path of searchPage.
func (s *xssServer) searchAt(p string) (string, bool) {
	for range 3 {
		res, err := s.client.Get(s.base + p + "?q=sonde")
		if err != nil {
			return "", false
		}
		res.Body.Close()
		switch {
		case res.StatusCode == http.StatusOK && strings.Contains(res.Header.Get("Content-Type"), "html"):
			return p, true
		case res.StatusCode >= 300 && res.StatusCode < 400:
			u, err := res.Request.URL.Parse(res.Header.Get("Location"))
			if err != nil || u.Scheme+"://"+u.Host != s.base {
				return "", false
			}
			p = u.Path
		default:
			return "", false
		}
	}
	return "", false
}

// crawled is a page of the site as the crawler found it.
type crawled struct {
	path  string
	kind  string // html or xml
	sum   string // its body, without what changes at each request (form tokens)
	links []string
}

var (
	// stamped is what the server writes into a page at each request: the forms' tokens,
	// and the question each token carries. Left in, every page with a form would differ
	// from one fetch to the next (leaving out too much only loads a page more).
	stamped = regexp.MustCompile(`(?s)name="options\[(?:token|question)\]" value="[^"]*"|<div class="field parvis-question">.*?</div>`)
	hrefRE  = regexp.MustCompile(`(?i)\shref="([^"#]*)`)
	skipExt = regexp.MustCompile(`(?i)\.(ics|jpe?g|png|gif|webp|avif|svg|pdf|odt|css|js|txt|json|ico|woff2?)$`)
)

// crawl fetches every page of the site reachable from the home page and its feeds, over
// HTTP: the set of pages to load in the browser is the set that changed.
func (s *xssServer) crawl(t *testing.T) map[string]*crawled {
	t.Helper()
	seen := map[string]*crawled{}
	queue := []string{"/"}
	for len(queue) > 0 && len(seen) < 5000 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] != nil {
			continue
		}
		status, body, ct, err := s.get(p)
		if err != nil {
			t.Fatalf("crawl %s: %v", p, err)
		}
		c := &crawled{path: p, kind: "html"}
		seen[p] = c
		switch {
		case status != http.StatusOK:
			c.kind = ""
			continue
		case strings.Contains(ct, "xml"):
			c.kind = "xml"
		case !strings.Contains(ct, "html"):
			c.kind = ""
			continue
		}
		c.sum = string(stamped.ReplaceAll(body, nil))
		here, _ := url.Parse(s.base + p)
		for _, m := range hrefRE.FindAllSubmatch(body, -1) {
			u, err := here.Parse(html.UnescapeString(string(m[1])))
			if err != nil || u.Scheme+"://"+u.Host != s.base || u.RawQuery != "" {
				continue // another site's, a payload's, or a page with a query
			}
			q := u.Path
			if strings.HasPrefix(q, "/admin") || strings.HasPrefix(q, "/api/") || strings.HasPrefix(q, "/v3/") || skipExt.MatchString(q) {
				continue
			}
			c.links = append(c.links, q)
			if seen[q] == nil {
				queue = append(queue, q)
			}
		}
	}
	return seen
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
