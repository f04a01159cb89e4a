package generator

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/parvis/parvis/internal/site"
	"github.com/parvis/parvis/themes"
)

// TestThemeStrings checks that the default theme speaks every language it offers completely:
// the same keys in each i18n file, the same plural forms, and a string for every key the
// layouts and the generator ask for.
func TestThemeStrings(t *testing.T) {
	theme := themes.Default()
	langs := map[string]map[string]any{}
	for _, lang := range []string{"fr", "en"} {
		data, err := fs.ReadFile(theme, "i18n/"+lang+".yaml")
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]any{}
		if err := yaml.Unmarshal(data, &m); err != nil {
			t.Fatalf("i18n/%s.yaml: %v", lang, err)
		}
		langs[lang] = m
	}
	fr, en := langs["fr"], langs["en"]
	for _, d := range []struct {
		name     string
		from, to map[string]any
	}{{"en.yaml", fr, en}, {"fr.yaml", en, fr}} {
		for k, v := range d.from {
			w, ok := d.to[k]
			if !ok {
				t.Errorf("%s lacks %q", d.name, k)
				continue
			}
			if shape(v) != shape(w) {
				t.Errorf("%q has the shape %s in one file and %s in %s", k, shape(v), shape(w), d.name)
			}
		}
	}

	used := map[string][]string{} // key → where
	use := func(key, where string) { used[key] = append(used[key], where) }
	// Layouts: {{T "key" …}} and {{hasT "key"}}.
	call := regexp.MustCompile(`\b(?:T|hasT) "([a-z0-9_]+)"`)
	err := fs.WalkDir(theme, "layouts", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(theme, p)
		if err != nil {
			return err
		}
		for _, m := range call.FindAllStringSubmatch(string(data), -1) {
			use(m[1], p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The generator: translate("key"…) with a literal key.
	lit := regexp.MustCompile(`translate\("([a-z0-9_]+)"\s*[,)]`)
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range lit.FindAllStringSubmatch(string(data), -1) {
			use(m[1], f)
		}
	}
	// Keys made up of a prefix and a name.
	for sec := range site.Sections {
		use("section_"+sec, "section titles")
	}
	for _, k := range []site.Kind{site.KindArticle, site.KindEvent, site.KindDocument, site.KindPhoto, site.KindPage} {
		use("dossier_"+string(k), "dossierGroups")
	}
	for _, n := range append([]string{commentForm}, formOrder...) {
		use("form_"+n, "formView")
	}
	for _, n := range formOrder {
		use("form_desc_"+n, "form-cards.html")
	}
	use("months", "formatDate")
	use("months_abbr", "formatDate")
	use("weekdays", "formatDate")

	keys := make([]string, 0, len(used))
	for k := range used {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for lang, m := range langs {
			if _, ok := m[k]; !ok {
				t.Errorf("i18n/%s.yaml lacks %q, used by %s", lang, k, strings.Join(slices.Compact(used[k]), ", "))
			}
		}
	}
	if len(keys) < 100 {
		t.Errorf("found only %d keys in use: the scan is broken", len(keys))
	}
}

// shape describes a value's kind and, for a plural, its forms.
func shape(v any) string {
	switch x := v.(type) {
	case string:
		return "text"
	case []any:
		return "list"
	case map[string]any:
		forms := make([]string, 0, len(x))
		for k := range x {
			forms = append(forms, k)
		}
		sort.Strings(forms)
		return "plural(" + strings.Join(forms, ",") + ")"
	}
	return "?"
}
