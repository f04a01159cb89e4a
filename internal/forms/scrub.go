package forms

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/parvis/parvis/internal/doccheck"
)

// A published document must not name the citizen who sent it, nor the people who wrote or
// annotated it, in places no reader of the page sees: office suites put the author's
// name, their initials, the printer and a path to their home folder in a document's
// metadata. Scrubbing removes those and keeps the content.

// errProtected is the checks' own: a protected file is refused by them, or here when a
// scrub is asked of one directly.
var errProtected = doccheck.ErrProtected

// odfPersonal are the elements of an OpenDocument's XML parts that hold a person's name or
// their machine's: authors (of the document, of tracked changes, of comments), initials,
// who printed it, and custom properties, whose values could be anything. Their text is
// emptied; the elements stay, so the XML stays valid for any schema. odfTemplate, the
// template's path (often in a home folder), is dropped; in settings.xml, odfPrinter's
// printer and its driver's setup are emptied.
var (
	odfPersonal = []string{"dc:creator", "meta:initial-creator", "meta:printed-by", "meta:creator-initials", "meta:user-defined"}
	odfTemplate = "meta:template"
	odfPrinter  = "config:config-item"
)

// maxScrubbedText bounds the text of one personal element, and any tag the scrubber
// holds: a name is a few bytes, a printer's setup a few KiB.
const maxScrubbedText = 1 << 20

// scrubODF rewrites an OpenDocument file without the personal metadata of its XML parts,
// without the metadata of its JPEG and PNG pictures, and without what the zip format itself
// may carry (comments, owner IDs in extra fields, times). Every entry is streamed from the
// input to the output through small buffers: none is held whole, so the memory it takes
// is the output's, about the input's size.
// A password-protected file cannot be read, hence not scrubbed: errProtected.
func scrubODF(data []byte) ([]byte, error) {
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Grow(len(data) + len(data)/8)
	w := zip.NewWriter(&out)
	left := max(int64(64<<20), 16*int64(len(data)))
	buf := make([]byte, 32<<10)
	for _, e := range z.File {
		if e.Flags&0x1 != 0 {
			return nil, errProtected // zip-level encryption
		}
		if err := scrubEntry(w, e, &left, buf); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name, err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// odfTime stands for every entry's modification time, which would tell when the sender
// worked on the file.
var odfTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func scrubEntry(w *zip.Writer, e *zip.File, left *int64, buf []byte) error {
	rc, err := e.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	r := bufio.NewReaderSize(&budgeted{r: rc, left: left}, 32<<10)
	if e.Name == "mimetype" {
		// Stored, with its sizes in its header and no extra field, as the standard asks:
		// readers find the type at a fixed offset.
		b, err := io.ReadAll(io.LimitReader(r, 101))
		if err != nil || len(b) > 100 {
			return errors.New("not a media type")
		}
		fw, err := w.CreateRaw(&zip.FileHeader{Name: e.Name, Method: zip.Store, CRC32: crc32.ChecksumIEEE(b),
			CompressedSize64: uint64(len(b)), UncompressedSize64: uint64(len(b)), ModifiedDate: dosDate(odfTime)})
		if err != nil {
			return err
		}
		_, err = fw.Write(b)
		return err
	}
	// A fresh header: the name, the method and a fixed time, nothing else of the
	// original's (its extra fields may hold the owner's user ID).
	h := &zip.FileHeader{Name: e.Name, Method: zip.Deflate, Modified: odfTime}
	if e.Method == zip.Store {
		h.Method = zip.Store
	}
	if e.Name == "META-INF/manifest.xml" {
		// ODF encryption is declared in the manifest, a few KiB: looked at before it goes.
		head, _ := r.Peek(min(r.Size(), 32<<10))
		if bytes.Contains(head, []byte("encryption-data")) {
			return errProtected
		}
	}
	fw, err := w.CreateHeader(h)
	if err != nil {
		return err
	}
	switch {
	case strings.HasSuffix(e.Name, ".xml"):
		return scrubXML(fw, r, e.Name == "settings.xml")
	case strings.HasPrefix(e.Name, "Pictures/"):
		return stripImage(fw, r)
	}
	_, err = io.CopyBuffer(fw, r, buf)
	return err
}

func dosDate(t time.Time) uint16 {
	return uint16((t.Year()-1980)<<9 | int(t.Month())<<5 | t.Day())
}

// budgeted counts what an entry unpacks to against the file's allowance.
type budgeted struct {
	r    io.Reader
	left *int64
}

func (b *budgeted) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if *b.left -= int64(n); *b.left < 0 {
		return n, errors.New("unpacks to too much")
	}
	return n, err
}

// scrubXML copies an XML part with the text of the personal elements emptied, the template
// reference dropped and, in settings.xml, the printer's name and setup emptied. It reads
// tag by tag: only a personal element's tag and text are held, each under
// maxScrubbedText.
func scrubXML(w io.Writer, r *bufio.Reader, settings bool) error {
	if r.Size() < 64 {
		r = bufio.NewReaderSize(r, 64) // room to peek at the longest end tag
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	var name, tag, text []byte
	atTag := false // just past a '<' read by the previous step
	for {
		if !atTag {
			chunk, err := r.ReadSlice('<')
			if err == bufio.ErrBufferFull {
				bw.Write(chunk)
				continue
			}
			if err == io.EOF {
				bw.Write(chunk)
				return bw.Flush()
			}
			if err != nil {
				return err
			}
			bw.Write(chunk[:len(chunk)-1])
		}
		atTag = false
		// The tag's name, up to the first byte that ends it.
		name = name[:0]
		for len(name) < 256 {
			c, err := r.ReadByte()
			if err != nil {
				break
			}
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '/' && len(name) > 0 || c == '>' {
				r.UnreadByte()
				break
			}
			name = append(name, c)
		}
		personal := slices.Contains(odfPersonal, string(name))
		template := string(name) == odfTemplate
		printer := settings && string(name) == odfPrinter
		if !personal && !template && !printer {
			bw.WriteByte('<')
			bw.Write(name)
			if err := copyThrough(bw, r, '>'); err != nil {
				return err
			}
			continue
		}
		tag = append(append(tag[:0], '<'), name...)
		rest, err := readUpTo(r, '>', tag)
		if err != nil {
			return err
		}
		tag = rest
		selfClosing := bytes.HasSuffix(tag, []byte("/>"))
		switch {
		case template && selfClosing:
			continue // dropped
		case template, selfClosing,
			printer && !bytes.Contains(tag, []byte(`config:name="PrinterName"`)) && !bytes.Contains(tag, []byte(`config:name="PrinterSetup"`)):
			bw.Write(tag)
			continue
		}
		bw.Write(tag)
		// The element's text, emptied when the element's end tag follows it.
		text, err = readUpTo(r, '<', text[:0])
		if err == io.EOF {
			bw.Write(text)
			return bw.Flush()
		}
		if err != nil {
			return err
		}
		text = text[:len(text)-1]
		closers := odfPersonal
		if printer {
			closers = []string{odfPrinter}
		}
		if !closes(r, closers) {
			bw.Write(text)
		}
		atTag = true // the '<' read is the next tag's
	}
}

// copyThrough copies up to and including the byte end.
func copyThrough(w *bufio.Writer, r *bufio.Reader, end byte) error {
	for {
		chunk, err := r.ReadSlice(end)
		w.Write(chunk)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			return nil
		}
		return err
	}
}

// readUpTo appends to buf up to and including end, at most maxScrubbedText bytes.
func readUpTo(r *bufio.Reader, end byte, buf []byte) ([]byte, error) {
	for {
		chunk, err := r.ReadSlice(end)
		buf = append(buf, chunk...)
		if len(buf) > maxScrubbedText {
			return nil, errors.New("a metadata element longer than 1 MiB")
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return buf, err
	}
}

// closes reports whether the bytes after a '<' are the end tag of one of names.
func closes(r *bufio.Reader, names []string) bool {
	for _, n := range names {
		want := "/" + n + ">"
		if b, err := r.Peek(len(want)); err == nil && string(b) == want {
			return true
		}
	}
	return false
}

// PDF metadata is blanked in place: the bytes of a value are overwritten with as many
// spaces (or, in a hexadecimal string, zeros), so that no offset in the file moves and its
// cross-reference table stays right. What sits in compressed streams is out of reach of
// this method and stays: office suites write the information dictionary and the XMP packet
// uncompressed, as the standard recommends for metadata.

// maxLookups bounds the indirect references a scrub follows.
const maxLookups = 64

// pdfPersonalKeys are the information dictionary's entries that name people.
var pdfPersonalKeys = [][]byte{[]byte("/Author"), []byte("/Authors"), []byte("/LastModifiedBy"), []byte("/Company"), []byte("/Manager")}

// xmpPersonal are the XMP properties that name people or their machines.
var xmpPersonal = []string{"dc:creator", "dc:contributor", "dc:publisher", "dc:rights", "pdfx:Author", "pdfx:Company", "photoshop:AuthorsPosition", "photoshop:CaptionWriter", "xmpRights:Owner"}

// scrubPDF blanks, in data itself, the people named in a PDF's metadata, and returns it: it
// takes no memory beyond the file's. An encrypted PDF's strings cannot be read, hence not
// blanked: errProtected, data untouched.
func scrubPDF(data []byte) ([]byte, error) {
	if encrypted(data) {
		return nil, errProtected
	}
	b := data
	lookups := 0
	for _, key := range pdfPersonalKeys {
		eachName(b, key, func(at int) bool {
			blankPDFValue(b, at, &lookups)
			return true
		})
	}
	for _, prop := range xmpPersonal {
		blankXMP(b, prop)
	}
	return b, nil
}

// encrypted reports whether a PDF's trailer names an encryption dictionary.
func encrypted(data []byte) bool {
	found := false
	eachName(data, []byte("/Encrypt"), func(int) bool {
		found = true
		return false
	})
	return found
}

// eachName calls fn with the offset just past each occurrence of the PDF name in b, not
// counting longer names that start the same (/Authority for /Author), until fn returns
// false.
func eachName(b, name []byte, fn func(at int) bool) {
	for off := 0; ; {
		i := bytes.Index(b[off:], name)
		if i < 0 {
			return
		}
		at := off + i + len(name)
		off = at
		if at < len(b) && !pdfDelimiter(b[at]) {
			continue
		}
		if !fn(at) {
			return
		}
	}
}

// blankPDFValue blanks the string that follows a key at b[at:], if there is one: a
// literal string, a hexadecimal one, or an indirect reference to an object holding one.
func blankPDFValue(b []byte, at int, lookups *int) {
	i := skipPDFSpace(b, at)
	if i >= len(b) {
		return
	}
	switch {
	case b[i] == '(':
		blankLiteral(b, i)
	case b[i] == '<' && (i+1 >= len(b) || b[i+1] != '<'):
		// Up to '>' or the first byte a hexadecimal string cannot hold.
		for j := i + 1; j < len(b) && b[j] != '>'; j++ {
			switch {
			case isHex(b[j]):
				b[j] = '0'
			case b[j] != ' ' && b[j] != '\n' && b[j] != '\r' && b[j] != '\t' && b[j] != '\f' && b[j] != 0:
				return
			}
		}
	case b[i] >= '0' && b[i] <= '9':
		// "12 0 R": blank the first string of object 12. Each lookup reads the file, so a
		// file naming an author by reference thousands of times gets the first few.
		if *lookups >= maxLookups {
			return
		}
		*lookups++
		var num, gen int
		var r byte
		if n, _ := fmt.Sscanf(string(b[i:min(len(b), i+32)]), "%d %d %c", &num, &gen, &r); n != 3 || r != 'R' {
			return
		}
		head := fmt.Appendf(nil, "%d %d obj", num, gen)
		for off := 0; ; {
			j := bytes.Index(b[off:], head)
			if j < 0 {
				return
			}
			start := off + j
			off = start + len(head)
			if start > 0 && !pdfDelimiter(b[start-1]) {
				continue // "112 0 obj" is not object 12
			}
			k := skipPDFSpace(b, off)
			if k < len(b) && (b[k] == '(' || b[k] == '<') {
				blankPDFValue(b, k, lookups)
			}
			return
		}
	}
}

// blankLiteral overwrites a literal string's content, from its opening parenthesis at
// b[i], with spaces, keeping its balanced parentheses' count right by blanking them too.
func blankLiteral(b []byte, i int) {
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '\\':
			b[j] = ' '
			if j+1 < len(b) {
				j++
				b[j] = ' '
			}
			continue
		case '(':
			depth++
			if depth == 1 {
				continue
			}
		case ')':
			depth--
			if depth == 0 {
				return
			}
		}
		b[j] = ' '
	}
}

func skipPDFSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case 0, '\t', '\n', '\f', '\r', ' ':
			i++
		default:
			return i
		}
	}
	return i
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// blankXMP blanks the text of every element prop in b, and of the elements inside it (a
// creator is a list of rdf:li), and the value of prop when it is written as an attribute.
func blankXMP(b []byte, prop string) {
	open, closing, attr := []byte("<"+prop), []byte("</"+prop+">"), []byte(prop+`="`)
	for off := 0; ; {
		i := bytes.Index(b[off:], open)
		if i < 0 {
			break
		}
		start := off + i + len(open)
		off = start
		if start < len(b) && b[start] != '>' && b[start] != ' ' && b[start] != '\n' && b[start] != '\t' && b[start] != '\r' && b[start] != '/' {
			continue // a longer name
		}
		end := bytes.Index(b[start:], closing)
		if end < 0 {
			break // none further on either
		}
		end += start
		inTag := true // start is inside the opening tag
		for j := start; j < end; j++ {
			switch {
			case b[j] == '<':
				inTag = true
			case b[j] == '>':
				inTag = false
			case !inTag && b[j] != '\n' && b[j] != '\r' && b[j] != '\t':
				b[j] = ' '
			}
		}
		off = end
	}
	for off := 0; ; {
		i := bytes.Index(b[off:], attr)
		if i < 0 {
			return
		}
		j := off + i + len(attr)
		for ; j < len(b) && b[j] != '"'; j++ {
			b[j] = ' '
		}
		off = j
	}
}

// stripImage copies a picture, without its metadata when it is a JPEG or a PNG.
func stripImage(w io.Writer, r *bufio.Reader) error {
	head, _ := r.Peek(8)
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8}):
		return stripJPEG(w, r)
	case bytes.HasPrefix(head, []byte(pngSignature)):
		return stripPNG(w, r)
	}
	_, err := io.Copy(w, r)
	return err
}

// stripJPEG drops a JPEG's EXIF and XMP (APP1: camera, GPS position, author), IPTC (APP13)
// and comments, segment by segment, leaving the pixels as they were: no decoding, hence no
// decompression bomb to fear in a picture that a document carries. It streams: from where
// it cannot walk the segments any more, the rest is copied as it is.
func stripJPEG(w io.Writer, r *bufio.Reader) error {
	if _, err := io.CopyN(w, r, 2); err != nil {
		return ignoreEOF(err)
	}
	for {
		h, err := r.Peek(4)
		if err != nil || h[0] != 0xFF {
			break
		}
		marker := h[1]
		if marker == 0xFF { // fill byte
			r.Discard(1)
			continue
		}
		n := int64(h[2])<<8 | int64(h[3])
		if n < 2 || marker == 0xDA { // start of scan: the entropy-coded data and the rest, as they are
			break
		}
		if marker == 0xE1 || marker == 0xED || marker == 0xFE {
			if _, err := r.Discard(int(2 + n)); err != nil {
				return ignoreEOF(err)
			}
			continue
		}
		if _, err := io.CopyN(w, r, 2+n); err != nil {
			return ignoreEOF(err)
		}
	}
	_, err := io.Copy(w, r)
	return err
}

const pngSignature = "\x89PNG\r\n\x1a\n"

// stripPNG drops a PNG's text chunks (which hold authors and comments), its EXIF chunk and
// its time stamp, chunk by chunk, streaming like stripJPEG.
func stripPNG(w io.Writer, r *bufio.Reader) error {
	if _, err := io.CopyN(w, r, int64(len(pngSignature))); err != nil {
		return ignoreEOF(err)
	}
	for {
		h, err := r.Peek(8)
		if err != nil {
			break
		}
		n := int64(binary.BigEndian.Uint32(h))
		if n > 1<<31-1 {
			break
		}
		switch string(h[4:8]) {
		case "tEXt", "zTXt", "iTXt", "eXIf", "tIME":
			if _, err := r.Discard(int(12 + n)); err != nil {
				return ignoreEOF(err)
			}
		default:
			if _, err := io.CopyN(w, r, 12+n); err != nil {
				return ignoreEOF(err)
			}
		}
	}
	_, err := io.Copy(w, r)
	return err
}

// ignoreEOF: a picture that ends early is copied as far as it goes.
func ignoreEOF(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return nil
	}
	return err
}

func pdfDelimiter(c byte) bool {
	switch c {
	case 0, '\t', '\n', '\f', '\r', ' ', '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}
