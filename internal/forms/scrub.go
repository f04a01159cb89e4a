package forms

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// A published document must not name the citizen who sent it, nor the people who wrote or
// annotated it, in places no reader of the page sees: office suites put the author's
// name, their initials, the printer and a path to their home folder in a document's
// metadata. Scrubbing removes those and keeps the content.

var errProtected = errors.New("password-protected")

// odfPersonal matches the elements of an OpenDocument's XML parts that hold a person's
// name or their machine's: authors (of the document, of tracked changes, of comments),
// initials, who printed it, and custom properties, whose values could be anything.
// Their text is emptied; the elements stay, so the XML stays valid for any schema.
var odfPersonal = func() *regexp.Regexp {
	names := strings.Join([]string{"dc:creator", "meta:initial-creator", "meta:printed-by", "meta:creator-initials", "meta:user-defined"}, "|")
	return regexp.MustCompile(`(<(?:` + names + `)\b[^>]*>)[^<]*(</(?:` + names + `)>)`)
}()

// odfMachine matches what names the sender's machine: the template's path (often in a
// home folder), and in settings.xml the printer and its driver's setup.
var (
	odfTemplate = regexp.MustCompile(`<meta:template\b[^>]*/>`)
	odfPrinter  = regexp.MustCompile(`(<config:config-item config:name="(?:PrinterName|PrinterSetup)"[^>]*>)[^<]*(</config:config-item>)`)
)

// maxODFInflated bounds what an OpenDocument file may unpack to while being scrubbed.
const maxODFInflated = 128 << 20

// scrubODF rewrites an OpenDocument file without the personal metadata of its XML parts,
// without the metadata of its JPEG and PNG pictures, and without what the zip format itself
// may carry (comments, owner IDs in extra fields).
// A password-protected file cannot be read, hence not scrubbed: errProtected.
func scrubODF(data []byte) ([]byte, error) {
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	w := zip.NewWriter(&out)
	budget := int64(maxODFInflated)
	for _, e := range z.File {
		if e.Flags&0x1 != 0 {
			return nil, errProtected // zip-level encryption
		}
		b, err := readEntry(e, &budget)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name, err)
		}
		switch {
		case e.Name == "META-INF/manifest.xml" && bytes.Contains(b, []byte("encryption-data")):
			return nil, errProtected // ODF encryption, declared in the manifest
		case strings.HasSuffix(e.Name, ".xml"):
			b = odfPersonal.ReplaceAll(b, []byte("$1$2"))
			b = odfTemplate.ReplaceAll(b, nil)
			if e.Name == "settings.xml" {
				b = odfPrinter.ReplaceAll(b, []byte("$1$2"))
			}
		case strings.HasPrefix(e.Name, "Pictures/"):
			switch sniff(b) {
			case "image/jpeg":
				b = stripJPEG(b)
			case "image/png":
				b = stripPNG(b)
			}
		}
		// A fresh header: the name, the method and a fixed time, nothing else of the
		// original's (its extra fields may hold the owner's user ID).
		h := &zip.FileHeader{Name: e.Name, Method: zip.Deflate, Modified: odfTime}
		if e.Name == "mimetype" || e.Method == zip.Store {
			h.Method = zip.Store // the standard wants mimetype first and stored
		}
		fw, err := w.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		if _, err := fw.Write(b); err != nil {
			return nil, err
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

func readEntry(e *zip.File, budget *int64) ([]byte, error) {
	r, err := e.Open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, *budget+1))
	if err != nil {
		return nil, err
	}
	if *budget -= int64(len(b)); *budget < 0 {
		return nil, errors.New("unpacks to too much")
	}
	return b, nil
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

// scrubPDF returns a copy of a PDF with the people named in its metadata blanked. An
// encrypted PDF's strings cannot be read, hence not blanked: errProtected.
func scrubPDF(data []byte) ([]byte, error) {
	if encrypted(data) {
		return nil, errProtected
	}
	b := bytes.Clone(data)
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

// stripJPEG drops a JPEG's EXIF and XMP (APP1: camera, GPS position, author), IPTC (APP13)
// and comments, segment by segment, leaving the pixels as they were: no decoding, hence no
// decompression bomb to fear in a picture that a document carries. A JPEG it cannot walk
// comes back as it was.
func stripJPEG(b []byte) []byte {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return b
	}
	out := append(make([]byte, 0, len(b)), 0xFF, 0xD8)
	for i := 2; ; {
		if i+4 > len(b) || b[i] != 0xFF {
			return b
		}
		marker := b[i+1]
		if marker == 0xFF { // fill byte
			i++
			continue
		}
		n := int(b[i+2])<<8 | int(b[i+3])
		if n < 2 || i+2+n > len(b) {
			return b
		}
		if marker == 0xDA { // start of scan: the entropy-coded data and the rest, as they are
			return append(out, b[i:]...)
		}
		if marker != 0xE1 && marker != 0xED && marker != 0xFE {
			out = append(out, b[i:i+2+n]...)
		}
		i += 2 + n
	}
}

// stripPNG drops a PNG's text chunks (which hold authors and comments), its EXIF chunk and
// its time stamp. A PNG it cannot walk comes back as it was.
func stripPNG(b []byte) []byte {
	const sig = "\x89PNG\r\n\x1a\n"
	if !bytes.HasPrefix(b, []byte(sig)) {
		return b
	}
	out := append(make([]byte, 0, len(b)), sig...)
	for i := len(sig); i < len(b); {
		if i+12 > len(b) {
			return b
		}
		n := int(b[i])<<24 | int(b[i+1])<<16 | int(b[i+2])<<8 | int(b[i+3])
		if n < 0 || n > len(b)-i-12 {
			return b
		}
		switch string(b[i+4 : i+8]) {
		case "tEXt", "zTXt", "iTXt", "eXIf", "tIME":
		default:
			out = append(out, b[i:i+12+n]...)
		}
		i += 12 + n
	}
	return out
}
