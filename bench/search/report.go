package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"text/tabwriter"
)

// The project's targets: a cold query costs at most what Pagefind's does, and the index
// adds at most a tenth to a full build.
const targetShare = 0.10

func (c *config) report(w io.Writer, res *results) {
	fmt.Fprintf(w, "\nSite search: %d articles (%s), %d pages indexed by both, on %d CPUs\n", c.opts.Articles, c.corpus, res.pages, runtime.NumCPU())
	fmt.Fprintf(w, "Parvis: written by `parvis build` of this checkout, compared with the same build with params.search: false, %d of each, alternating\n", c.runs)
	fmt.Fprintf(w, "Pagefind %s: `pagefind --site` on those pages as Parvis built them (<main> without nav, comments, forms), %d runs\n", c.pfVersion, c.pfRuns)
	fmt.Fprintf(w, "Queries: cold (a fresh tab, cache off) in headless Chromium; response bodies counted where the server sends them, workers included; files served as they are (no compression added); the first %d results with their excerpts\n\n", shown)

	withW, withoutW := median(res.with, wall), median(res.without, wall)
	withC, withoutC := median(res.with, cpu), median(res.without, cpu)
	pfW, pfC := median(res.pagefind, wall), median(res.pagefind, cpu)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\tParvis\tPagefind %s\t\n", c.pfVersion)
	fmt.Fprintf(tw, "index size\t%s in %d files\t%s in %d files\t\n", mb(res.parvisIndex.bytes), res.parvisIndex.files, mb(res.pagefindIndex.bytes), res.pagefindIndex.files)
	fmt.Fprintf(tw, "time to build the index (median)\t+%.2f s wall, +%.2f s CPU\t%.2f s wall, %.2f s CPU\t\n", withW-withoutW, withC-withoutC, pfW, pfC)
	fmt.Fprintf(tw, "share of a full parvis build (%.2f s wall, %.2f s CPU)\t%s wall, %s CPU\t%s wall, %s CPU\t\n", withoutW, withoutC,
		share(withW-withoutW, withoutW), share(withC-withoutC, withoutC), share(pfW, withoutW), share(pfC, withoutC))
	fmt.Fprintf(tw, "peak RSS of the build (median)\t%s with, %s without\t%s (Pagefind alone)\t\n",
		mb(int64(median(res.with, rss))), mb(int64(median(res.without, rss))), mb(int64(median(res.pagefind, rss))))
	var verdicts []string
	for _, q := range c.queries {
		var p, f queryCost
		for _, qc := range res.queries {
			if qc.query == q && qc.tool == "parvis" {
				p = qc
			} else if qc.query == q {
				f = qc
			}
		}
		pb, pn := p.total()
		fb, fn := f.total()
		words := len(strings.Fields(q))
		fmt.Fprintf(tw, "cold query, %d word%s: %q\t%s in %d files (%d found)\t%s in %d files (%d found)\t\n", words, plural(words), q,
			kb(pb), pn, p.results, kb(fb), fn, f.results)
		fmt.Fprintf(tw, "  of which\t%s\t%s\t\n", breakdown(p), breakdown(f))
		if fb > 0 {
			verdicts = append(verdicts, fmt.Sprintf("%d-word query %.2f× Pagefind's bytes (target ≤ 1: %s)", words, float64(pb)/float64(fb), verdict(float64(pb) <= float64(fb))))
		}
	}
	tw.Flush()
	s := (withW - withoutW) / withoutW
	verdicts = append(verdicts, fmt.Sprintf("the index adds %s to a full build's wall time, %s to its CPU time (target ≤ %.0f %%: %s)",
		share(withW-withoutW, withoutW), share(withC-withoutC, withoutC), targetShare*100, verdict(s <= targetShare)))
	fmt.Fprintln(w)
	for _, v := range verdicts {
		fmt.Fprintln(w, "Target: "+v)
	}
}

func breakdown(q queryCost) string {
	var parts []string
	for _, k := range []string{"script", "wasm", "manifest", "shards", "documents", "other"} {
		if n, ok := q.files[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %s (%d)", k, kb(n), q.count[k]))
		}
	}
	return strings.Join(parts, ", ")
}

func share(part, whole float64) string {
	if whole == 0 {
		return "–"
	}
	return fmt.Sprintf("%+.1f %%", 100*part/whole)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }

func kb(b int) string { return fmt.Sprintf("%.1f kB", float64(b)/1e3) }

// reportBuilds prints what the search adds to a full build, alone.
func (c *config) reportBuilds(w io.Writer, res *results) {
	withW, withoutW := median(res.with, wall), median(res.without, wall)
	withC, withoutC := median(res.with, cpu), median(res.without, cpu)
	fmt.Fprintf(w, "\nparvis build, %d articles, median of %d: with the search %.2f s (CPU %.2f s), without %.2f s (CPU %.2f s): %s wall, %s CPU; index %s in %d files\n",
		c.opts.Articles, c.runs, withW, withC, withoutW, withoutC, share(withW-withoutW, withoutW), share(withC-withoutC, withoutC), mb(res.parvisIndex.bytes), res.parvisIndex.files)
}
