package site

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"go.yaml.in/yaml/v3"
)

// FrontMatter is a page's decoded front matter. Lines maps a top-level key to the line it is
// on in the file, where the format tells it (YAML), so that errors can point at it.
type FrontMatter struct {
	Format string // yaml, toml, json, or "" when the file has none
	Values map[string]any
	Lines  map[string]int
}

// Line returns the line of key in the file, or the front matter's first line.
func (fm *FrontMatter) Line(key string) int {
	if l, ok := fm.Lines[key]; ok {
		return l
	}
	if fm.Format == "" {
		return 0
	}
	return 1
}

var bom = []byte("\xef\xbb\xbf")

// SplitFrontMatter separates a page file into its front matter and its Markdown body.
// bodyLine is the line of the file the body starts on.
func SplitFrontMatter(data []byte) (format string, fm, body []byte, bodyLine int, err error) {
	data = bytes.TrimPrefix(data, bom)
	first, rest, _ := bytes.Cut(data, []byte("\n"))
	switch string(bytes.TrimRight(first, " \t\r")) {
	case "---":
		fm, body, n, ok := cutDelimited(rest, "---", "...")
		if !ok {
			return "yaml", nil, nil, 0, &Error{Line: 1, Err: errors.New("front matter: no closing --- line")}
		}
		return "yaml", fm, body, n + 2, nil
	case "+++":
		fm, body, n, ok := cutDelimited(rest, "+++", "")
		if !ok {
			return "toml", nil, nil, 0, &Error{Line: 1, Err: errors.New("front matter: no closing +++ line")}
		}
		return "toml", fm, body, n + 2, nil
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(data))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return "json", nil, nil, 0, &Error{Line: jsonLine(data, err), Err: fmt.Errorf("front matter: %v", err)}
		}
		off := int(dec.InputOffset())
		body := data[off:]
		line := 1 + bytes.Count(data[:off], []byte("\n"))
		// The body starts after the rest of the closing brace's line.
		if i := bytes.IndexByte(body, '\n'); i >= 0 && len(bytes.TrimSpace(body[:i])) == 0 {
			body = body[i+1:]
			line++
		}
		return "json", raw, body, line, nil
	}
	return "", nil, data, 1, nil
}

// cutDelimited finds the closing delimiter line in rest; n is how many lines the front matter has.
func cutDelimited(rest []byte, delim, alt string) (fm, body []byte, n int, ok bool) {
	off := 0
	for off <= len(rest) {
		end := bytes.IndexByte(rest[off:], '\n')
		var line []byte
		next := len(rest) + 1
		if end < 0 {
			line = rest[off:]
		} else {
			line = rest[off : off+end]
			next = off + end + 1
		}
		l := string(bytes.TrimRight(line, " \t\r"))
		if l == delim || (alt != "" && l == alt) {
			if next > len(rest) {
				return rest[:off], nil, n, true
			}
			return rest[:off], rest[next:], n, true
		}
		n++
		off = next
	}
	return nil, nil, 0, false
}

// ParseFrontMatter splits data and decodes its front matter.
func ParseFrontMatter(data []byte) (*FrontMatter, []byte, int, error) {
	format, raw, body, bodyLine, err := SplitFrontMatter(data)
	if err != nil {
		return nil, nil, 0, err
	}
	fm := &FrontMatter{Format: format, Values: map[string]any{}, Lines: map[string]int{}}
	switch format {
	case "yaml":
		if err := decodeYAML(raw, fm); err != nil {
			return nil, nil, 0, err
		}
	case "toml":
		if err := toml.Unmarshal(raw, &fm.Values); err != nil {
			line := 0
			var de *toml.DecodeError
			if errors.As(err, &de) {
				line, _ = de.Position()
				line++ // the opening +++
			}
			return nil, nil, 0, &Error{Line: line, Err: fmt.Errorf("front matter (TOML): %v", err)}
		}
	case "json":
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&fm.Values); err != nil {
			return nil, nil, 0, &Error{Line: 1, Err: fmt.Errorf("front matter (JSON): %v", err)}
		}
		for k, v := range fm.Values {
			fm.Values[k] = normalizeJSON(v)
		}
	}
	return fm, body, bodyLine, nil
}

func normalizeJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = normalizeJSON(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normalizeJSON(x[k])
		}
	}
	return v
}

// decodeYAML walks the node tree so that timestamps stay as written (a date without a zone
// must take the site's zone, which time.Time would lose) and each key keeps its line.
func decodeYAML(raw []byte, fm *FrontMatter) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return yamlError("", 1, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil // empty front matter
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return &Error{Line: root.Line + 1, Err: errors.New("front matter: expected key: value pairs")}
	}
	budget := maxYAMLNodes
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if first, dup := fm.Lines[k.Value]; dup {
			return &Error{Line: k.Line + 1, Err: fmt.Errorf("front matter: %s is already set on line %d", k.Value, first)}
		}
		val, err := yamlValue(v, 0, &budget)
		if err != nil {
			return &Error{Line: v.Line + 1, Err: fmt.Errorf("front matter: %s: %v", k.Value, err)}
		}
		fm.Values[k.Value] = val
		fm.Lines[k.Value] = k.Line + 1 // the opening --- is line 1
	}
	return nil
}

// Bounds on front matter: aliases can nest or refer to themselves, and expanding them
// naively would exhaust the stack or the memory (the "billion laughs").
const (
	maxYAMLDepth = 64
	maxYAMLNodes = 100000
)

func yamlValue(n *yaml.Node, depth int, budget *int) (any, error) {
	*budget--
	if depth > maxYAMLDepth || *budget < 0 {
		return nil, errors.New("too deeply nested, or aliases expand too far")
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, errors.New("unknown alias")
		}
		return yamlValue(n.Alias, depth+1, budget)
	case yaml.ScalarNode:
		if n.Tag == "!!timestamp" {
			return n.Value, nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		return v, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := yamlValue(c, depth+1, budget)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := yamlValue(n.Content[i+1], depth+1, budget)
			if err != nil {
				return nil, err
			}
			out[n.Content[i].Value] = v
		}
		return out, nil
	}
	return nil, nil
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// yamlError turns a yaml error into an *Error whose line is counted in the file, offset by
// the lines before the YAML text.
func yamlError(file string, offset int, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = strings.Join(te.Errors, "; ")
	}
	line := 0
	if offset > 0 {
		line = offset + 1 // no line in the message: point at the first line of the YAML
	}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		line += offset
		msg = strings.TrimSpace(yamlLineRE.ReplaceAllString(msg, ""))
		msg = strings.TrimPrefix(strings.TrimPrefix(msg, ":"), " ")
		msg = strings.TrimSpace(strings.TrimPrefix(msg, ":"))
	}
	prefix := "front matter: "
	if file == ConfigFile {
		prefix = ""
	}
	return &Error{File: file, Line: line, Err: errors.New(prefix + msg)}
}

func jsonLine(data []byte, err error) int {
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset <= int64(len(data)) {
		return 1 + bytes.Count(data[:se.Offset], []byte("\n"))
	}
	return 1
}
