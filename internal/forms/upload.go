package forms

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"runtime"
	"slices"
	"strings"

	"github.com/parvis/parvis/internal/doccheck"
)

// extensions name a file by its real type.
var extensions = map[string]string{
	"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif",
	"application/pdf": ".pdf", odt: ".odt", ods: ".ods", odp: ".odp",
}

// docSlots bounds how many documents are checked or scrubbed at once, as imageSlots does
// for images: a check is CPU-bound (a bomb costs up to its 64 MiB budget of decoding) and
// holds up to an object stream (8 MiB) and its parse (a few MiB). A few at a time keep a
// flood of documents within a few tens of MiB however many wait, and leave cores to the
// rest of the service.
var docSlots = make(chan struct{}, max(2, min(4, runtime.NumCPU()/2)))

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
	// One buffer of the file's size: the whole upload is read once, never grown by copies.
	data := make([]byte, 0, min(fh.Size, int64(fl.max))+1)
	data, err = readAll(io.LimitReader(r, int64(fl.max)+1), data)
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
		return u, nil
	}
	rep, err := checkDocument(data, mt)
	if p := docProblem(fl, err); p != nil {
		return nil, p
	}
	u.Links = rep.Links
	return u, nil
}

// checkDocument checks a PDF or OpenDocument file (see package doccheck), within docSlots.
func checkDocument(data []byte, mt string) (doccheck.Report, error) {
	docSlots <- struct{}{}
	defer func() { <-docSlots }()
	if mt == "application/pdf" {
		return doccheck.PDF(data)
	}
	return doccheck.ODF(data, mt)
}

// docProblem says why a document was refused: active content, a password, a file that
// unpacks to more than it may (its Limit says how much), or one that cannot be read.
func docProblem(fl *field, err error) *Problem {
	var e *doccheck.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, doccheck.ErrActive):
		return &Problem{Code: CodeUnsafe, Label: fl.label}
	case errors.Is(err, doccheck.ErrProtected):
		return &Problem{Code: CodeProtected, Label: fl.label}
	case errors.Is(err, doccheck.ErrBomb) && errors.As(err, &e) && e.Limit > 0:
		return &Problem{Code: CodeUnpacked, Label: fl.label, Limit: e.Limit}
	}
	return &Problem{Code: CodeFormat, Label: fl.label, Want: "file"}
}

// readAll reads r to its end into buf, which has room for all of it and one more byte.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, 4096)
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
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
		docSlots <- struct{}{}
		data, err = scrubPDF(u.Data)
		<-docSlots
	default:
		docSlots <- struct{}{}
		data, err = scrubODF(u.Data)
		<-docSlots
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

// odfType reads the media type an OpenDocument file declares in its first entry, from
// that entry's header alone: nothing is unpacked before the checks.
func odfType(data []byte) string {
	switch t := doccheck.MediaType(data); t {
	case odt, ods, odp:
		return t
	}
	return ""
}
