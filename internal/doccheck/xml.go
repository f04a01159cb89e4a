package doccheck

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// xmlScan tokenises one XML part as a stream and calls start for each element, with its
// attributes' values decoded (entities, character references, whitespace normalised) and
// cut at maxAttrKeep. Text, comments, CDATA and processing instructions are read through a
// bufio.Reader and dropped: encoding/xml would hold each text node and attribute whole,
// which a crafted part makes as large as it unpacks.
//
// It is strict where a lenient reading could hide an element from the rules: only UTF-8,
// no document type declaration (hence no entity of the document's own), tags that nest,
// attributes quoted. Elements and attributes are matched by their local names, whatever
// their prefix: a part that binds the script namespace to another prefix is caught all the
// same.
type xmlScan struct {
	r     *bufio.Reader
	part  string
	stack []string
	attrs []xattr
	start func(name string, attrs []xattr, parent string) error
	buf   []byte
}

type xattr struct {
	name  string // as written, prefix included
	value string // decoded, at most maxAttrKeep bytes
}

// local returns the part of a qualified name after its prefix, in lower case.
func local(name string) string {
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		name = name[i+1:]
	}
	return strings.ToLower(name)
}

func (x *xmlScan) malformed(format string, args ...any) error {
	return refuse(ErrMalformed, "%s: "+format, append([]any{x.part}, args...)...)
}

// ioErr passes a refusal (the budget) and names any other reading error.
func (x *xmlScan) ioErr(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if err == io.EOF {
		return x.malformed("the XML ends before its elements close")
	}
	return x.malformed("%v", err)
}

func (x *xmlScan) run() error {
	if b, err := x.r.Peek(1); len(b) == 0 && err == io.EOF {
		return nil // an empty part, as office suites write some (an empty configuration)
	}
	if b, _ := x.r.Peek(3); bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		x.r.Discard(3)
	} else if len(b) >= 2 && (b[0] == 0xFE && b[1] == 0xFF || b[0] == 0xFF && b[1] == 0xFE || b[0] == 0 || b[1] == 0) {
		return x.malformed("an XML part not in UTF-8")
	}
	seen := false
	for {
		// Text up to the next '<'.
		for {
			chunk, err := x.r.ReadSlice('<')
			if len(x.stack) == 0 && len(bytes.TrimSpace(bytes.TrimSuffix(chunk, []byte("<")))) > 0 {
				return x.malformed("text outside the root element")
			}
			if err == nil {
				break
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err == io.EOF && len(x.stack) == 0 {
				if !seen {
					return x.malformed("no root element")
				}
				return nil
			}
			return x.ioErr(err)
		}
		c, err := x.r.ReadByte()
		if err != nil {
			return x.ioErr(err)
		}
		switch c {
		case '?':
			if err := x.pi(); err != nil {
				return err
			}
		case '!':
			if err := x.bang(); err != nil {
				return err
			}
		case '/':
			if err := x.end(); err != nil {
				return err
			}
		default:
			if len(x.stack) == 0 && seen {
				return x.malformed("a second root element")
			}
			seen = true
			x.r.UnreadByte()
			if err := x.tag(); err != nil {
				return err
			}
		}
	}
}

// skipTo reads up to and past end, at most maxXMLSpan bytes, keeping the first keep bytes
// read in x.buf.
func (x *xmlScan) skipTo(end string, keep int) error {
	x.buf = x.buf[:0]
	last := end[len(end)-1]
	var tail []byte // the bytes before each candidate last byte
	n := 0
	for {
		chunk, err := x.r.ReadSlice(last)
		n += len(chunk)
		if len(x.buf) < keep {
			x.buf = append(x.buf, chunk[:min(len(chunk), keep-len(x.buf))]...)
		}
		if n > maxXMLSpan {
			return x.malformed("a comment, CDATA section or instruction longer than %d MiB", maxXMLSpan>>20)
		}
		if err == bufio.ErrBufferFull {
			tail = append(tail[:0], chunk[max(0, len(chunk)-len(end)):]...)
			continue
		}
		if err != nil {
			return x.ioErr(err)
		}
		joined := append(tail, chunk...)
		if bytes.HasSuffix(joined, []byte(end)) {
			return nil
		}
		tail = append(tail[:0], joined[max(0, len(joined)-len(end)):]...)
	}
}

// pi skips a processing instruction; the XML declaration must not name another encoding.
func (x *xmlScan) pi() error {
	if err := x.skipTo("?>", 256); err != nil {
		return err
	}
	decl := string(x.buf)
	if strings.HasPrefix(decl, "xml") {
		if i := strings.Index(decl, "encoding"); i >= 0 {
			v := strings.ToLower(decl[i:])
			if !strings.Contains(v, "utf-8") && !strings.Contains(v, "utf8") {
				return x.malformed("an XML part not in UTF-8")
			}
		}
	}
	return nil
}

func (x *xmlScan) bang() error {
	b, err := x.r.Peek(2)
	if err == nil && string(b) == "--" {
		x.r.Discard(2)
		return x.skipTo("-->", 0)
	}
	b, err = x.r.Peek(7)
	if err == nil && string(b) == "[CDATA[" {
		if len(x.stack) == 0 {
			return x.malformed("CDATA outside the root element")
		}
		x.r.Discard(7)
		return x.skipTo("]]>", 0)
	}
	// A document type declaration naming an external DTD (as SVG pictures have) is
	// skipped: no DTD is read, so an entity it would define stays undefined, and refused
	// where it is used. One with an internal subset, or anything else after "<!", could
	// define entities that spell a script binding out of the rules' sight.
	b, err = x.r.Peek(7)
	if err == nil && string(b) == "DOCTYPE" && len(x.stack) == 0 {
		for n := 0; n < 4096; n++ {
			c, err := x.r.ReadByte()
			if err != nil {
				return x.ioErr(err)
			}
			switch c {
			case '>':
				return nil
			case '[', '<':
				n = 4096
			}
		}
	}
	return refuse(ErrMalformed, "%s: a document type declaration with entities of its own", x.part)
}

// name reads an element or attribute name.
func (x *xmlScan) name() (string, error) {
	x.buf = x.buf[:0]
	for {
		c, err := x.r.ReadByte()
		if err != nil {
			return "", x.ioErr(err)
		}
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '=' || c == '>' || c == '/' || c == '<' || c == '"' || c == '\'' {
			x.r.UnreadByte()
			break
		}
		if c == 0 {
			return "", x.malformed("a NUL byte")
		}
		if len(x.buf) >= maxXMLName {
			return "", x.malformed("a name longer than %d bytes", maxXMLName)
		}
		x.buf = append(x.buf, c)
	}
	if len(x.buf) == 0 || !utf8.Valid(x.buf) {
		return "", x.malformed("an element or attribute without a valid name")
	}
	return string(x.buf), nil
}

func (x *xmlScan) space() (bool, error) {
	any := false
	for {
		c, err := x.r.ReadByte()
		if err != nil {
			return any, x.ioErr(err)
		}
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			x.r.UnreadByte()
			return any, nil
		}
		any = true
	}
}

func (x *xmlScan) end() error {
	n, err := x.name()
	if err != nil {
		return err
	}
	if _, err := x.space(); err != nil {
		return err
	}
	if c, err := x.r.ReadByte(); err != nil || c != '>' {
		return x.malformed("end tag %q not closed", n)
	}
	if len(x.stack) == 0 || x.stack[len(x.stack)-1] != n {
		return x.malformed("end tag %q does not match its start", n)
	}
	x.stack = x.stack[:len(x.stack)-1]
	return nil
}

func (x *xmlScan) tag() error {
	n, err := x.name()
	if err != nil {
		return err
	}
	x.attrs = x.attrs[:0]
	empty := false
	for {
		sp, err := x.space()
		if err != nil {
			return err
		}
		c, err := x.r.ReadByte()
		if err != nil {
			return x.ioErr(err)
		}
		if c == '>' {
			break
		}
		if c == '/' {
			if c, err := x.r.ReadByte(); err != nil || c != '>' {
				return x.malformed("tag %q not closed", n)
			}
			empty = true
			break
		}
		if !sp {
			return x.malformed("attributes of %q not separated", n)
		}
		x.r.UnreadByte()
		an, err := x.name()
		if err != nil {
			return err
		}
		if _, err := x.space(); err != nil {
			return err
		}
		if c, err := x.r.ReadByte(); err != nil || c != '=' {
			return x.malformed("attribute %q of %q without a value", an, n)
		}
		if _, err := x.space(); err != nil {
			return err
		}
		v, err := x.value()
		if err != nil {
			return err
		}
		if len(x.attrs) >= 4096 {
			return x.malformed("more than 4096 attributes on %q", n)
		}
		x.attrs = append(x.attrs, xattr{an, v})
	}
	parent := ""
	if len(x.stack) > 0 {
		parent = x.stack[len(x.stack)-1]
	}
	if err := x.start(n, x.attrs, parent); err != nil {
		return err
	}
	if !empty {
		if len(x.stack) >= maxXMLDepth {
			return x.malformed("elements nested deeper than %d", maxXMLDepth)
		}
		x.stack = append(x.stack, n)
	}
	return nil
}

// value reads a quoted attribute value, decoding references and normalising whitespace
// as an XML parser does.
func (x *xmlScan) value() (string, error) {
	q, err := x.r.ReadByte()
	if err != nil {
		return "", x.ioErr(err)
	}
	if q != '"' && q != '\'' {
		return "", x.malformed("an attribute value not quoted")
	}
	x.buf = x.buf[:0]
	keep := func(s []byte) {
		if room := maxAttrKeep - len(x.buf); room > 0 {
			x.buf = append(x.buf, s[:min(len(s), room)]...)
		}
	}
	for n := 0; ; n++ {
		if n > maxXMLSpan {
			return "", x.malformed("an attribute value longer than %d MiB", maxXMLSpan>>20)
		}
		c, err := x.r.ReadByte()
		if err != nil {
			return "", x.ioErr(err)
		}
		switch c {
		case q:
			return string(x.buf), nil
		case '<':
			return "", x.malformed("'<' in an attribute value")
		case 0:
			return "", x.malformed("a NUL byte")
		case '\t', '\n', '\r':
			keep([]byte{' '})
		case '&':
			r, err := x.reference()
			if err != nil {
				return "", err
			}
			keep([]byte(r))
		default:
			keep([]byte{c})
		}
	}
}

// reference decodes an entity or character reference after its '&'.
func (x *xmlScan) reference() (string, error) {
	var ref []byte
	for {
		c, err := x.r.ReadByte()
		if err != nil {
			return "", x.ioErr(err)
		}
		if c == ';' {
			break
		}
		if len(ref) > 16 {
			return "", x.malformed("a reference that does not end")
		}
		ref = append(ref, c)
	}
	switch s := string(ref); s {
	case "lt":
		return "<", nil
	case "gt":
		return ">", nil
	case "amp":
		return "&", nil
	case "apos":
		return "'", nil
	case "quot":
		return "\"", nil
	default:
		var n uint64
		var err error
		switch {
		case strings.HasPrefix(s, "#x"):
			n, err = strconv.ParseUint(s[2:], 16, 32)
		case strings.HasPrefix(s, "#"):
			n, err = strconv.ParseUint(s[1:], 10, 32)
		default:
			return "", x.malformed("the entity &%s;, which XML does not define", printable(s))
		}
		if err != nil || n == 0 || n > utf8.MaxRune || !utf8.ValidRune(rune(n)) {
			return "", x.malformed("an invalid character reference &%s;", printable(s))
		}
		return string(rune(n)), nil
	}
}
