package forms

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/parvis/parvis/internal/site"
)

var update = flag.Bool("update", false, "rewrite the expected files of testdata/cases")

// TestCases runs testdata/cases/*.txtar. Each case holds a form's policy (form.yaml), a
// request (request: "key: value" lines), and either the errors Decode must return
// (errors: "key code" lines) or every file Encode must write, under its path, and
// optionally the change's subject (subject).
func TestCases(t *testing.T) {
	names, _ := filepath.Glob("testdata/cases/*.txtar")
	if len(names) == 0 {
		t.Fatal("no cases")
	}
	for _, name := range names {
		t.Run(strings.TrimSuffix(filepath.Base(name), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(name)
			if err != nil {
				t.Fatal(err)
			}
			in := map[string]string{}
			var want []txtar.File
			for _, f := range ar.Files {
				if isInput(f.Name) {
					in[f.Name] = string(f.Data)
				} else {
					want = append(want, f)
				}
			}
			form := compile(t, "case", in["form.yaml"])
			s, errs := form.Decode(request(t, in["request"]), nil)
			if e, ok := in["errors"]; ok {
				if got := problems(errs); got != strings.TrimSpace(e) {
					t.Errorf("errors:\n%s\nwant:\n%s", got, strings.TrimSpace(e))
				}
				return
			}
			if errs != nil {
				t.Fatalf("Decode: %v", errs)
			}
			files, err := form.Encode(s, testGen)
			if err != nil {
				t.Fatal(err)
			}
			if sub, ok := in["subject"]; ok {
				if got := form.Subject(s, testGen); got != strings.TrimSpace(sub) {
					t.Errorf("subject %q, want %q", got, strings.TrimSpace(sub))
				}
			}
			for _, f := range files {
				loadable(t, f)
			}
			if *update {
				kept := slices.DeleteFunc(ar.Files, func(f txtar.File) bool { return !isInput(f.Name) })
				for _, f := range files {
					kept = append(kept, txtar.File{Name: f.Path, Data: f.Data})
				}
				ar.Files = kept
				if err := os.WriteFile(name, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if len(files) != len(want) {
				t.Errorf("%d files, want %d", len(files), len(want))
			}
			for i := range min(len(files), len(want)) {
				if files[i].Path != want[i].Name {
					t.Errorf("file %d: %s, want %s", i, files[i].Path, want[i].Name)
				}
				if string(files[i].Data) != string(want[i].Data) {
					t.Errorf("%s:\n%s\nwant:\n%s", files[i].Path, files[i].Data, want[i].Data)
				}
			}
		})
	}
}

// isInput tells a case's inputs from the files it expects.
func isInput(name string) bool {
	switch name {
	case "form.yaml", "request", "errors", "subject":
		return true
	}
	return false
}

// loadable parses a written file as the site will: a comment with site.ParseComment, a
// page's front matter with site.ParseFrontMatter, which must hold a title.
func loadable(t *testing.T, f File) {
	t.Helper()
	switch {
	case strings.HasPrefix(f.Path, "comments/"):
		if _, err := site.ParseComment(f.Path, f.Data, paris); err != nil {
			t.Errorf("site.ParseComment: %v", err)
		}
	case strings.HasSuffix(f.Path, ".md"):
		fm, _, _, err := site.ParseFrontMatter(f.Data)
		if err != nil {
			t.Errorf("site.ParseFrontMatter(%s): %v", f.Path, err)
		} else if fm.Values["title"] == nil {
			t.Errorf("%s: no title in %v", f.Path, fm.Values)
		}
	}
}
