package main

import (
	"net/http"
	"os"
	"path"
	"path/filepath"

	"sync"
	"time"

	"github.com/parvis/parvis/generator"
	"github.com/parvis/parvis/internal/headers"
)

// headerFiles applies the built site's _headers file (generator.HeadersFile, the format
// Netlify and Cloudflare Pages read) to what the static handler serves: that is how a
// citizen's document goes out as a download. The file is read again whenever a build
// changes it, and is itself not served.
func headerFiles(root string, next http.Handler) http.Handler {
	rules := &headerRules{file: filepath.Join(root, generator.HeadersFile)}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := path.Clean("/" + r.URL.Path)
		if p == "/"+generator.HeadersFile {
			http.NotFound(w, r)
			return
		}
		for _, h := range rules.match(p) {
			w.Header().Set(h.Name, h.Value)
		}
		next.ServeHTTP(w, r)
	})
}

type headerRules struct {
	file string
	mu   sync.Mutex
	mod  time.Time
	size int64
	list headers.Rules
}

func (h *headerRules) match(p string) []headers.Header {
	h.mu.Lock()
	defer h.mu.Unlock()
	fi, err := os.Stat(h.file)
	switch {
	case err != nil:
		h.list, h.mod, h.size = nil, time.Time{}, 0
	case !fi.ModTime().Equal(h.mod) || fi.Size() != h.size:
		if b, err := os.ReadFile(h.file); err == nil {
			h.list, h.mod, h.size = headers.Parse(b), fi.ModTime(), fi.Size()
		}
	}
	return h.list.Match(p)
}
