// Command compare builds one corpus with `parvis build` and with Hugo, several times each,
// alternating, and prints their wall time and peak memory side by side, with the ratios the
// project aims at. `make bench` runs it; from the repository's root:
//
//	go run ./bench/compare --articles 2000 --runs 3
//
// It builds the parvis binary, finds or builds Hugo (pinned in tools/go.mod, cached under
// ~/.cache/parvis-test), and writes the corpus once per size under .bench/, which git ignores.
// Each build is a child process; its peak resident memory comes from the kernel's rusage.
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
	"runtime"
	"strings"

	"github.com/parvis/parvis/bench/corpus"
	"github.com/parvis/parvis/internal/testenv"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "compare:", err)
		}
		os.Exit(1)
	}
}

type config struct {
	root, work   string
	opts         corpus.Options
	runs         int
	parvis, hugo string
	corpus       string
	hugoVersion  string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("compare", flag.ContinueOnError)
	fl.SetOutput(stderr)
	articles := fl.Int("articles", 10000, "articles in the corpus")
	events := fl.Int("events", -1, "events in the corpus (default: articles/20)")
	comments := fl.Int("comments", -1, "comments in the corpus (default: 2 per article)")
	runs := fl.Int("runs", 3, "builds of each kind, per mode")
	work := fl.String("work", "", "work folder for the corpus, binaries and outputs (default: .bench at the repository's root)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() > 0 || *runs < 1 || *articles < 1 {
		fl.Usage()
		return errors.New("bad arguments")
	}
	c := &config{runs: *runs, opts: corpus.Scaled(*articles)}
	if *events >= 0 {
		c.opts.Events = *events
	}
	if *comments >= 0 {
		c.opts.Comments = *comments
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
	if err := c.prepare(ctx, stderr); err != nil {
		return err
	}
	res, err := c.measure(ctx, stderr)
	if err != nil {
		return err
	}
	c.report(stdout, res)
	return nil
}

// prepare builds both programs and writes the corpus if it is not cached yet.
func (c *config) prepare(ctx context.Context, log io.Writer) error {
	c.parvis = filepath.Join(c.work, "bin", "parvis")
	fmt.Fprintln(log, "building parvis…")
	build := exec.CommandContext(ctx, "go", "build", "-o", c.parvis, "./cmd/parvis")
	build.Dir = c.root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/parvis: %v\n%s", err, out)
	}
	var err error
	if c.hugoVersion, err = testenv.HugoVersion(); err != nil {
		return err
	}
	fmt.Fprintf(log, "finding Hugo %s (built once from tools/go.mod, about two minutes)…\n", c.hugoVersion)
	if c.hugo, err = testenv.HugoPath(ctx); err != nil {
		return err
	}

	c.corpus = filepath.Join(c.work, "corpus", c.opts.Name())
	if _, err := os.Stat(c.corpus); err != nil {
		fmt.Fprintf(log, "writing the corpus (%d articles, %d events, %d comments)…\n", c.opts.Articles, c.opts.Events, c.opts.Comments)
		// Written aside and renamed: a corpus folder is always complete.
		tmp := fmt.Sprintf("%s.tmp%d", c.corpus, os.Getpid())
		if _, err := corpus.Write(tmp, c.opts); err != nil {
			os.RemoveAll(tmp)
			return err
		}
		if err := os.Rename(tmp, c.corpus); err != nil {
			return err
		}
	}
	// Read every file once, so that the first timed build does not pay for a cold disk.
	return filepath.WalkDir(c.corpus, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		_, err = os.ReadFile(p)
		return err
	})
}

// tool is one of the two builds compared.
type tool struct {
	name string
	args func(c *config, out string) []string // out is "" for a build in memory
}

var tools = []tool{
	{"parvis", func(c *config, out string) []string {
		// Like Hugo's, its cache is the bench's own (it only keeps resized images, which
		// the corpus has none of).
		args := []string{c.parvis, "build", "--site", c.corpus, "--cache", filepath.Join(c.work, "parvis-cache"), "--quiet"}
		if out == "" {
			return append(args, "--render-to-memory")
		}
		return append(args, "--out", out)
	}},
	{"hugo", func(c *config, out string) []string {
		args := []string{c.hugo, "--source", c.corpus,
			"--config", filepath.Join(c.root, "bench", "hugo", "hugo.toml"),
			"--themesDir", filepath.Join(c.root, "bench", "hugo", "themes"),
			"--cacheDir", filepath.Join(c.work, "hugo-cache"), "--quiet"}
		if out == "" {
			return append(args, "--renderToMemory")
		}
		return append(args, "--destination", out)
	}},
}

var modes = []struct {
	name   string
	memory bool
}{{"to disk", false}, {"in memory", true}}

// results holds the samples by mode, then tool.
type results struct {
	samples map[string]map[string][]sample
	output  map[string]outputSize // the first build to disk of each tool
}

func (c *config) measure(ctx context.Context, log io.Writer) (*results, error) {
	res := &results{samples: map[string]map[string][]sample{}, output: map[string]outputSize{}}
	env := cleanEnv()
	// Every build to disk writes a folder of its own, and they are all deleted at the end.
	// Deleting one build's output just before the next would make the next one slower:
	// ext4 skips recently freed inodes when it makes new files, scanning past thousands of
	// them for each, which tripled a build's system time.
	outs := filepath.Join(c.work, "out")
	if err := os.RemoveAll(outs); err != nil {
		return nil, err
	}
	defer os.RemoveAll(outs)
	for _, m := range modes {
		res.samples[m.name] = map[string][]sample{}
		for r := range c.runs {
			// A, B then B, A: neither program always runs on a machine the other just warmed.
			order := []tool{tools[0], tools[1]}
			if r%2 == 1 {
				order[0], order[1] = order[1], order[0]
			}
			for _, t := range order {
				out := ""
				if !m.memory {
					out = filepath.Join(outs, fmt.Sprintf("%s-%d", t.name, r+1))
				}
				// Each build starts with nothing left to write back: without this, the
				// previous build's pages (and the deletion of its output) are flushed
				// during the next one, which the kernel then throttles.
				flush()
				s, err := measure(ctx, t.args(c, out), env)
				if err != nil {
					return nil, fmt.Errorf("%s, %s: %w", t.name, m.name, err)
				}
				fmt.Fprintf(log, "%-9s  run %d/%d  %-6s  %s\n", m.name, r+1, c.runs, t.name, s)
				res.samples[m.name][t.name] = append(res.samples[m.name][t.name], s)
				if out != "" {
					if _, seen := res.output[t.name]; !seen {
						if res.output[t.name], err = sizeOf(out); err != nil {
							return nil, err
						}
					}
				}
			}
		}
	}
	return res, nil
}

// cleanEnv is the environment without HUGO_* variables, which Hugo would read as settings.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HUGO_") {
			env = append(env, kv)
		}
	}
	return env
}

func cpus() int { return runtime.NumCPU() }
