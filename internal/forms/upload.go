package forms

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
)

// extensions name a file by its real type.
var extensions = map[string]string{
	"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif",
	"application/pdf": ".pdf", odt: ".odt", ods: ".ods", odp: ".odp",
}

// checkUpload reads an upload and checks it by its content: its size, its type as sniffed
// and then parsed, an image's dimensions, a document's active content. The costly part of
// an image (decoding, re-encoding) is left to finishUpload.
func (f *Form) checkUpload(fl *field, fh *multipart.FileHeader) (*Upload, *Problem) {
	tooLarge := &Problem{Code: CodeTooLarge, Label: fl.label, Limit: int64(fl.max)}
	damaged := &Problem{Code: CodeFormat, Label: fl.label, Want: "file"}
	if fh.Size > int64(fl.max) {
		return nil, tooLarge
	}
	r, err := fh.Open()
	if err != nil {
		return nil, damaged
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, int64(fl.max)+1))
	switch {
	case err != nil || len(data) == 0:
		return nil, damaged
	case len(data) > fl.max:
		return nil, tooLarge
	case len(data) < fl.min:
		return nil, &Problem{Code: CodeTooSmall, Label: fl.label, Limit: int64(fl.min)}
	}
	mt := sniff(data)
	if !slices.Contains(fl.accept, mt) {
		return nil, &Problem{Code: CodeType, Label: fl.label, Want: strings.Join(fl.accept, ",")}
	}
	u := &Upload{Field: fl.name, MediaType: mt, Ext: extensions[mt], Data: data}
	switch mt {
	case "image/jpeg", "image/png", "image/gif":
		w, h, depth, err := imageSize(mt, data)
		if err != nil {
			return nil, &Problem{Code: CodeFormat, Label: fl.label, Want: "image"}
		}
		// The budget is MaxImagePixels at 4 bytes a pixel: fewer pixels at 16 bits a channel.
		limit := int64(f.maxPixels) * 4 / int64(max(4, depth))
		if int64(w)*int64(h) > limit {
			return nil, &Problem{Code: CodeDimensions, Label: fl.label, Limit: max(1, limit/1e6)}
		}
		u.Width, u.Height = w, h
	case "application/pdf":
		err = checkPDF(data)
	default:
		err = checkODF(data, mt)
	}
	switch {
	case errors.Is(err, errActive):
		return nil, &Problem{Code: CodeUnsafe, Label: fl.label}
	case err != nil:
		return nil, damaged
	}
	return u, nil
}

// finishUpload re-encodes an image: that drops its metadata (EXIF, GPS position, comments)
// and anything hidden after its pixels, and fits it to the field's pixels. A document loses
// the people its metadata names (see scrub.go).
func (f *Form) finishUpload(fl *field, u *Upload) *Problem {
	var data []byte
	var err error
	want := "file"
	switch u.MediaType {
	case "image/jpeg", "image/png", "image/gif":
		want = "image"
		var w, h int
		if data, w, h, err = reencode(u.Data, u.MediaType, fl.pixels); err == nil {
			u.Width, u.Height = w, h
		}
	case "application/pdf":
		data, err = scrubPDF(u.Data)
	default:
		data, err = scrubODF(u.Data)
	}
	switch {
	case errors.Is(err, errProtected):
		return &Problem{Code: CodeProtected, Label: fl.label}
	case err != nil:
		return &Problem{Code: CodeFormat, Label: fl.label, Want: want}
	}
	u.Data = data
	return nil
}

// sniff names the type of data from its content alone.
func sniff(data []byte) string {
	ct := http.DetectContentType(data)
	if ct == "application/zip" {
		if t := odfType(data); t != "" {
			return t
		}
	}
	ct, _, _ = strings.Cut(ct, ";")
	return ct
}

// odfType reads the media type an OpenDocument file declares in its first entry.
func odfType(data []byte) string {
	// The first local header names "mimetype", stored, as the ODF standard requires.
	if len(data) < 38 || string(data[30:38]) != "mimetype" {
		return ""
	}
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil || len(z.File) == 0 {
		return ""
	}
	first := z.File[0]
	if first.Name != "mimetype" || first.Method != zip.Store || first.UncompressedSize64 > 100 {
		return ""
	}
	r, err := first.Open()
	if err != nil {
		return ""
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, 101))
	if err != nil {
		return ""
	}
	switch t := string(b); t {
	case odt, ods, odp:
		return t
	}
	return ""
}

var errActive = errors.New("active content")

// checkODF checks that an OpenDocument file has its content and manifest, and no macros.
func checkODF(data []byte, mt string) error {
	if odfType(data) != mt {
		return errors.New("not an OpenDocument file")
	}
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return err
	}
	var content, manifest bool
	for _, e := range z.File {
		switch {
		case e.Name == "content.xml":
			content = true
		case e.Name == "META-INF/manifest.xml":
			manifest = true
		case strings.HasPrefix(e.Name, "Basic/"), strings.HasPrefix(e.Name, "Scripts/"):
			return errActive
		}
	}
	if !content || !manifest {
		return errors.New("an OpenDocument file without content.xml or its manifest")
	}
	return nil
}

// PDF names that run or carry something when the file is opened.
var activeNames = []string{"JavaScript", "JS", "Launch", "EmbeddedFile", "EmbeddedFiles", "RichMedia", "XFA"}

const maxInflated = 256 << 20 // the most a PDF's streams may unpack to while being checked

// checkPDF checks a PDF's header and end marker, and looks for active content in its
// objects, including those packed in compressed streams.
func checkPDF(data []byte) error {
	if !bytes.HasPrefix(data, []byte("%PDF-1.")) && !bytes.HasPrefix(data, []byte("%PDF-2.")) {
		return errors.New("no PDF header")
	}
	tail := data[max(0, len(data)-1024):]
	if !bytes.Contains(tail, []byte("%%EOF")) {
		return errors.New("no %%EOF: the file is incomplete")
	}
	if hasActiveName(data) {
		return errActive
	}
	budget := int64(maxInflated)
	for rest := data; ; {
		i := bytes.Index(rest, []byte("stream"))
		if i < 0 {
			return nil
		}
		rest = rest[i+len("stream"):]
		if bytes.HasPrefix(rest, []byte("\r\n")) {
			rest = rest[2:]
		} else if bytes.HasPrefix(rest, []byte("\n")) {
			rest = rest[1:]
		} else {
			continue // "endstream", or the word in text
		}
		zr, err := zlib.NewReader(bytes.NewReader(rest))
		if err != nil {
			continue // not a Flate stream: images, fonts
		}
		var buf bytes.Buffer
		n, _ := io.Copy(&buf, io.LimitReader(zr, budget+1))
		zr.Close()
		if budget -= n; budget < 0 {
			return errActive // too much to check: a bomb, or a file no one should have to open
		}
		if hasActiveName(buf.Bytes()) {
			return errActive
		}
	}
}

// hasActiveName finds a PDF name of activeNames, also when spelled with #xx escapes.
func hasActiveName(b []byte) bool {
	for off := 0; ; {
		i := bytes.IndexByte(b[off:], '/')
		if i < 0 {
			return false
		}
		start := off + i + 1
		end := start
		for end < len(b) && !pdfDelimiter(b[end]) {
			end++
		}
		off = end
		if end == start || end-start > 60 {
			continue
		}
		name := b[start:end]
		if bytes.IndexByte(name, '#') >= 0 {
			name = unescapeName(name)
		}
		if slices.Contains(activeNames, string(name)) {
			return true
		}
	}
}

func pdfDelimiter(c byte) bool {
	switch c {
	case 0, '\t', '\n', '\f', '\r', ' ', '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func unescapeName(n []byte) []byte {
	out := make([]byte, 0, len(n))
	for i := 0; i < len(n); i++ {
		if n[i] == '#' && i+2 < len(n) {
			if v, ok := unhex(n[i+1], n[i+2]); ok {
				out = append(out, v)
				i += 2
				continue
			}
		}
		out = append(out, n[i])
	}
	return out
}

func unhex(a, b byte) (byte, bool) {
	val := func(c byte) (byte, bool) {
		switch {
		case '0' <= c && c <= '9':
			return c - '0', true
		case 'a' <= c && c <= 'f':
			return c - 'a' + 10, true
		case 'A' <= c && c <= 'F':
			return c - 'A' + 10, true
		}
		return 0, false
	}
	x, ok1 := val(a)
	y, ok2 := val(b)
	return x<<4 | y, ok1 && ok2
}
