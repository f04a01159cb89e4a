package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/parvis/parvis/internal/testenv"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		in   []float64
		want stat
	}{
		{[]float64{3}, stat{3, 3, 3}},
		{[]float64{5, 1, 3}, stat{3, 1, 5}},
		{[]float64{4, 1, 3, 2}, stat{2.5, 1, 4}},
		{nil, stat{}},
	}
	for _, tt := range tests {
		if got := summarize(tt.in); got != tt.want {
			t.Errorf("summarize(%v) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestRatio(t *testing.T) {
	tests := []struct {
		a, b, target float64
		want         string
	}{
		{1, 4, 0.4, "0.25× (target ≤ 0.40×: met)"},
		{2, 4, 0.4, "0.50× (target ≤ 0.40×: MISSED)"},
		{3, 2, 0, "1.50×"},
		{1, 0, 0.2, "–"},
	}
	for _, tt := range tests {
		if got := ratio(tt.a, tt.b, tt.target); got != tt.want {
			t.Errorf("ratio(%v, %v, %v) = %q, want %q", tt.a, tt.b, tt.target, got, tt.want)
		}
	}
}

// TestRun runs the whole comparison on a tiny corpus: both programs must build it, in both
// modes, and the report must carry a figure for each.
func TestRun(t *testing.T) {
	testenv.Hugo(t) // skips under -short; builds Hugo once for the run below
	var out, log bytes.Buffer
	err := run(context.Background(), []string{"--articles", "40", "--runs", "2", "--work", t.TempDir()}, &out, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	report := out.String()
	for _, want := range []string{"40 articles, 2 events, 80 comments", "to disk", "in memory", "target ≤ 0.40×", "target ≤ 0.15×", "target ≤ 0.20×"} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q:\n%s", want, report)
		}
	}
	rows := regexp.MustCompile(`(?m)^.*?\s(parvis|hugo)\s+\d+\.\d\d s \(`).FindAllString(report, -1)
	if len(rows) != 4 {
		t.Errorf("want 4 rows of figures, found %d:\n%s", len(rows), report)
	}
	if runs := strings.Count(log.String(), " run "); runs != 8 {
		t.Errorf("%d builds logged, want 8:\n%s", runs, log.String())
	}
}
