package generator_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/parvis/parvis/generator"
)

// TestPagesStructure checks what every HTML page of the default theme must have, whatever
// its type: the language, one h1, the landmarks, a skip link that lands, and nothing loaded
// from another origin.
func TestPagesStructure(t *testing.T) {
	for _, archive := range []string{basicSite, formsSite} {
		out := mustBuild(t, archive)
		pages := 0
		for _, name := range out.Names() {
			if !strings.HasSuffix(name, ".html") {
				continue
			}
			pages++
			b, _ := out.File(name)
			s := string(b)
			if !strings.HasPrefix(s, "<!doctype html>\n<html lang=\"fr\"") {
				t.Errorf("%s: no doctype and lang: %.60q", name, s)
			}
			if n := strings.Count(s, "<h1"); n != 1 {
				t.Errorf("%s: %d h1 elements, want 1", name, n)
			}
			for _, re := range externalLoads {
				if m := re.FindString(s); m != "" {
					t.Errorf("%s loads from another origin: %s", name, m)
				}
			}
			if strings.Contains(s, "http-equiv=\"refresh\"") {
				continue // an alias: a redirect, no chrome
			}
			for _, want := range []string{`<header class="site-header">`, `<main id="contenu" tabindex="-1">`, `<footer class="site-footer" id="pied-de-page">`, `href="#contenu"`, `aria-label="Menu principal"`} {
				if !strings.Contains(s, want) {
					t.Errorf("%s lacks %s", name, want)
				}
			}
			ids := map[string]bool{}
			for _, m := range idAttr.FindAllStringSubmatch(s, -1) {
				if ids[m[1]] {
					t.Errorf("%s: the id %q is used twice", name, m[1])
				}
				ids[m[1]] = true
			}
			for _, m := range labelFor.FindAllStringSubmatch(s, -1) {
				if !ids[m[1]] {
					t.Errorf("%s: a label is for %q, which no element is", name, m[1])
				}
			}
		}
		if pages < 10 {
			t.Fatalf("only %d pages checked", pages)
		}
	}
}

var (
	externalLoads = []*regexp.Regexp{
		regexp.MustCompile(`<(?:script|img|iframe|source|video|audio)[^>]+src="(?:https?:)?//[^"]*"`),
		regexp.MustCompile(`<link[^>]+rel="(?:stylesheet|preload|icon|preconnect|dns-prefetch)"[^>]+href="(?:https?:)?//[^"]*"`),
		regexp.MustCompile(`url\((?:["']?)(?:https?:)?//`),
	}
	idAttr   = regexp.MustCompile(`\sid="([^"]+)"`)
	labelFor = regexp.MustCompile(`<label for="([^"]+)"`)
)

func TestPager(t *testing.T) {
	var site strings.Builder
	site.WriteString(config)
	for i := 1; i <= 24; i++ {
		fmt.Fprintf(&site, "-- articles/a%02d.md --\n---\ntitle: Article %d\ndate: 2026-01-%02dT10:00:00+01:00\n---\nTexte.\n", i, i, i)
	}
	out := mustBuild(t, site.String()) // paginate: 2, so 12 pages
	// The numbers shown: the ends, two each side of the current page, and gaps between.
	tests := []struct {
		file  string
		shown string // numbers, with … for a gap, * before the current one
	}{
		{"articles/index.html", "*1 2 3 … 12"},
		{"articles/page/4/index.html", "1 2 3 *4 5 6 … 12"},
		{"articles/page/6/index.html", "1 … 4 5 *6 7 8 … 12"},
		{"articles/page/12/index.html", "1 … 10 11 *12"},
	}
	item := regexp.MustCompile(`<li>(?:<span class="pager-gap" aria-hidden="true">…</span>|<a href="[^"]+"( aria-current="page")? title="page \d+">(\d+)</a>)</li>`)
	for _, tt := range tests {
		b, _ := out.File(tt.file)
		var got []string
		for _, m := range item.FindAllStringSubmatch(string(b), -1) {
			switch {
			case m[2] == "":
				got = append(got, "…")
			case m[1] != "":
				got = append(got, "*"+m[2])
			default:
				got = append(got, m[2])
			}
		}
		if g := strings.Join(got, " "); g != tt.shown {
			t.Errorf("%s shows %q, want %q", tt.file, g, tt.shown)
		}
	}
	assertFile(t, out, "articles/page/6/index.html", `rel="prev"`, `rel="next"`, "Page précédente", `href="/articles/page/5/"`)
	assertFile(t, out, "articles/page/6/index.html", "<title>Actualités – page 6 – Ville de Testville</title>")
}

func TestEventPage(t *testing.T) {
	out := mustBuild(t, basicSite)
	assertFile(t, out, "events/concert/index.html",
		"<time datetime=\"2026-12-20T18:30:00&#43;01:00\">dimanche 20 décembre 2026, de 18\u00a0h\u00a030 à 20\u00a0h</time>",
		`<span class="place">Église Saint-Martin</span><span class="address">1 place de l&#39;Église, 99000 Testville</span>`,
		`href="https://www.openstreetmap.org/?mlat=45.5&amp;mlon=4.8#map=17/45.5/4.8"`,
		`href="/events/concert/concert.ics" download`,
		`<a href="https://billets.testville.example/noel" rel="noopener">S’inscrire</a>`,
		`<a href="/">Accueil</a></li><li><a href="/events/">Agenda</a></li><li><a aria-current="page">Concert de Noël</a>`,
	)
	// The menu marks the section the page is in.
	assertFile(t, out, "articles/index.html", `<li><a href="/articles/" aria-current="page">Actualités</a></li>`)
	assertFile(t, out, "articles/marche/index.html", `<li><a href="/articles/" aria-current="true">Actualités</a></li>`)
	assertFile(t, out, "events/fete/index.html", `>dimanche 21 juin 2026</time>`, "! openstreetmap", `<p class="event-past">Cet événement est terminé.</p>`)
	assertFile(t, out, "events/concert/index.html", "! event-past")
	// The calendar: upcoming events, this month as a table, the months.
	assertFile(t, out, "events/index.html",
		`<caption id="caption-2026-11">novembre 2026 : aucun événement</caption>`,
		`<td aria-current="date"><span class="day">22</span></td>`,
		`<th scope="col"><span class="wd-long">lundi</span>`,
		`href="/events/2026/12/" rel="next"`,
		`href="/events/2026/12/">décembre 2026</a> <span class="count">(1 événement)</span>`,
		"Concert de Noël",
	)
	assertFile(t, out, "events/2026/06/index.html", `<h1>Agenda : juin 2026</h1>`, `<td class="has-events"><span class="day">21</span><ul><li><a href="/events/fete/">Fête du village</a>`)
}

func TestDossierGroups(t *testing.T) {
	out := mustBuild(t, basicSite)
	b, _ := out.File("dossiers/plu/index.html")
	s := string(b)
	// Its own pages first, then its items by kind.
	order := []string{`<h2 id="group-pages">Les pages du dossier</h2>`, "Le calendrier", `<h2 id="group-article">Actualités liées</h2>`, "Le budget 2026", `<h2 id="group-event">Événements</h2>`, "Concert de Noël"}
	last := -1
	for _, w := range order {
		i := strings.Index(s, w)
		if i < last {
			t.Errorf("%q is not after %q", w, order[max(0, len(order)-1)])
		}
		if i < 0 {
			t.Errorf("dossier page lacks %q", w)
		}
		last = i
	}
	// A dossier's own page is listed by its dossier, not among the dossiers.
	assertFile(t, out, "dossiers/index.html", "Révision du PLU", "! Le calendrier")
	assertFile(t, out, "dossiers/plu/calendrier/index.html", `<a href="/dossiers/">Dossiers</a></li><li><a href="/dossiers/plu/">Révision du PLU</a>`)
}

// photoSite adds photos, made in the test, to a site.
func photoSite(t testing.TB, archive string, photos map[string]string) fstest.MapFS {
	t.Helper()
	fsys := siteFS(archive)
	img := image.NewRGBA(image.Rect(0, 0, 1600, 1200))
	for y := 0; y < 1200; y += 8 {
		for x := 0; x < 1600; x += 8 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 120, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	for slug, contest := range photos {
		fm := fmt.Sprintf("---\ntitle: Photo %s\ndate: 2026-05-%02dT10:00:00+02:00\ncaption: La légende de %s\nauthor: Anne\nlicense: CC-BY-4.0\n", slug, len(slug), slug)
		if contest != "" {
			fm += "contest: " + contest + "\n"
		}
		fsys["photos/"+slug+"/index.md"] = &fstest.MapFile{Data: []byte(fm + "---\nL'histoire.\n")}
		fsys["photos/"+slug+"/"+slug+".png"] = &fstest.MapFile{Data: buf.Bytes()}
	}
	return fsys
}

func TestGallery(t *testing.T) {
	fsys := photoSite(t, config, map[string]string{"aa": "Concours 2026", "bbb": "", "cccc": "Concours 2026"})
	out := generator.NewMemoryOutput()
	if _, err := generator.New(generator.WithSource(fsys), generator.WithOutput(out), generator.WithNow(now)).Build(context.Background()); err != nil {
		t.Fatal(err)
	}
	assertFile(t, out, "photos/aa/index.html",
		`<img src="/photos/aa/aa.png" srcset="/photos/aa/aa-320w.jpg 320w, /photos/aa/aa-640w.jpg 640w, /photos/aa/aa-1280w.jpg 1280w, /photos/aa/aa.png 1600w"`,
		`width="1600" height="1200" alt="La légende de aa"`,
		`<figcaption>La légende de aa <span class="credit">© Anne</span></figcaption>`,
		`<a href="https://creativecommons.org/licenses/by/4.0/deed.fr" rel="license noopener">CC BY 4.0</a>`,
		"<dd>Concours 2026</dd>", "L&#39;histoire.",
	)
	assertFile(t, out, "photos/aa/aa-640w.jpg")
	b, _ := out.File("photos/index.html")
	s := string(b)
	// Grouped by contest, newest first within it; photos of no contest last.
	i, j, k, l := strings.Index(s, `<h2 id="contest-concours-2026">Concours 2026</h2>`), strings.Index(s, "/photos/cccc/"), strings.Index(s, "/photos/aa/"), strings.Index(s, `<h2 id="contest-other">Autres photos</h2>`)
	if !(i >= 0 && i < j && j < k && k < l && l < strings.Index(s, "/photos/bbb/")) {
		t.Errorf("the gallery is not grouped by contest (%d %d %d %d):\n%s", i, j, k, l, s)
	}
	assertFile(t, out, "photos/index.html", `src="/photos/aa/aa-640w.jpg"`, `sizes="(min-width: 62em) 17rem, (min-width: 36em) 45vw, 100vw"`)
	assertFile(t, out, "index.html", `<h2 id="home-photos">Photos</h2>`, "/photos/cccc/")
}

func TestLayoutOverride(t *testing.T) {
	// A site replaces one partial; the rest of the theme stays.
	out := mustBuild(t, formsSite+`
-- layouts/partials/field.html --
<p class="my-field">{{.Label}}: <input name="fields[{{.Name}}]"></p>
`)
	assertFile(t, out, "articles/a/index.html", `<p class="my-field">Votre nom: <input name="fields[name]"></p>`, `name="options[token]"`)
}

// TestThumbnailCache builds a photo twice with a cache: the second build takes the resized
// images from the cache (here marked, to see it) instead of decoding the photo again.
func TestThumbnailCache(t *testing.T) {
	fsys := photoSite(t, config, map[string]string{"aa": ""})
	cache := t.TempDir()
	build := func() *generator.MemoryOutput {
		out := generator.NewMemoryOutput()
		if _, err := generator.New(generator.WithSource(fsys), generator.WithOutput(out), generator.WithNow(now), generator.WithCacheDir(cache)).Build(context.Background()); err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := build()
	kept, _ := filepath.Glob(filepath.Join(cache, "thumbs", "*", "*-640.jpg"))
	if len(kept) != 1 {
		t.Fatalf("%d thumbnails of 640 px in the cache, want 1", len(kept))
	}
	orig, _ := first.File("photos/aa/aa-640w.jpg")
	if got, _ := os.ReadFile(kept[0]); !bytes.Equal(got, orig) {
		t.Fatal("the cached thumbnail differs from the built one")
	}
	if err := os.WriteFile(kept[0], []byte("from the cache"), 0o644); err != nil {
		t.Fatal(err)
	}
	assertFile(t, build(), "photos/aa/aa-640w.jpg", "from the cache")
	// Another image under the same name is another key: the cache is not fooled.
	fsys["photos/aa/aa.png"].Data = append(bytes.Clone(fsys["photos/aa/aa.png"].Data), 0)
	assertFile(t, build(), "photos/aa/aa-640w.jpg", "! from the cache")
}
