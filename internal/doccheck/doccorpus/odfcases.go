package doccorpus

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"

	"github.com/parvis/parvis/internal/doccheck"
)

const basicModule = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1" script:language="StarBasic">Sub Main
Shell("cmd.exe /c calc")
End Sub</script:module>`

func odfCase(name string, want error, reason string, build func() []byte) Case {
	return Case{Name: name, MediaType: ODT, Want: want, Reason: reason, build: build}
}

// withContent is an OpenDocument text whose content.xml has head and body (see Content).
func withContent(head, body string, more ...Entry) func() []byte {
	return func() []byte { return Doc(Content(head, body), more...) }
}

// ODFs returns the OpenDocument cases.
func ODFs() []Case {
	var cs []Case
	for _, name := range []string{
		"Basic/Standard/Module1.xml", "basic/Standard/Module1.xml", "BASIC/Standard/Module1.xml", "./Basic/Standard/Module1.xml",
		"/Basic/Standard/Module1.xml", "Pictures/../Basic/Standard/Module1.xml", `Basic\Standard\Module1.xml`, "Basic//Standard/Module1.xml",
		"%42asic/Standard/Module1.xml", " Basic /Standard/Module1.xml", "Object 1/Basic/Standard/Module1.xml",
		"Scripts/python/macro.py", "scripts/javascript/Library1/macro.js", "SCRIPTS/beanshell/x.bsh", "Dialogs/Standard/Dialog1.xml",
		"Basic/", "./Scripts/", "Basic./Standard/Module1.xml",
	} {
		cs = append(cs, odfCase("odf/macros/"+name, doccheck.ErrActive, "macros in entry "+strconv.Quote(name), withContent("", "", Entry{Name: name, Data: []byte(basicModule)})))
	}
	cs = append(cs,
		odfCase("odf/macros/local-header-only", doccheck.ErrActive, `macros in entry "Basic/Standard/Module1.xml"`, func() []byte {
			// A local header that the central directory does not list, inside a stored
			// entry: a reader repairing the package finds it.
			name := "Basic/Standard/Module1.xml"
			h := []byte("PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")
			h = binary.LittleEndian.AppendUint32(h, uint32(len(basicModule)))
			h = binary.LittleEndian.AppendUint32(h, uint32(len(basicModule)))
			h = binary.LittleEndian.AppendUint16(h, uint16(len(name)))
			h = binary.LittleEndian.AppendUint16(h, 0)
			h = append(append(h, name...), basicModule...)
			return Doc(Content("", ""), Entry{Name: "Thumbnails/thumbnail.png", Data: h, Store: true})
		}),
		odfCase("odf/macros/manifest-media-type", doccheck.ErrActive, "an entry of type application/vnd.sun.star.basic-library", withContent("", "",
			Entry{Name: "META-INF/manifest.xml", Data: Manifest(ODT, `<manifest:file-entry manifest:full-path="Libraries/Standard/" manifest:media-type="application/vnd.sun.star.basic-library"/>`)})),
		odfCase("odf/macros/manifest-path", doccheck.ErrActive, `macros in entry "./Scripts/python/", as META-INF/manifest.xml lists it`, withContent("", "",
			Entry{Name: "META-INF/manifest.xml", Data: Manifest(ODT, `<manifest:file-entry manifest:full-path="./Scripts/python/" manifest:media-type=""/>`)})),
		odfCase("odf/duplicate-names", doccheck.ErrMalformed, `two entries named "content.xml" and "content.xml"`, func() []byte {
			return Zip(Entry{Name: "mimetype", Data: []byte(ODT)}, Entry{Name: "content.xml", Data: Content("", "")}, Entry{Name: "content.xml", Data: Content("", "")}, Entry{Name: "META-INF/manifest.xml", Data: Manifest(ODT, "")})
		}),
		odfCase("odf/names-differing-by-case", doccheck.ErrMalformed, `two entries named "content.xml" and "Content.xml"`, func() []byte {
			return Zip(Entry{Name: "mimetype", Data: []byte(ODT)}, Entry{Name: "content.xml", Data: Content("", "")}, Entry{Name: "Content.xml", Data: Content("", "")}, Entry{Name: "META-INF/manifest.xml", Data: Manifest(ODT, "")})
		}),
		odfCase("odf/nul-in-name", doccheck.ErrMalformed, "control characters in its name", withContent("", "", Entry{Name: "Basic\x00.png", Data: []byte(basicModule)})),
		odfCase("odf/leaves-package", doccheck.ErrMalformed, `entry "../../etc/x.xml" leaves the package`, withContent("", "", Entry{Name: "../../etc/x.xml", Data: []byte("<x/>")})),
	)
	listeners := `<office:event-listeners><script:event-listener script:language="ooo:script" script:event-name="dom:load" xlink:href="vnd.sun.star.script:Standard.Module1.Main?language=Basic&amp;location=document" xlink:type="simple"/></office:event-listeners>`
	cs = append(cs,
		odfCase("odf/content/event-listeners", doccheck.ErrActive, "event listeners (office:event-listeners) in content.xml", withContent(listeners, "")),
		odfCase("odf/content/event-listener-other-prefix", doccheck.ErrActive, "an event listener (s:event-listener) in content.xml", withContent("",
			`<text:p><s:event-listener xmlns:s="urn:oasis:names:tc:opendocument:xmlns:script:1.0" s:event-name="dom:click" s:macro-name="Standard.Module1.Main" s:language="ooo:script"/></text:p>`)),
		odfCase("odf/styles/event-listeners", doccheck.ErrActive, "event listeners (office:event-listeners) in styles.xml", func() []byte {
			return Doc(Content("", ""), Entry{Name: "styles.xml", Data: Styles(listeners)})
		}),
		odfCase("odf/content/script-href", doccheck.ErrActive, "a vnd.sun.star.script: link", withContent("",
			`<text:p><text:a xlink:type="simple" xlink:href="vnd.sun.star.script:Standard.Module1.Main?language=Basic&amp;location=document">Cliquez ici</text:a></text:p>`)),
		odfCase("odf/content/script-href-entities", doccheck.ErrActive, "a vnd.sun.star.script: link", withContent("",
			`<text:p><text:a xlink:href="&#118;nd.sun.&#x73;tar.script:Standard.Module1.Main?language=Basic">Cliquez</text:a></text:p>`)),
		odfCase("odf/content/script-href-case", doccheck.ErrActive, "a vnd.sun.star.script: link", withContent("",
			`<text:p><text:a xlink:href="  VND.SUN.STAR.SCRIPT:Standard.Module1.Main">Cliquez</text:a></text:p>`)),
		odfCase("odf/content/macro-href", doccheck.ErrActive, "a macro: link", withContent("",
			`<text:p><text:a xlink:href="&#x20;macro:///Standard.Module1.Main()">Cliquez</text:a></text:p>`)),
		odfCase("odf/content/javascript-href-tab", doccheck.ErrActive, "a javascript: link", withContent("",
			`<text:p><draw:a xlink:href="java&#x09;script:alert(1)"><draw:frame/></draw:a></text:p>`)),
		odfCase("odf/content/uno-href", doccheck.ErrActive, "a .uno: link", withContent("",
			`<text:p><text:a xlink:href=".uno:Quit">Quitter</text:a></text:p>`)),
		odfCase("odf/content/macro-name", doccheck.ErrActive, "a macro binding (script:macro-name=\"Standard.Module1.Main\")", withContent("",
			`<text:p><form:button form:name="Envoyer" script:macro-name="Standard.Module1.Main"/></text:p>`)),
		odfCase("odf/content/office-script", doccheck.ErrActive, "a script (office:script) in content.xml", func() []byte {
			c := strings.Replace(string(Content("", "")), "<office:scripts/>", `<office:scripts><office:script script:language="ooo:Basic"><ooo:libraries xmlns:ooo="http://openoffice.org/2004/office"/></office:script></office:scripts>`, 1)
			return Doc([]byte(c))
		}),
		odfCase("odf/content/scripts-child", doccheck.ErrActive, "a script binding (x:binding in office:scripts)", func() []byte {
			c := strings.Replace(string(Content("", "")), "<office:scripts/>", `<office:scripts><x:binding xmlns:x="urn:x"/></office:scripts>`, 1)
			return Doc([]byte(c))
		}),
		odfCase("odf/content/execute-macro", doccheck.ErrActive, "a macro field (text:execute-macro)", withContent("", `<text:p><text:execute-macro text:name="Main">Exécuter</text:execute-macro></text:p>`)),
		odfCase("odf/content/text-script", doccheck.ErrActive, "a script (text:script)", withContent("", `<text:p><text:script script:language="JavaScript">alert(1)</text:script></text:p>`)),
		odfCase("odf/ole/element", doccheck.ErrActive, "an OLE object (draw:object-ole)", withContent("", `<text:p><draw:frame><draw:object-ole xlink:href="./Object 1" xlink:type="simple"/></draw:frame></text:p>`)),
		odfCase("odf/ole/entry", doccheck.ErrActive, `an OLE object in entry "Object 1"`, withContent("", "", Entry{Name: "Object 1", Data: append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 504)...)})),
		odfCase("odf/ole/manifest", doccheck.ErrActive, "an entry of type application/vnd.sun.star.oleobject", withContent("", "",
			Entry{Name: "META-INF/manifest.xml", Data: Manifest(ODT, `<manifest:file-entry manifest:full-path="Object 1" manifest:media-type="application/vnd.sun.star.oleobject"/>`)})),
		odfCase("odf/form-property-target", doccheck.ErrActive, "a macro: link (office:string-value=", withContent("",
			`<office:forms><form:form form:name="F"><form:button form:name="B"><form:properties><form:property form:property-name="TargetURL" office:value-type="string" office:string-value="macro:///Standard.Module1.Main"/></form:properties></form:button></form:form></office:forms>`)),
		odfCase("odf/dde-formula", doccheck.ErrActive, "a formula calling out", withContent("",
			`<table:table table:name="F"><table:table-row><table:table-cell table:formula="of:=DDE(&quot;cmd&quot;;&quot;/C calc&quot;;&quot;x&quot;)"/></table:table-row></table:table>`)),
		odfCase("odf/dde-source", doccheck.ErrActive, "a DDE link (office:dde-source)", withContent("",
			`<table:table table:name="F"><office:dde-source office:dde-application="cmd" office:dde-topic="/c calc" office:dde-item="x"/></table:table>`)),
		odfCase("odf/applet", doccheck.ErrActive, "a Java applet (draw:applet)", withContent("", `<text:p><draw:frame><draw:applet xlink:href="evil.jar" draw:code="Evil.class"/></draw:frame></text:p>`)),
		odfCase("odf/plugin", doccheck.ErrActive, "a plugin (draw:plugin)", withContent("", `<text:p><draw:frame><draw:plugin xlink:href="https://evil.example/x.swf"/></draw:frame></text:p>`)),
		odfCase("odf/floating-frame", doccheck.ErrActive, "a frame loading another document (draw:floating-frame)", withContent("", `<text:p><draw:frame><draw:floating-frame xlink:href="https://evil.example/macro.odt"/></draw:frame></text:p>`)),
		odfCase("odf/svg-script", doccheck.ErrActive, "a script (script) in Pictures/plan.svg", withContent("", "",
			Entry{Name: "Pictures/plan.svg", Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)})),
		odfCase("odf/program-entry", doccheck.ErrActive, `a program in entry "Configurations2/setup.exe"`, withContent("", "", Entry{Name: "Configurations2/setup.exe", Data: append([]byte("MZ\x90\x00"), make([]byte, 500)...)})),
		odfCase("odf/archive-entry", doccheck.ErrActive, `an archive in entry "Object 2"`, withContent("", "", Entry{Name: "Object 2", Data: Zip(Entry{Name: "Basic/x.xml", Data: []byte("<x/>")})})),
		odfCase("odf/doctype-entities", doccheck.ErrMalformed, "content.xml: a document type declaration with entities of its own", func() []byte {
			c := `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY s "vnd.sun.star.script:Standard.Module1.Main">]><office:document-content ` + namespaces + `><office:body><office:text><text:a xlink:href="&s;">x</text:a></office:text></office:body></office:document-content>`
			return Doc([]byte(c))
		}),
		odfCase("odf/utf16-content", doccheck.ErrMalformed, "content.xml: an XML part not in UTF-8", func() []byte {
			u := utf16.Encode([]rune(string(Content(listeners, ""))))
			b := []byte{0xFF, 0xFE}
			for _, r := range u {
				b = binary.LittleEndian.AppendUint16(b, r)
			}
			return Doc(b)
		}),
		odfCase("odf/protected/manifest", doccheck.ErrProtected, "encrypted entries", withContent("", "",
			Entry{Name: "META-INF/manifest.xml", Data: []byte(`<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"><manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="x"/></manifest:file-entry></manifest:manifest>`)})),
		odfCase("odf/protected/zip-flag", doccheck.ErrProtected, "is encrypted", func() []byte {
			b := Doc(Content("", ""))
			// Set the encryption flag of content.xml in both its headers.
			for _, sig := range []string{"PK\x03\x04", "PK\x01\x02"} {
				off := 0
				for {
					i := bytes.Index(b[off:], []byte(sig))
					if i < 0 {
						break
					}
					at := off + i
					flagAt, nameAt := at+6, at+30
					if sig == "PK\x01\x02" {
						flagAt, nameAt = at+8, at+46
					}
					if bytes.HasPrefix(b[nameAt:], []byte("content.xml")) {
						b[flagAt] |= 1
					}
					off = at + 4
				}
			}
			return b
		}),
		odfCase("odf/type/pdf-polyglot", doccheck.ErrMalformed, "also reads as a PDF", func() []byte {
			return Zip(Entry{Name: "mimetype", Data: []byte(ODT)}, Entry{Name: "a.pdf", Data: Simple("/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >>", ""), Store: true},
				Entry{Name: "content.xml", Data: Content("", "")}, Entry{Name: "META-INF/manifest.xml", Data: Manifest(ODT, "")})
		}),
		odfCase("odf/type/other-type", doccheck.ErrMalformed, "not an OpenDocument file of type "+ODT, func() []byte {
			return Zip(Entry{Name: "mimetype", Data: []byte(ODS)}, Entry{Name: "content.xml", Data: Content("", "")}, Entry{Name: "META-INF/manifest.xml", Data: Manifest(ODS, "")})
		}),
		odfCase("odf/type/no-content", doccheck.ErrMalformed, "without content.xml", func() []byte {
			return Zip(Entry{Name: "mimetype", Data: []byte(ODT)}, Entry{Name: "META-INF/manifest.xml", Data: Manifest(ODT, "")})
		}),
		odfCase("odf/type/not-xml", doccheck.ErrMalformed, "content.xml: text outside the root element", func() []byte { return Doc([]byte("this is not XML")) }),
		odfCase("odf/xml/unclosed", doccheck.ErrMalformed, "content.xml: the XML ends before its elements close", func() []byte {
			return Doc([]byte(`<office:document-content ` + namespaces + `><office:body>`))
		}),
		odfCase("odf/xml/mismatched", doccheck.ErrMalformed, `end tag "office:text" does not match its start`, func() []byte {
			return Doc([]byte(`<office:document-content ` + namespaces + `><office:body></office:text></office:document-content>`))
		}),
	)
	cs = append(cs, odfBombs()...)
	cs = append(cs, benignODF()...)
	return cs
}

var entryOnce = sync.OnceValue(func() []byte {
	// The entry is written raw, compressed ahead (see ZerosDeflate).
	const n = 120 << 20
	crc := crc32.NewIEEE()
	zeros := make([]byte, 1<<20)
	for range n / len(zeros) {
		crc.Write(zeros)
	}
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for _, e := range []Entry{{Name: "mimetype", Data: []byte(ODT)}, {Name: "content.xml", Data: Content("", "")}, {Name: "styles.xml", Data: Styles("")}, {Name: "META-INF/manifest.xml", Data: Manifest(ODT, "")}} {
		if e.Name == "mimetype" {
			w, _ := z.CreateRaw(&zip.FileHeader{Name: e.Name, Method: zip.Store, CRC32: crc32.ChecksumIEEE(e.Data), CompressedSize64: uint64(len(e.Data)), UncompressedSize64: uint64(len(e.Data))})
			w.Write(e.Data)
			continue
		}
		w, _ := z.Create(e.Name)
		w.Write(e.Data)
	}
	data := ZerosDeflate(n)
	w, _ := z.CreateRaw(&zip.FileHeader{Name: "Pictures/photo.png", Method: zip.Deflate, CRC32: crc.Sum32(), CompressedSize64: uint64(len(data)), UncompressedSize64: n})
	w.Write(data)
	z.Close()
	return b.Bytes()
})

// ODT120 is the measured attack: a 120 KB OpenDocument text with an entry of 120 MB.
func ODT120() []byte { return entryOnce() }

func odfBombs() []Case {
	bomb := func(name, reason string, build func() []byte) Case {
		return Case{Name: name, MediaType: ODT, Want: doccheck.ErrBomb, Reason: reason, Large: true, build: build}
	}
	return []Case{
		bomb("odf/bomb/entry-120MB", `entry "Pictures/photo.png" unpacks to more than 200 times its size`, ODT120),
		bomb("odf/bomb/xml-8MB", `entry "content.xml" unpacks to more than 200 times its size`, func() []byte {
			c := string(Content("", "<text:p>"+strings.Repeat(" ", 8<<20)+"</text:p>"))
			return Doc([]byte(c))
		}),
		bomb("odf/bomb/overlapping-entries", "decompresses to more than 64 MiB", func() []byte { return Overlapping(40, 4<<20) }),
		{Name: "odf/bomb/many-entries", MediaType: ODT, Want: doccheck.ErrMalformed, Reason: "more than 10000 entries", Large: true, build: func() []byte {
			var more []Entry
			for i := range 10001 {
				more = append(more, Entry{Name: "Pictures/" + strconv.Itoa(i), Data: []byte("x")})
			}
			return Doc(Content("", ""), more...)
		}},
	}
}

func pngOf(w, h int) []byte {
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h)))
	return b.Bytes()
}

func benignODF() []Case {
	ok := func(name string, links []string, build func() []byte) Case {
		return Case{Name: name, MediaType: ODT, Links: links, build: build}
	}
	chart := `<?xml version="1.0" encoding="UTF-8"?><office:document-content ` + namespaces + `><office:body><office:chart/></office:body></office:document-content>`
	return []Case{
		ok("odf/benign/plain", nil, withContent("", "")),
		ok("odf/benign/links", []string{"https://www.mairie-exemple.fr/plu", "mailto:urbanisme@mairie-exemple.fr"}, withContent("",
			`<text:p>Voir <text:a xlink:type="simple" xlink:href="https://www.mairie-exemple.fr/plu">le PLU</text:a> ou écrire à <text:a xlink:href="mailto:urbanisme@mairie-exemple.fr">l'urbanisme</text:a>, et <text:a xlink:href="#Sommaire">le sommaire</text:a>.</text:p>`)),
		ok("odf/benign/pictures-and-chart", nil, withContent("",
			`<text:p><draw:frame draw:name="Image1"><draw:image xlink:href="Pictures/plan.png" xlink:type="simple"/></draw:frame><draw:frame><draw:object xlink:href="./Object 1"/><draw:image xlink:href="./ObjectReplacements/Object 1"/></draw:frame></text:p>`,
			Entry{Name: "Pictures/plan.png", Data: pngOf(16, 16), Store: true},
			Entry{Name: "Pictures/photo.jpg", Data: jpegOf(16, 16), Store: true},
			Entry{Name: "Object 1/content.xml", Data: []byte(chart)},
			Entry{Name: "Object 1/styles.xml", Data: Styles("")},
			Entry{Name: "ObjectReplacements/Object 1", Data: pngOf(8, 8)},
			Entry{Name: "Thumbnails/thumbnail.png", Data: pngOf(8, 8)},
			Entry{Name: "Configurations2/", Data: nil},
			Entry{Name: "settings.xml", Data: []byte(`<?xml version="1.0" encoding="UTF-8"?><office:document-settings ` + namespaces + ` xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0"><office:settings><config:config-item-set config:name="ooo:view-settings"><config:config-item config:name="ViewAreaTop" config:type="long">0</config:config-item></config:config-item-set></office:settings></office:document-settings>`)},
			Entry{Name: "META-INF/manifest.xml", Data: Manifest(ODT, `<manifest:file-entry manifest:full-path="Pictures/plan.png" manifest:media-type="image/png"/><manifest:file-entry manifest:full-path="Object 1/" manifest:media-type="application/vnd.oasis.opendocument.chart"/>`)})),
		ok("odf/benign/comments-and-cdata", nil, func() []byte {
			c := strings.Replace(string(Content("", `<text:p>a &lt;b&gt; &amp; c &#233;</text:p>`)), "<office:body>", "<!-- a comment with <tags> and --><?pi data?><office:body>", 1)
			return Doc([]byte(c))
		}),
		ok("odf/benign/libreoffice-parts", nil, withContent("", `<text:p><text:span office:string-value="Service: urbanisme">javascript: un langage</text:span></text:p>`,
			Entry{Name: "Configurations2/accelerator/current.xml", Data: nil},
			Entry{Name: "Configurations2/", Data: nil},
			Entry{Name: "layout-cache", Data: []byte{0, 1, 2, 3, 4, 5}},
			Entry{Name: "manifest.rdf", Data: []byte(`<?xml version="1.0" encoding="utf-8"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="content.xml"><rdf:type rdf:resource="http://docs.oasis-open.org/ns/office/1.2/meta/odf#ContentFile"/></rdf:Description></rdf:RDF>`)},
			Entry{Name: "META-INF/manifest.xml", Data: Manifest(ODT, `<manifest:file-entry manifest:full-path="Configurations2/" manifest:media-type="application/vnd.sun.xml.ui.configuration"/><manifest:file-entry manifest:full-path="manifest.rdf" manifest:media-type="application/rdf+xml"/>`)})),
		ok("odf/benign/svg-with-doctype", nil, withContent("", `<text:p><draw:frame><draw:image xlink:href="Pictures/plan.svg"/></draw:frame></text:p>`,
			Entry{Name: "Pictures/plan.svg", Data: []byte(`<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10"><rect width="10" height="10" fill="#0060a0"/></svg>`)})),
		ok("odf/benign/template-path", nil, func() []byte {
			m := strings.Replace(string(Meta()), "</office:meta>", `<meta:template xlink:type="simple" xlink:href="file:///home/jeanne/Modeles/lettre.ott" xlink:title="lettre"/></office:meta>`, 1)
			return Doc(Content("", ""), Entry{Name: "meta.xml", Data: []byte(m)})
		}),
	}
}
