package search

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"sync"
	"unicode/utf8"
)

// Bounds on a query: what a search box sends is short, and anything longer is cut.
const (
	maxQueryBytes = 256
	maxQueryTerms = 8
	minPrefix     = 3  // letters a word needs to be looked for as a beginning
	maxExpansions = 32 // terms a beginning may stand for
	PerPage       = 10 // hits on a page of results
)

// Query is a parsed search: every term must be found in a document.
type Query struct {
	Terms []QueryTerm
}

// QueryTerm is a word (or a date) of a query.
type QueryTerm struct {
	Term string // the indexed term: the word's singular, a number, or a date (@2026-03-12)
	// Prefix is the word as typed, folded, looked for as the beginning of other terms when
	// Term itself is not in the index ("biblio" finds "bibliotheque"); "" for numbers, dates
	// and short words.
	Prefix string
}

// ParseQuery reads a query as the index reads texts: folded, elisions and stop words
// dropped, plurals made singular. A date (12 mars 2026, mars 2026) stands for its most
// precise term. It keeps the first eight terms of the first 256 bytes.
func ParseQuery(q, lang string) Query {
	if len(q) > maxQueryBytes {
		n := maxQueryBytes
		for n > 0 && !utf8.RuneStart(q[n]) {
			n--
		}
		q = q[:n]
	}
	t := newTokenizer(lang)
	words := t.split(q)
	var out Query
	seen := map[string]bool{}
	add := func(qt QueryTerm) {
		if !seen[qt.Term] && len(out.Terms) < maxQueryTerms {
			seen[qt.Term] = true
			out.Terms = append(out.Terms, qt)
		}
	}
	for i := 0; i < len(words); i++ {
		if d, ok := dateAt(q, words, i); ok {
			add(QueryTerm{Term: queryDateTerm(d)})
			i = d.to - 1
			continue
		}
		term := t.termOf(&words[i])
		if term == nil {
			continue
		}
		qt := QueryTerm{Term: string(term)}
		if f := words[i].fold; !isNumber(f) && utf8.RuneCount(f) >= minPrefix {
			qt.Prefix = string(f)
		}
		add(qt)
	}
	return out
}

// Index reads an index written by Write, from a folder (index.bin at its root), loading
// shards as queries need them and keeping them.
type Index struct {
	fsys fs.FS
	m    *manifest

	mu     sync.Mutex
	shards map[int][]entry
}

// Open reads the manifest of the index in fsys.
func Open(fsys fs.FS) (*Index, error) {
	raw, err := fs.ReadFile(fsys, "index.bin")
	if err != nil {
		return nil, err
	}
	return openManifest(fsys, raw)
}

func openManifest(fsys fs.FS, raw []byte) (*Index, error) {
	b, err := unpack(raw)
	if err != nil {
		return nil, fmt.Errorf("index.bin: %w", err)
	}
	m, err := parseManifest(b)
	if err != nil {
		return nil, fmt.Errorf("index.bin: %w", err)
	}
	return &Index{fsys: fsys, m: m, shards: map[int][]entry{}}, nil
}

// Version identifies the build the index comes from.
func (ix *Index) Version() string { return ix.m.version }

// Lang is the language the index was written for.
func (ix *Index) Lang() string { return ix.m.lang }

// Docs is the number of documents indexed.
func (ix *Index) Docs() int { return ix.m.docs }

// String returns one of the interface's texts kept in the manifest, or key.
func (ix *Index) String(key string) string {
	if s, ok := ix.m.strings[key]; ok {
		return s
	}
	return key
}

func (ix *Index) shard(i int) ([]entry, error) {
	ix.mu.Lock()
	s, ok := ix.shards[i]
	ix.mu.Unlock()
	if ok {
		return s, nil
	}
	name := "t/" + strconv.Itoa(i) + ".bin"
	raw, err := fs.ReadFile(ix.fsys, name)
	if err != nil {
		return nil, err
	}
	b, err := unpack(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s, err = parseShard(b, ix.m.docs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	ix.mu.Lock()
	ix.shards[i] = s
	ix.mu.Unlock()
	return s, nil
}

// shardFor is the shard whose range holds term: the last one starting at or before it.
func (ix *Index) shardFor(term string) int {
	i := sort.Search(len(ix.m.firsts), func(i int) bool { return ix.m.firsts[i] > term })
	return max(i-1, 0)
}

// lookup finds a query term's entries: the term itself, else the terms it begins.
func (ix *Index) lookup(qt QueryTerm) ([]entry, error) {
	if len(ix.m.firsts) == 0 {
		return nil, nil
	}
	si := ix.shardFor(qt.Term)
	s, err := ix.shard(si)
	if err != nil {
		return nil, err
	}
	if i, ok := slices.BinarySearchFunc(s, qt.Term, func(e entry, t string) int { return cmpString(e.term, t) }); ok {
		return s[i : i+1], nil
	}
	if qt.Prefix == "" {
		return nil, nil
	}
	// The terms the word begins are in the shard that would hold the word, and maybe the
	// next one: no further, so that a query costs at most two shards a word.
	si = ix.shardFor(qt.Prefix)
	var out []entry
	for k := si; k < len(ix.m.firsts) && k <= si+1 && len(out) < maxExpansions; k++ {
		if k > si && !hasPrefix(ix.m.firsts[k], qt.Prefix) {
			break
		}
		s, err := ix.shard(k)
		if err != nil {
			return nil, err
		}
		i, _ := slices.BinarySearchFunc(s, qt.Prefix, func(e entry, t string) int { return cmpString(e.term, t) })
		for ; i < len(s) && hasPrefix(s[i].term, qt.Prefix) && len(out) < maxExpansions; i++ {
			out = append(out, s[i])
		}
	}
	return out, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// hit is a document matching a query, with its score.
type hit struct {
	doc   uint32
	score uint64
}

// match runs a parsed query: the documents holding every term, best first (the later
// document first on a tie), and the terms found, to mark them in excerpts.
func (ix *Index) match(q Query) ([]hit, map[string]int, error) {
	if len(q.Terms) == 0 {
		return nil, nil, nil
	}
	found := map[string]int{} // term → the query term it stands for
	var lists [][]hit
	for qi, qt := range q.Terms {
		entries, err := ix.lookup(qt)
		if err != nil {
			return nil, nil, err
		}
		if len(entries) == 0 {
			return nil, found, nil
		}
		var l []hit
		for _, e := range entries {
			found[e.term] = qi
			for _, p := range e.postings {
				l = append(l, hit{doc: p.doc, score: uint64(e.idf) * uint64(p.score)})
			}
		}
		if len(entries) > 1 {
			// A document matching several of the terms a beginning stands for counts its best.
			sort.Slice(l, func(i, j int) bool {
				if l[i].doc != l[j].doc {
					return l[i].doc < l[j].doc
				}
				return l[i].score > l[j].score
			})
			l = slices.CompactFunc(l, func(a, b hit) bool { return a.doc == b.doc })
		}
		lists = append(lists, l)
	}
	slices.SortFunc(lists, func(a, b []hit) int { return len(a) - len(b) })
	hits := lists[0]
	for _, l := range lists[1:] {
		hits = intersect(hits, l)
		if len(hits) == 0 {
			break
		}
	}
	sortHits(hits)
	return hits, found, nil
}

// intersect keeps the documents of a that are in b, adding their scores; both are in
// document order.
func intersect(a, b []hit) []hit {
	out := a[:0:0]
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].doc < b[j].doc:
			i++
		case a[i].doc > b[j].doc:
			j++
		default:
			out = append(out, hit{doc: a[i].doc, score: a[i].score + b[j].score})
			i++
			j++
		}
	}
	return out
}

func sortHits(h []hit) {
	slices.SortFunc(h, func(a, b hit) int {
		if a.score != b.score {
			if a.score > b.score {
				return -1
			}
			return 1
		}
		return int(b.doc) - int(a.doc)
	})
}

// Results is a page of results.
type Results struct {
	Query string // as typed
	Total int    // documents found
	Page  int    // this page, from 1
	Pages int
	Hits  []Hit
	// Empty says the query had no word to look for (only stop words, or nothing).
	Empty bool
}

// Hit is a document found, ready to show.
type Hit struct {
	URL     string
	Title   []Span // the title, with the words found marked
	Meta    string
	Excerpt []Span // a part of the text around the words found, marked
}

// Span is a piece of text, marked or not. Text is plain: whoever shows it escapes it.
type Span struct {
	Text string
	Mark bool
}

// Search runs q and returns page (from 1) of its results.
func (ix *Index) Search(q string, page int) (*Results, error) {
	pq := ParseQuery(q, ix.m.lang)
	res := &Results{Query: q, Page: 1, Empty: len(pq.Terms) == 0}
	hits, found, err := ix.match(pq)
	if err != nil {
		return nil, err
	}
	res.Total = len(hits)
	res.Pages = (len(hits) + PerPage - 1) / PerPage
	res.Page = min(max(page, 1), max(res.Pages, 1))
	from := (res.Page - 1) * PerPage
	for _, h := range hits[min(from, len(hits)):min(from+PerPage, len(hits))] {
		d, err := ix.doc(h.doc)
		if err != nil {
			return nil, err
		}
		t := newTokenizer(ix.m.lang)
		res.Hits = append(res.Hits, Hit{
			URL: d.url, Meta: d.meta,
			Title:   marks(t, d.title, found, -1),
			Excerpt: marks(t, d.text, found, excerptWords),
		})
	}
	return res, nil
}

// doc reads document n: its entry in its file's table, then its record, each read at its
// place when the file system allows it (as the script asks for two ranges).
func (ix *Index) doc(n uint32) (*doc, error) {
	if int(n) >= ix.m.docs {
		return nil, fmt.Errorf("search index: no document %d", n)
	}
	name, entry := docFile(int(n), ix.m.perFile)
	f, err := ix.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	ra, ok := f.(io.ReaderAt)
	if !ok {
		b, err := io.ReadAll(io.LimitReader(f, maxFileSize))
		if err != nil {
			return nil, err
		}
		ra = bytes.NewReader(b)
	}
	read := func(off, n int64) ([]byte, error) {
		b := make([]byte, n)
		if _, err := ra.ReadAt(b, off); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return b, nil
	}
	head, err := read(0, docHeader)
	if err != nil {
		return nil, err
	}
	count, err := parseDocHeader(head)
	if err != nil || entry >= count {
		return nil, fmt.Errorf("%s: %w", name, errFormat)
	}
	e, err := read(int64(docHeader+8*entry), 8)
	if err != nil {
		return nil, err
	}
	off, size, err := parseDocEntry(e, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	rec, err := read(off, size)
	if err != nil {
		return nil, err
	}
	d, err := parseDoc(rec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return d, nil
}

// excerptWords is an excerpt's length, in words.
const excerptWords = 30

// marks cuts s into spans, the words that stand for found terms marked. With window > 0 it
// keeps only that many words: those around the hits that cover the most query terms, else
// the beginning; "…" says where text was left out.
func marks(t *tokenizer, s string, found map[string]int, window int) []Span {
	type mark struct{ start, end, q int }
	var ms []mark
	t.each(s, func(term []byte, start, end int) {
		if q, ok := found[string(term)]; ok {
			ms = append(ms, mark{start, end, q})
		}
	})
	// Spans may overlap (a date and its words): merge them, in order.
	slices.SortStableFunc(ms, func(a, b mark) int { return a.start - b.start })
	merged := ms[:0]
	for _, m := range ms {
		if n := len(merged); n > 0 && m.start < merged[n-1].end {
			merged[n-1].end = max(merged[n-1].end, m.end)
			continue
		}
		merged = append(merged, m)
	}
	ms = merged

	from, to := 0, len(s)
	if window > 0 {
		words := t.split(s)
		if len(words) > window {
			best, bestDistinct, bestHits := 0, -1, -1
			wi := 0
			for _, m := range ms {
				for wi < len(words) && words[wi].end <= m.start {
					wi++
				}
				ws := max(wi-window/4, 0)
				ws = min(ws, len(words)-window)
				lo, hi := words[ws].start, words[ws+window-1].end
				distinct, n := 0, 0
				seen := uint64(0)
				for _, o := range ms {
					if o.start >= lo && o.end <= hi {
						n++
						if seen&(1<<uint(o.q%64)) == 0 {
							seen |= 1 << uint(o.q%64)
							distinct++
						}
					}
				}
				if distinct > bestDistinct || distinct == bestDistinct && n > bestHits {
					best, bestDistinct, bestHits = ws, distinct, n
				}
			}
			from, to = words[best].start, words[best+window-1].end
			if best == 0 {
				from = 0
			}
		}
	}
	var out []Span
	if from > 0 {
		out = append(out, Span{Text: "… "})
	}
	pos := from
	for _, m := range ms {
		if m.start < from || m.end > to {
			continue
		}
		if m.start > pos {
			out = append(out, Span{Text: s[pos:m.start]})
		}
		out = append(out, Span{Text: s[m.start:m.end], Mark: true})
		pos = m.end
	}
	if pos < to {
		out = append(out, Span{Text: s[pos:to]})
	}
	if to < len(s) {
		out = append(out, Span{Text: " …"})
	}
	return out
}
