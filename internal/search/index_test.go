package search

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

var testStrings = map[string]string{
	StrResultsOne: "%d résultat pour « %s »", StrResultsOther: "%d résultats pour « %s »",
	StrNone: "Aucun résultat pour « %s ».", StrHint: "Essayez d’autres mots.", StrEmpty: "Tapez un mot.",
	StrError: "Erreur.", StrLoading: "…", StrPagination: "Pagination", StrPrevious: "Précédente",
	StrNext: "Suivante", StrPageN: "page %d",
}

// build writes an index of docs into memory.
func build(t testing.TB, docs []Document, opts Options) fstest.MapFS {
	t.Helper()
	if opts.Lang == "" {
		opts.Lang = "fr"
	}
	if opts.Strings == nil {
		opts.Strings = testStrings
	}
	var mu sync.Mutex
	m := fstest.MapFS{}
	_, err := Write(len(docs), func(i int) (*Document, error) { return &docs[i], nil }, opts, func(name string, data []byte) error {
		mu.Lock()
		defer mu.Unlock()
		if _, dup := m[name]; dup {
			return fmt.Errorf("%s written twice", name)
		}
		m[name] = &fstest.MapFile{Data: bytes.Clone(data)}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func open(t testing.TB, fsys fs.FS) *Index {
	t.Helper()
	ix, err := Open(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func urls(t testing.TB, ix *Index, q string) string {
	t.Helper()
	res, err := ix.Search(q, 1)
	if err != nil {
		t.Fatal(err)
	}
	var l []string
	for _, h := range res.Hits {
		l = append(l, h.URL)
	}
	return strings.Join(l, " ")
}

// TestRanking checks what comes first: every word must be found, a title weighs more than
// a body, a word the body repeats more than a keyword, a keyword more than one mention in
// the body, and the newer page wins a tie.
func TestRanking(t *testing.T) {
	body := "La commune publie ses informations. " + strings.Repeat("Des nouvelles de la vie locale. ", 10)
	docs := []Document{
		{URL: "/old-tie/", Title: "Réunion", Body: body + "Le jardin partagé."},
		{URL: "/body/", Title: "Réunion publique", Body: body + "On parlera de la médiathèque."},
		{URL: "/title/", Title: "La médiathèque ouvre le dimanche", Body: body},
		{URL: "/keyword/", Title: "Horaires", Body: body, Keywords: []string{"médiathèque"}},
		{URL: "/many/", Title: "Lecture", Body: body + strings.Repeat("La médiathèque prête des livres. ", 4)},
		{URL: "/new-tie/", Title: "Réunion", Body: body + "Le jardin partagé."},
		{URL: "/event/", Title: "Atelier compost", Body: "Venez nombreux.", Keywords: []string{"Jardin partagé du Pré-Bas"},
			Days: []time.Time{time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC), time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)}},
	}
	ix := open(t, build(t, docs, Options{Workers: 3}))
	for _, tt := range []struct{ q, want string }{
		{"médiathèque", "/title/ /many/ /keyword/ /body/"},
		{"MEDIATHEQUE", "/title/ /many/ /keyword/ /body/"},
		{"médiathèque dimanche", "/title/"},
		{"médiathèque lune", ""},
		{"jardin partagé", "/event/ /new-tie/ /old-tie/"},
		{"jardins partagés", "/event/ /new-tie/ /old-tie/"},
		{"Pré-Bas", "/event/"},
		{"5 décembre", "/event/"},
		{"6 décembre 2026", "/event/"},
		{"décembre 2026", "/event/"},
		{"7 décembre", ""},
		{"atelier 5 décembre", "/event/"},
		// A beginning, when the word itself is not in the index.
		{"médiath", "/title/ /many/ /keyword/ /body/"},
		{"horai", "/keyword/"},
		{"le la", ""},
		{"", ""},
	} {
		if got := urls(t, ix, tt.q); got != tt.want {
			t.Errorf("%q: got %q, want %q", tt.q, got, tt.want)
		}
	}
}

// TestRoundTrip writes an index and reads every file back: each term's postings, the
// documents, the manifest, whatever the number of workers and the size of shards.
func TestRoundTrip(t *testing.T) {
	var docs []Document
	for i := range 1100 { // three document files
		docs = append(docs, Document{
			URL:   fmt.Sprintf("/articles/a%d/", i),
			Title: fmt.Sprintf("Article %d sur le mot%d", i, i%17),
			Meta:  "Actualité · 12 mars 2026",
			Body:  strings.Repeat(fmt.Sprintf("commun rare%d thème%d ", i, i%5), 1+i%4),
		})
	}
	var want map[string][]posting
	for _, workers := range []int{1, 2, 7} {
		for _, size := range []int{64, 4096, 1 << 20} {
			fsys := build(t, docs, Options{Workers: workers, ShardSize: size})
			ix := open(t, fsys)
			if ix.Docs() != len(docs) || ix.Lang() != "fr" || ix.String(StrNone) != testStrings[StrNone] || ix.Version() == "" {
				t.Fatalf("manifest: %d docs, %q, %q", ix.Docs(), ix.Lang(), ix.Version())
			}
			got := map[string][]posting{}
			prev := ""
			for i := range ix.m.firsts {
				s, err := ix.shard(i)
				if err != nil {
					t.Fatal(err)
				}
				if s[0].term != ix.m.firsts[i] {
					t.Fatalf("shard %d starts with %q, the manifest says %q", i, s[0].term, ix.m.firsts[i])
				}
				for _, e := range s {
					if e.term <= prev {
						t.Fatalf("terms out of order: %q after %q", e.term, prev)
					}
					prev = e.term
					got[e.term] = e.postings
				}
			}
			if want == nil {
				want = got
				if len(got["commun"]) != len(docs) || len(got["rare7"]) != 1 || got["rare7"][0].doc != 7 {
					t.Fatalf("postings: commun %d, rare7 %v", len(got["commun"]), got["rare7"])
				}
			} else if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("workers %d, shards of %d: the postings differ", workers, size)
			}
			for _, n := range []uint32{0, 150, 511, 512, 1099} {
				d, err := ix.doc(n)
				if err != nil {
					t.Fatal(err)
				}
				if d.url != docs[n].URL || d.title != docs[n].Title || d.meta != docs[n].Meta || d.text != docs[n].Body {
					t.Errorf("document %d: %+v", n, d)
				}
			}
			if u := urls(t, ix, "rare42"); u != "/articles/a42/" {
				t.Errorf("rare42: %q", u)
			}
		}
	}
	// The same input gives the same files.
	a, b := build(t, docs, Options{Workers: 2}), build(t, docs, Options{Workers: 5})
	for name, f := range a {
		if !bytes.Equal(f.Data, b[name].Data) {
			t.Errorf("%s differs between two builds", name)
		}
	}
}

func TestExcerpts(t *testing.T) {
	long := strings.Repeat("Une phrase sans rapport. ", 20) + "Le marché de Noël se tient place de la Halle le 12 décembre 2026. " + strings.Repeat("Encore du texte. ", 20)
	docs := []Document{
		{URL: "/a/", Title: "Marché de Noël", Body: long, Meta: "Actualité"},
		{URL: "/b/", Title: "Court", Body: "Un texte <b>court</b> & citoyen : <script>alert(1)</script> marché."},
	}
	ix := open(t, build(t, docs, Options{}))
	for _, tt := range []struct{ q, title, excerpt string }{
		{"marchés halle", "[Marché] de Noël", "… sans rapport. Une phrase sans rapport. Le [marché] de Noël se tient place de la [Halle] le 12 décembre 2026. Encore du texte. Encore du texte. Encore du texte. Encore …"},
		{"12 décembre", "Marché de Noël", "… se tient place de la Halle le [12 décembre 2026]. Encore du texte. Encore du texte. Encore du texte. Encore du texte. Encore du texte. Encore du texte. Encore du …"},
		{"noel", "Marché de [Noël]", "… Une phrase sans rapport. Le marché de [Noël] se tient place de la Halle le 12 décembre 2026. Encore du texte. Encore du texte. Encore du texte. Encore du texte …"},
	} {
		res, err := ix.Search(tt.q, 1)
		if err != nil || len(res.Hits) == 0 {
			t.Fatalf("%q: %v %v", tt.q, res, err)
		}
		h := res.Hits[0]
		if got := spansText(h.Title); got != tt.title {
			t.Errorf("%q: title %q, want %q", tt.q, got, tt.title)
		}
		if got := spansText(h.Excerpt); got != tt.excerpt {
			t.Errorf("%q: excerpt\n%q, want\n%q", tt.q, got, tt.excerpt)
		}
	}
	// Text is escaped; the marks are the only markup.
	res, _ := ix.Search("marché", 1)
	var b bytes.Buffer
	RenderResults(&b, ix, res)
	out := b.String()
	for _, want := range []string{
		`<p class="search-status" role="status">2 résultats pour « marché »</p>`,
		`&lt;script&gt;alert(1)&lt;/script&gt; <mark>marché</mark>.`,
		`texte &lt;b&gt;court&lt;/b&gt; &amp; citoyen`,
		`<h2 class="search-hit-title"><a href="/a/"><mark>Marché</mark> de Noël</a></h2><p class="search-hit-meta">Actualité</p>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("results lack %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "<script") != 0 || strings.Count(out, "<b>") != 0 {
		t.Errorf("markup from the text came through:\n%s", out)
	}
}

func TestRenderStatus(t *testing.T) {
	var docs []Document
	for i := range 25 {
		docs = append(docs, Document{URL: fmt.Sprintf("/p%d/", i), Title: "Page", Body: "mot"})
	}
	docs = append(docs, Document{URL: "/seul/", Title: "Unique", Body: "solitaire"})
	ix := open(t, build(t, docs, Options{}))
	for _, tt := range []struct {
		q     string
		page  int
		wants []string
	}{
		{"", 1, []string{`role="status"></p>`, "! search-hits", "! search-hint"}},
		{"le la", 1, []string{`>Tapez un mot.</p>`, "! search-hint"}},
		{"introuvable", 1, []string{`>Aucun résultat pour « introuvable ».</p>`, `<p class="search-hint">Essayez d’autres mots.</p>`}},
		{"solitaire", 1, []string{`>1 résultat pour « solitaire »</p>`, `href="/seul/"`, "! pager"}},
		{"mot", 1, []string{`>25 résultats pour « mot »</p>`, `<ol class="search-hits" start="1">`, `href="?q=mot&amp;page=2"`, `1 / 3`, "! pager-prev"}},
		{"mot", 2, []string{`start="11"`, `href="?q=mot&amp;page=1"`, `href="?q=mot&amp;page=3"`, `2 / 3`}},
		{"mot", 99, []string{`start="21"`, `3 / 3`, "! pager-next"}},
		{"<b>mot</b>", 1, []string{`25 résultats pour « &lt;b&gt;mot&lt;/b&gt; »`, `href="?q=%3Cb%3Emot%3C%2Fb%3E&amp;page=2"`}},
	} {
		res, err := ix.Search(tt.q, tt.page)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		RenderResults(&b, ix, res)
		for _, w := range tt.wants {
			if neg, ok := strings.CutPrefix(w, "! "); ok {
				if strings.Contains(b.String(), neg) {
					t.Errorf("%q page %d: holds %q:\n%s", tt.q, tt.page, neg, b.String())
				}
			} else if !strings.Contains(b.String(), w) {
				t.Errorf("%q page %d: lacks %q:\n%s", tt.q, tt.page, w, b.String())
			}
		}
	}
}

// TestHandler is GET /search?q= without JavaScript: the page the generator wrote, filled.
func TestHandler(t *testing.T) {
	fsys := build(t, []Document{{URL: "/ecole/", Title: "L’école des Tilleuls", Body: "Les travaux de l’école."}}, Options{})
	fsys[PageTemplate] = &fstest.MapFile{Data: []byte(`<html><header>Ville</header><input name="q" value="` + QueryPlaceholder + `"><div id="search-results">` + ResultsPlaceholder + `</div></html>`)}
	srv := httptest.NewServer(Handler(fsys, nil))
	t.Cleanup(func() { srv.Close() })
	get := func(path string) (int, string) {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(res.Body)
		return res.StatusCode, b.String()
	}
	code, body := get("/?q=ecole")
	if code != 200 || !strings.Contains(body, `<header>Ville</header><input name="q" value="ecole">`) ||
		!strings.Contains(body, `<a href="/ecole/">L’<mark>école</mark> des Tilleuls</a>`) || strings.Contains(body, ResultsPlaceholder) {
		t.Errorf("%d\n%s", code, body)
	}
	code, body = get(`/?q=%22%3E%3Cscript%3Ex%3C/script%3E`)
	if code != 200 || strings.Contains(body, "<script>") || !strings.Contains(body, `value="&#34;&gt;&lt;script&gt;x&lt;/script&gt;"`) {
		t.Errorf("a query is not escaped: %d\n%s", code, body)
	}
	// A rebuild is seen by the next request.
	delete(fsys, "index.bin")
	if code, _ := get("/?q=ecole"); code != http.StatusNotFound {
		t.Errorf("without an index: %d", code)
	}
	fresh := build(t, []Document{{URL: "/mairie/", Title: "La mairie", Body: "Horaires."}}, Options{})
	for k, v := range fresh {
		fsys[k] = v
	}
	if _, body := get("/?q=mairie"); !strings.Contains(body, `href="/mairie/"`) {
		t.Errorf("the new index is not read:\n%s", body)
	}
	// A broken shard is an error in the page, not a crash.
	srv.Close()
	srv = httptest.NewServer(Handler(fsys, nil)) // a fresh process: nothing cached
	for k := range fsys {
		if strings.HasPrefix(k, "t/") {
			fsys[k] = &fstest.MapFile{Data: []byte("PVST\x01\x05")}
		}
	}
	if code, body := get("/?q=mairie"); code != 500 || !strings.Contains(body, "Erreur.") {
		t.Errorf("broken shard: %d\n%s", code, body)
	}
}

// TestBrokenDocuments: a document file that lies about its table is refused, not read past.
func TestBrokenDocuments(t *testing.T) {
	fsys := build(t, []Document{{URL: "/a/", Title: "Mairie", Body: "Horaires."}}, Options{})
	good := fsys["d/0.bin"].Data
	ix := open(t, fsys)
	for name, b := range map[string][]byte{
		"truncated":    good[:docHeader+4],
		"past the end": append(append([]byte{}, good[:docHeader]...), 0x0c, 0, 0, 0, 0xff, 0xff, 0, 0),
		"no entry":     append(append([]byte{}, good[:8]...), 0, 0, 0, 0),
		"bad magic":    append([]byte("XXXX"), good[4:]...),
		"garbage":      append(append([]byte{}, good[:docHeader+8]...), 0xff, 0xff, 0xff),
	} {
		fsys["d/0.bin"] = &fstest.MapFile{Data: b}
		if d, err := ix.doc(0); err == nil {
			t.Errorf("%s: read %+v", name, d)
		}
	}
	if _, err := ix.doc(5); err == nil {
		t.Error("a document past the index's count was read")
	}
}

func TestWriteBounds(t *testing.T) {
	if _, err := Write(maxDocs+1, nil, Options{}, nil); err == nil {
		t.Error("too many documents accepted")
	}
	huge := Document{URL: "/x/", Title: "x", Body: strings.Repeat("mot ", maxText)}
	ix := open(t, build(t, []Document{huge}, Options{}))
	d, err := ix.doc(0)
	if err != nil || len(d.text) > maxText+len("…") || !strings.HasSuffix(d.text, "…") {
		t.Errorf("a long text is kept whole: %d bytes, %v", len(d.text), err)
	}
	var days []time.Time
	for i := range 400 {
		days = append(days, time.Date(2026, 1, 1+i, 12, 0, 0, 0, time.UTC))
	}
	ix = open(t, build(t, []Document{{URL: "/expo/", Title: "Exposition", Days: days}}, Options{}))
	if urls(t, ix, "1er janvier 2026") != "/expo/" || urls(t, ix, "mai 2026") != "" {
		t.Error("an event's days are not bounded")
	}
}

func spansText(l []Span) string {
	var b strings.Builder
	for _, s := range l {
		if s.Mark {
			b.WriteString("[" + s.Text + "]")
		} else {
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

// The readers must refuse anything malformed without panicking or allocating without bound.
func FuzzReaders(f *testing.F) {
	fsys := build(f, []Document{
		{URL: "/a/", Title: "L’école", Body: "Le 12 mars 2026, place des Tilleuls."},
		{URL: "/b/", Title: "Mairie", Body: "Horaires d’été."},
	}, Options{ShardSize: 16})
	for _, file := range fsys {
		b, _ := unpack(file.Data)
		f.Add(b)
	}
	f.Add([]byte("PVST\x01\xff\xff\xff\xff\x0f"))
	f.Add([]byte("PVSD\x01\x00\x00\x00\x01\x00\x00\x00\x14\x00\x00\x00\x04\x00\x00\x00\x01a\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := parseManifest(b); err == nil {
			if !slices.IsSorted(m.firsts) {
				t.Fatal("unsorted shards accepted")
			}
			_ = m.encode()
		}
		if s, err := parseShard(b, 1000); err == nil {
			for _, e := range s {
				for k, p := range e.postings {
					if p.doc >= 1000 || k > 0 && p.doc <= e.postings[k-1].doc {
						t.Fatalf("bad postings accepted: %v", e.postings)
					}
				}
			}
		}
		_, _ = parseDoc(b)
		_, _ = unpack(b)
		if count, err := parseDocHeader(b); err == nil && count > 0 && len(b) >= docHeader+8 {
			if off, n, err := parseDocEntry(b[docHeader:docHeader+8], int64(len(b))); err == nil {
				if off < docHeader || off+n > int64(len(b)) {
					t.Fatalf("an entry out of its file accepted: %d+%d of %d", off, n, len(b))
				}
				_, _ = parseDoc(b[off : off+n])
			}
		}
	})
}

func FuzzQuery(f *testing.F) {
	var docs []Document
	for i := range 40 {
		docs = append(docs, Document{URL: fmt.Sprintf("/p%d/", i), Title: fmt.Sprintf("Page %d", i), Body: "L’école des Tilleuls, le 12 mars 2026 ; médiathèque, bibliothèque, bureaux."})
	}
	ix := open(f, build(f, docs, Options{ShardSize: 32}))
	for _, s := range []string{"école", "12 mars 2026", "l'", "biblio tilleuls", "\xff\xfe", "2026-03-12", "1er", strings.Repeat("ab ", 100)} {
		f.Add(s, 1)
	}
	f.Fuzz(func(t *testing.T, q string, page int) {
		res, err := ix.Search(q, page)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Hits) > PerPage || res.Page < 1 || res.Total < len(res.Hits) {
			t.Fatalf("%+v", res)
		}
		var b bytes.Buffer
		RenderResults(&b, ix, res)
		if strings.Contains(b.String(), "<script") {
			t.Fatal("markup from the query came through")
		}
	})
}

// BenchmarkWrite indexes the demo site's articles thirty times over (about a thousand
// documents of real French), as the generator gives them.
func BenchmarkWrite(b *testing.B) {
	files, _ := filepath.Glob("../../content/articles/*.md")
	var docs []Document
	for range 30 {
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			body, headings := MarkdownText(src)
			docs = append(docs, Document{URL: "/" + filepath.Base(f) + "/", Title: filepath.Base(f), Meta: "Actualité", Body: body, Headings: headings})
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		_, err := Write(len(docs), func(i int) (*Document, error) { return &docs[i], nil }, Options{Lang: "fr", Workers: 1},
			func(string, []byte) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarkdownText(b *testing.B) {
	src, err := os.ReadFile("../../content/articles/budget-participatif-2026-resultats.md")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		MarkdownText(src)
	}
}
