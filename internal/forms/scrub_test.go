package forms

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// The fixtures hold an OpenDocument file's XML parts; the test zips them.
const odfFixture = `
-- meta.xml --
<?xml version="1.0" encoding="UTF-8"?>
<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xlink="http://www.w3.org/1999/xlink" office:version="1.3"><office:meta>
<meta:initial-creator>Jeanne Martinaud</meta:initial-creator>
<dc:creator>Jeanne Martinaud</dc:creator>
<meta:printed-by>jmartinaud</meta:printed-by>
<dc:title>Pétition pour la piste cyclable</dc:title>
<meta:template xlink:type="simple" xlink:href="file:///home/jmartinaud/Modeles/lettre.ott" xlink:title="lettre"/>
<meta:user-defined meta:name="Téléphone">06 12 34 56 78</meta:user-defined>
<meta:creation-date>2026-10-02T18:30:00</meta:creation-date>
</office:meta></office:document-meta>
-- content.xml --
<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"><office:body><office:text>
<text:tracked-changes><text:changed-region text:id="ct1"><text:insertion><office:change-info><dc:creator>Paul Verdier</dc:creator><dc:date>2026-10-01T10:00:00</dc:date></office:change-info></text:insertion></text:changed-region></text:tracked-changes>
<text:p>Nous demandons une piste cyclable rue des Tilleuls.<office:annotation><dc:creator>Paul Verdier</dc:creator><meta:creator-initials>PV</meta:creator-initials><text:p>À relire</text:p></office:annotation></text:p>
</office:text></office:body></office:document-content>
-- settings.xml --
<?xml version="1.0" encoding="UTF-8"?>
<office:document-settings xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0"><office:settings><config:config-item-set config:name="ooo:configuration-settings">
<config:config-item config:name="PrinterName" config:type="string">Imprimante de Jeanne Martinaud</config:config-item>
<config:config-item config:name="PrinterSetup" config:type="base64Binary">SmVhbm5lIE1hcnRpbmF1ZA==</config:config-item>
<config:config-item config:name="PrintReversed" config:type="boolean">false</config:config-item>
</config:config-item-set></office:settings></office:document-settings>
-- META-INF/manifest.xml --
<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/></manifest:manifest>
`

// personal is what the fixtures say of people; none of it may be left.
var personal = []string{"Martinaud", "martinaud", "Verdier", "06 12 34 56 78", ">PV<", "SmVhbm5lIE1hcnRpbmF1ZA", "GPS-Belcombe"}

// exifJPEG is a small JPEG with an APP1 (EXIF) segment carrying a position.
func exifJPEG(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	img.Set(0, 0, color.White)
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	app1 := append([]byte("Exif\x00\x00"), []byte("GPS-Belcombe 45.1N 5.7E")...)
	seg := append([]byte{0xFF, 0xE1, byte((len(app1) + 2) >> 8), byte(len(app1) + 2)}, app1...)
	data := b.Bytes()
	return append(append(append([]byte{}, data[:2]...), seg...), data[2:]...)
}

// textPNG is a small PNG with an author in a text chunk.
func textPNG(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	body := []byte("tEXtAuthor\x00Jeanne Martinaud")
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(body)-4))
	chunk = append(chunk, body...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(body))
	ihdrEnd := 8 + 12 + 13 // signature, then IHDR's length, type, 13 bytes and CRC
	return append(append(append([]byte{}, data[:ihdrEnd]...), chunk...), data[ihdrEnd:]...)
}

func odfFromTxtar(t testing.TB, fixture string, extra map[string][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	w, _ := z.CreateHeader(&zip.FileHeader{Name: "mimetype", Method: zip.Store})
	w.Write([]byte(odt))
	for _, f := range txtar.Parse([]byte(fixture)).Files {
		w, _ := z.Create(f.Name)
		w.Write(f.Data)
	}
	for name, data := range extra {
		w, _ := z.Create(name)
		w.Write(data)
	}
	z.SetComment("Jeanne Martinaud")
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// entries unzips a file into name → content, in order.
func entries(t *testing.T, data []byte) ([]string, map[string][]byte) {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	out := map[string][]byte{}
	for _, e := range z.File {
		r, err := e.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		r.Close()
		names = append(names, e.Name)
		out[e.Name] = b
	}
	return names, out
}

func sameEntries(t *testing.T, a, b []byte) bool {
	na, ea := entries(t, a)
	nb, eb := entries(t, b)
	if strings.Join(na, ",") != strings.Join(nb, ",") {
		return false
	}
	for name := range ea {
		if !bytes.Equal(ea[name], eb[name]) {
			return false
		}
	}
	return true
}

func TestScrubODF(t *testing.T) {
	photo, drawing := exifJPEG(t), textPNG(t)
	in := odfFromTxtar(t, odfFixture, map[string][]byte{"Pictures/photo.jpg": photo, "Pictures/drawing.png": drawing})
	out, err := scrubODF(in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := checkDocument(out, odt); err != nil {
		t.Fatalf("the scrubbed file is no longer a valid OpenDocument file: %v", err)
	}
	z, _ := zip.NewReader(bytes.NewReader(out), int64(len(out)))
	if first := z.File[0]; first.Name != "mimetype" || first.Method != zip.Store {
		t.Errorf("first entry %q, method %d: want mimetype, stored", first.Name, first.Method)
	}
	if z.Comment != "" {
		t.Errorf("zip comment kept: %q", z.Comment)
	}
	names, got := entries(t, out)
	all := bytes.Join([][]byte{out}, nil)
	for _, name := range names {
		all = append(all, got[name]...)
	}
	for _, p := range personal {
		if bytes.Contains(all, []byte(p)) {
			t.Errorf("%q is still in the document", p)
		}
	}
	for name, keep := range map[string]string{
		"content.xml":  "Nous demandons une piste cyclable rue des Tilleuls.<office:annotation><dc:creator></dc:creator><meta:creator-initials></meta:creator-initials><text:p>À relire</text:p>",
		"meta.xml":     "<dc:title>Pétition pour la piste cyclable</dc:title>",
		"settings.xml": `<config:config-item config:name="PrintReversed" config:type="boolean">false</config:config-item>`,
	} {
		if !bytes.Contains(got[name], []byte(keep)) {
			t.Errorf("%s lost %q:\n%s", name, keep, got[name])
		}
	}
	// The pictures keep their pixels exactly: only metadata segments and chunks went.
	for name, was := range map[string][]byte{"Pictures/photo.jpg": photo, "Pictures/drawing.png": drawing} {
		before, _, err1 := image.Decode(bytes.NewReader(was))
		after, _, err2 := image.Decode(bytes.NewReader(got[name]))
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v, %v", name, err1, err2)
		}
		if !samePixels(before, after) {
			t.Errorf("%s: the pixels changed", name)
		}
	}
}

func TestScrubODFProtected(t *testing.T) {
	manifest := `<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="content.xml"><manifest:encryption-data manifest:checksum-type="SHA1/1K"/></manifest:file-entry></manifest:manifest>`
	fixture := "-- content.xml --\n<x/>\n-- META-INF/manifest.xml --\n" + manifest + "\n"
	if _, err := scrubODF(odfFromTxtar(t, fixture, nil)); !errors.Is(err, errProtected) {
		t.Errorf("an encrypted OpenDocument file: %v, want errProtected", err)
	}
}

func TestScrubPDF(t *testing.T) {
	xmp := `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
<dc:creator><rdf:Seq><rdf:li>Jeanne Martinaud</rdf:li></rdf:Seq></dc:creator>
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Pétition</rdf:li></rdf:Alt></dc:title>
<pdf:Producer>LibreOffice 7.6</pdf:Producer>
</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`
	objects := "3 0 obj\n<< /Title (P\\351tition \\(v2\\)) /Author (Jeanne \\(Jeannot\\) Martinaud) /Company <FEFF004D0061007200740069006E006100750064> /Authority (gardée) /Creator (Writer) >>\nendobj\n" +
		"4 0 obj\n<< /LastModifiedBy 5 0 R /Manager 15 0 R >>\nendobj\n" +
		"5 0 obj\n(Paul Verdier)\nendobj\n" +
		"15 0 obj\n(Martinaud)\nendobj\n" +
		"6 0 obj\n<< /Type /Metadata /Subtype /XML /Length " + strconv.Itoa(len(xmp)) + " >>\nstream\n" + xmp + "\nendstream\nendobj"
	in := pdfFile(objects)
	out, err := scrubPDF(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("length %d, was %d: offsets moved", len(out), len(in))
	}
	for _, p := range []string{"Martinaud", "Jeannot", "Verdier", "004D0061"} {
		if bytes.Contains(out, []byte(p)) {
			t.Errorf("%q is still in the PDF", p)
		}
	}
	for _, keep := range []string{"/Title (P\\351tition \\(v2\\))", "/Authority (gardée)", "/Creator (Writer)", "<pdf:Producer>LibreOffice 7.6</pdf:Producer>", `<rdf:li xml:lang="x-default">Pétition</rdf:li>`, "<dc:creator><rdf:Seq><rdf:li>", "endstream"} {
		if !bytes.Contains(out, []byte(keep)) {
			t.Errorf("lost %q", keep)
		}
	}
	if _, err := checkDocument(out, "application/pdf"); err != nil {
		t.Errorf("the scrubbed PDF fails the checks: %v", err)
	}
	if _, err := scrubPDF(pdfFile("7 0 obj\n<< /Filter /Standard /V 2 >>\nendobj\ntrailer << /Encrypt 7 0 R >>")); !errors.Is(err, errProtected) {
		t.Errorf("an encrypted PDF: %v, want errProtected", err)
	}
}

// TestScrubDemoDocuments: the demo town's documents go through unharmed.
func TestScrubDemoDocuments(t *testing.T) {
	files, _ := filepath.Glob("../../content/documents/*/*.*")
	n := 0
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		switch filepath.Ext(path) {
		case ".pdf":
			_, cerr := checkDocument(data, "application/pdf")
			out, err := scrubPDF(bytes.Clone(data))
			if err != nil || cerr != nil || len(out) != len(data) {
				t.Errorf("%s: %v, %d bytes of %d", path, err, len(out), len(data))
			}
		case ".odt":
			out, err := scrubODF(data)
			_, cerr := checkDocument(data, odt)
			_, oerr := checkDocument(out, odt)
			if err != nil || cerr != nil || oerr != nil {
				t.Errorf("%s: %v, %v, %v", path, err, cerr, oerr)
			}
			_, before := entries(t, data)
			_, after := entries(t, out)
			if !bytes.Equal(before["content.xml"], after["content.xml"]) {
				t.Errorf("%s: the text changed", path)
			}
		default:
			continue
		}
		n++
	}
	if n < 3 {
		t.Fatalf("%d demo documents found", n)
	}
}

// TestDocumentScrubbedOnUpload: the form hands on the scrubbed file, and refuses a
// protected one with a message saying what to do.
func TestDocumentScrubbedOnUpload(t *testing.T) {
	doc := compile(t, "document", documentPolicy)
	values := url.Values{"fields[title]": {"Pétition"}, "fields[description]": {"La pétition pour la piste cyclable."}}
	s, errs := doc.Decode(values, multipartFiles(t, upload{"fields[file]", "petition.odt", odfFromTxtar(t, odfFixture, nil)}))
	if errs != nil {
		t.Fatal(errs)
	}
	if bytes.Contains(s.Uploads[0].Data, []byte("Martinaud")) {
		t.Error("the upload kept its author")
	}
	_, errs = doc.Decode(values, multipartFiles(t, upload{"fields[file]", "p.pdf", pdfFile("trailer << /Encrypt 7 0 R >>")}))
	if p, ok := errs["fields[file]"]; !ok || p.Code != CodeProtected || !strings.Contains(errs.Message("fields[file]", "fr"), "protégé par un mot de passe") {
		t.Errorf("a protected PDF: %v", errs)
	}
}

// FuzzScrubPDF: any input is blanked in place or refused, never grown, shrunk or crashed on.
func FuzzScrubPDF(f *testing.F) {
	for _, s := range []string{
		"/Author (a(b)c\\) d)", "/Author <FEFF0041", "/Author 5 0 R\n5 0 obj (x", "/Manager 99999999999999999999 0 R",
		"<dc:creator><rdf:li>x</rdf:li>", "<dc:creator>x</dc:creator>", "dc:creator=\"x", "/Encrypt", "/Author (\\",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := scrubPDF(data)
		if err != nil {
			if !errors.Is(err, errProtected) {
				t.Fatal(err)
			}
			return
		}
		if len(out) != len(data) {
			t.Fatalf("length %d, was %d", len(out), len(data))
		}
	})
}

// FuzzScrubODF: any zip is rewritten or refused with an error, never crashed on.
func FuzzScrubODF(f *testing.F) {
	f.Add(odfFromTxtar(f, odfFixture, nil))
	f.Add(odfFile(f, odt, zip.Store, "Pictures/1.jpg"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := scrubODF(data)
		if err == nil {
			if _, err := zip.NewReader(bytes.NewReader(out), int64(len(out))); err != nil {
				t.Fatalf("the output is not a zip: %v", err)
			}
		}
	})
}

// BenchmarkScrubPDFHostile: files made to send the scrubber back over the whole file for
// each key take time in proportion to their size.
func BenchmarkScrubPDFHostile(b *testing.B) {
	for name, unit := range map[string]string{
		"references":   "/Author 999 0 R\n",
		"hex":          "/Author <4142 /Company <41",
		"open xmp":     "<dc:creator>x",
		"open literal": "/Manager (x",
	} {
		data := pdfFile(strings.Repeat(unit, (1<<20)/len(unit)))
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := scrubPDF(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			r1, g1, b1, a1 := a.At(x, y).RGBA()
			r2, g2, b2, a2 := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				return false
			}
		}
	}
	return true
}

// FuzzStripImages: any bytes come back whole or stripped, never crashed on.
func FuzzStripImages(f *testing.F) {
	f.Add(exifJPEG(f))
	f.Add(textPNG(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		for name, strip := range map[string]func(io.Writer, *bufio.Reader) error{"JPEG": stripJPEG, "PNG": stripPNG, "any": stripImage} {
			var out bytes.Buffer
			if err := strip(&out, bufio.NewReader(bytes.NewReader(data))); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if out.Len() > len(data) {
				t.Fatalf("%s grew from %d to %d bytes", name, len(data), out.Len())
			}
		}
	})
}

// TestScrubXMLStreaming: the XML scrubber reads tag by tag through a small buffer; read
// through the smallest one it writes what it writes through a large one, and what the
// fixture's parts must become.
func TestScrubXMLStreaming(t *testing.T) {
	for _, f := range txtar.Parse([]byte(odfFixture)).Files {
		scrub := func(size int) string {
			var out bytes.Buffer
			if err := scrubXML(&out, bufio.NewReaderSize(bytes.NewReader(f.Data), size), f.Name == "settings.xml"); err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
			return out.String()
		}
		small, large := scrub(64), scrub(64<<10)
		if small != large {
			t.Errorf("%s through 64 bytes:\n%s\nthrough 64 KiB:\n%s", f.Name, small, large)
		}
		for _, p := range personal {
			if strings.Contains(large, p) {
				t.Errorf("%s: %q left", f.Name, p)
			}
		}
		if len(large) < len(f.Data)/2 {
			t.Errorf("%s lost its content:\n%s", f.Name, large)
		}
	}
	huge := "<dc:creator>" + strings.Repeat("x", maxScrubbedText+1) + "</dc:creator>"
	if err := scrubXML(io.Discard, bufio.NewReader(strings.NewReader(huge)), false); err == nil {
		t.Error("a personal element of more than 1 MiB was held")
	}
}

// FuzzScrubXML: the XML scrubber's output does not depend on how its input is buffered,
// and it never grows the text.
func FuzzScrubXML(f *testing.F) {
	for _, file := range txtar.Parse([]byte(odfFixture)).Files {
		f.Add(file.Data, file.Name == "settings.xml")
	}
	f.Add([]byte("<dc:creator>a<dc:creator>b</dc:creator><meta:template x/><meta:template>"), false)
	f.Fuzz(func(t *testing.T, data []byte, settings bool) {
		var small, large bytes.Buffer
		err1 := scrubXML(&small, bufio.NewReaderSize(bytes.NewReader(data), 64), settings)
		err2 := scrubXML(&large, bufio.NewReaderSize(bytes.NewReader(data), 64<<10), settings)
		if (err1 == nil) != (err2 == nil) || err1 == nil && !bytes.Equal(small.Bytes(), large.Bytes()) {
			t.Fatalf("64 bytes: %v %q\n64 KiB: %v %q", err1, small.Bytes(), err2, large.Bytes())
		}
		if large.Len() > len(data) {
			t.Fatalf("grew from %d to %d bytes", len(data), large.Len())
		}
	})
}
