package forms

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

const photoPolicy = `
fields:
  image: {type: image, label: Photo, required: true, accept: [image/jpeg, image/png], max: 2000000, pixels: 64}
  title: {type: text, label: Titre, required: true}
  caption: {type: textarea, label: Légende, required: true}
  story: {type: markdown, label: Histoire}
generated: {slug: slug, date: date}
path: "photos/{slug}"
filename: index.md
format: markdown
body: story
`

const documentPolicy = `
fields:
  file: {type: file, label: Fichier, required: true, accept: [application/pdf, application/vnd.oasis.opendocument.text], max: 100000}
  title: {type: text, label: Titre, required: true}
  description: {type: markdown, label: Présentation, required: true}
generated: {slug: slug, date: date}
path: "documents/{slug}"
filename: index.md
format: markdown
body: description
`

// picture draws a w×h image whose left half is red and right half blue.
func picture(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{200, 0, 0, 255}
			if x >= w/2 {
				c = color.RGBA{0, 0, 200, 255}
			}
			img.Set(x, y, c)
		}
	}
	return img
}

func jpegFile(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func pngFile(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withExif puts an EXIF block after a JPEG's start: an orientation, a camera's owner and
// a GPS position, which must not survive.
func withExif(jpg []byte, orientation uint16) []byte {
	var t bytes.Buffer
	t.WriteString("II")
	binary.Write(&t, binary.LittleEndian, uint16(42))
	binary.Write(&t, binary.LittleEndian, uint32(8))
	binary.Write(&t, binary.LittleEndian, uint16(1))                                 // one entry
	binary.Write(&t, binary.LittleEndian, []uint16{0x0112, 3, 1, 0, orientation, 0}) // tag, SHORT, count 1, value
	binary.Write(&t, binary.LittleEndian, uint32(0))
	t.WriteString("Owner claire.martin@example.fr GPSLatitude 45.1234 N GPSLongitude 5.7245 E")
	seg := append([]byte("Exif\x00\x00"), t.Bytes()...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, 0xff, 0xe1, byte((len(seg)+2)>>8), byte(len(seg)+2))
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// pngHeader is a PNG whose header claims w×h pixels, with no pixels behind it: a
// decompression bomb as far as a decoder that trusts the header is concerned.
func pngHeader(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
		td := append([]byte(typ), data...)
		b = append(b, td...)
		b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(td))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0)
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b
}

func pdfFile(objects string) []byte {
	return []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" + objects +
		"\ntrailer\n<< /Root 1 0 R >>\nstartxref\n0\n%%EOF\n")
}

func flateStream(s string) string {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return "3 0 obj\n<< /Type /ObjStm /Filter /FlateDecode /Length " + strconv.Itoa(b.Len()) + " >>\nstream\n" + b.String() + "\nendstream\nendobj"
}

// contentStream is a page's content, Flate-encoded, as object 3.
func contentStream(s string) string {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return "3 0 obj\n<< /Filter /FlateDecode /Length " + strconv.Itoa(b.Len()) + " >>\nstream\n" + b.String() + "\nendstream\nendobj"
}

// odfFile builds an OpenDocument zip: the mimetype entry first and stored, as the standard
// asks, unless the case says otherwise.
func odfFile(t testing.TB, mimetype string, method uint16, extra ...string) []byte {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	w, err := z.CreateHeader(&zip.FileHeader{Name: "mimetype", Method: method})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(mimetype))
	for _, name := range append([]string{"content.xml", "META-INF/manifest.xml"}, extra...) {
		if strings.HasPrefix(name, "-") {
			continue
		}
		w, _ := z.Create(name)
		w.Write([]byte("<?xml version=\"1.0\"?><x/>"))
	}
	z.Close()
	return b.Bytes()
}

func odfWithout(t testing.TB, missing string) []byte {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	w, _ := z.CreateHeader(&zip.FileHeader{Name: "mimetype", Method: zip.Store})
	w.Write([]byte(odt))
	for _, name := range []string{"content.xml", "META-INF/manifest.xml"} {
		if name != missing {
			w, _ := z.Create(name)
			w.Write([]byte("<x/>"))
		}
	}
	z.Close()
	return b.Bytes()
}

func TestUploadRefused(t *testing.T) {
	photo := compile(t, "photo", photoPolicy)
	doc := compile(t, "document", documentPolicy)
	text := url.Values{"fields[title]": {"Brume sur la Vaudèze"}, "fields[caption]": {"Au petit matin."}}
	docText := url.Values{"fields[title]": {"Compte rendu"}, "fields[description]": {"Le compte rendu."}}
	noTitle := url.Values{"fields[caption]": {"Au petit matin."}}
	small := jpegFile(t, picture(8, 8))
	truncated := append([]byte{}, small[:len(small)/2]...)
	var gifBuf bytes.Buffer
	gif.Encode(&gifBuf, picture(4, 4), nil)
	tests := []struct {
		name   string
		form   *Form
		values url.Values
		files  []upload
		key    string
		code   Code
		status int
	}{
		{"missing", photo, text, nil, "fields[image]", CodeRequired, 422},
		{"empty file", photo, text, []upload{{"fields[image]", "x.jpg", nil}}, "fields[image]", CodeRequired, 422},
		{"text for a file", photo, url.Values{"fields[image]": {"photo.jpg"}}, nil, "fields[image]", CodeType, 415},
		{"png named jpeg, not accepted as gif", photo, text, []upload{{"fields[image]", "x.png", gifBuf.Bytes()}}, "fields[image]", CodeType, 415},
		{"html named jpeg", photo, text, []upload{{"fields[image]", "x.jpg", []byte("<html><script>alert(1)</script>")}}, "fields[image]", CodeType, 415},
		{"pdf as image", photo, text, []upload{{"fields[image]", "x.jpg", pdfFile("")}}, "fields[image]", CodeType, 415},
		{"too large", photo, text, []upload{{"fields[image]", "x.jpg", append(jpegFile(t, picture(8, 8)), make([]byte, 2000000)...)}}, "fields[image]", CodeTooLarge, 413},
		{"bomb png", photo, text, []upload{{"fields[image]", "x.png", pngHeader(20000, 20000)}}, "fields[image]", CodeDimensions, 422},
		{"truncated jpeg", photo, text, []upload{{"fields[image]", "x.jpg", truncated}}, "fields[image]", CodeFormat, 422},
		{"two files", photo, text, []upload{{"fields[image]", "a.jpg", small}, {"fields[image]", "b.jpg", small}}, "fields[image]", CodeRepeated, 400},
		{"file for a text field", photo, noTitle, []upload{{"fields[title]", "a.jpg", small}}, "fields[title]", CodeUnknownField, 400},
		{"file for an unknown key", photo, text, []upload{{"image", "a.jpg", small}}, "image", CodeUnknownField, 400},
		{"too small", compile(t, "document", strings.Replace(documentPolicy, "max: 100000}", "min: 1000, max: 100000}", 1)), docText, []upload{{"fields[file]", "a.pdf", pdfFile("")}}, "fields[file]", CodeTooSmall, 422},
		{"pdf without end", doc, docText, []upload{{"fields[file]", "a.pdf", []byte("%PDF-1.4\n1 0 obj\n<<>>\nendobj\n")}}, "fields[file]", CodeFormat, 422},
		{"pdf header only", doc, docText, []upload{{"fields[file]", "a.pdf", []byte("%PDF-")}}, "fields[file]", CodeFormat, 422},
		{"pdf javascript", doc, docText, []upload{{"fields[file]", "a.pdf", pdfFile("2 0 obj\n<< /S /JavaScript /JS (app.alert(1)) >>\nendobj")}}, "fields[file]", CodeUnsafe, 422},
		{"pdf escaped name", doc, docText, []upload{{"fields[file]", "a.pdf", pdfFile("2 0 obj\n<< /S /Java#53cript >>\nendobj")}}, "fields[file]", CodeUnsafe, 422},
		{"pdf launch", doc, docText, []upload{{"fields[file]", "a.pdf", pdfFile("2 0 obj\n<< /S /Launch /F (cmd.exe) >>\nendobj")}}, "fields[file]", CodeUnsafe, 422},
		{"pdf compressed javascript", doc, docText, []upload{{"fields[file]", "a.pdf", pdfFile(flateStream("<< /JS (app.alert(1)) >>"))}}, "fields[file]", CodeUnsafe, 422},
		{"odt with macros", doc, docText, []upload{{"fields[file]", "a.odt", odfFile(t, odt, zip.Store, "Basic/Standard/Module1.xml")}}, "fields[file]", CodeUnsafe, 422},
		{"odt mimetype deflated", doc, docText, []upload{{"fields[file]", "a.odt", odfFile(t, odt, zip.Deflate)}}, "fields[file]", CodeType, 415},
		{"ods where odt is asked", doc, docText, []upload{{"fields[file]", "a.odt", odfFile(t, ods, zip.Store)}}, "fields[file]", CodeType, 415},
		{"odt without content", doc, docText, []upload{{"fields[file]", "a.odt", odfWithout(t, "content.xml")}}, "fields[file]", CodeFormat, 422},
		{"odt without manifest", doc, docText, []upload{{"fields[file]", "a.odt", odfWithout(t, "META-INF/manifest.xml")}}, "fields[file]", CodeFormat, 422},
		{"plain zip", doc, docText, []upload{{"fields[file]", "a.odt", zipOf(t, "readme.txt")}}, "fields[file]", CodeType, 415},
		{"executable", doc, docText, []upload{{"fields[file]", "a.pdf", append([]byte("MZ\x90\x00"), make([]byte, 200)...)}}, "fields[file]", CodeType, 415},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values := url.Values{}
			for k, v := range tt.values {
				values[k] = v
			}
			s, errs := tt.form.Decode(values, multipartFiles(t, tt.files...))
			if s != nil || errs[tt.key].Code != tt.code {
				t.Fatalf("Decode: %v, want %s %s", errs, tt.key, tt.code)
			}
			if got := errs.Status(); got != tt.status {
				t.Errorf("status %d, want %d", got, tt.status)
			}
			if msg := errs.Message(tt.key, "fr"); !strings.Contains(msg, "«") {
				t.Errorf("message %q does not name the field", msg)
			}
		})
	}
}

func zipOf(t testing.TB, names ...string) []byte {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for _, n := range names {
		w, _ := z.Create(n)
		w.Write([]byte("x"))
	}
	z.Close()
	return b.Bytes()
}

func TestPhotoReencoded(t *testing.T) {
	photo := compile(t, "photo", photoPolicy)
	values := url.Values{"fields[title]": {"Brume sur la Vaudèze"}, "fields[caption]": {"Au petit matin, depuis le pont."}}
	// Stored 80×40 on its side (orientation 6): upright it is 40×80, then fitted in 64.
	data := withExif(jpegFile(t, picture(80, 40)), 6)
	if jpegOrientation(data) != 6 {
		t.Fatal("the fixture's orientation is not read")
	}
	s, errs := photo.Decode(values, multipartFiles(t, upload{"fields[image]", "IMG_0001.JPG", data}))
	if errs != nil {
		t.Fatal(errs)
	}
	u := s.Uploads[0]
	if u.MediaType != "image/jpeg" || u.Ext != ".jpg" || u.Width != 32 || u.Height != 64 {
		t.Errorf("upload %s %s %dx%d, want image/jpeg .jpg 32x64", u.MediaType, u.Ext, u.Width, u.Height)
	}
	for _, leak := range []string{"Exif", "GPS", "45.1234", "claire"} {
		if bytes.Contains(u.Data, []byte(leak)) {
			t.Errorf("the re-encoded image still holds %q", leak)
		}
	}
	img, err := jpeg.Decode(bytes.NewReader(u.Data))
	if err != nil {
		t.Fatal(err)
	}
	// Upright, the stored left half (red) is on top.
	if r, _, b, _ := img.At(16, 8).RGBA(); r < b {
		t.Errorf("top is not red: the image was not turned upright")
	}
	if r, _, b, _ := img.At(16, 56).RGBA(); b < r {
		t.Errorf("bottom is not blue: the image was not turned upright")
	}
	files, err := photo.Encode(s, testGen)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"photos/brume-sur-la-vaudeze-3y2x1a/index.md", "photos/brume-sur-la-vaudeze-3y2x1a/brume-sur-la-vaudeze-3y2x1a.jpg"}
	if len(files) != 2 || files[0].Path != want[0] || files[1].Path != want[1] {
		t.Fatalf("files %v, want %v", paths(files), want)
	}
	if bytes.Contains(files[0].Data, []byte("image:")) {
		t.Errorf("a photo's image is found in its bundle, not named:\n%s", files[0].Data)
	}
}

func TestImageFormatsKept(t *testing.T) {
	f := compile(t, "article", `
fields:
  title: {type: text, required: true}
  image: {type: image, accept: [image/png, image/gif, image/jpeg]}
  body: {type: markdown}
generated: {slug: slug}
path: "articles/{slug}"
filename: index.md
format: markdown
body: body
`)
	alpha := image.NewNRGBA(image.Rect(0, 0, 3000, 1000))
	alpha.Set(0, 0, color.NRGBA{10, 20, 30, 128})
	var g bytes.Buffer
	pal := image.NewPaletted(image.Rect(0, 0, 10, 5), []color.Color{color.Black, color.White})
	gif.Encode(&g, pal, nil)
	for _, tt := range []struct {
		data       []byte
		mt, ext    string
		w, h       int
		decodeWith func([]byte) (image.Image, error)
	}{
		{pngFile(t, alpha), "image/png", ".png", 2560, 853, func(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) }},
		{g.Bytes(), "image/gif", ".gif", 10, 5, func(b []byte) (image.Image, error) { return gif.Decode(bytes.NewReader(b)) }},
		{jpegFile(t, picture(100, 50)), "image/jpeg", ".jpg", 100, 50, func(b []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) }},
	} {
		t.Run(tt.ext, func(t *testing.T) {
			s, errs := f.Decode(url.Values{"fields[title]": {"Le chantier de l'école"}}, multipartFiles(t, upload{"fields[image]", "photo.webp", tt.data}))
			if errs != nil {
				t.Fatal(errs)
			}
			u := s.Uploads[0]
			if u.MediaType != tt.mt || u.Ext != tt.ext || u.Width != tt.w || u.Height != tt.h {
				t.Errorf("got %s %s %dx%d, want %s %s %dx%d", u.MediaType, u.Ext, u.Width, u.Height, tt.mt, tt.ext, tt.w, tt.h)
			}
			if got := http.DetectContentType(u.Data); got != tt.mt {
				t.Errorf("re-encoded as %s", got)
			}
			img, err := tt.decodeWith(u.Data)
			if err != nil || img.Bounds().Dx() != tt.w {
				t.Errorf("the re-encoded image does not decode: %v", err)
			}
			files, err := f.Encode(s, testGen)
			if err != nil {
				t.Fatal(err)
			}
			name := "le-chantier-de-l-ecole-3y2x1a" + tt.ext
			if files[1].Path != "articles/le-chantier-de-l-ecole-3y2x1a/"+name || !bytes.Contains(files[0].Data, []byte("\nimage: "+name+"\n")) {
				t.Errorf("files %v, page:\n%s", paths(files), files[0].Data)
			}
		})
	}
}

func TestDocumentKept(t *testing.T) {
	doc := compile(t, "document", documentPolicy)
	values := url.Values{"fields[title]": {"Compte rendu de l'assemblée générale"}, "fields[description]": {"Le compte rendu de l'assemblée du 12 mars."}}
	for _, tt := range []struct {
		name, ext string
		data      []byte
	}{
		{"pdf", ".pdf", pdfFile(contentStream("BT /F1 12 Tf (Bonjour) Tj ET /URI (https://example.org)"))},
		{"odt", ".odt", odfFile(t, odt, zip.Store, "styles.xml", "Pictures/1.png")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, errs := doc.Decode(values, multipartFiles(t, upload{"fields[file]", "rapport.exe", tt.data}))
			if errs != nil {
				t.Fatal(errs)
			}
			if got := s.Uploads[0].Data; tt.ext == ".pdf" && !bytes.Equal(got, tt.data) {
				t.Error("a PDF without metadata is kept as sent")
			} else if tt.ext == ".odt" && !sameEntries(t, got, tt.data) {
				t.Error("an OpenDocument file without metadata keeps its entries as sent")
			}
			files, err := doc.Encode(s, testGen)
			if err != nil {
				t.Fatal(err)
			}
			name := "compte-rendu-de-l-assemblee-generale-3y2x1a" + tt.ext
			want := "files:\n  - name: " + name + "\n    title: Compte rendu de l'assemblée générale\n---\n"
			if files[1].Path != "documents/compte-rendu-de-l-assemblee-generale-3y2x1a/"+name || !bytes.Contains(files[0].Data, []byte(want)) {
				t.Errorf("files %v, page:\n%s", paths(files), files[0].Data)
			}
		})
	}
}

func paths(files []File) []string {
	var l []string
	for _, f := range files {
		l = append(l, f.Path)
	}
	return l
}

func TestOrient(t *testing.T) {
	// A 3×2 image, pixels numbered in reading order, turned by each EXIF orientation.
	src := image.NewRGBA(image.Rect(0, 0, 3, 2))
	for i := range 6 {
		src.Pix[4*i] = byte(i + 1)
	}
	want := map[int][]byte{
		1: {1, 2, 3, 4, 5, 6},
		2: {3, 2, 1, 6, 5, 4},
		3: {6, 5, 4, 3, 2, 1},
		4: {4, 5, 6, 1, 2, 3},
		5: {1, 4, 2, 5, 3, 6},
		6: {4, 1, 5, 2, 6, 3},
		7: {6, 3, 5, 2, 4, 1},
		8: {3, 6, 2, 5, 1, 4},
	}
	for o, w := range want {
		got := src
		if o != 1 {
			got = orient(src, o)
		}
		var px []byte
		for i := 0; i < len(got.Pix); i += 4 {
			px = append(px, got.Pix[i])
		}
		if !bytes.Equal(px, w) {
			t.Errorf("orientation %d: %v, want %v", o, px, w)
		}
		if o >= 5 && got.Rect.Dx() != 2 {
			t.Errorf("orientation %d: width %d, want 2", o, got.Rect.Dx())
		}
	}
}

func TestJPEGOrientationHostile(t *testing.T) {
	for _, b := range [][]byte{
		nil, {0xff, 0xd8}, {0xff, 0xd8, 0xff, 0xe1, 0x00, 0x01},
		{0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff, 'E', 'x'},
		append([]byte{0xff, 0xd8, 0xff, 0xe1, 0x00, 0x10}, "Exif\x00\x00II\x2a\x00\xff\xff\xff\xff"...),
		append([]byte{0xff, 0xd8, 0xff, 0xe1, 0x00, 0x14}, "Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\xff\xff"...),
	} {
		if o := jpegOrientation(b); o != 1 {
			t.Errorf("jpegOrientation(%q) = %d, want 1", b, o)
		}
	}
}

// TestSeveralUploads names each upload after the entry and its field, and refers to each
// from the front matter.
func TestSeveralUploads(t *testing.T) {
	f := compile(t, "article", `
order: [title, image, cover, plan, body]
fields:
  title: {type: text, required: true}
  image: {type: image, required: true}
  cover: {type: image, accept: [image/png]}
  plan: {type: file, label: Plan du quartier, accept: [application/pdf]}
  body: {type: markdown}
generated: {slug: slug}
path: "articles/{slug}"
filename: index.md
format: markdown
body: body
`)
	s, errs := f.Decode(url.Values{"fields[title]": {"Le nouveau quartier"}}, multipartFiles(t,
		upload{"fields[image]", "a.jpg", jpegFile(t, picture(20, 10))},
		upload{"fields[cover]", "b.png", pngFile(t, picture(20, 10))},
		upload{"fields[plan]", "c.pdf", pdfFile("")},
	))
	if errs != nil {
		t.Fatal(errs)
	}
	files, err := f.Encode(s, testGen)
	if err != nil {
		t.Fatal(err)
	}
	dir := "articles/le-nouveau-quartier-3y2x1a/"
	want := []string{dir + "index.md", dir + "le-nouveau-quartier-3y2x1a-image.jpg", dir + "le-nouveau-quartier-3y2x1a-cover.png", dir + "le-nouveau-quartier-3y2x1a-plan.pdf"}
	if strings.Join(paths(files), " ") != strings.Join(want, " ") {
		t.Fatalf("files %v, want %v", paths(files), want)
	}
	page := "---\nsubmitted: article\ntitle: Le nouveau quartier\nslug: le-nouveau-quartier-3y2x1a\n" +
		"image: le-nouveau-quartier-3y2x1a-image.jpg\ncover: le-nouveau-quartier-3y2x1a-cover.png\n" +
		"files:\n  - name: le-nouveau-quartier-3y2x1a-plan.pdf\n    title: Le nouveau quartier\n---\n"
	if string(files[0].Data) != page {
		t.Errorf("page:\n%s\nwant:\n%s", files[0].Data, page)
	}
}
