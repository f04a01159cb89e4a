// Package corpus writes a deterministic Parvis site of any size, for benchmarks: articles of
// about 600 words of French-looking Markdown (headings, lists, links, emphasis), events with
// zoned start and end times, threaded comments in comments/articles/<slug>/<id>.yaml, and tags
// from a fixed vocabulary. The same Options always give the same bytes.
//
// The site follows docs/content.md and is also read by Hugo with the layout in bench/hugo.
package corpus

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Paris, whatever the machine has installed
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Version changes whenever the output for given Options changes, so that cached corpora
// made by an older generator are not reused.
const Version = 1

// Options sizes a corpus.
type Options struct {
	Articles int
	Events   int
	Comments int // spread over the published articles, some threaded
	Seed     uint64
}

// Scaled returns the default proportions for n articles: one event for 20 articles and two
// comments per article (10,000 articles: 500 events, 20,000 comments).
func Scaled(articles int) Options {
	return Options{Articles: articles, Events: articles / 20, Comments: articles * 2, Seed: 1}
}

// Name identifies the corpus in a cache: it changes with the sizes, the seed and Version.
func (o Options) Name() string {
	return fmt.Sprintf("a%d-e%d-c%d-s%d-v%d", o.Articles, o.Events, o.Comments, o.Seed, Version)
}

var paris = mustLoad("Europe/Paris")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// Stats counts what Write wrote.
type Stats struct {
	Articles, Drafts, Events, Comments, Replies, Words int
}

type article struct {
	title, slug string
	date        time.Time
	draft       bool
}

// Write writes the corpus into dir, which it creates; dir must not exist yet or be empty.
func Write(dir string, o Options) (*Stats, error) {
	if o.Articles < 1 || o.Events < 0 || o.Comments < 0 {
		return nil, fmt.Errorf("corpus: need at least one article, and no negative size (%+v)", o)
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("corpus: %s is not empty", dir)
	}
	w := &writer{dir: dir, seed: o.Seed}
	st := &Stats{}
	w.file("parvis.yaml", siteConfig)
	w.file("_index.md", "---\ntitle: Ville de Belcombe\n---\n\nLe site de la commune : actualités, agenda et participation des habitants.\n")
	w.file("articles/_index.md", "---\ntitle: Actualités\n---\n\nLes nouvelles de la commune.\n")
	w.file("pages/a-propos.md", "---\ntitle: À propos\n---\n\nCe site est un corpus de mesure de Parvis.\n")
	w.file("pages/mentions-legales.md", "---\ntitle: Mentions légales\n---\n\nÉditeur : la mairie de Belcombe.\n")

	// Titles, slugs and dates first: bodies link to other articles by slug.
	arts := make([]article, o.Articles)
	start := time.Date(2019, 1, 1, 0, 0, 0, 0, paris)
	span := time.Date(2024, 12, 31, 0, 0, 0, 0, paris).Sub(start)
	for i := range arts {
		r := w.rand("title", i)
		a := &arts[i]
		a.title = articleTitle(r)
		a.slug = fmt.Sprintf("%s-%d", slugify(a.title), i+1)
		step := span / time.Duration(o.Articles)
		a.date = start.Add(step*time.Duration(i) + time.Duration(r.Int64N(int64(step)+1))).Truncate(time.Minute)
		a.draft = i%100 == 37
		if a.draft {
			st.Drafts++
		}
	}
	for i := range arts {
		st.Words += w.article(arts, i)
		st.Articles++
	}
	for i := range o.Events {
		w.event(i, o.Events)
		st.Events++
	}
	n, replies := w.comments(arts, o.Comments)
	st.Comments, st.Replies = n, replies
	if w.err != nil {
		return nil, w.err
	}
	return st, nil
}

const siteConfig = `# A corpus for measuring builds, made by bench/corpus.
title: Ville de Belcombe
description: Le site de la commune de Belcombe (corpus de mesure).
baseURL: https://www.example.org/
language: fr
timeZone: Europe/Paris
paginate: 10
publisher: Mairie de Belcombe
markdown:
  unsafe: false
  typography: fr
menu:
  - {name: Actualités, url: /articles/, weight: 10}
  - {name: Agenda, url: /events/, weight: 20}
  - {name: À propos, url: /a-propos/, weight: 30}
footer:
  - {name: Mentions légales, url: /mentions-legales/, weight: 10}
`

type writer struct {
	dir  string
	seed uint64
	err  error
}

// rand gives each item its own stream, so that an item does not change when another does.
func (w *writer) rand(stream string, i int) *rand.Rand {
	var h uint64 = 14695981039346656037
	for _, c := range []byte(stream) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return rand.New(rand.NewPCG(w.seed^h, uint64(i)))
}

func (w *writer) file(name, data string) {
	if w.err != nil {
		return
	}
	p := filepath.Join(w.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		w.err = err
		return
	}
	w.err = os.WriteFile(p, []byte(data), 0o644)
}

func (w *writer) article(arts []article, i int) (words int) {
	a := arts[i]
	r := w.rand("article", i)
	var fm strings.Builder
	fm.WriteString("---\ntitle: " + quote(a.title) + "\n")
	if r.IntN(7) == 0 {
		fm.WriteString("date: " + a.date.Format(time.DateOnly) + "\n")
	} else {
		fm.WriteString("date: " + a.date.Format(time.RFC3339) + "\n")
	}
	if r.IntN(5) == 0 {
		fm.WriteString("lastmod: " + a.date.AddDate(0, 0, 1+r.IntN(20)).Format(time.RFC3339) + "\n")
	}
	if a.draft {
		fm.WriteString("draft: true\n")
	}
	fm.WriteString("tags: [" + strings.Join(tags(r, 1+r.IntN(4)), ", ") + "]\n")
	if r.IntN(3) == 0 {
		t := &text{r: r}
		fm.WriteString("summary: " + quote(t.sentence()) + "\n")
	}
	if r.IntN(30) == 0 {
		fm.WriteString(fmt.Sprintf("aliases: [/actualites/%d/]\n", i+1))
	}
	fm.WriteString("---\n\n")

	t := &text{r: r}
	t.paragraph(3+r.IntN(2), "")
	target := 520 + r.IntN(80)
	headingAt := map[int]bool{1: true, 3 + r.IntN(3): r.IntN(2) == 0}
	listAt := 1 + r.IntN(4)
	for k := 1; t.words() < target; k++ {
		if headingAt[k] {
			t.b.WriteString("## " + pick(r, headings) + "\n\n")
		}
		if k == listAt {
			t.b.WriteString(pick(r, questions) + " Plusieurs rendez-vous sont prévus :\n\n")
			t.list()
		}
		link := ""
		switch r.IntN(4) {
		case 0:
			j := r.IntN(len(arts))
			for arts[j].draft || j == i {
				j = (j + 1) % len(arts)
			}
			link = "Voir aussi [l'article « " + arts[j].title + " »](/articles/" + arts[j].slug + "/)."
		case 1:
			e := pick(r, externals)
			link = "Plus d'informations sur [" + e.text + "](" + e.url + ")."
		}
		t.paragraph(3+r.IntN(4), link)
	}
	w.file("articles/"+a.slug+".md", fm.String()+t.b.String())
	return t.words()
}

func (w *writer) event(i, n int) {
	r := w.rand("event", i)
	kind := pick(r, eventKinds)
	obj := pick(r, objects)
	title := kind + " : " + obj
	slug := fmt.Sprintf("%s-%d", slugify(title), i+1)
	// Spread over 2023–2026: past and upcoming events, so that both lists are filled.
	first := time.Date(2023, 1, 1, 0, 0, 0, 0, paris)
	day := first.AddDate(0, 0, i*(4*365)/max(n, 1)+r.IntN(3))
	place := pick(r, places)
	var fm strings.Builder
	fm.WriteString("---\ntitle: " + quote(title) + "\n")
	if r.IntN(10) == 0 {
		fm.WriteString("start: " + day.Format(time.DateOnly) + "\n")
		if r.IntN(2) == 0 {
			fm.WriteString("end: " + day.AddDate(0, 0, 1).Format(time.DateOnly) + "\n")
		}
		fm.WriteString("allDay: true\n")
	} else {
		start := day.Add(time.Duration(9+r.IntN(12))*time.Hour + time.Duration(r.IntN(4)*15)*time.Minute)
		fm.WriteString("start: " + start.Format(time.RFC3339) + "\n")
		fm.WriteString("end: " + start.Add(time.Duration(1+r.IntN(4))*time.Hour).Format(time.RFC3339) + "\n")
	}
	fm.WriteString("location: " + quote(place.name) + "\naddress: " + quote(place.address) + "\n")
	if r.IntN(2) == 0 {
		fm.WriteString(fmt.Sprintf("geo: {lat: %.4f, lon: %.4f}\n", 44.9+r.Float64()/10, 4.85+r.Float64()/10))
	}
	if r.IntN(3) == 0 {
		fm.WriteString(fmt.Sprintf("registration: https://www.example.org/inscription/%d\n", i+1))
	}
	if k := r.IntN(3); k > 0 {
		fm.WriteString("tags: [" + strings.Join(tags(r, k), ", ") + "]\n")
	}
	fm.WriteString("---\n\n")
	t := &text{r: r}
	for range 2 + r.IntN(2) {
		t.paragraph(3+r.IntN(3), "")
	}
	w.file("events/"+slug+".md", fm.String()+t.b.String())
}

// comments spreads n comments over the published articles: most get a few, some many. A
// quarter answer an earlier comment of the same page.
func (w *writer) comments(arts []article, n int) (written, replies int) {
	r := w.rand("comments", 0)
	per := make([]int, len(arts))
	for range n {
		a := r.IntN(len(arts))
		if r.IntN(5) == 0 { // a popular article: one in twenty
			a = r.IntN(max(len(arts)/20, 1)) * 20
		}
		for arts[a].draft {
			a = (a + 1) % len(arts)
		}
		per[a]++
	}
	for i, k := range per {
		r := w.rand("thread", i)
		date := arts[i].date
		ids := make([]string, 0, k)
		for j := range k {
			date = date.Add(time.Duration(1+r.IntN(3000)) * time.Minute)
			id := ulid(r, date)
			parent := ""
			if j > 0 && r.IntN(4) == 0 {
				parent = ids[r.IntN(j)]
				replies++
			}
			ids = append(ids, id)
			var msg strings.Builder
			for s := range 1 + r.IntN(3) {
				if s > 0 {
					msg.WriteString(pick(r, []string{" ", "\n\n"}))
				}
				c := pick(r, commentSentences)
				if r.IntN(6) == 0 {
					c = "**" + strings.TrimRight(c, ".!? ") + "**" + c[len(strings.TrimRight(c, ".!? ")):]
				}
				msg.WriteString(c)
			}
			name := pick(r, names) + " " + string(rune('A'+r.IntN(26))) + "."
			var b strings.Builder
			b.WriteString("_id: " + id + "\nparent: " + quote(parent) + "\nname: " + quote(name) + "\n")
			b.WriteString("date: " + date.Format(time.RFC3339) + "\nmessage: |\n")
			for _, line := range strings.Split(msg.String(), "\n") {
				if line == "" {
					b.WriteString("\n")
				} else {
					b.WriteString("  " + line + "\n")
				}
			}
			b.WriteString(fmt.Sprintf("avatar: %016x%016x\n", r.Uint64(), r.Uint64()))
			w.file("comments/articles/"+arts[i].slug+"/"+id+".yaml", b.String())
			written++
		}
	}
	return written, replies
}

func articleTitle(r *rand.Rand) string {
	obj := pick(r, objects)
	switch r.IntN(4) {
	case 0:
		q := pick(r, questions) // questions start in ASCII
		return capitalize(obj) + " : " + strings.ToLower(q[:1]) + q[1:]
	case 1:
		return clause(r, obj)
	default:
		return capitalize(obj) + " " + pick(r, complements)
	}
}

// tags picks k distinct tags, the first of the vocabulary more often than the last.
func tags(r *rand.Rand, k int) []string {
	var out []string
	for len(out) < k {
		t := tagVocabulary[r.IntN(r.IntN(len(tagVocabulary))+1)]
		if !containsString(out, t) {
			out = append(out, t)
		}
	}
	for i, t := range out {
		out[i] = quote(t)
	}
	return out
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// quote writes s as a YAML double-quoted scalar (a JSON string is one), so that titles with
// " : " or « » are safe in any YAML parser.
func quote(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

func capitalize(s string) string {
	for i, c := range s {
		return string(unicode.ToUpper(c)) + s[i+len(string(c)):]
	}
	return s
}

// slugify keeps ASCII letters and digits of s, accents removed, joined by dashes.
func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range norm.NFD.String(strings.ToLower(s)) {
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(c)
		case unicode.Is(unicode.Mn, c): // a combining accent: dropped
		default:
			dash = true
		}
	}
	out := b.String()
	if len(out) > 60 {
		out = strings.TrimRight(out[:60], "-")
	}
	return out
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// ulid makes a ULID-shaped id (48-bit milliseconds, 80 random bits), as the service does.
func ulid(r *rand.Rand, t time.Time) string {
	var b [26]byte
	ms := uint64(t.UnixMilli())
	for i := 9; i >= 0; i-- {
		b[i] = crockford[ms&31]
		ms >>= 5
	}
	hi, lo := r.Uint64()&(1<<40-1), r.Uint64()&(1<<40-1)
	for i := 25; i >= 18; i-- {
		b[i] = crockford[lo&31]
		lo >>= 5
	}
	for i := 17; i >= 10; i-- {
		b[i] = crockford[hi&31]
		hi >>= 5
	}
	return string(b[:])
}
