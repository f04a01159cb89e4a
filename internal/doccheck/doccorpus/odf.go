package doccorpus

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"strconv"
)

// OpenDocument media types.
const (
	ODT = "application/vnd.oasis.opendocument.text"
	ODS = "application/vnd.oasis.opendocument.spreadsheet"
	ODP = "application/vnd.oasis.opendocument.presentation"
	PDF = "application/pdf"
)

// Entry is one entry of a zip archive.
type Entry struct {
	Name  string
	Data  []byte
	Store bool // stored, not deflated
}

// Zip writes entries in order, the first one stored with its sizes in its header when it
// is named mimetype (as office suites write it).
func Zip(entries ...Entry) []byte {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for _, e := range entries {
		if e.Name == "mimetype" {
			w, err := z.CreateRaw(&zip.FileHeader{Name: e.Name, Method: zip.Store, CRC32: crc32.ChecksumIEEE(e.Data),
				CompressedSize64: uint64(len(e.Data)), UncompressedSize64: uint64(len(e.Data))})
			if err != nil {
				panic(err)
			}
			w.Write(e.Data)
			continue
		}
		h := &zip.FileHeader{Name: e.Name, Method: zip.Deflate}
		if e.Store {
			h.Method = zip.Store
		}
		w, err := z.CreateHeader(h)
		if err != nil {
			panic(err)
		}
		w.Write(e.Data)
	}
	if err := z.Close(); err != nil {
		panic(err)
	}
	return b.Bytes()
}

const namespaces = `xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:script="urn:oasis:names:tc:opendocument:xmlns:script:1.0" xmlns:form="urn:oasis:names:tc:opendocument:xmlns:form:1.0" xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" xmlns:dom="http://www.w3.org/2001/xml-events" office:version="1.3"`

// Content is a content.xml whose text body holds body, after head (automatic styles,
// scripts, event listeners: what comes before the body).
func Content(head, body string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<office:document-content ` + namespaces + `><office:scripts/>` + head +
		`<office:automatic-styles/><office:body><office:text><text:p text:style-name="Standard">Compte rendu de la réunion publique du 12 mars.</text:p>` +
		body + `</office:text></office:body></office:document-content>`)
}

// Styles is a styles.xml holding extra in its office:styles.
func Styles(extra string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<office:document-styles ` + namespaces + `><office:styles><style:style style:name="Standard" style:family="paragraph"/>` + extra +
		`</office:styles></office:document-styles>`)
}

// Meta is a meta.xml without people in it.
func Meta() []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<office:document-meta ` + namespaces + `><office:meta><meta:generator>LibreOffice/7.6.4.1$Linux_X86_64</meta:generator><dc:title>Compte rendu</dc:title><meta:creation-date>2026-03-12T18:30:00</meta:creation-date></office:meta></office:document-meta>`)
}

// Manifest lists the usual parts and, in extra, more file entries.
func Manifest(mediaType, extra string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">` +
		`<manifest:file-entry manifest:full-path="/" manifest:version="1.3" manifest:media-type="` + mediaType + `"/>` +
		`<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>` +
		`<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>` +
		`<manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>` +
		extra + `</manifest:manifest>`)
}

// Doc is an OpenDocument text with the given content.xml and more entries after the usual
// ones (an entry named as a usual one replaces it).
func Doc(content []byte, more ...Entry) []byte {
	entries := []Entry{
		{Name: "mimetype", Data: []byte(ODT)},
		{Name: "content.xml", Data: content},
		{Name: "styles.xml", Data: Styles("")},
		{Name: "meta.xml", Data: Meta()},
		{Name: "META-INF/manifest.xml", Data: Manifest(ODT, "")},
	}
	for _, m := range more {
		replaced := false
		for i := range entries {
			if entries[i].Name == m.Name {
				entries[i], replaced = m, true
			}
		}
		if !replaced {
			entries = append(entries, m)
		}
	}
	return Zip(entries...)
}

// Overlapping is a zip bomb of another kind: n entries of the central directory share one
// compressed entry of size bytes of zeros, each looking like a file of its own.
func Overlapping(n, size int) []byte {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	w, _ := z.CreateRaw(&zip.FileHeader{Name: "mimetype", Method: zip.Store, CRC32: crc32.ChecksumIEEE([]byte(ODT)), CompressedSize64: uint64(len(ODT)), UncompressedSize64: uint64(len(ODT))})
	w.Write([]byte(ODT))
	for _, e := range []Entry{{Name: "content.xml", Data: Content("", "")}, {Name: "META-INF/manifest.xml", Data: Manifest(ODT, "")}} {
		w, _ := z.Create(e.Name)
		w.Write(e.Data)
	}
	zeros := make([]byte, size)
	w, _ = z.CreateHeader(&zip.FileHeader{Name: "Pictures/0.bin", Method: zip.Deflate})
	w.Write(zeros)
	z.Close()
	data := b.Bytes()
	// The central directory's record of the shared entry, copied n times under other
	// names, all pointing at its one local header.
	cd := bytes.LastIndex(data, []byte("PK\x01\x02"))
	end := bytes.LastIndex(data, []byte("PK\x05\x06"))
	rec := data[cd:end]
	nameLen := int(binary.LittleEndian.Uint16(rec[28:]))
	var dir bytes.Buffer
	first := bytes.Index(data, []byte("PK\x01\x02"))
	dir.Write(data[first:cd])
	count := bytes.Count(data[first:cd], []byte("PK\x01\x02"))
	for i := range n {
		name := []byte("Pictures/" + strconv.Itoa(i+1) + ".bin")
		r := append([]byte{}, rec[:28]...)
		r = binary.LittleEndian.AppendUint16(r, uint16(len(name)))
		r = append(r, rec[30:46]...)
		r = append(r, name...)
		r = append(r, rec[46+nameLen:]...)
		dir.Write(r)
		count++
	}
	out := append([]byte{}, data[:first]...)
	dirOff := len(out)
	out = append(out, dir.Bytes()...)
	eocd := append([]byte{}, data[end:end+22]...)
	binary.LittleEndian.PutUint16(eocd[8:], uint16(count))
	binary.LittleEndian.PutUint16(eocd[10:], uint16(count))
	binary.LittleEndian.PutUint32(eocd[12:], uint32(dir.Len()))
	binary.LittleEndian.PutUint32(eocd[16:], uint32(dirOff))
	return append(out, eocd...)
}
