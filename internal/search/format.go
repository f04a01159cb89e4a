package search

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"unicode/utf8"
)

// The index is a folder of small files, so that a browser fetches only what a query needs
// and a static host serves them as they are. The manifest and the shards are gzip-compressed
// (a reader also takes them decompressed, as a host may hand them over):
//
//	index.bin    the manifest: the language, the number of documents, how many a document
//	             file holds, the version (which the script adds to every other file's URL,
//	             so that a cache never mixes two builds), the interface's strings, and the
//	             first term of each shard
//	t/<n>.bin    shard n: a run of terms in byte order, each with its postings
//	d/<k>.bin    documents k×perFile to (k+1)×perFile-1: each one's URL, title, meta line and
//	             text, for the hits shown. A reader fetches a document with two range
//	             requests, its entry in the table, then the document: ten thousand files
//	             of a few kilobytes cost a build more than the rest of the index.
//
// Each file starts with a four-byte magic and a format version. Numbers are unsigned
// varints (as encoding/binary writes them); a string is its length in bytes, then its UTF-8.
//
//	manifest  "PVSM" 1 | lang | version | docs | perFile | strings: n, n×(key, value) |
//	          shards: n, n×(first term, front-coded: shared prefix length, suffix)
//	shard     "PVST" 1 | terms: n, n×(shared prefix length, suffix, idf, df,
//	          df×(document number delta, score byte))
//	documents "PVSD" 1 0 0 0 | count (uint32, little-endian) | count×(offset, length: uint32
//	          LE, from the file's start) | the documents: url | title | meta | text
//
// A posting's score byte is the term's weight in that document (the title counts most,
// then headings and keywords, then the body, by BM25's saturation and length
// normalisation); idf is the term's rarity, a byte too. A document's score for a query is
// the sum over its terms of idf × score, in integers, so that the server and the script
// rank alike.

const formatVersion = 1

var (
	magicManifest = []byte("PVSM")
	magicShard    = []byte("PVST")
	magicDoc      = []byte("PVSD")
)

// Limits on what a reader accepts, whatever a file claims.
const (
	maxDocs     = 1 << 24
	maxShards   = 1 << 20
	maxStrings  = 256
	maxTermLen  = 255
	maxFileSize = 64 << 20 // decompressed
	maxDocSize  = 1 << 20  // a document's record (its text is cut at maxText)
)

// docsPerFile is how many documents a document file holds.
const docsPerFile = 512

// docHeader is the size of a document file's header: magic, version, padding, count.
const docHeader = 12

var errFormat = errors.New("search index: malformed file")

// docFile is the document file holding document n, and n's entry in it.
func docFile(n, perFile int) (name string, entry int) {
	return "d/" + strconv.Itoa(n/perFile) + ".bin", n % perFile
}

// enc builds a file.
type enc struct{ b []byte }

func (e *enc) uint(v uint64)  { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) str(s string)   { e.uint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *enc) bytes(s []byte) { e.uint(uint64(len(s))); e.b = append(e.b, s...) }

// dec reads a file, failing once and for good on the first fault.
type dec struct {
	b   []byte
	err error
}

func (d *dec) fail() {
	if d.err == nil {
		d.err = errFormat
	}
	d.b = nil
}

func (d *dec) uint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a number that must not exceed max.
func (d *dec) count(max uint64) int {
	v := d.uint()
	if v > max {
		d.fail()
		return 0
	}
	return int(v)
}

func (d *dec) raw(n int) []byte {
	if n < 0 || n > len(d.b) {
		d.fail()
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *dec) byte() byte {
	if len(d.b) == 0 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *dec) str() string { return string(d.raw(d.count(uint64(len(d.b))))) }

func (d *dec) header(magic []byte) {
	if !bytes.HasPrefix(d.b, magic) || len(d.b) < len(magic)+1 {
		d.fail()
		return
	}
	if v := d.b[len(magic)]; v != formatVersion {
		d.err = fmt.Errorf("search index: format version %d, this program reads %d", v, formatVersion)
		d.b = nil
		return
	}
	d.b = d.b[len(magic)+1:]
}

// unpack undoes the files' compression. A host that served a file with Content-Encoding
// gzip hands it over already decompressed, so a file without gzip's magic is taken as is.
func unpack(b []byte) ([]byte, error) {
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		return b, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, errFormat
	}
	out, err := io.ReadAll(io.LimitReader(zr, maxFileSize+1))
	if err != nil {
		return nil, errFormat
	}
	if len(out) > maxFileSize {
		return nil, fmt.Errorf("search index: a file unpacks past %d bytes", maxFileSize)
	}
	return out, nil
}

// manifest is index.bin.
type manifest struct {
	lang    string
	version string
	docs    int
	perFile int
	strings map[string]string
	firsts  []string // each shard's first term
}

func (m *manifest) encode() []byte {
	e := &enc{b: append(append([]byte{}, magicManifest...), formatVersion)}
	e.str(m.lang)
	e.str(m.version)
	e.uint(uint64(m.docs))
	e.uint(uint64(m.perFile))
	keys := sortedKeys(m.strings)
	e.uint(uint64(len(keys)))
	for _, k := range keys {
		e.str(k)
		e.str(m.strings[k])
	}
	e.uint(uint64(len(m.firsts)))
	prev := ""
	for _, t := range m.firsts {
		n := sharedPrefix(prev, t)
		e.uint(uint64(n))
		e.str(t[n:])
		prev = t
	}
	return e.b
}

func parseManifest(b []byte) (*manifest, error) {
	d := &dec{b: b}
	d.header(magicManifest)
	m := &manifest{strings: map[string]string{}}
	m.lang = d.str()
	m.version = d.str()
	m.docs = d.count(maxDocs)
	m.perFile = d.count(maxDocs)
	if m.perFile == 0 && d.err == nil {
		d.fail()
	}
	n := d.count(maxStrings)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.str()
		m.strings[k] = d.str()
	}
	n = d.count(maxShards)
	prev := ""
	for i := 0; i < n && d.err == nil; i++ {
		shared := d.count(uint64(len(prev)))
		t := prev[:shared] + d.str()
		if i > 0 && t <= prev {
			d.fail() // shards are in term order
		}
		m.firsts = append(m.firsts, t)
		prev = t
	}
	if d.err == nil && len(d.b) > 0 {
		d.fail()
	}
	if d.err != nil {
		return nil, d.err
	}
	return m, nil
}

// posting is a term's occurrence in a document.
type posting struct {
	doc   uint32
	score uint8
}

// entry is a term of a shard with its postings.
type entry struct {
	term     string
	idf      uint8
	postings []posting
}

func encodeShard(entries []entry) []byte {
	e := &enc{b: append(append([]byte{}, magicShard...), formatVersion)}
	e.uint(uint64(len(entries)))
	prev := ""
	for _, en := range entries {
		n := sharedPrefix(prev, en.term)
		e.uint(uint64(n))
		e.str(en.term[n:])
		e.b = append(e.b, en.idf)
		e.uint(uint64(len(en.postings)))
		last := uint32(0)
		for i, p := range en.postings {
			delta := p.doc - last
			if i == 0 {
				delta = p.doc
			}
			e.uint(uint64(delta))
			e.b = append(e.b, p.score)
			last = p.doc
		}
		prev = en.term
	}
	return e.b
}

// parseShard decodes a shard. Document numbers are checked against docs, the number of
// documents in the index.
func parseShard(b []byte, docs int) ([]entry, error) {
	d := &dec{b: b}
	d.header(magicShard)
	n := d.count(uint64(len(d.b)))
	entries := make([]entry, 0, min(n, 1024))
	prev := ""
	for i := 0; i < n && d.err == nil; i++ {
		shared := d.count(uint64(len(prev)))
		t := prev[:shared] + d.str()
		if (i > 0 && t <= prev) || len(t) > maxTermLen {
			d.fail()
			break
		}
		en := entry{term: t, idf: d.byte()}
		df := d.count(uint64(docs))
		en.postings = make([]posting, 0, min(df, len(d.b)/2))
		doc := uint64(0)
		for k := 0; k < df && d.err == nil; k++ {
			delta := d.uint()
			if k > 0 && delta == 0 {
				d.fail() // documents are in increasing order, once each
			}
			doc += delta
			if doc >= uint64(docs) {
				d.fail()
			}
			en.postings = append(en.postings, posting{doc: uint32(doc), score: d.byte()})
		}
		entries = append(entries, en)
		prev = t
	}
	if d.err == nil && len(d.b) > 0 {
		d.fail()
	}
	if d.err != nil {
		return nil, d.err
	}
	return entries, nil
}

// doc is a document as stored for display.
type doc struct {
	url, title, meta, text string
}

func encodeDoc(dst []byte, url, title, meta string, text []byte) []byte {
	e := &enc{b: dst}
	e.str(url)
	e.str(title)
	e.str(meta)
	e.bytes(text)
	return e.b
}

func parseDoc(b []byte) (*doc, error) {
	d := &dec{b: b}
	dc := &doc{url: d.str(), title: d.str(), meta: d.str(), text: d.str()}
	if d.err == nil && len(d.b) > 0 {
		d.fail()
	}
	if d.err != nil {
		return nil, d.err
	}
	return dc, nil
}

// docFileStart begins a document file of count documents: its header and an empty table.
func docFileStart(dst []byte, count int) []byte {
	dst = append(dst, magicDoc...)
	dst = append(dst, formatVersion, 0, 0, 0)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(count))
	return append(dst, make([]byte, 8*count)...)
}

// appendDocRecord appends a document's record to its file and fills its table entry.
func appendDocRecord(file []byte, entry int, d *Document, text []byte) []byte {
	off := len(file)
	file = encodeDoc(file, d.URL, d.Title, d.Meta, text)
	binary.LittleEndian.PutUint32(file[docHeader+8*entry:], uint32(off))
	binary.LittleEndian.PutUint32(file[docHeader+8*entry+4:], uint32(len(file)-off))
	return file
}

// parseDocHeader checks a document file's first bytes and returns its count.
func parseDocHeader(b []byte) (int, error) {
	if len(b) < docHeader || !bytes.HasPrefix(b, magicDoc) {
		return 0, errFormat
	}
	if b[4] != formatVersion {
		return 0, fmt.Errorf("search index: format version %d, this program reads %d", b[4], formatVersion)
	}
	return int(binary.LittleEndian.Uint32(b[8:])), nil
}

// parseDocEntry reads a table entry: where a document's record is, checked against the
// file's size.
func parseDocEntry(b []byte, fileSize int64) (off, n int64, err error) {
	if len(b) != 8 {
		return 0, 0, errFormat
	}
	off, n = int64(binary.LittleEndian.Uint32(b)), int64(binary.LittleEndian.Uint32(b[4:]))
	if off < docHeader || n > maxDocSize || off+n > fileSize {
		return 0, 0, errFormat
	}
	return off, n, nil
}

// sharedPrefix is the length of a and b's common start, cut at a character's start so that
// a reader may decode each suffix as text.
func sharedPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	for n > 0 && n < len(b) && !utf8.RuneStart(b[n]) {
		n--
	}
	return n
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
