package forms

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"net/url"
	"testing"
)

// pngChunk appends a PNG chunk, its length and CRC right.
func pngChunk(b []byte, typ string, data []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	start := len(b)
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
}

// TestPolyglots sends files that are two things at once (part of the upload corpus of the
// hostile-input review): an image that is also an archive or a page, a page that starts as
// a picture, a PDF that is also a page. A picture is re-encoded, so that what rode along is
// gone; anything else must be the type the form takes, by its content, or be refused.
func TestPolyglots(t *testing.T) {
	photo := compile(t, "photo", photoPolicy)
	doc := compile(t, "document", documentPolicy)
	text := url.Values{"fields[title]": {"Brume sur la Vaudèze"}, "fields[caption]": {"Au petit matin."}}
	docText := url.Values{"fields[title]": {"Compte rendu"}, "fields[description]": {"Le compte rendu."}}
	img := picture(16, 16)
	script := []byte("<html><body><script>alert(document.domain)</script></body></html>")

	// A picture and a zip (GIFAR, JPEG+ZIP): readers of either find theirs.
	jpegZip := append(jpegFile(t, img), zipOf(t, "evil.class")...)
	// A PNG whose text chunk holds a page, and one with a page after its end.
	p := pngFile(t, img)
	iend := bytes.LastIndex(p, []byte("IEND")) - 4
	pngText := append(pngChunk(append([]byte(nil), p[:iend]...), "tEXt", append([]byte("Comment\x00"), script...)), p[iend:]...)
	pngTail := append(append([]byte(nil), p...), script...)
	// A JPEG whose comment segment holds a page.
	j := jpegFile(t, img)
	com := append([]byte{0xff, 0xfe, 0, byte(len(script) + 2)}, script...)
	jpegCom := append(append(append([]byte(nil), j[:2]...), com...), j[2:]...)

	for _, tt := range []struct {
		name string
		data []byte
	}{{"jpeg+zip", jpegZip}, {"png with a page in tEXt", pngText}, {"png with a page after IEND", pngTail}, {"jpeg with a page in COM", jpegCom}} {
		s, errs := photo.Decode(text, multipartFiles(t, upload{"fields[image]", "photo.jpg", tt.data}))
		if errs != nil {
			t.Errorf("%s: %v", tt.name, errs)
			continue
		}
		out := s.Uploads[0].Data
		for _, rider := range [][]byte{[]byte("<script"), []byte("PK\x03\x04"), []byte("evil.class")} {
			if bytes.Contains(out, rider) {
				t.Errorf("%s: the stored picture still holds %q", tt.name, rider)
			}
		}
	}

	for _, tt := range []struct {
		name   string
		form   *Form
		values url.Values
		key    string
		data   []byte
		code   Code
	}{
		{"page starting as a GIF", photo, text, "fields[image]", append([]byte("GIF89a<html>"), script...), CodeType},
		{"page with a JPEG's first bytes", photo, text, "fields[image]", append([]byte{0xff, 0xd8, 0xff, 0xe0}, script...), CodeFormat},
		{"svg named png", photo, text, "fields[image]", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), CodeType},
		{"page with a PDF header further on", doc, docText, "fields[file]", append(append([]byte(nil), script...), pdfFile("")...), CodeType},
		{"zip calling itself an odt", doc, docText, "fields[file]", zipOf(t, "mimetype", "index.html"), CodeType},
	} {
		_, errs := tt.form.Decode(tt.values, multipartFiles(t, upload{tt.key, "x", tt.data}))
		if errs[tt.key].Code != tt.code {
			t.Errorf("%s: %v, want %s", tt.name, errs, tt.code)
		}
	}

	// A PDF that is also a page: it is a PDF by its content, with no active content, so it
	// is kept; it goes out as a PDF download (generator's _headers), never as a page.
	pdfPage := pdfFile("2 0 obj\n(" + string(script) + ")\nendobj")
	s, errs := doc.Decode(docText, multipartFiles(t, upload{"fields[file]", "cr.html", pdfPage}))
	if errs != nil || s.Uploads[0].MediaType != "application/pdf" || s.Uploads[0].Ext != ".pdf" {
		t.Errorf("pdf+html: %v %+v", errs, s)
	}
}
