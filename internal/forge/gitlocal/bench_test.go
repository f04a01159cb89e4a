package gitlocal

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/parvis/parvis/internal/forge"
)

// A real-sized site: 2,000 articles with 4 comments each, and a configuration: 10,001 files.
const (
	bigArticles = 2000
	bigComments = 4
)

var big struct {
	once sync.Once
	dir  string // a working repository holding the site, cloned by each benchmark
	err  error
}

// bigSite returns a clone of the real-sized site: a worktree on main, or a bare repository.
func bigSite(b *testing.B, bare bool) string {
	b.Helper()
	big.once.Do(func() {
		big.dir, big.err = os.MkdirTemp("", "parvis-bench-")
		if big.err != nil {
			return
		}
		big.err = makeBigSite(b, big.dir)
	})
	if big.err != nil {
		b.Fatal(big.err)
	}
	dst := filepath.Join(b.TempDir(), "site")
	args := []string{"clone", "-q", big.dir, dst}
	if bare {
		args = []string{"clone", "-q", "--bare", big.dir, dst}
	}
	run(b, big.dir, args...)
	return dst
}

func makeBigSite(b *testing.B, dir string) error {
	run(b, dir, "init", "-q", "-b", "main")
	write := func(name, data string) error {
		name = filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return err
		}
		return os.WriteFile(name, []byte(data), 0o644)
	}
	if err := write("parvis.yaml", "title: Grande ville\n"); err != nil {
		return err
	}
	for i := range bigArticles {
		slug := fmt.Sprintf("article-%04d", i)
		if err := write("articles/"+slug+".md", fmt.Sprintf("---\ntitle: Article %d\n---\nTexte de l'article %d.\n", i, i)); err != nil {
			return err
		}
		for j := range bigComments {
			if err := write(fmt.Sprintf("comments/articles/%s/c%d.yaml", slug, j), fmt.Sprintf("_id: c%d\nname: Lecteur %d\nmessage: Commentaire %d\n", j, j, j)); err != nil {
				return err
			}
		}
	}
	run(b, dir, "add", "-A")
	run(b, dir, "commit", "-q", "-m", "Site")
	return nil
}

func cleanupBench() {
	if big.dir != "" {
		os.RemoveAll(big.dir)
	}
}

func benchComment(i int) *forge.Change {
	id := fmt.Sprintf("01BENCH%06d", i)
	page := fmt.Sprintf("articles/article-%04d", i%bigArticles)
	return &forge.Change{
		ID: id, Form: "comment", Page: page, Author: "Claire M.", Body: "Merci.",
		Files: []forge.File{{Path: "comments/" + page + "/" + id + ".yaml", Data: []byte("_id: " + id + "\nname: Claire M.\nmessage: Merci\n")}},
	}
}

func BenchmarkOpen(b *testing.B) {
	ctx := context.Background()
	f, err := Open(bigSite(b, false), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.Open(ctx, benchComment(i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApprove approves a backlog of changes opened on the same tip: the first lands
// by fast-forward, the others are replayed on a moved main.
func BenchmarkApprove(b *testing.B) {
	for _, bare := range []bool{false, true} {
		name := "worktree"
		if bare {
			name = "bare"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			f, err := Open(bigSite(b, bare), Options{})
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < b.N; i++ {
				if _, err := f.Open(ctx, benchComment(i)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := f.Approve(ctx, benchComment(i).ID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkList lists 100 pending changes, as the moderation page does.
func BenchmarkList(b *testing.B) {
	ctx := context.Background()
	f, err := Open(bigSite(b, true), Options{})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 100 {
		if _, err := f.Open(ctx, benchComment(i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if l, err := f.List(ctx); err != nil || len(l) != 100 {
			b.Fatal(len(l), err)
		}
	}
}
