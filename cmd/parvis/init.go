package main

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/template"
	"time"
)

//go:embed all:skeleton
var skeleton embed.FS

func runInit(ctx context.Context, e *env, args []string) error {
	fset := newFlags(e, "init", "[--title TITLE] [--lang fr|en] DIR",
		"Make a new, minimal site in DIR: a parvis.yaml, a first article, a legal notice page,\n"+
			"and a comment form. DIR must not exist or be empty.")
	title := fset.String("title", "", "the site's title (default: the folder's name)")
	lang := fset.String("lang", "fr", "the site's language: fr or en")
	if err := parse(e, fset, args); err != nil {
		return err
	}
	if fset.NArg() != 1 {
		return usageError{"expected one folder: parvis init DIR"}
	}
	dir := fset.Arg(0)
	if *lang != "fr" && *lang != "en" {
		return usageError{fmt.Sprintf("--lang: %q is not fr or en", *lang)}
	}
	if *title == "" {
		abs, _ := filepath.Abs(dir)
		*title = filepath.Base(abs)
	}
	if strings.ContainsAny(*title, "\n\r\"{}") {
		return usageError{"--title must be one line without quotes or braces"}
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty: parvis init makes a new site in a new or empty folder", dir)
	}
	data := map[string]string{"Title": *title, "Lang": *lang, "Date": time.Now().Format("2006-01-02")}
	var files []string
	err := fs.WalkDir(skeleton, "skeleton", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range files {
		rel := strings.TrimPrefix(p, "skeleton/")
		if rel == "gitignore" {
			rel = ".gitignore"
		}
		src, err := skeleton.ReadFile(p)
		if err != nil {
			return err
		}
		var out bytes.Buffer
		t, err := template.New(rel).Parse(string(src))
		if err != nil {
			return err
		}
		if err := t.Execute(&out, data); err != nil {
			return err
		}
		dest := filepath.Join(dir, filepath.FromSlash(rel))
		if path.Base(rel) == ".keep" {
			dest = filepath.Dir(dest)
			if err := os.MkdirAll(dest, 0o755); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dest, out.Bytes(), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, `Made a new site in %[1]s. Next:
  1. Add a moderator, who signs in at /admin/ to approve what citizens send:
       parvis moderate adduser NAME --site %[1]s
  2. Put the site in Git, its history and its source of truth (var/ and public/ stay out):
       git -C %[1]s init -b main && git -C %[1]s add -A && git -C %[1]s commit -m "A new site"
  3. Serve it, with its forms and moderation pages, at http://localhost:8080/:
       parvis serve --site %[1]s
     or build the static site alone: parvis build --site %[1]s
`, dir)
	return nil
}
