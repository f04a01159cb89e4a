// Command intake measures the submission service's intake on loopback: the throughput and
// latency of comments posted to a real `parvis serve` at a fixed offered rate, every check of
// a real request on and the durable queue on. `make bench-intake` runs it; from the
// repository's root:
//
//	go run ./bench/intake --rate 10000 --duration 20s --runs 3
//
// It builds the parvis binary into its work folder, writes a small site, and for each run
// starts the server as a child on a fresh data folder, with the proof-of-work challenge off
// (--antispam-challenge off, as for local testing) and the rate limits far above the offered
// rate (every post comes from one address). It loads form pages as visitors would to get
// their tokens, waits out the form's minimum time, then posts comments in an open loop: a
// warm-up, then the measured window. Latency runs from when each request was due, not from
// when it was sent. Afterwards it checks that every submission answered 202 is kept: in the
// queue, or already turned into a change by the worker, which runs as in production.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/parvis/parvis/internal/testenv"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "intake:", err)
		}
		os.Exit(1)
	}
}

type config struct {
	root, work string
	parvis     string // the binary
	site       string // the site's folder
	rate       float64
	duration   time.Duration
	warmup     time.Duration
	runs       int
	conns      int
	visitors   int // page loads, hence form tokens
	workers    int // parvis serve --workers
	keep       bool
	timeline   string // where to write each run's latency over time, if anywhere
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("intake", flag.ContinueOnError)
	fl.SetOutput(stderr)
	c := &config{}
	fl.Float64Var(&c.rate, "rate", 10000, "submissions offered per second")
	fl.DurationVar(&c.duration, "duration", 20*time.Second, "the measured window")
	fl.DurationVar(&c.warmup, "warmup", 3*time.Second, "load at the same rate before the window, not measured")
	fl.IntVar(&c.runs, "runs", 3, "runs, each on a fresh server and data folder")
	fl.IntVar(&c.conns, "conns", 1000, "requests in flight at most (one connection each)")
	fl.IntVar(&c.visitors, "visitors", 200, "page loads before the run: the posts share their form tokens")
	work := fl.String("work", "", "work folder for the binary, the site and the data folders (default: .bench/intake at the repository's root)")
	fl.BoolVar(&c.keep, "keep", false, "keep each run's data folder")
	fl.IntVar(&c.workers, "workers", 1, "parvis serve --workers: 1 as in production; 0 measures intake alone, submissions staying queued")
	fl.StringVar(&c.timeline, "timeline", "", "write each run's latency per 100 ms of the window to this file (tab-separated, run number appended)")
	fl.StringVar(&c.parvis, "parvis", "", "a parvis binary to measure instead of building this checkout's (to compare two builds)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() > 0 || c.rate <= 0 || c.duration <= 0 || c.warmup < 0 || c.runs < 1 || c.conns < 1 || c.visitors < 1 {
		fl.Usage()
		return errors.New("bad arguments")
	}
	var err error
	if c.root, err = testenv.RepoRoot(); err != nil {
		return err
	}
	c.work = *work
	if c.work == "" {
		c.work = filepath.Join(c.root, ".bench", "intake")
	}
	if c.work, err = filepath.Abs(c.work); err != nil {
		return err
	}
	if err := c.prepare(ctx, stderr); err != nil {
		return err
	}
	var res []*result
	for r := range c.runs {
		x, err := c.once(ctx, r, stderr)
		if err != nil {
			return fmt.Errorf("run %d: %w", r+1, err)
		}
		fmt.Fprintf(stderr, "run %d/%d  %s\n", r+1, c.runs, x)
		res = append(res, x)
	}
	c.report(stdout, res)
	return nil
}

// prepare builds the binary, unless one was given, and writes the site.
func (c *config) prepare(ctx context.Context, log io.Writer) error {
	if c.parvis == "" {
		c.parvis = filepath.Join(c.work, "bin", "parvis")
		fmt.Fprintln(log, "building parvis…")
		build := exec.CommandContext(ctx, "go", "build", "-o", c.parvis, "./cmd/parvis")
		build.Dir = c.root
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./cmd/parvis: %v\n%s", err, out)
		}
	} else {
		var err error
		if c.parvis, err = filepath.Abs(c.parvis); err != nil {
			return err
		}
	}
	c.site = filepath.Join(c.work, "site")
	if err := os.RemoveAll(c.site); err != nil {
		return err
	}
	return writeSite(c.site)
}

// once is one run: a fresh server, the load, then the checks.
func (c *config) once(ctx context.Context, r int, log io.Writer) (*result, error) {
	data := filepath.Join(c.work, fmt.Sprintf("run-%d", r+1))
	if err := os.RemoveAll(data); err != nil {
		return nil, err
	}
	_ = os.Remove(data + ".log")
	srv, err := startServer(ctx, c.parvis, c.site, data, c.workers)
	if err != nil {
		return nil, err
	}
	stopped := false
	defer func() {
		if !stopped {
			srv.kill()
		}
		if !c.keep {
			os.RemoveAll(data)
		}
	}()
	fmt.Fprintf(log, "run %d/%d  parvis serve (pid %d) on %s, data in %s\n", r+1, c.runs, srv.pid(), srv.base, data)

	tokens, err := srv.tokens(c.visitors)
	if err != nil {
		return nil, err
	}
	loaded := time.Now()

	nWarm := int(c.warmup.Seconds() * c.rate)
	n := nWarm + int(c.duration.Seconds()*c.rate)
	cs := comments(n, sitePages, uint64(r+1))
	bodies := make([]string, n)
	for i, cm := range cs {
		bodies[i] = cm.body(tokens[i%len(tokens)], siteBase)
	}
	cs = nil
	runtime.GC()
	// The form refuses a post sooner than its minimum time after the page was loaded.
	if wait := time.Until(loaded.Add(minSeconds*time.Second + 100*time.Millisecond)); wait > 0 {
		time.Sleep(wait)
	}

	l := &load{url: srv.base + "/api/v1/entries/comment", rate: c.rate, bodies: bodies, conns: c.conns}
	x := &result{offered: c.rate, window: c.duration}
	l.start = time.Now().Add(100 * time.Millisecond)
	samples := make(chan error, 1)
	go func() { samples <- x.sample(ctx, srv, l.start.Add(l.due(nWarm)), l.start.Add(l.due(n))) }()
	fmt.Fprintf(log, "run %d/%d  %d posts at %.0f/s: %s warm-up, then %s measured…\n", r+1, c.runs, n, c.rate, c.warmup, c.duration)
	l.run(ctx)
	if err := <-samples; err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	x.count(l, nWarm)
	if c.timeline != "" {
		if err := writeTimeline(fmt.Sprintf("%s.%d", c.timeline, r+1), l, nWarm, 100*time.Millisecond); err != nil {
			return nil, err
		}
	}

	// What the server says it accepted, then what it kept on disk once stopped.
	m, err := srv.metrics()
	if err != nil {
		return nil, err
	}
	x.served = int(m[`parvis_submissions_accepted_total{form="comment"}`])
	x.duplicates = int(m[`parvis_submissions_duplicate_total{form="comment"}`])
	x.commits, x.commitReqs, x.commitSecs = m["parvis_queue_commit_requests_count"], m["parvis_queue_commit_requests_sum"], m["parvis_queue_commit_seconds_sum"]
	for _, state := range []string{"ready", "delayed", "leased", "failed"} {
		x.queued += int(m[`parvis_queue_items{state="`+state+`"}`])
	}
	if x.rssEnd, err = srv.peakRSS(); err != nil {
		return nil, err
	}
	stopped = true
	if err := srv.stop(); err != nil {
		return nil, err
	}
	ids, err := kept(data)
	if err != nil {
		return nil, err
	}
	x.check(l, ids)
	return x, nil
}
