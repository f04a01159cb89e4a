package generator_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"html"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/parvis/parvis/generator"
	"github.com/parvis/parvis/internal/share"
)

// keys is a Sealer for tests: a fixed key per dossier, and a version that a test may bump.
type keys struct {
	mu      sync.Mutex
	version map[string]int
}

func (k *keys) Key(dossier string) (share.Key, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.version == nil {
		k.version = map[string]int{}
	}
	v := k.version[dossier]
	if v == 0 {
		v = 1
		k.version[dossier] = v
	}
	return testKey(dossier, v), nil
}

func (k *keys) rotate(dossier string) {
	k.mu.Lock()
	k.version[dossier]++
	k.mu.Unlock()
}

func testKey(dossier string, version int) share.Key {
	secret := sha256.Sum256([]byte(fmt.Sprintf("%s key %d", dossier, version)))
	salt := sha256.Sum256([]byte(dossier + " salt"))
	id := fmt.Sprintf("%x", sha256.Sum256([]byte(dossier)))[:24]
	return share.Key{Dossier: dossier, ID: id, Version: version, Secret: secret[:], Salt: salt[:]}
}

// fold reduces text to lower-case words without accents, one space apart, so that a
// sentence is found whatever typography, escaping or markup the build gave it.
func fold(s string) string {
	s = html.UnescapeString(s)
	var b strings.Builder
	space := true
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
			space = false
		default:
			if !space {
				b.WriteByte(' ')
				space = true
			}
		}
	}
	return strings.TrimSpace(b.String())
}

var sentenceEnd = regexp.MustCompile(`[.;:!?|*\n()«»"]+|\s[-–—]\s`)

// sentences cuts Markdown into its sentences and table cells, folded; the front matter's
// values are sentences too. Fragments of fewer than three words are left out: they are
// not the dossier's own ("Pièces", "2027").
func sentences(md string) []string {
	md = regexp.MustCompile(`(?m)^(title|summary|date|weight|visibility|items|  -)\b:?`).ReplaceAllString(md, "\n")
	var out []string
	for _, s := range sentenceEnd.Split(md, -1) {
		f := fold(s)
		if strings.Count(f, " ") >= 2 {
			out = append(out, f)
		}
	}
	return out
}

// demoShared reads the demo's shared dossier, its Markdown and the folded sentences in it.
func demoShared(t *testing.T) (raw [][]byte, folded []string) {
	t.Helper()
	dir := filepath.Join("..", "content", "dossiers", "commission-finances-budget-2027")
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		raw = append(raw, b)
		folded = append(folded, sentences(string(b))...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(folded) < 20 {
		t.Fatalf("only %d sentences found in the demo's shared dossier", len(folded))
	}
	return raw, folded
}

// TestSharedDemoDossierSealed builds the demo site with a sealer and searches every byte of
// the output for the shared dossier's sentences: none is there, in any file (pages, lists,
// feeds, sitemap, search index), in clear or escaped. Its sealed pages hold them all.
func TestSharedDemoDossierSealed(t *testing.T) {
	k := &keys{}
	out := generator.NewMemoryOutput()
	res, err := generator.New(generator.WithSiteDir(filepath.Join("..", "content")), generator.WithOutput(out),
		generator.WithNow(now), generator.WithSealer(k)).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	raw, want := demoShared(t)
	// A fragment that some public page also says is not the dossier's to hide.
	public := map[string]bool{}
	for _, p := range res.Site.Pages {
		b, err := os.ReadFile(filepath.Join("..", "content", filepath.FromSlash(p.Path)))
		if err != nil {
			t.Fatal(err)
		}
		f := fold(string(b))
		for _, s := range want {
			if strings.Contains(f, s) {
				public[s] = true
			}
		}
	}
	key := testKey("dossiers/commission-finances-budget-2027", 1)
	var opened strings.Builder
	checked := 0
	for _, name := range out.Names() {
		b, _ := out.File(name)
		checked++
		if strings.HasPrefix(name, "shared/") && strings.HasSuffix(name, ".bin") {
			rel := strings.TrimPrefix(name, strings.TrimPrefix(key.Base(), "/"))
			meta, content, err := share.Open(key.Secret, 1, key.ID, rel, b)
			if err != nil {
				t.Errorf("%s does not open: %v", name, err)
				continue
			}
			opened.WriteString(meta.Title + " " + string(content) + " ")
			if n := len(b); n < share.MinObject || n&(n-1) != 0 {
				t.Errorf("%s is %d bytes, not a power of two from 4 KiB", name, n)
			}
			continue
		}
		for _, r := range raw {
			for _, line := range strings.Split(string(r), "\n") {
				if len(line) > 30 && bytes.Contains(b, []byte(line)) {
					t.Errorf("%s holds a line of the shared dossier: %q", name, line)
				}
			}
		}
		f := fold(string(b))
		for _, s := range want {
			if !public[s] && strings.Contains(f, s) {
				t.Errorf("%s holds a sentence of the shared dossier: %q", name, s)
			}
		}
		for _, leak := range []string{"commission-finances-budget-2027", "note-de-cadrage"} {
			if bytes.Contains(b, []byte(leak)) {
				t.Errorf("%s names the shared dossier's page %s", name, leak)
			}
		}
	}
	got := fold(opened.String())
	for _, s := range want {
		if !strings.Contains(got, s) {
			t.Errorf("the sealed pages lack %q", s)
		}
	}
	if checked < 100 {
		t.Fatalf("only %d files built", checked)
	}
	t.Logf("%d files searched for %d sentences (%d also on public pages: %q)", checked, len(want), len(public), keysOf(public))

	// The shell: generic, and the same size for the dossier and its page.
	shell, ok := out.File(strings.TrimPrefix(key.Base(), "/") + "index.html")
	if !ok {
		t.Fatalf("no shell at %s; files: %v", key.Base(), out.Names())
	}
	for _, w := range []string{"Dossier partagé", `data-share-src="/shared/` + key.ID + `/page.bin"`, "js/share.", "noindex", "/a-propos/#nous-contacter"} {
		if !bytes.Contains(shell, []byte(w)) {
			t.Errorf("the shell lacks %q", w)
		}
	}
}

const sharedSite = config + `
-- dossiers/_index.md --
---
title: Dossiers
---
-- dossiers/public/_index.md --
---
title: Dossier public
items: [articles/budget]
---
Ouvert à tous.
-- articles/budget.md --
---
title: Le budget voté
date: 2026-03-01
---
Public.
-- dossiers/secret/_index.md --
---
title: Zorglub confidentiel
visibility: shared
summary: Les arbitrages mirobolants
items: [articles/budget, articles/brouillon]
---
Le texte tartempion du dossier.
-- dossiers/secret/annexe.csv --
poste;montant
vercingetorix;1000
-- dossiers/secret/note/index.md --
---
title: Note petaouchnoque
date: 2026-02-01
---
Voir [le dossier](../) et la pièce jointe.
-- dossiers/secret/note/chiffres.pdf --
%PDF-1.4 bredouillis
-- dossiers/secret/plus-tard.md --
---
title: Lendemainnesque
date: 2027-06-01
---
Pas encore.
-- articles/brouillon.md --
---
title: Brouillon hyperconfidentiel
date: 2026-01-01
draft: true
---
Non.
-- comments/dossiers/secret/note/c1.yaml --
_id: c1
name: Membre
date: 2026-02-02T10:00:00+01:00
message: Un avis farfelumineux.
`

// TestSharedDossierSealed: a shared dossier's pages, files and comments are sealed; lists,
// feeds and the sitemap know nothing of them; files decrypt to their bytes, name and type;
// sizes are buckets; the build is reproducible; a new key version replaces the old.
func TestSharedDossierSealed(t *testing.T) {
	k := &keys{}
	out := mustBuild(t, sharedSite, generator.WithSealer(k))
	key := testKey("dossiers/secret", 1)
	base := strings.TrimPrefix(key.Base(), "/")
	secret := []string{"zorglub", "mirobolant", "tartempion", "vercingetorix", "petaouchnoque", "bredouillis", "farfelumineux", "lendemainnesque", "hyperconfidentiel", "annexe.csv", "chiffres.pdf", "dossiers/secret"}
	var bins []string
	for _, name := range out.Names() {
		b, _ := out.File(name)
		f := fold(string(b))
		for _, w := range secret {
			if strings.Contains(f, fold(w)) || bytes.Contains(b, []byte(w)) {
				t.Errorf("%s holds %q", name, w)
			}
		}
		if strings.HasPrefix(name, "shared/") && strings.HasSuffix(name, ".bin") {
			bins = append(bins, name)
		}
	}
	// The dossier, its page and their two files; the future page is not published.
	if len(bins) != 4 {
		t.Fatalf("sealed objects: %v", bins)
	}
	open := func(name string) (share.Meta, []byte) {
		t.Helper()
		b, ok := out.File(name)
		if !ok {
			t.Fatalf("no %s", name)
		}
		meta, content, err := share.Open(key.Secret, 1, key.ID, strings.TrimPrefix(name, base), b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n := len(b); n < share.MinObject || n&(n-1) != 0 {
			t.Errorf("%s is %d bytes, not a power of two from 4 KiB", name, n)
		}
		return meta, content
	}
	meta, page := open(base + "page.bin")
	if meta.Kind != "page" || meta.Title != "Zorglub confidentiel" {
		t.Errorf("dossier meta: %+v", meta)
	}
	notePath := key.Base() + key.Name("page", "dossiers/secret/note") + "/"
	for _, w := range []string{"Le texte tartempion du dossier.", "Note petaouchnoque", `href="` + notePath + `"`, `href="/articles/budget/"`, "Le budget voté", "annexe.csv"} {
		if !strings.Contains(string(page), w) {
			t.Errorf("the sealed dossier lacks %q:\n%s", w, page)
		}
	}
	for _, w := range []string{"Brouillon", "Lendemainnesque"} {
		if strings.Contains(string(page), w) {
			t.Errorf("the sealed dossier shows %q, unpublished", w)
		}
	}
	_, note := open(strings.TrimPrefix(notePath, "/") + "page.bin")
	for _, w := range []string{"farfelumineux", "chiffres.pdf", `name="options[page]" value="dossiers/secret/note"`, `href="` + key.Base() + `"`} {
		if !strings.Contains(string(note), w) {
			t.Errorf("the sealed note lacks %q:\n%s", w, note)
		}
	}
	csv := key.Name("file", "dossiers/secret", "annexe.csv") + ".bin"
	meta, data := open(base + csv)
	if meta.Kind != "file" || meta.Name != "annexe.csv" || meta.Type != "text/csv" || string(data) != "poste;montant\nvercingetorix;1000\n" {
		t.Errorf("csv: %+v %q", meta, data)
	}
	if !strings.Contains(string(page), csv) {
		t.Errorf("the dossier does not link its file %s", csv)
	}

	// Lists and feeds: the public dossier is there, the shared one is not.
	assertFile(t, out, "dossiers/index.html", "Dossier public", "! Zorglub", "! /shared/")
	assertFile(t, out, "sitemap.xml", "/dossiers/public/", "! /shared/")
	assertFile(t, out, "comments.xml", "! farfelumineux", "! Membre")
	assertFile(t, out, "articles/budget/index.html", "Dossier public", "! Zorglub")
	assertNoFile(t, out, "dossiers/secret/index.html", "dossiers/secret/note/index.html", "dossiers/secret/annexe.csv")

	// Shells: the dossier's and its page's differ only by their addresses.
	a, _ := out.File(base + "index.html")
	b, _ := out.File(strings.TrimPrefix(notePath, "/") + "index.html")
	if !bytes.Equal(a, bytes.ReplaceAll(b, []byte(notePath), []byte(key.Base()))) {
		t.Errorf("the shells differ by more than their addresses:\n%s\n%s", a, b)
	}

	// Reproducible: the same build gives the same bytes.
	again := mustBuild(t, sharedSite, generator.WithSealer(k))
	for _, n := range bins {
		x, _ := out.File(n)
		y, _ := again.File(n)
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two builds", n)
		}
	}

	// A new key: same addresses, and the old key opens nothing.
	k.rotate("dossiers/secret")
	rotated := mustBuild(t, sharedSite, generator.WithSealer(k))
	obj, ok := rotated.File(base + "page.bin")
	if !ok {
		t.Fatal("the rotated build moved the dossier")
	}
	if _, _, err := share.Open(key.Secret, 1, key.ID, "page.bin", obj); err == nil {
		t.Error("the old key opens the rebuilt dossier")
	}
	k2 := testKey("dossiers/secret", 2)
	if _, _, err := share.Open(k2.Secret, 2, key.ID, "page.bin", obj); err != nil {
		t.Errorf("the new key: %v", err)
	}
	// An object is bound to its place: the dossier's page does not open as its file.
	if _, _, err := share.Open(k2.Secret, 2, key.ID, csv, obj); err == nil {
		t.Error("the page opens under the file's name")
	}
}

// TestSharedWithoutSealer: with no key store, a shared dossier is left out, as before.
func TestSharedWithoutSealer(t *testing.T) {
	out := mustBuild(t, sharedSite)
	for _, n := range out.Names() {
		if strings.HasPrefix(n, "shared/") {
			t.Errorf("%s was written without a sealer", n)
		}
	}
	assertNoFile(t, out, "dossiers/secret/index.html")
}

// TestSharedPathTaken: a published page under /shared/ is refused, naming it.
func TestSharedPathTaken(t *testing.T) {
	_, err := build(t, sharedSite+"-- pages/shared.md --\n---\ntitle: Partagé\n---\nx\n", generator.WithSealer(&keys{}))
	if err == nil || !strings.Contains(err.Error(), "pages/shared.md") || !strings.Contains(err.Error(), "/shared/") {
		t.Errorf("got %v", err)
	}
}

// TestSharedSizesBucketed: files of different sizes in one bucket cannot be told apart.
func TestSharedSizesBucketed(t *testing.T) {
	for _, c := range []struct{ n, want int }{{0, 4096}, {3000, 4096}, {4096, 8192}, {9000, 16384}, {1 << 20, 2 << 20}} {
		if got := share.PaddedSize(c.n); got != c.want {
			t.Errorf("PaddedSize(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}

func keysOf(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
