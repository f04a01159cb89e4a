package main

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// targets are the project's goals for parvis/hugo ratios of medians; 0 means none.
var targets = map[string]struct{ wall, rss float64 }{
	"to disk":   {wall: 0.4, rss: 0.15},
	"in memory": {wall: 0.2},
}

func (c *config) report(w io.Writer, res *results) {
	fmt.Fprintf(w, "\nCorpus   %d articles, %d events, %d comments  (%s)\n", c.opts.Articles, c.opts.Events, c.opts.Comments, c.corpus)
	fmt.Fprintf(w, "Builds   parvis (this checkout) and Hugo %s, %d of each per mode, alternating, on %d CPUs\n", c.hugoVersion, c.runs, cpus())
	for _, name := range []string{"parvis", "hugo"} {
		if o, ok := res.output[name]; ok {
			fmt.Fprintf(w, "Output   %-6s %d files (%d HTML), %.0f MB\n", name, o.files, o.html, float64(o.bytes)/1e6)
		}
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "mode\tbuild\twall time: median (min–max)\tpeak RSS: median (min–max)\tCPU time\t")
	for _, m := range modes {
		p, h := res.samples[m.name]["parvis"], res.samples[m.name]["hugo"]
		for i, name := range []string{"parvis", "hugo"} {
			s := res.samples[m.name][name]
			label := m.name
			if i > 0 {
				label = ""
			}
			wt, rs := walls(s), rsses(s)
			fmt.Fprintf(tw, "%s\t%s\t%.2f s (%.2f–%.2f)\t%.0f MB (%.0f–%.0f)\t%.2f s\t\n", label, name,
				wt.median, wt.min, wt.max, rs.median/1e6, rs.min/1e6, rs.max/1e6, cpuTimes(s).median)
		}
		t := targets[m.name]
		fmt.Fprintf(tw, "\tparvis/hugo\t%s\t%s\t%s\t\n",
			ratio(walls(p).median, walls(h).median, t.wall),
			ratio(rsses(p).median, rsses(h).median, t.rss),
			ratio(cpuTimes(p).median, cpuTimes(h).median, 0))
	}
	tw.Flush()
}

// ratio prints a/b, and whether it meets target (a ceiling) when there is one.
func ratio(a, b, target float64) string {
	if b == 0 {
		return "–"
	}
	r := a / b
	s := fmt.Sprintf("%.2f×", r)
	if target == 0 {
		return s
	}
	verdict := "met"
	if r > target {
		verdict = "MISSED"
	}
	return fmt.Sprintf("%s (target ≤ %.2f×: %s)", s, target, verdict)
}
