package commentsvc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"
	"time"
)

// citizen is what the service knows of the site's pages, to answer people inside them: the
// built page a refused form is shown again in, and the page receipts are written into.
type citizen struct {
	read   func(path string) ([]byte, error) // nil: the service's own plain pages
	remote string                            // the site's origin, when its pages come from there
	recent recentSubs
}

// ReceiptPage is the page of the built site that the service writes receipts and its other
// messages into, at the site's root: a page of the site's layout (header, menu, footer) whose
// element marked data-parvis-receipt the service fills. The generator writes it.
const ReceiptPage = "/receipt.html"

// formsPaths is where the generator puts a proposal form's own page, by language: the page a
// refused form is shown again in when the page it was sent from cannot be found.
var formsPaths = map[string]string{"fr": "/participer/", "en": "/participate/"}

// maxPage bounds a page read or fetched: a site's page is far smaller.
const maxPage = 8 << 20

// WithPages gives the service the site's built pages, read by their path on the site
// ("/articles/budget/", "/receipt.html"), served on the service's own address as parvis serve
// does. A form refused for a browser without JavaScript is then shown again in the page it
// was sent from, filled with what was typed, and receipts are pages of the site. Without it
// the service answers with plain pages of its own.
func WithPages(read func(path string) ([]byte, error)) Option {
	return func(s *Service) { s.citizen.read, s.citizen.remote = read, "" }
}

// WithPagesFrom fetches the site's built pages from its address (a static bucket, a CDN),
// for a service that runs apart from the site: each at most once per answer, within a short
// timeout and a size cap. The pages' links are made absolute on that address, since the
// service answers on another one.
func WithPagesFrom(base string, client *http.Client) Option {
	return func(s *Service) {
		s.citizen.read, s.citizen.remote = URLPages(base, client), origin(base)
	}
}

// DirPages reads the built site's pages from dir, the output folder of the generator. A path
// names a page as the site serves it: a folder's index.html, or a file. The folder is opened
// for each read, since a build replaces it whole, and nothing outside it can be reached.
func DirPages(dir string) func(string) ([]byte, error) {
	return func(p string) ([]byte, error) {
		name, err := pageFile(p)
		if err != nil {
			return nil, err
		}
		root, err := os.OpenRoot(dir)
		if err != nil {
			return nil, err
		}
		defer root.Close()
		f, err := root.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readCapped(f)
	}
}

// URLPages fetches the built site's pages from base, its address. The client defaults to one
// with a three-second timeout that follows no redirect.
func URLPages(base string, client *http.Client) func(string) ([]byte, error) {
	if client == nil {
		client = &http.Client{Timeout: 3 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	base = strings.TrimRight(base, "/")
	return func(p string) ([]byte, error) {
		name, err := pageFile(p)
		if err != nil {
			return nil, err
		}
		u := base + "/" + strings.TrimSuffix(name, "index.html")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "text/html")
		res, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); res.StatusCode != http.StatusOK || mt != "text/html" {
			return nil, fmt.Errorf("%s: %s, %s", u, res.Status, res.Header.Get("Content-Type"))
		}
		return readCapped(res.Body)
	}
}

// pageFile turns a page's path into a file's name in the output: "/a/b/" is a/b/index.html.
func pageFile(p string) (string, error) {
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\\x00?#") {
		return "", fmt.Errorf("not a page path: %q", p)
	}
	name := strings.TrimPrefix(path.Clean(p), "/")
	if strings.HasSuffix(p, "/") || name == "" {
		name = path.Join(name, "index.html")
	} else if path.Ext(name) == "" {
		name += "/index.html"
	}
	if name == ".." || strings.HasPrefix(name, "../") {
		return "", fmt.Errorf("not a page path: %q", p)
	}
	return name, nil
}

func readCapped(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxPage+1))
	if err == nil && len(b) > maxPage {
		err = errors.New("the page is too large")
	}
	return b, err
}

// page reads one of the site's pages, or returns nil.
func (s *Service) sitePage(p string) []byte {
	if s.citizen.read == nil {
		return nil
	}
	b, err := s.citizen.read(p)
	if err != nil {
		s.log.Debug("reading a page of the site", "path", p, "err", err)
		return nil
	}
	return b
}

// formPages lists the pages a form may have been sent from, the likeliest first: the page
// the browser says it came from, the page the submission is about, the page it asks to go
// back to, and the form's own page. Each is a path on the site, below its base URL's path.
func (s *Service) formPages(r *http.Request, form string, values url.Values) []string {
	var out []string
	add := func(p string) {
		if p == "" {
			return
		}
		for _, o := range out {
			if o == p {
				return
			}
		}
		out = append(out, p)
	}
	local := func(raw string) string {
		if raw == "" || !s.safeRedirect(r, raw) {
			return ""
		}
		u, err := url.Parse(raw)
		if err != nil {
			return ""
		}
		p := u.Path
		if base := s.cfg.RelURL("/"); base != "/" {
			rest, ok := strings.CutPrefix(p, base)
			if !ok {
				return ""
			}
			p = "/" + rest
		}
		// The service's own pages (a form shown again, the confirmation) are not the site's.
		for _, svc := range []string{"/api/", "/v2/", "/v3/", "/admin"} {
			if strings.HasPrefix(p, svc) {
				return ""
			}
		}
		return p
	}
	add(local(r.Referer()))
	if ref := values.Get("options[page]"); ref != "" {
		if st := s.Site(); st != nil {
			if pg := st.Page(ref); pg != nil {
				add(pg.URL)
			}
		}
	}
	add(local(values.Get("options[redirect]")))
	base := formsPaths[s.cfg.Language]
	if base == "" {
		base = formsPaths["fr"]
	}
	if form != "" && form != "comment" {
		add(base + form + "/")
	}
	return out
}

// recentSubs remembers the last submissions accepted by this process, so that a receipt
// asked for before the worker has recorded its submission (at once, without JavaScript)
// still says what was sent and where. It holds no private field, and forgets the oldest.
type recentSubs struct {
	mu   sync.Mutex
	m    map[string]recentSub
	ring []string
	next int
}

type recentSub struct {
	Form, Page, What string
	Received         time.Time
}

const recentCap = 4096

func (rs *recentSubs) put(id string, sub recentSub) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.m == nil {
		rs.m, rs.ring = make(map[string]recentSub, recentCap), make([]string, recentCap)
	}
	if _, ok := rs.m[id]; ok {
		return
	}
	if old := rs.ring[rs.next]; old != "" {
		delete(rs.m, old)
	}
	rs.ring[rs.next] = id
	rs.next = (rs.next + 1) % recentCap
	rs.m[id] = sub
}

func (rs *recentSubs) get(id string) (recentSub, bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	sub, ok := rs.m[id]
	return sub, ok
}

// Bounds of salvage: what it reads of a body at all, and what it keeps of its text.
const (
	salvageBody = 64 << 20
	salvageText = 1 << 20
)

// salvage reads the text parts of a multipart body too large for its form, skipping the
// files' bytes, and names the file inputs that held one. A body past salvageBody is not read
// (nor is an urlencoded one, whose text itself is too large): nothing is kept then.
func salvage(r *http.Request) (url.Values, map[string]bool) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" || r.ContentLength > salvageBody {
		return nil, nil
	}
	mr := multipart.NewReader(io.LimitReader(r.Body, salvageBody), params["boundary"])
	values, files := url.Values{}, map[string]bool{}
	kept := 0
	for {
		part, err := mr.NextPart()
		if err != nil {
			break
		}
		name := part.FormName()
		if part.FileName() != "" {
			n, _ := io.Copy(io.Discard, part)
			files[name] = files[name] || n > 0
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, int64(salvageText-kept)+1))
		if err != nil || kept+len(b) > salvageText {
			break
		}
		kept += len(b)
		values.Add(name, string(b))
	}
	if len(values) == 0 {
		return nil, files
	}
	return values, files
}
