package main

import (
	"bufio"
	"bytes"
	"net/http"
	"net/textproto"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/parvis/parvis/generator"
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
			w.Header().Set(h.name, h.value)
		}
		next.ServeHTTP(w, r)
	})
}

type header struct{ name, value string }

type headerRule struct {
	pattern string // a site path, or a prefix ending in "*"
	headers []header
}

type headerRules struct {
	file string
	mu   sync.Mutex
	mod  time.Time
	size int64
	list []headerRule
}

func (h *headerRules) match(p string) []header {
	h.mu.Lock()
	defer h.mu.Unlock()
	fi, err := os.Stat(h.file)
	switch {
	case err != nil:
		h.list, h.mod, h.size = nil, time.Time{}, 0
	case !fi.ModTime().Equal(h.mod) || fi.Size() != h.size:
		if b, err := os.ReadFile(h.file); err == nil {
			h.list, h.mod, h.size = parseHeaders(b), fi.ModTime(), fi.Size()
		}
	}
	var out []header
	for _, r := range h.list {
		if prefix, ok := strings.CutSuffix(r.pattern, "*"); ok && strings.HasPrefix(p, prefix) || r.pattern == p {
			out = append(out, r.headers...)
		}
	}
	return out
}

// parseHeaders reads a _headers file: a line starting with "/" opens a rule, the indented
// "Name: value" lines under it are its headers, "#" starts a comment. What it cannot read
// is skipped, as static hosts do.
func parseHeaders(b []byte) []headerRule {
	var rules []headerRule
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
		case line[0] == '/':
			rules = append(rules, headerRule{pattern: trimmed})
		case len(rules) > 0 && (line[0] == ' ' || line[0] == '\t'):
			name, value, ok := strings.Cut(trimmed, ":")
			if ok && name != "" {
				r := &rules[len(rules)-1]
				r.headers = append(r.headers, header{textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name)), strings.TrimSpace(value)})
			}
		}
	}
	return rules
}
