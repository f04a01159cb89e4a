package doccorpus

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
)

// Writer writes a PDF object by object and ends it with a cross-reference table or
// stream that gives every object's place, as office suites write them.
type Writer struct {
	b       bytes.Buffer
	offsets map[int]int    // object number → offset of "N 0 obj"
	packed  map[int][2]int // object number → object stream, index in it
}

// Member is an object to put in an object stream.
type Member struct {
	Num  int
	Body string
}

// NewPDF starts a PDF 1.7 file, with the binary comment writers put on its second line.
func NewPDF() *Writer {
	w := &Writer{offsets: map[int]int{}, packed: map[int][2]int{}}
	w.b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	return w
}

// Obj writes object num with the given body (a dictionary, an array, any value).
func (w *Writer) Obj(num int, body string) *Writer {
	w.offsets[num] = w.b.Len()
	fmt.Fprintf(&w.b, "%d 0 obj\n%s\nendobj\n", num, body)
	return w
}

// Raw writes s as it is: a broken object, garbage, a second header.
func (w *Writer) Raw(s string) *Writer {
	w.b.WriteString(s)
	return w
}

// Stream writes object num as a stream: dict's entries (without the brackets), the
// /Filter, /DecodeParms and /Length entries, and data encoded by filters (see Encode).
func (w *Writer) Stream(num int, dict string, data []byte, filters ...string) *Writer {
	enc := Encode(data, filters...)
	w.offsets[num] = w.b.Len()
	fmt.Fprintf(&w.b, "%d 0 obj\n<< %s %s /Length %d >>\nstream\n", num, dict, FilterEntries(filters...), len(enc))
	w.b.Write(enc)
	w.b.WriteString("\nendstream\nendobj\n")
	return w
}

// RawStream writes object num as a stream whose data is written as it is, whatever its
// dictionary (with its own /Filter) says.
func (w *Writer) RawStream(num int, dict string, data []byte) *Writer {
	w.offsets[num] = w.b.Len()
	fmt.Fprintf(&w.b, "%d 0 obj\n<< %s /Length %d >>\nstream\n", num, dict, len(data))
	w.b.Write(data)
	w.b.WriteString("\nendstream\nendobj\n")
	return w
}

// ObjStm writes object num as an object stream holding members, encoded by filters.
// dict adds entries ("/Type /ObjStm" is written unless dict starts with "-", for a
// container that only a cross-reference stream names).
func (w *Writer) ObjStm(num int, dict string, members []Member, filters ...string) *Writer {
	var head, body bytes.Buffer
	for i, m := range members {
		fmt.Fprintf(&head, "%d %d ", m.Num, body.Len())
		body.WriteString(m.Body)
		body.WriteString("\n")
		w.packed[m.Num] = [2]int{num, i}
	}
	head.WriteString("\n")
	typ := "/Type /ObjStm "
	if strings.HasPrefix(dict, "-") {
		typ, dict = "", dict[1:]
	}
	data := append(head.Bytes(), body.Bytes()...)
	return w.Stream(num, fmt.Sprintf("%s/N %d /First %d %s", typ, len(members), head.Len(), dict), data, filters...)
}

// Len is the size written so far.
func (w *Writer) Len() int { return w.b.Len() }

func (w *Writer) size() int {
	n := 0
	for k := range w.offsets {
		n = max(n, k+1)
	}
	for k := range w.packed {
		n = max(n, k+1)
	}
	return n
}

// Xref ends the file with a cross-reference table and a trailer holding trailer's entries
// (/Root and the like; /Size is added).
func (w *Writer) Xref(trailer string) []byte {
	n := w.size()
	at := w.b.Len()
	fmt.Fprintf(&w.b, "xref\n0 %d\n0000000000 65535 f \n", n)
	for i := 1; i < n; i++ {
		if off, ok := w.offsets[i]; ok {
			fmt.Fprintf(&w.b, "%010d 00000 n \n", off)
		} else {
			w.b.WriteString("0000000000 65535 f \n")
		}
	}
	fmt.Fprintf(&w.b, "trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n", n, trailer, at)
	return w.b.Bytes()
}

// XrefStream ends the file with a cross-reference stream, object num, with type 2 entries
// for the objects in object streams, encoded by filters ("FlateDecode:png=7" as Word and
// LibreOffice write it).
func (w *Writer) XrefStream(num int, trailer string, filters ...string) []byte {
	w.offsets[num] = w.b.Len()
	n := w.size()
	var rows []byte
	for i := range n {
		row := make([]byte, 7)
		switch {
		case i == 0:
			row[0], row[5], row[6] = 0, 0xff, 0xff
		case w.offsets[i] > 0:
			row[0] = 1
			binary.BigEndian.PutUint32(row[1:5], uint32(w.offsets[i]))
		default:
			if p, ok := w.packed[i]; ok {
				row[0] = 2
				binary.BigEndian.PutUint32(row[1:5], uint32(p[0]))
				binary.BigEndian.PutUint16(row[5:7], uint16(p[1]))
			}
		}
		rows = append(rows, row...)
	}
	at := w.offsets[num]
	w.Stream(num, fmt.Sprintf("/Type /XRef /Size %d /W [1 4 2] %s", n, trailer), rows, filters...)
	fmt.Fprintf(&w.b, "startxref\n%d\n%%%%EOF\n", at)
	return w.b.Bytes()
}

// Page is a one-page document's usual objects, numbered from first: the catalog (with
// catalogExtra), the page tree, the page (with pageExtra) and its content, Flate-encoded.
// It returns the members to write in an object stream and the content stream's number.
func Page(first int, catalogExtra, pageExtra string) []Member {
	return []Member{
		{first, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R %s >>", first+1, catalogExtra)},
		{first + 1, fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R] /Count 1 >>", first+2)},
		{first + 2, fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> /Contents %d 0 R %s >>", first+1, first+3, pageExtra)},
	}
}

// Text is a page's content: a few lines of text.
func Text(lines ...string) []byte {
	var b bytes.Buffer
	b.WriteString("BT /F1 12 Tf 72 770 Td 14 TL\n")
	for _, l := range lines {
		fmt.Fprintf(&b, "(%s) '\n", strings.NewReplacer("(", "\\(", ")", "\\)", "\\", "\\\\").Replace(l))
	}
	b.WriteString("ET\n")
	return b.Bytes()
}

// Simple is a one-page PDF with every object written plainly (no object stream) and a
// cross-reference table: catalogExtra goes into the catalog (1 0), pageExtra into the page
// (3 0); more objects follow from 5 0.
func Simple(catalogExtra, pageExtra string, more ...string) []byte {
	w := NewPDF()
	for _, m := range Page(1, catalogExtra, pageExtra) {
		w.Obj(m.Num, m.Body)
	}
	w.Stream(4, "", Text("Compte rendu du conseil municipal"), "FlateDecode")
	for i, body := range more {
		w.Obj(5+i, body)
	}
	return w.Xref("/Root 1 0 R")
}

// Packed is the same one-page PDF written as LibreOffice and Word write one: the
// dictionaries in an object stream (10 0) encoded by filters, a Flate content stream, and
// a cross-reference stream with a PNG predictor. Objects in more are packed too, from 5 0.
func Packed(catalogExtra, pageExtra string, filters []string, more ...string) []byte {
	w := NewPDF()
	w.Stream(4, "", Text("Compte rendu du conseil municipal"), "FlateDecode")
	members := Page(1, catalogExtra, pageExtra)
	for i, body := range more {
		members = append(members, Member{5 + i, body})
	}
	w.ObjStm(10, "", members, filters...)
	return w.XrefStream(11, "/Root 1 0 R", "FlateDecode:png=7")
}
