package hugotest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/tools/txtar"

	"github.com/parvis/parvis/internal/site"
	"github.com/parvis/parvis/internal/testenv"
)

func TestDemoContent(t *testing.T) {
	hugo := testenv.Hugo(t)
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	checkSite(t, hugo, filepath.Join(root, "content"))
}

func TestFixtures(t *testing.T) {
	hugo := testenv.Hugo(t)
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in testdata (%v)", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			t.Parallel()
			checkSite(t, hugo, extract(t, file))
		})
	}
}

// extract writes a txtar fixture's files into a temporary folder.
func extract(t *testing.T, file string) string {
	t.Helper()
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range ar.Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// hugoPage is what the check theme's home.json says of one page.
type hugoPage struct {
	Path    string    `json:"path"`
	Kind    string    `json:"kind"`
	Title   string    `json:"title"`
	Date    time.Time `json:"date"`
	Draft   bool      `json:"draft"`
	Tags    []string  `json:"tags"`
	URL     string    `json:"url"`
	Content int       `json:"content"` // length of the rendered HTML
}

type hugoDump struct {
	Pages    []hugoPage     `json:"pages"`
	Comments map[string]any `json:"comments"`
}

// checkSite builds dir with Hugo and compares what Hugo read with what Parvis reads.
func checkSite(t *testing.T, hugo, dir string) {
	t.Helper()
	cfg, err := site.LoadConfig(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	dump := runHugo(t, hugo, dir, cfg.TimeZone)
	s, err := site.Load(os.DirFS(dir), site.Options{Drafts: true, Future: true})
	if err != nil {
		t.Fatalf("Hugo reads %s, but Parvis does not, so there is nothing to compare:\n%v", dir, err)
	}

	got := map[string]hugoPage{}
	for _, p := range dump.Pages {
		got[p.Path] = p
	}
	want := map[string]bool{}
	for sec, p := range s.Sections {
		file := "_index.md"
		if sec != "" {
			file = sec + "/_index.md"
		}
		want[file] = true
		if h, ok := got[file]; !ok {
			t.Errorf("%s: Hugo has no such page", file)
		} else if h.Title != p.Title {
			t.Errorf("%s: title: Hugo %q, Parvis %q", file, h.Title, p.Title)
		}
	}
	for _, p := range append(slices.Clone(s.Pages), s.Shared...) {
		want[p.Path] = true
		h, ok := got[p.Path]
		if !ok {
			t.Errorf("%s: Hugo has no such page", p.Path)
			continue
		}
		for _, d := range comparePage(h, p) {
			t.Errorf("%s: %s", p.Path, d)
		}
	}
	for path := range got {
		if !want[path] {
			t.Errorf("%s: Hugo reads it as a page, Parvis does not", path)
		}
	}
	compareComments(t, dump.Comments, s)
}

// comparePage lists the differences between Hugo's reading of a page and Parvis's.
func comparePage(h hugoPage, p *site.Page) []string {
	var diffs []string
	if h.Title != p.Title {
		diffs = append(diffs, fmt.Sprintf("title: Hugo %q, Parvis %q", h.Title, p.Title))
	}
	if !h.Date.Equal(p.Date) && !(h.Date.IsZero() && p.Date.IsZero()) {
		diffs = append(diffs, fmt.Sprintf("date: Hugo %s, Parvis %s", h.Date, p.Date))
	}
	if h.Draft != p.Draft {
		diffs = append(diffs, fmt.Sprintf("draft: Hugo %t, Parvis %t", h.Draft, p.Draft))
	}
	if h.URL != p.URL {
		diffs = append(diffs, fmt.Sprintf("URL: Hugo %s, Parvis %s", h.URL, p.URL))
	}
	// Parvis trims tags and drops case-insensitive duplicates; Hugo does the same for its
	// tag pages but keeps the list as written.
	if a, b := tagSet(h.Tags), tagSet(p.Tags); !slices.Equal(a, b) {
		diffs = append(diffs, fmt.Sprintf("tags: Hugo %q, Parvis %q", a, b))
	}
	if h.Content == 0 && len(bytes.TrimSpace(p.Body)) > 0 {
		diffs = append(diffs, "Hugo rendered no content")
	}
	return diffs
}

func tagSet(tags []string) []string {
	var out []string
	for _, t := range tags {
		if t = strings.ToLower(strings.TrimSpace(t)); t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

// compareComments checks that Hugo's data holds the same comments, page by page, as Parvis.
func compareComments(t *testing.T, data map[string]any, s *site.Site) {
	t.Helper()
	hugo := map[string]bool{}
	walkComments(data, "", hugo)
	shared := map[string]bool{}
	for _, p := range s.Shared {
		shared[p.Ref] = true
	}
	parvis := map[string]bool{}
	var add func(ref string, l []*site.Comment)
	add = func(ref string, l []*site.Comment) {
		for _, c := range l {
			parvis[ref+"#"+c.ID] = true
			add(ref, c.Replies)
		}
	}
	for ref, l := range s.Comments {
		add(ref, l)
	}
	for k := range hugo {
		ref, _, _ := strings.Cut(k, "#")
		if !parvis[k] && !shared[ref] {
			t.Errorf("comment %s: in Hugo's data, not in Parvis's site", k)
		}
	}
	for k := range parvis {
		if !hugo[k] {
			t.Errorf("comment %s: in Parvis's site, not in Hugo's data", k)
		}
	}
}

// walkComments finds the comments in Hugo's data tree: folders are maps of maps, and a
// comment is a map with a name and an id.
func walkComments(node map[string]any, ref string, out map[string]bool) {
	for key, v := range node {
		m, ok := v.(map[string]any)
		if !ok {
			continue
		}
		_, named := m["name"].(string)
		id, _ := m["_id"].(string)
		if id == "" {
			id, _ = m["id"].(string)
		}
		if named && id != "" {
			out[ref+"#"+id] = true
			continue
		}
		walkComments(m, strings.TrimPrefix(ref+"/"+key, "/"), out)
	}
}

// runHugo builds dir with the check theme and returns its dump. Any ERROR line, or a
// non-zero exit, fails the test.
func runHugo(t *testing.T, hugo, dir, timeZone string) hugoDump {
	t.Helper()
	testdata, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	out := filepath.Join(tmp, "public")
	cmd := exec.Command(hugo,
		"--source", dir,
		"--config", filepath.Join(testdata, "hugo.toml"),
		"--themesDir", filepath.Join(testdata, "themes"),
		"--destination", out,
		"--cacheDir", filepath.Join(tmp, "cache"),
		"--buildDrafts", "--buildFuture", "--buildExpired",
	)
	// Hugo reads HUGO_* variables as configuration: keep the caller's out of it.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HUGO_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "HUGO_RESOURCEDIR="+filepath.Join(tmp, "resources"))
	if timeZone != "" {
		cmd.Env = append(cmd.Env, "HUGO_TIMEZONE="+timeZone)
	}
	output, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("hugo failed (%v):\n%s", err, output)
	}
	var errs []string
	sc := bufio.NewScanner(bytes.NewReader(output))
	for sc.Scan() {
		switch line := sc.Text(); {
		case strings.HasPrefix(line, "ERROR"):
			errs = append(errs, line)
		case strings.HasPrefix(line, "WARN"):
			t.Logf("hugo: %s", line)
		}
	}
	if len(errs) > 0 {
		t.Fatalf("hugo reported errors:\n%s", strings.Join(errs, "\n"))
	}
	data, err := os.ReadFile(filepath.Join(out, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dump hugoDump
	if err := json.Unmarshal(data, &dump); err != nil {
		t.Fatalf("the check theme's dump: %v", err)
	}
	return dump
}
