// Command search measures Parvis's site search beside Pagefind's, on the corpus the build
// benchmark uses: the size of each index, the time to build it (for Parvis, what it adds to
// a full `parvis build`), and the bytes a cold query transfers in a real browser. `make
// bench` runs it after the build benchmark; from the repository's root:
//
//	go run ./bench/search --articles 2000 --runs 3 --pagefind ~/.cache/parvis-test/pagefind-1.6.0
//
// Parvis's index is written by the parvis binary of this checkout; the same binary builds a
// copy of the corpus whose parvis.yaml turns the search off (params.search: false), and the
// builds alternate. Pagefind (npm pagefind, installed by `make bench-search-deps`) indexes
// the very pages Parvis indexes, from Parvis's own output.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/parvis/parvis/bench/corpus"
	"github.com/parvis/parvis/internal/site"
	"github.com/parvis/parvis/internal/testenv"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "search bench:", err)
		}
		os.Exit(1)
	}
}

type config struct {
	root, work       string
	opts             corpus.Options
	runs, pfRuns     int
	parvis, pagefind string
	pfVersion        string
	corpus, bare     string // the corpus, and its copy with the search off
	queries          []string
	chromium         string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("search", flag.ContinueOnError)
	fl.SetOutput(stderr)
	articles := fl.Int("articles", 10000, "articles in the corpus")
	runs := fl.Int("runs", 3, "builds with and without the search, alternating")
	pfRuns := fl.Int("pagefind-runs", 0, "Pagefind indexings (default: --runs)")
	pagefind := fl.String("pagefind", "", "the folder npm installed pagefind into (make bench-search-deps)")
	pfVersion := fl.String("pagefind-version", "1.6.0", "the Pagefind release expected there")
	one := fl.String("one", "médiathèque", "the one-word query")
	three := fl.String("three", "travaux voirie quartier", "the three-word query")
	work := fl.String("work", "", "work folder (default: .bench at the repository's root)")
	buildsOnly := fl.Bool("builds-only", false, "only measure what the search adds to parvis build (no Pagefind, no queries)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() > 0 || *runs < 1 || *articles < 1 || *pagefind == "" && !*buildsOnly {
		fl.Usage()
		return errors.New("bad arguments: --pagefind is required")
	}
	c := &config{runs: *runs, pfRuns: *pfRuns, opts: corpus.Scaled(*articles), queries: []string{*one, *three}, pfVersion: *pfVersion}
	if c.pfRuns < 1 {
		c.pfRuns = c.runs
	}
	var err error
	if c.root, err = testenv.RepoRoot(); err != nil {
		return err
	}
	c.work = *work
	if c.work == "" {
		c.work = filepath.Join(c.root, ".bench")
	}
	if c.work, err = filepath.Abs(c.work); err != nil {
		return err
	}
	if !*buildsOnly {
		if c.pagefind, err = pagefindBinary(*pagefind, c.pfVersion); err != nil {
			return err
		}
	}
	c.chromium = testenv.ChromiumPath
	if _, err := os.Stat(c.chromium); err != nil {
		return fmt.Errorf("no Chromium at %s (scripts/test-deps.sh installs it): %w", c.chromium, err)
	}
	if err := c.prepare(ctx, stderr); err != nil {
		return err
	}
	res := &results{}
	// Outputs are deleted at the end, not between builds: ext4 makes files slowly just
	// after thousands were deleted (see bench/compare).
	defer os.RemoveAll(filepath.Join(c.work, "search", "out"))
	defer os.RemoveAll(filepath.Join(c.work, "search", "pagefind-site"))
	if err := c.builds(ctx, stderr, res); err != nil {
		return err
	}
	if *buildsOnly {
		c.reportBuilds(stdout, res)
		return nil
	}
	if err := c.pagefindIndex(ctx, stderr, res); err != nil {
		return err
	}
	if err := c.queryBytes(ctx, stderr, res); err != nil {
		return err
	}
	c.report(stdout, res)
	return nil
}

// pagefindBinary finds the binary the npm package ships for this platform.
func pagefindBinary(dir, version string) (string, error) {
	pkg, err := os.ReadFile(filepath.Join(dir, "node_modules", "pagefind", "package.json"))
	if err != nil {
		return "", fmt.Errorf("no pagefind in %s: run make bench-search-deps (%w)", dir, err)
	}
	if !strings.Contains(string(pkg), `"version": "`+version+`"`) {
		return "", fmt.Errorf("%s holds another pagefind than %s: run make bench-search-deps", dir, version)
	}
	for _, name := range []string{"pagefind", "pagefind_extended"} {
		m, _ := filepath.Glob(filepath.Join(dir, "node_modules", "@pagefind", "*", "bin", name))
		if len(m) > 0 {
			return m[0], nil
		}
	}
	return "", fmt.Errorf("no pagefind binary for this platform under %s/node_modules/@pagefind", dir)
}

// prepare builds parvis, writes the corpus if it is not cached (where the build benchmark
// keeps it), and makes the copy with the search off: hard links, and its own parvis.yaml.
func (c *config) prepare(ctx context.Context, log io.Writer) error {
	c.parvis = filepath.Join(c.work, "bin", "parvis")
	fmt.Fprintln(log, "building parvis…")
	build := exec.CommandContext(ctx, "go", "build", "-o", c.parvis, "./cmd/parvis")
	build.Dir = c.root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/parvis: %v\n%s", err, out)
	}
	c.corpus = filepath.Join(c.work, "corpus", c.opts.Name())
	if _, err := os.Stat(c.corpus); err != nil {
		fmt.Fprintf(log, "writing the corpus (%d articles)…\n", c.opts.Articles)
		tmp := fmt.Sprintf("%s.tmp%d", c.corpus, os.Getpid())
		if _, err := corpus.Write(tmp, c.opts); err != nil {
			os.RemoveAll(tmp)
			return err
		}
		if err := os.Rename(tmp, c.corpus); err != nil {
			return err
		}
	}
	c.bare = filepath.Join(c.work, "search", "corpus-nosearch-"+c.opts.Name())
	if err := os.RemoveAll(c.bare); err != nil {
		return err
	}
	return filepath.WalkDir(c.corpus, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(c.corpus, p)
		dst := filepath.Join(c.bare, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		case rel == site.ConfigFile:
			cfg, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if strings.Contains(string(cfg), "\nparams:") {
				return fmt.Errorf("%s has params of its own: cannot add search: false", p)
			}
			return os.WriteFile(dst, append(cfg, "params:\n  search: false\n"...), 0o644)
		default:
			if _, err := os.ReadFile(p); err != nil { // warm the page cache, as compare does
				return err
			}
			return os.Link(p, dst)
		}
	})
}

// sample is one run's cost, from the kernel.
type sample struct {
	wall, cpu time.Duration
	rss       int64
}

func (s sample) String() string {
	return fmt.Sprintf("%.2f s  (CPU %.2f s)  %.0f MB", s.wall.Seconds(), s.cpu.Seconds(), float64(s.rss)/1e6)
}
