package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/parvis/parvis/internal/site"
)

// results is everything the report prints.
type results struct {
	with, without []sample // full parvis builds, with the search and without
	pagefind      []sample
	parvisIndex   size // search/ in parvis's output
	pagefindIndex size // pagefind/ beside the same pages
	pages         int  // pages indexed, the same for both
	out           string
	staging       string
	queries       []queryCost
}

// size is a folder's files.
type size struct {
	files int
	bytes int64
}

func sizeOf(dir string) (size, error) {
	var s size
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			s.files++
			s.bytes += fi.Size()
		}
		return err
	})
	return s, err
}

// measure runs a child process and reads its cost from the kernel.
func measure(ctx context.Context, argv []string) (sample, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, out.Bytes())
	}
	st := cmd.ProcessState
	var rss int64
	if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
		rss = int64(ru.Maxrss) * 1024
		if runtime.GOOS == "darwin" {
			rss = int64(ru.Maxrss)
		}
	}
	return sample{wall: wall, cpu: st.UserTime() + st.SystemTime(), rss: rss}, nil
}

// builds runs full parvis builds of the corpus with the search and of its copy without,
// alternating (A B, B A, …), each into a folder of its own after a sync, as the build
// benchmark does. The first output with the search is kept for what follows.
func (c *config) builds(ctx context.Context, log io.Writer, res *results) error {
	outs := filepath.Join(c.work, "search", "out")
	if err := os.RemoveAll(outs); err != nil {
		return err
	}
	for r := range c.runs {
		order := []bool{true, false}
		if r%2 == 1 {
			order = []bool{false, true}
		}
		for _, on := range order {
			src, name := c.corpus, "with"
			if !on {
				src, name = c.bare, "without"
			}
			out := filepath.Join(outs, fmt.Sprintf("%s-%d", name, r+1))
			syscall.Sync()
			s, err := measure(ctx, []string{c.parvis, "build", "--site", src, "--out", out,
				"--cache", filepath.Join(c.work, "parvis-cache"), "--quiet"})
			if err != nil {
				return err
			}
			fmt.Fprintf(log, "parvis build, search %-7s  run %d/%d  %s\n", map[bool]string{true: "on", false: "off"}[on], r+1, c.runs, s)
			if on {
				res.with = append(res.with, s)
				if res.out == "" {
					res.out = out
				}
			} else {
				res.without = append(res.without, s)
			}
		}
	}
	var err error
	res.parvisIndex, err = sizeOf(filepath.Join(res.out, "search"))
	return err
}

// pagefindIndex runs Pagefind on the pages Parvis indexes: the published pages of the
// corpus, as Parvis built them, hard-linked into a folder of their own. Pagefind reads each
// page's <main> without its navigation (breadcrumbs, contents, neighbours), the dossiers it
// is in, its comments and forms: what Parvis indexes of a page.
func (c *config) pagefindIndex(ctx context.Context, log io.Writer, res *results) error {
	s, err := site.Load(os.DirFS(c.corpus), site.Options{Now: time.Now()})
	if err != nil {
		return err
	}
	res.staging = filepath.Join(c.work, "search", "pagefind-site")
	if err := os.RemoveAll(res.staging); err != nil {
		return err
	}
	for _, p := range s.Pages {
		rel := filepath.FromSlash(strings.Trim(p.URL, "/"))
		dst := filepath.Join(res.staging, rel, "index.html")
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.Link(filepath.Join(res.out, rel, "index.html"), dst); err != nil {
			return err
		}
		res.pages++
	}
	args := []string{c.pagefind, "--site", res.staging, "--root-selector", "main", "--quiet"}
	for _, sel := range []string{"nav", ".in-dossiers", ".comments", "form"} {
		args = append(args, "--exclude-selectors", sel)
	}
	for r := range c.pfRuns {
		if err := os.RemoveAll(filepath.Join(res.staging, "pagefind")); err != nil {
			return err
		}
		syscall.Sync()
		s, err := measure(ctx, args)
		if err != nil {
			return err
		}
		fmt.Fprintf(log, "pagefind %s  run %d/%d  %s\n", c.pfVersion, r+1, c.pfRuns, s)
		res.pagefind = append(res.pagefind, s)
	}
	res.pagefindIndex, err = sizeOf(filepath.Join(res.staging, "pagefind"))
	return err
}

// median is the middle of samples of one quantity.
func median(s []sample, f func(sample) float64) float64 {
	v := make([]float64, len(s))
	for i, x := range s {
		v[i] = f(x)
	}
	slices.Sort(v)
	n := len(v)
	if n == 0 {
		return 0
	}
	if n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[n/2]
}

func wall(s sample) float64 { return s.wall.Seconds() }
func cpu(s sample) float64  { return s.cpu.Seconds() }
func rss(s sample) float64  { return float64(s.rss) }
