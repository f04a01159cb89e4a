package commentsvc

import (
	"io/fs"
	"os"
	"regexp"
	"slices"
	"testing"
	"time"
)

// TestAdminMessages checks that every string the pages ask for exists in every language.
func TestAdminMessages(t *testing.T) {
	for lang, m := range adminMessages {
		for other, om := range adminMessages {
			for key := range m {
				if _, ok := om[key]; !ok {
					t.Errorf("%q is in %s but not in %s", key, lang, other)
				}
			}
		}
	}
	used := map[string]bool{}
	tmplKey := regexp.MustCompile(`T \$?\.Lang "([a-z_]+)"`)
	goKey := regexp.MustCompile(`adminMsg\(a\.lang, "([a-z_]+)"[,)]`)
	err := fs.WalkDir(adminFS, "templates/admin", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := adminFS.ReadFile(p)
		for _, m := range tmplKey.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := fs.Glob(os.DirFS("."), "admin*.go")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range goKey.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	for _, st := range adminStatuses {
		used["status_"+string(st)], used["state_"+string(st)] = true, true
	}
	for res := range resultCodes {
		used["res_"+res] = true
	}
	if len(used) < 50 {
		t.Fatalf("found only %d keys in use: are the patterns right?", len(used))
	}
	for key := range used {
		for lang, m := range adminMessages {
			if m[key] == "" {
				t.Errorf("%s: no string %q", lang, key)
			}
		}
	}
	for lang, reasons := range adminDefaultReasons {
		if len(reasons) < 5 || slices.Contains(reasons, "") {
			t.Errorf("%s: default reasons %q", lang, reasons)
		}
	}
}

func TestSignalText(t *testing.T) {
	tests := []struct{ signal, fr, en string }{
		{"posted 12 s after load", "envoyée 12 s après l’affichage du formulaire", "sent 12 s after the form was shown"},
		{"posted 3 min after load", "envoyée 3 min après l’affichage du formulaire", "sent 3 min after the form was shown"},
		{"answered the question (no JavaScript)", "a répondu à la question de vérification (sans JavaScript)", "answered the check question (no JavaScript)"},
		{"no form token: static page without JavaScript", "sans jeton de formulaire (page sans JavaScript)", "no form token (page without JavaScript)"},
		{"1 link", "1 lien", "1 link"},
		{"4 links", "4 liens", "4 links"},
		{"a signal of tomorrow", "a signal of tomorrow", "a signal of tomorrow"},
	}
	for _, tt := range tests {
		if got := signalText("fr", tt.signal); got != tt.fr {
			t.Errorf("fr %q: %q, want %q", tt.signal, got, tt.fr)
		}
		if got := signalText("en", tt.signal); got != tt.en {
			t.Errorf("en %q: %q, want %q", tt.signal, got, tt.en)
		}
	}
}

func TestAdminTime(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		t        time.Time
		fr, en   string
		location *time.Location
	}{
		{time.Date(2026, 3, 14, 14, 5, 0, 0, time.UTC), "14 mars 2026 à 15 h 05", "14 March 2026, 15:05", paris},
		{time.Date(2026, 7, 31, 23, 30, 0, 0, time.UTC), "1er août 2026 à 1 h 30", "1 August 2026, 01:30", paris},
		{time.Time{}, "", "", paris},
	}
	for _, tt := range tests {
		if got := adminTime("fr", tt.t, tt.location); got != tt.fr {
			t.Errorf("fr %v: %q, want %q", tt.t, got, tt.fr)
		}
		if got := adminTime("en", tt.t, tt.location); got != tt.en {
			t.Errorf("en %v: %q, want %q", tt.t, got, tt.en)
		}
	}
	if got := adminDigits("fr", 1234567); got != "1\u202f234\u202f567" {
		t.Errorf("adminDigits fr: %q", got)
	}
	if got := adminDigits("en", 12345); got != "12,345" {
		t.Errorf("adminDigits en: %q", got)
	}
}
