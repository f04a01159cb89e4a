package doccheck

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/url"
	"strings"
)

// ODF checks an OpenDocument file of the given media type (application/vnd.oasis.
// opendocument.text and the like) and returns its links. Every entry is read as a stream
// through the file's budget; every part that reads as XML is tokenised and its elements
// and attributes go through the rules: no macro library (Basic/, Scripts/, Dialogs/, however
// spelled), no script or event binding, no OLE object, applet or plugin.
func ODF(data []byte, mediaType string) (Report, error) {
	c := &odfCheck{data: data, mt: mediaType}
	c.meter.limit = budgetFor(len(data))
	c.meter.left = c.meter.limit
	if err := c.run(); err != nil {
		return Report{}, err
	}
	return Report{Links: c.links.list}, nil
}

type odfCheck struct {
	data  []byte
	mt    string
	meter meter
	links links
}

// MediaType returns the media type an OpenDocument file declares in its first entry, as
// the standard wants it (named "mimetype", stored, first), read from that entry's local
// header alone, or "".
func MediaType(data []byte) string {
	if len(data) < 38 || !bytes.HasPrefix(data, []byte("PK\x03\x04")) || string(data[30:38]) != "mimetype" {
		return ""
	}
	flags := binary.LittleEndian.Uint16(data[6:])
	method := binary.LittleEndian.Uint16(data[8:])
	size := int(binary.LittleEndian.Uint32(data[18:]))
	nameLen := binary.LittleEndian.Uint16(data[26:])
	start := 38 + int(binary.LittleEndian.Uint16(data[28:]))
	if method != zip.Store || nameLen != 8 || start > len(data) {
		return ""
	}
	if size == 0 && flags&0x8 != 0 {
		size = describedSize(data, start)
	}
	if size == 0 || size > 100 || start+size > len(data) {
		return ""
	}
	t := string(data[start : start+size])
	if !strings.HasPrefix(t, "application/vnd.oasis.opendocument.") {
		return ""
	}
	return t
}

// describedSize finds the size of a stored entry whose sizes follow its data, in a data
// descriptor (as zip writers that stream write them): the length whose descriptor gives
// it twice, with the data's CRC.
func describedSize(data []byte, start int) int {
	for n := 1; n <= 100 && start+n+12 <= len(data); n++ {
		d := data[start+n:]
		if bytes.HasPrefix(d, []byte("PK\x07\x08")) && len(d) >= 16 {
			d = d[4:]
		}
		crc := binary.LittleEndian.Uint32(d)
		if int(binary.LittleEndian.Uint32(d[4:])) == n && int(binary.LittleEndian.Uint32(d[8:])) == n && crc32.ChecksumIEEE(data[start:start+n]) == crc {
			return n
		}
	}
	return 0
}

// scriptDirs are the folders where office suites keep macros and the dialogs that run them.
var scriptDirs = map[string]bool{"basic": true, "scripts": true, "dialogs": true}

// entryPath normalises an entry's name as a reader might: backslashes as slashes, "." and
// empty segments dropped, ".." resolved, percent-escapes decoded, in lower case. ok is
// false when the name leaves the package.
func entryPath(name string) (string, bool) {
	if u, err := url.PathUnescape(name); err == nil {
		name = u
	}
	name = strings.ReplaceAll(name, "\\", "/")
	var segs []string
	for s := range strings.SplitSeq(name, "/") {
		switch strings.TrimSpace(s) {
		case "", ".":
		case "..":
			if len(segs) == 0 {
				return "", false
			}
			segs = segs[:len(segs)-1]
		default:
			// Spaces and dots at the end of a name are dropped by some file systems.
			segs = append(segs, strings.ToLower(strings.TrimRight(strings.TrimSpace(s), ". ")))
		}
	}
	return strings.Join(segs, "/"), true
}

// scriptPath reports a path with a macro folder in it, at any depth: an embedded object
// ("Object 1/") carries its own libraries.
func scriptPath(p string) bool {
	for s := range strings.SplitSeq(p, "/") {
		if scriptDirs[s] {
			return true
		}
	}
	return false
}

func (c *odfCheck) run() error {
	d := c.data
	if MediaType(d) != c.mt {
		return refuse(ErrMalformed, "not an OpenDocument file of type %s", c.mt)
	}
	if bytes.Contains(d[:min(len(d), 1024)], []byte("%PDF-")) {
		return refuse(ErrMalformed, "the file also reads as a PDF")
	}
	if err := c.localHeaders(); err != nil {
		return err
	}
	// archive/zip reads central directory headers for as long as they last, whatever the
	// count the archive declares: bound them before it allocates one for each.
	if n := bytes.Count(d, []byte("PK\x01\x02")); n > maxEntries {
		return refuse(ErrMalformed, "more than %d entries", maxEntries)
	}
	z, err := zip.NewReader(bytes.NewReader(d), int64(len(d)))
	if err != nil {
		return refuse(ErrMalformed, "not a zip archive: %v", err)
	}
	if len(z.File) > maxEntries {
		return refuse(ErrMalformed, "more than %d entries", maxEntries)
	}
	// The manifest first: it says whether the other entries are encrypted, which would
	// make them read as garbage.
	var content, manifest bool
	for _, e := range z.File {
		if e.Name == "META-INF/manifest.xml" && !manifest {
			manifest = true
			if e.Flags&1 != 0 {
				return refuse(ErrProtected, "entry %q is encrypted", e.Name)
			}
			if err := c.entry(e, "meta-inf/manifest.xml"); err != nil {
				return err
			}
		}
	}
	seen := make(map[string]string, len(z.File))
	for _, e := range z.File {
		if len(e.Name) > maxZipName {
			return refuse(ErrMalformed, "an entry name longer than %d bytes", maxZipName)
		}
		p, ok := entryPath(e.Name)
		switch {
		case strings.ContainsFunc(e.Name, func(r rune) bool { return r < ' ' || r == 0x7f }):
			// A reader in C may end the name at a NUL: "Basic\x00.png" reads as Basic.
			return refuse(ErrMalformed, "entry %q has control characters in its name", e.Name)
		case !ok:
			return refuse(ErrMalformed, "entry %q leaves the package", e.Name)
		case scriptPath(p):
			return refuse(ErrActive, "macros in entry %q", e.Name)
		case strings.HasSuffix(e.Name, "/"):
			continue
		case seen[p] != "":
			return refuse(ErrMalformed, "two entries named %q and %q", seen[p], e.Name)
		}
		seen[p] = e.Name
		if e.Flags&1 != 0 {
			return refuse(ErrProtected, "entry %q is encrypted", e.Name)
		}
		if e.Name == "content.xml" {
			content = true
		}
		if e.Name == "META-INF/manifest.xml" {
			continue // read first
		}
		if err := c.entry(e, p); err != nil {
			return err
		}
	}
	if !content || !manifest {
		return refuse(ErrMalformed, "an OpenDocument file without content.xml or its manifest")
	}
	return nil
}

// localHeaders looks at every local file header in the file, not only those the central
// directory lists: a reader repairing a damaged package reads them in order.
func (c *odfCheck) localHeaders() error {
	d := c.data
	for off := 0; ; {
		i := bytes.Index(d[off:], []byte("PK\x03\x04"))
		if i < 0 {
			return nil
		}
		at := off + i
		off = at + 4
		if at+30 > len(d) {
			return nil
		}
		n := int(binary.LittleEndian.Uint16(d[at+26:]))
		if at+30+n > len(d) {
			continue
		}
		name := string(d[at+30 : at+30+n])
		if p, ok := entryPath(name); ok && scriptPath(p) {
			return refuse(ErrActive, "macros in entry %q", name)
		}
	}
}

var (
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

// entry reads one entry through the budget: an XML part through the rules, anything else
// to its end (so that its size is known) after a look at what it starts with.
func (c *odfCheck) entry(e *zip.File, p string) error {
	if strings.HasSuffix(e.Name, "/") {
		return nil
	}
	rc, err := e.Open()
	if err != nil {
		return refuse(ErrMalformed, "entry %q cannot be read: %v", e.Name, err)
	}
	defer rc.Close()
	r := bufio.NewReaderSize(&entryMeter{r: rc, m: &c.meter, e: e}, 32<<10)
	head, _ := r.Peek(8)
	switch {
	case bytes.HasPrefix(head, oleMagic):
		return refuse(ErrActive, "an OLE object in entry %q", e.Name)
	case bytes.HasPrefix(head, []byte("MZ")), bytes.HasPrefix(head, []byte("\x7fELF")), bytes.HasPrefix(head, []byte("#!")):
		return refuse(ErrActive, "a program in entry %q", e.Name)
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return refuse(ErrActive, "an archive in entry %q", e.Name)
	case xmlLike(head, p):
		return c.xml(r, e.Name)
	}
	_, err = io.Copy(io.Discard, r)
	return c.readErr(err, e.Name)
}

func (c *odfCheck) readErr(err error, name string) error {
	var e *Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &e):
		return e
	}
	return refuse(ErrMalformed, "entry %q cannot be read: %v", name, err)
}

// xmlLike reports an entry to tokenise as XML: by its name, or by its first bytes (an
// SVG picture is XML too, and may script).
func xmlLike(head []byte, p string) bool {
	if strings.HasSuffix(p, ".xml") || strings.HasSuffix(p, ".rdf") || strings.HasSuffix(p, ".svg") {
		return true
	}
	h := bytes.TrimLeft(bytes.TrimPrefix(head, []byte{0xEF, 0xBB, 0xBF}), " \t\r\n")
	if len(h) > 0 && h[0] == '<' {
		return true
	}
	// UTF-16, with or without its byte order mark: refused by the tokeniser.
	return len(head) >= 2 && (head[0] == 0xFE && head[1] == 0xFF || head[0] == 0xFF && head[1] == 0xFE || head[0] == 0 && head[1] == '<' || head[0] == '<' && head[1] == 0)
}

// entryMeter counts an entry's unpacked bytes against the file's budget, its own cap and
// the zip bomb ratio.
type entryMeter struct {
	r io.Reader
	m *meter
	e *zip.File
	n int64
}

func (em *entryMeter) Read(p []byte) (int, error) {
	n, err := em.r.Read(p)
	em.n += int64(n)
	em.m.left -= int64(n)
	switch {
	case em.m.left < 0:
		return n, em.m.errBomb()
	case em.n > bombRatioFloor && em.n > bombRatio*int64(max(1, em.e.CompressedSize64)):
		return n, &Error{Kind: ErrBomb, Reason: fmt.Sprintf("entry %q unpacks to more than %d times its size", em.e.Name, bombRatio), Limit: int64(bombRatio * em.e.CompressedSize64)}
	}
	return n, err
}

// Element local names refused in any XML part, whatever their namespace prefix.
var refusedElements = map[string]string{
	"event-listener":  "an event listener",
	"event-listeners": "event listeners",
	"script":          "a script",
	"object-ole":      "an OLE object",
	"applet":          "a Java applet",
	"plugin":          "a plugin",
	"execute-macro":   "a macro field",
	"error-macro":     "a macro run on invalid input",
	"floating-frame":  "a frame loading another document",
	// DDE links run a program of the reader's machine to fetch their data.
	"dde-source":          "a DDE link",
	"dde-connection-decl": "a DDE link",
	"dde-link":            "a DDE link",
}

// linkAttrs are the attributes (by local name) whose value an office suite follows or
// loads: hyperlinks, frames and objects, form buttons' targets, images. A script or macro
// scheme in one of them is a binding; in any other attribute (a cell's text value) it is
// only text.
var linkAttrs = map[string]bool{
	"href": true, "target-location": true, "url": true, "location": true, "image-data": true,
	"data": true, "src": true, "action": true, "code": true, "archive": true, "codebase": true,
}

// xml runs the rules over one XML part.
func (c *odfCheck) xml(r *bufio.Reader, name string) error {
	manifest := name == "META-INF/manifest.xml"
	x := &xmlScan{r: r, part: name}
	x.start = func(el string, attrs []xattr, parent string) error {
		l := local(el)
		if what, ok := refusedElements[l]; ok {
			return refuse(ErrActive, "%s (%s) in %s", what, el, name)
		}
		if local(parent) == "scripts" {
			return refuse(ErrActive, "a script binding (%s in %s) in %s", el, parent, name)
		}
		if manifest && l == "encryption-data" {
			return refuse(ErrProtected, "encrypted entries, as %s says", name)
		}
		for _, a := range attrs {
			al := local(a.name)
			if a.name == "xmlns" || strings.HasPrefix(a.name, "xmlns:") {
				continue
			}
			v := strings.TrimSpace(a.value)
			switch {
			case al == "macro-name" && v != "":
				return refuse(ErrActive, "a macro binding (%s=%q) in %s", a.name, cut(v), name)
			case (linkAttrs[al] || al == "string-value" && (l == "property" || l == "list-value")) && dangerousScheme(v):
				// A form control's properties (its TargetURL) are string values.
				return refuse(ErrActive, "a %s: link (%s=%q) in %s", scheme(v), a.name, cut(v), name)
			case al == "formula" && formulaCalls(v):
				return refuse(ErrActive, "a formula calling out (%s=%q) in %s", a.name, cut(v), name)
			case manifest && l == "file-entry" && al == "media-type" && scriptType(v):
				return refuse(ErrActive, "an entry of type %s in %s", v, name)
			case manifest && l == "file-entry" && al == "full-path":
				if p, ok := entryPath(v); !ok || scriptPath(p) {
					return refuse(ErrActive, "macros in entry %q, as %s lists it", v, name)
				}
			case al == "href" && !manifest:
				switch scheme(v) {
				case "http", "https", "ftp", "mailto":
					c.links.add(v)
				}
			}
		}
		return nil
	}
	if err := x.run(); err != nil {
		return err
	}
	return nil
}

// formulaCalls reports a spreadsheet formula that runs a program (DDE) or sends the sheet's
// data out (WEBSERVICE, FILTERXML over it) when the sheet is opened or recalculated.
func formulaCalls(f string) bool {
	f = strings.ToUpper(strings.Join(strings.Fields(f), ""))
	return strings.Contains(f, "DDE(") || strings.Contains(f, "WEBSERVICE(")
}

// scriptType reports the media types of macro libraries and OLE objects in a manifest.
func scriptType(t string) bool {
	t = strings.ToLower(t)
	for _, s := range []string{"basic", "script", "oleobject", "ole-object", "x-ole", "java", "x-msdownload", "x-executable"} {
		if strings.Contains(t, s) {
			return true
		}
	}
	return false
}

func cut(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
