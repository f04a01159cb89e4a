package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// queryCost is what one cold query fetched, for one tool.
type queryCost struct {
	tool, query string
	results     int            // documents found
	files       map[string]int // bytes by kind of file
	count       map[string]int // files by kind
}

func (q queryCost) total() (bytes, files int) {
	for k, n := range q.files {
		bytes += n
		files += q.count[k]
	}
	return
}

// The number of results a query shows with their excerpts: a page of Parvis's results.
const shown = 10

// pagefindPage runs Pagefind's own JavaScript API as its documentation shows, loading the
// data (title, excerpt) of the first results.
const pagefindPage = `<!doctype html><html lang="fr"><meta charset="utf-8"><title>Pagefind</title><p>bench</p>`

const pagefindQuery = `(async () => {
	const pf = await import('/pagefind/pagefind.js');
	await pf.init();
	const r = await pf.search(%q);
	const data = await Promise.all(r.results.slice(0, %d).map(x => x.data()));
	return r.results.length * 1000 + data.filter(d => d && d.excerpt).length;
})()`

// queryBytes serves both outputs as a plain bucket does (files as they are, no compression
// added) and runs each query in a fresh tab of headless Chromium with its cache off. The
// bytes are counted where they leave the server, response bodies by path, so that what a
// web worker fetches (Pagefind's runs in one) counts as well: for Parvis its script and
// index files, for Pagefind everything under /pagefind/. The pages themselves are not
// counted.
func (c *config) queryBytes(ctx context.Context, log io.Writer, res *results) error {
	sent := &ledger{}
	parvisSrv := httptest.NewServer(sent.count(http.FileServer(http.Dir(res.out))))
	defer parvisSrv.Close()
	files := http.FileServer(http.Dir(res.staging))
	pfSrv := httptest.NewServer(sent.count(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bench.html" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, pagefindPage)
			return
		}
		files.ServeHTTP(w, r)
	})))
	defer pfSrv.Close()

	dir, err := os.MkdirTemp("", "parvis-search-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(c.chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(dir))
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	browser, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(browser); err != nil {
		return fmt.Errorf("start Chromium: %w", err)
	}
	for _, q := range c.queries {
		for _, tool := range []string{"parvis", "pagefind"} {
			qc, err := c.coldQuery(browser, sent, tool, q, parvisSrv.URL, pfSrv.URL)
			if err != nil {
				return fmt.Errorf("%s, %q: %w", tool, q, err)
			}
			b, n := qc.total()
			fmt.Fprintf(log, "cold query %-8s %-28q %d results, %d files, %d bytes\n", tool, q, qc.results, n, b)
			res.queries = append(res.queries, qc)
		}
	}
	return nil
}

func (c *config) coldQuery(browser context.Context, sent *ledger, tool, q, parvisURL, pfURL string) (queryCost, error) {
	// A browser context of its own: no cache, and no worker left by an earlier query
	// (Pagefind's is a shared worker, which outlives its tab).
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelT()
	qc := queryCost{tool: tool, query: q, files: map[string]int{}, count: map[string]int{}}
	if err := chromedp.Do(ctx); err != nil {
		return qc, err
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		return qc, err
	}
	if _, err := chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
		return qc, err
	}
	sent.reset()
	switch tool {
	case "parvis":
		if err := chromedp.Do(ctx, chromedp.Navigate(parvisURL+"/search/?q="+url.QueryEscape(q))); err != nil {
			return qc, err
		}
		// Done when the status says how many were found and the hits of the page are in.
		const ready = `(() => { const s = document.querySelector('.search-status');
			return s && /\d/.test(s.textContent) ? document.querySelectorAll('.search-hit').length : -1 })()`
		deadline := time.Now().Add(time.Minute)
		for {
			n, err := chromedp.Run(ctx, chromedp.Evaluate[int](ready))
			if err != nil {
				return qc, err
			}
			if n >= 0 {
				status, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('.search-status').textContent`))
				if err != nil {
					return qc, err
				}
				fmt.Sscanf(strings.TrimLeft(status, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz "), "%d", &qc.results)
				qc.results = max(qc.results, n)
				break
			}
			if time.Now().After(deadline) {
				return qc, fmt.Errorf("no results after a minute")
			}
			time.Sleep(50 * time.Millisecond)
		}
	case "pagefind":
		if err := chromedp.Do(ctx, chromedp.Navigate(pfURL+"/bench.html")); err != nil {
			return qc, err
		}
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(pagefindQuery, q, shown), chromedp.EvalAwaitPromise))
		if err != nil {
			return qc, err
		}
		qc.results = n / 1000
	}
	// Let the last responses finish.
	time.Sleep(300 * time.Millisecond)
	for _, f := range sent.take() {
		if kind := fileKind(tool, f.path); kind != "" {
			qc.files[kind] += f.bytes
			qc.count[kind]++
		}
	}
	return qc, nil
}

// ledger records the responses a server sent: path and body size.
type ledger struct {
	mu    sync.Mutex
	files []sentFile
}

type sentFile struct {
	path  string
	bytes int
}

func (l *ledger) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &countingWriter{ResponseWriter: w}
		h.ServeHTTP(cw, r)
		l.mu.Lock()
		l.files = append(l.files, sentFile{r.URL.Path, cw.n})
		l.mu.Unlock()
	})
}

func (l *ledger) reset() { l.mu.Lock(); l.files = nil; l.mu.Unlock() }

func (l *ledger) take() []sentFile {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.files
	l.files = nil
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

type countingWriter struct {
	http.ResponseWriter
	n int
}

func (w *countingWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.n += n
	return n, err
}

// fileKind sorts the files a query fetched; "" for what is not the search's (the page).
func fileKind(tool, p string) string {
	switch tool {
	case "parvis":
		switch {
		case strings.HasPrefix(p, "/js/search."):
			return "script"
		case p == "/search/index.bin":
			return "manifest"
		case strings.HasPrefix(p, "/search/t/"):
			return "shards"
		case strings.HasPrefix(p, "/search/d/"):
			return "documents"
		}
	case "pagefind":
		if !strings.HasPrefix(p, "/pagefind/") {
			return ""
		}
		switch base := path.Base(p); {
		case strings.HasSuffix(base, ".js"):
			return "script"
		case strings.HasPrefix(base, "wasm."):
			return "wasm"
		case strings.HasSuffix(base, ".pf_meta"), strings.HasSuffix(base, ".json"):
			return "manifest"
		case strings.HasSuffix(base, ".pf_index"):
			return "shards"
		case strings.HasSuffix(base, ".pf_fragment"):
			return "documents"
		default:
			return "other"
		}
	}
	return ""
}
