package search

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Document is a page to index.
type Document struct {
	URL      string   // the link to the page: its site path, with the base URL's folder
	Title    string   // weighs most
	Meta     string   // the line shown under the title (kind, date, place); not searched
	Body     string   // the page's text without markup
	Headings []string // its section titles: they weigh more than the body
	// Keywords say what the page is about beyond its text: tags, an event's place and
	// address, a document's files' titles, a photo's caption. They weigh more than the
	// body, and are shown in excerpts after it.
	Keywords []string
	// Days are the calendar days the page is about (an event's, from its start to its end),
	// in the site's zone: the page is found by "12 mars", "mars 2026" or "12 mars 2026".
	Days []time.Time
}

// Options tunes Write.
type Options struct {
	Lang    string            // the site's language: fr, en (others: no plural rules, no stop words)
	Strings map[string]string // the interface's texts, kept in the manifest for the server and the script
	Workers int               // documents tokenised at once (default 1)
	// ShardSize is the size a shard aims at before compression (default 12 KiB): a query
	// fetches one shard a word, so smaller shards cost less a query and more files.
	ShardSize int
}

// Stats tells what Write wrote.
type Stats struct {
	Docs, Terms, Shards, Files int
	Bytes                      int64 // written, compressed
	Version                    string
}

// Field weights, in score units (see score).
const (
	weightTitle   = 3.0
	weightHeading = 1.0
	weightKeyword = 1.5
	bm25K1        = 1.2
	bm25B         = 0.75
	scoreScale    = 25 // a score byte is 25 × the weight
	idfScale      = 16

	flagTitle   = 1
	flagHeading = 2
	flagKeyword = 4

	// maxText bounds the text kept for a document's excerpt; its words beyond are still
	// found, shown by the page's beginning.
	maxText = 24 << 10
	// maxDays bounds the days an event is found by (a season-long exhibition: its first
	// months).
	maxDays = 92
)

// Write builds the index of n documents and hands each of its files to write, with a path
// relative to the index's folder. docAt(i) returns document i; later documents win ties in
// ranking, so give them oldest first. Each document is let go once indexed: a large site's
// text is never all in memory. docAt and write are called from several goroutines at once.
func Write(n int, docAt func(i int) (*Document, error), opts Options, write func(name string, data []byte) error) (*Stats, error) {
	if n > maxDocs {
		return nil, fmt.Errorf("search index: %d documents, more than %d", n, maxDocs)
	}
	workers := max(opts.Workers, 1)
	shardSize := opts.ShardSize
	if shardSize <= 0 {
		shardSize = 12 << 10
	}

	// Tokenise, each worker a contiguous run of document files, so that each worker's
	// postings are in document order and merge by concatenation, and each file is written
	// by the worker that made its documents.
	files := (n + docsPerFile - 1) / docsPerFile
	parts := make([]*termCollector, workers)
	fileHashes := make([][32]byte, files)
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		from, to := w*files/workers*docsPerFile, min((w+1)*files/workers*docsPerFile, n)
		parts[w] = newCollector(opts.Lang)
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := parts[w]
			var text, file []byte
			for i := from; i < to; i++ {
				name, entry := docFile(i, docsPerFile)
				if entry == 0 {
					file = docFileStart(file[:0], min(docsPerFile, to-i))
				}
				d, err := docAt(i)
				if err != nil {
					errs[w] = err
					return
				}
				c.add(uint32(i), d)
				// Documents are stored as they are: a hit is one range of a file, and
				// compressing them would cost a build more than it saves a reader.
				text = storedText(text[:0], d)
				file = appendDocRecord(file, entry, d, text)
				if entry == docsPerFile-1 || i == to-1 {
					fileHashes[i/docsPerFile] = sha256.Sum256(file)
					c.docBytes += int64(len(file))
					if err := write(name, file); err != nil {
						errs[w] = err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}

	// Merge the workers' terms and score the postings.
	var totalLen int64
	for _, c := range parts {
		totalLen += c.bodyLen
	}
	avgLen := float64(totalLen) / float64(max(n, 1))
	lens := make([]uint32, n)
	for _, c := range parts {
		copy(lens[c.first:], c.lens)
	}
	type list struct {
		c  *termCollector
		id int32
	}
	index := map[string][]list{}
	for _, c := range parts {
		for t, id := range c.dict {
			index[t] = append(index[t], list{c, id})
		}
	}
	terms := make([]string, 0, len(index))
	for t := range index {
		terms = append(terms, t)
	}
	slices.Sort(terms)

	var shards [][]byte
	var firsts []string
	var cur []entry
	size := 0
	flush := func() {
		if len(cur) > 0 {
			shards = append(shards, encodeShard(cur))
			firsts = append(firsts, cur[0].term)
			cur, size = nil, 0
		}
	}
	ndocs := float64(n)
	for _, t := range terms {
		var ps []posting
		for _, l := range index[t] { // in worker order: documents in order
			ps = l.c.postings(l.id, ps, func(r rawPosting) uint8 { return score(r, lens[r.doc], avgLen) })
		}
		df := float64(len(ps))
		idf := math.Log(1 + (ndocs-df+0.5)/(df+0.5))
		en := entry{term: t, idf: uint8(min(max(math.Round(idf*idfScale), 1), 255)), postings: ps}
		cost := len(t) + 4 + 2*len(ps)
		if size > 0 && size+cost > shardSize {
			flush()
		}
		cur = append(cur, en)
		size += cost
	}
	flush()

	st := &Stats{Docs: n, Terms: len(terms), Shards: len(shards), Files: files + len(shards) + 1}
	packedShards := make([][]byte, len(shards))
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			z, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
			for i := range next {
				var b bytes.Buffer
				z.Reset(&b)
				z.Write(shards[i])
				z.Close()
				packedShards[i] = b.Bytes()
			}
		}()
	}
	for i := range shards {
		next <- i
	}
	close(next)
	wg.Wait()

	h := sha256.New()
	for i, b := range packedShards {
		h.Write(b)
		st.Bytes += int64(len(b))
		if err := write("t/"+strconv.Itoa(i)+".bin", b); err != nil {
			return nil, err
		}
	}
	for _, fh := range fileHashes {
		h.Write(fh[:])
	}
	m := &manifest{lang: opts.Lang, docs: n, perFile: docsPerFile, strings: opts.Strings, firsts: firsts}
	h.Write(m.encode())
	st.Version = hex.EncodeToString(h.Sum(nil)[:6])
	m.version = st.Version
	var b bytes.Buffer
	z, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	z.Write(m.encode())
	z.Close()
	st.Bytes += int64(b.Len())
	for _, c := range parts {
		st.Bytes += c.docBytes
	}
	if err := write("index.bin", b.Bytes()); err != nil {
		return nil, err
	}
	return st, nil
}

// score is a posting's weight in its document, as a byte: BM25's term-frequency part for
// the body (it saturates, and a long page needs more occurrences), plus a fixed weight for
// each other field the term is in.
func score(r rawPosting, docLen uint32, avgLen float64) uint8 {
	s := 0.0
	if r.body > 0 {
		tf := float64(r.body)
		norm := 1 - bm25B + bm25B*float64(docLen)/max(avgLen, 1)
		s = tf * (bm25K1 + 1) / (tf + bm25K1*norm)
	}
	if r.flags&flagTitle != 0 {
		s += weightTitle
	}
	if r.flags&flagHeading != 0 {
		s += weightHeading
	}
	if r.flags&flagKeyword != 0 {
		s += weightKeyword
	}
	return uint8(min(max(math.Round(s*scoreScale), 1), 255))
}

// storedText appends what a document keeps for its excerpts: its body, then its keywords.
func storedText(dst []byte, d *Document) []byte {
	dst = append(dst, d.Body...)
	for _, k := range d.Keywords {
		if k == "" {
			continue
		}
		if len(dst) > 0 {
			dst = append(dst, " · "...)
		}
		dst = append(dst, k...)
	}
	if len(dst) > maxText {
		n := maxText
		for n > 0 && !utf8.RuneStart(dst[n]) {
			n--
		}
		dst = append(dst[:n], "…"...)
	}
	return dst
}

type rawPosting struct {
	doc   uint32
	body  uint16 // occurrences in the body
	flags uint8  // the other fields the term is in
}

// termCollector gathers the postings of a run of documents. A term's postings are kept
// packed, three bytes or so each (document delta, body count, fields), since a large site
// has millions of them and the build renders its pages meanwhile.
type termCollector struct {
	tok      *tokenizer
	dict     map[string]int32 // term → id
	lists    [][]byte         // by term id: packed postings
	last     []uint32         // by term id: the last document in lists, plus one
	acc      []rawPosting     // this document's, by term id
	touched  []int32
	first    uint32   // the first document of the run
	lens     []uint32 // body terms, by document from first
	bodyLen  int64
	docBytes int64
}

func newCollector(lang string) *termCollector {
	return &termCollector{tok: newTokenizer(lang), dict: map[string]int32{}}
}

func (c *termCollector) id(term []byte) int32 {
	if id, ok := c.dict[string(term)]; ok {
		return id
	}
	id := int32(len(c.lists))
	c.dict[string(term)] = id
	c.lists = append(c.lists, nil)
	c.last = append(c.last, 0)
	c.acc = append(c.acc, rawPosting{})
	return id
}

func (c *termCollector) touch(term []byte) *rawPosting {
	id := c.id(term)
	a := &c.acc[id]
	if a.body == 0 && a.flags == 0 {
		c.touched = append(c.touched, id)
	}
	return a
}

func (c *termCollector) field(s string, flag uint8) {
	c.tok.each(s, func(term []byte, _, _ int) { c.touch(term).flags |= flag })
}

// add indexes document n; documents come in increasing order.
func (c *termCollector) add(n uint32, d *Document) {
	if len(c.lens) == 0 {
		c.first = n
	}
	c.field(d.Title, flagTitle)
	for _, h := range d.Headings {
		c.field(h, flagHeading)
	}
	for _, k := range d.Keywords {
		c.field(k, flagKeyword)
	}
	var dates []string
	for i, day := range d.Days {
		if i == maxDays {
			break
		}
		dates = dateTerms(dates[:0], date{year: day.Year(), month: int(day.Month()), day: day.Day()})
		for _, t := range dates {
			c.touch([]byte(t)).flags |= flagKeyword
		}
	}
	var words uint32
	c.tok.each(d.Body, func(term []byte, _, _ int) {
		a := c.touch(term)
		if a.body < math.MaxUint16 {
			a.body++
		}
		words++
	})
	c.lens = append(c.lens, words)
	c.bodyLen += int64(words)
	for _, id := range c.touched {
		a := c.acc[id]
		l := c.lists[id]
		l = binary.AppendUvarint(l, uint64(n+1-c.last[id]))
		l = binary.AppendUvarint(l, uint64(a.body))
		c.lists[id] = append(l, a.flags)
		c.last[id] = n + 1
		c.acc[id] = rawPosting{}
	}
	c.touched = c.touched[:0]
}

// postings unpacks a term's postings onto dst, scored, and lets them go.
func (c *termCollector) postings(id int32, dst []posting, score func(rawPosting) uint8) []posting {
	b := c.lists[id]
	c.lists[id] = nil
	doc := uint64(0)
	for len(b) > 0 {
		delta, k := binary.Uvarint(b)
		body, k2 := binary.Uvarint(b[k:])
		flags := b[k+k2]
		b = b[k+k2+1:]
		doc += delta
		r := rawPosting{doc: uint32(doc - 1), body: uint16(body), flags: flags}
		dst = append(dst, posting{doc: r.doc, score: score(r)})
	}
	return dst
}
