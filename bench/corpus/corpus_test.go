package corpus

import (
	"context"
	"crypto/sha256"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parvis/parvis/generator"
	"github.com/parvis/parvis/internal/site"
	"github.com/parvis/parvis/internal/testenv"
)

var small = Options{Articles: 60, Events: 6, Comments: 150, Seed: 1}

func write(t *testing.T, o Options) (string, *Stats) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "site")
	st, err := Write(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	return dir, st
}

// digest hashes every file's path and bytes.
func digest(t *testing.T, dir string) [32]byte {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		h.Write([]byte(rel + "\x00"))
		h.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

func TestWriteIsDeterministic(t *testing.T) {
	a, _ := write(t, small)
	b, _ := write(t, small)
	if digest(t, a) != digest(t, b) {
		t.Error("two corpora with the same options differ")
	}
	other := small
	other.Seed = 2
	c, _ := write(t, other)
	if digest(t, a) == digest(t, c) {
		t.Error("another seed gives the same corpus")
	}
}

func TestWriteIsAValidSite(t *testing.T) {
	dir, st := write(t, small)
	s, err := site.Load(os.DirFS(dir), site.Options{Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatalf("Parvis rejects the corpus:\n%v", err)
	}
	kinds := map[site.Kind]int{}
	for _, p := range s.Pages {
		kinds[p.Kind]++
	}
	want := map[site.Kind]int{site.KindArticle: small.Articles - st.Drafts, site.KindEvent: small.Events, site.KindPage: 2}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%d %s pages, want %d", kinds[k], k, n)
		}
	}
	if st.Drafts == 0 {
		t.Error("no draft: the corpus should exercise drafts")
	}
	var comments, replies int
	var count func(l []*site.Comment, depth int)
	count = func(l []*site.Comment, depth int) {
		for _, c := range l {
			comments++
			if depth > 0 {
				replies++
			}
			count(c.Replies, depth+1)
		}
	}
	for _, l := range s.Comments {
		count(l, 0)
	}
	if comments != small.Comments || comments != st.Comments || replies != st.Replies || replies == 0 {
		t.Errorf("Parvis reads %d comments (%d replies); wrote %d (%d replies), asked %d",
			comments, replies, st.Comments, st.Replies, small.Comments)
	}
	if avg := st.Words / st.Articles; avg < 550 || avg > 650 {
		t.Errorf("articles average %d words, want about 600", avg)
	}
	for _, p := range s.Pages {
		for _, tag := range p.Tags {
			if !slices.Contains(tagVocabulary, tag) {
				t.Errorf("%s: tag %q is not from the vocabulary", p.Path, tag)
			}
		}
	}
	all := strings.Join(bodies(s), "\n")
	for _, want := range []string{"\n## ", "\n- ", "](/articles/", "](https://", "*", "**", "« "} {
		if !strings.Contains(all, want) {
			t.Errorf("no page contains %q", want)
		}
	}
}

func bodies(s *site.Site) []string {
	var out []string
	for _, p := range s.Pages {
		out = append(out, string(p.Body))
	}
	return out
}

func TestWriteBuildsWithParvis(t *testing.T) {
	dir, _ := write(t, small)
	res, err := generator.New(generator.WithSiteDir(dir), generator.WithOutput(generator.NewMemoryOutput())).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Pages < small.Articles {
		t.Errorf("built %d pages", res.Pages)
	}
}

func TestWriteBuildsWithHugo(t *testing.T) {
	hugo := testenv.Hugo(t)
	dir, st := write(t, small)
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "public")
	cmd := exec.Command(hugo, "--source", dir,
		"--config", filepath.Join(root, "bench", "hugo", "hugo.toml"),
		"--themesDir", filepath.Join(root, "bench", "hugo", "themes"),
		"--destination", out, "--cacheDir", t.TempDir())
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HUGO_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	output, err := cmd.CombinedOutput()
	if err != nil || regexp.MustCompile(`(?m)^(ERROR|WARN)`).Match(output) {
		t.Fatalf("hugo: %v\n%s", err, output)
	}
	// Every comment is on its page, replies nested.
	var comments, replies int
	filepath.WalkDir(filepath.Join(out, "articles"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "index.html" && !strings.Contains(p, "/page/") {
			data, _ := os.ReadFile(p)
			comments += strings.Count(string(data), `<li class="comment" id=`)
			replies += strings.Count(string(data), `<ol class="comment-replies">`)
		}
		return nil
	})
	if comments != st.Comments || replies == 0 {
		t.Errorf("Hugo rendered %d comments (%d reply lists); the corpus has %d", comments, replies, st.Comments)
	}
	for _, f := range []string{"index.html", "index.xml", "articles/index.html", "articles/page/2/index.html", "events/index.html", "tags/index.html", "a-propos/index.html", "sitemap.xml"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("Hugo wrote no %s", f)
		}
	}
}

func TestWriteRefuses(t *testing.T) {
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "x"), nil, 0o644)
	tests := []struct {
		name string
		dir  string
		o    Options
	}{
		{"no article", filepath.Join(t.TempDir(), "a"), Options{}},
		{"negative comments", filepath.Join(t.TempDir(), "b"), Options{Articles: 1, Comments: -1}},
		{"folder not empty", full, small},
	}
	for _, tt := range tests {
		if _, err := Write(tt.dir, tt.o); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func TestSlugify(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Réunion publique : le PLU", "reunion-publique-le-plu"},
		{"L'aménagement des berges de la Vaudèze", "l-amenagement-des-berges-de-la-vaudeze"},
		{"  Écoles -- été 2026 ! ", "ecoles-ete-2026"},
		{strings.Repeat("abcde ", 20), strings.TrimSuffix(strings.Repeat("abcde-", 10), "-")},
	}
	for _, tt := range tests {
		if got := slugify(tt.in); got != tt.want {
			t.Errorf("slugify(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestQuoteIsYAML(t *testing.T) {
	for _, s := range []string{"Budget : « oui »", `a "b" \ c`, "", "x: y # z"} {
		fm, _, _, err := site.ParseFrontMatter([]byte("---\ntitle: " + quote(s) + "\n---\n"))
		if err != nil || fm.Values["title"] != s {
			t.Errorf("quote(%q) reads back as %v, %v", s, fm.Values["title"], err)
		}
	}
}

func TestThousands(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{{5, "5"}, {999, "999"}, {1000, "1 000"}, {120000, "120 000"}, {1234567, "1 234 567"}}
	for _, tt := range tests {
		if got := thousands(tt.n); got != tt.want {
			t.Errorf("thousands(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
