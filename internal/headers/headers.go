// Package headers reads a built site's _headers file (the format Netlify and Cloudflare
// Pages read: a site path, then indented "Name: value" lines), which the generator writes
// so that a citizen's document goes out as a download. parvis serve applies it to what it
// serves, and a deploy stores it as the objects' metadata.
package headers

import (
	"bufio"
	"bytes"
	"net/textproto"
	"strings"
)

// Header is one header a rule sets.
type Header struct{ Name, Value string }

// Rule gives headers to a site path, or to every path under a prefix ending in "*".
type Rule struct {
	Pattern string
	Headers []Header
}

// Rules are a file's rules, in order.
type Rules []Rule

// Parse reads a _headers file: a line starting with "/" opens a rule, the indented
// "Name: value" lines under it are its headers, "#" starts a comment. What it cannot read
// is skipped, as static hosts do, with the indented lines after it.
func Parse(b []byte) Rules {
	var rules Rules
	open := false // the last rule takes the indented lines that follow it
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
		case line[0] == '/':
			rules = append(rules, Rule{Pattern: trimmed})
			open = true
		case open && (line[0] == ' ' || line[0] == '\t'):
			name, value, ok := strings.Cut(trimmed, ":")
			if ok && strings.TrimSpace(name) != "" {
				r := &rules[len(rules)-1]
				r.Headers = append(r.Headers, Header{textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name)), strings.TrimSpace(value)})
			}
		default:
			open = false // a line that is no rule: what follows it belongs to none
		}
	}
	return rules
}

// Match returns the headers the rules give any of paths (the names one file is asked by:
// "/a/index.html" and "/a/"), in the rules' order: a later rule's value for a name is meant
// to replace an earlier one's.
func (rs Rules) Match(paths ...string) []Header {
	var out []Header
	for _, r := range rs {
		for _, p := range paths {
			if prefix, ok := strings.CutSuffix(r.Pattern, "*"); ok && strings.HasPrefix(p, prefix) || r.Pattern == p {
				out = append(out, r.Headers...)
				break
			}
		}
	}
	return out
}
