package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/parvis/parvis/generator"
)

func runBuild(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "build", "[--site DIR] [--out DIR]",
		"Build the site in --site into static files in --out. Content faults are listed one\n"+
			"per line (file:line: fault) and the build exits with status 1, writing nothing.\n"+
			"The output folder is replaced as a whole once the build succeeds.")
	siteDir := fs.String("site", ".", "the site's folder (the one holding parvis.yaml)")
	out := fs.String("out", "", "the output folder (default: public/ in the site's folder)")
	drafts := fs.Bool("drafts", false, "publish draft pages")
	future := fs.Bool("future", false, "publish pages dated in the future")
	now := fs.String("now", "", "the build's clock, RFC 3339 (default: now, or SOURCE_DATE_EPOCH)")
	memory := fs.Bool("render-to-memory", false, "render everything in memory and write nothing (for timing)")
	quiet := fs.Bool("quiet", false, "print nothing but faults")
	workers := fs.Int("workers", 0, "pages rendered at once (default: the number of CPUs)")
	cache := fs.String("cache", defaultCache(), "a folder for work kept between builds (resized images); empty for none")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	clock, err := buildClock(*now, e.getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(*siteDir, "parvis.yaml")); err != nil {
		return fmt.Errorf("%s is not a Parvis site: no parvis.yaml (make one with 'parvis init %s')", *siteDir, *siteDir)
	}
	opts := []generator.Option{
		generator.WithSiteDir(*siteDir), generator.WithDrafts(*drafts), generator.WithFuture(*future),
		generator.WithNow(clock), generator.WithWorkers(*workers), generator.WithCacheDir(*cache),
	}
	dest := *out
	if dest == "" {
		dest = filepath.Join(*siteDir, "public")
	}
	if *memory {
		opts = append(opts, generator.WithOutput(generator.NewMemoryOutput()))
	} else {
		if err := checkOutDir(*siteDir, dest); err != nil {
			return err
		}
		o, err := generator.NewDirOutput(dest)
		if err != nil {
			return err
		}
		opts = append(opts, generator.WithOutput(o))
	}
	if f, ok := e.stderr.(*os.File); ok && !*quiet && term.IsTerminal(int(f.Fd())) {
		opts = append(opts, generator.WithProgress(f))
	}
	res, err := generator.New(opts...).Build(ctx)
	if err != nil {
		return err
	}
	if !*quiet {
		where := dest
		if *memory {
			where = "memory"
		}
		fmt.Fprintf(e.stdout, "Built %s into %s\n", res, where)
	}
	return nil
}

// defaultCache is the user's cache folder for Parvis, or none when the system has none.
func defaultCache() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "parvis")
}

// buildClock reads --now, else SOURCE_DATE_EPOCH (reproducible builds), else the time.
func buildClock(flagValue, epoch string) (time.Time, error) {
	if flagValue != "" {
		t, err := time.Parse(time.RFC3339, flagValue)
		if err != nil {
			return time.Time{}, usageError{fmt.Sprintf("--now: %q is not an RFC 3339 time", flagValue)}
		}
		return t, nil
	}
	if epoch != "" {
		n, err := strconv.ParseInt(epoch, 10, 64)
		if err != nil {
			return time.Time{}, usageError{fmt.Sprintf("SOURCE_DATE_EPOCH: %q is not a number of seconds", epoch)}
		}
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Now(), nil
}

// checkOutDir refuses an output folder that would swallow the site: the output is replaced
// as a whole, so it must not be the site's folder or one of its parents.
func checkOutDir(siteDir, out string) error {
	s, err := filepath.Abs(siteDir)
	if err != nil {
		return err
	}
	o, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	if o == s || strings.HasPrefix(s+string(filepath.Separator), o+string(filepath.Separator)) {
		return usageError{fmt.Sprintf("--out %s would replace the site's own folder", out)}
	}
	if _, err := os.Stat(filepath.Join(o, "parvis.yaml")); err == nil {
		return usageError{fmt.Sprintf("--out %s holds a parvis.yaml: it looks like a site, not an output folder", out)}
	}
	return nil
}
