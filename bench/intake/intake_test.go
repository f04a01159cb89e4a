package main

import (
	"bytes"
	"context"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCommentsAreDistinctAndPlausible(t *testing.T) {
	cs := comments(5000, sitePages, 1)
	if len(cs) != 5000 {
		t.Fatalf("%d comments, want 5000", len(cs))
	}
	seen := map[string]bool{}
	withMail := 0
	for _, c := range cs {
		key := c.name + "\x00" + c.message
		if seen[key] {
			t.Fatalf("comment repeated: %q", key)
		}
		seen[key] = true
		if n := strings.Count(c.message, ". ") + strings.Count(c.message, "? ") + strings.Count(c.message, "! ") + 1; n > 3 {
			t.Errorf("%d sentences, want 1 to 3: %q", n, c.message)
		}
		if !slices.Contains(sitePages, c.page) {
			t.Errorf("unknown page %q", c.page)
		}
		if c.email != "" {
			withMail++
			if !regexp.MustCompile(`^[a-z-]+\.[a-z]@[a-z.]+$`).MatchString(c.email) {
				t.Errorf("odd address %q", c.email)
			}
		}
	}
	if withMail < 2000 || withMail > 3000 {
		t.Errorf("%d of 5000 give an address, want about half", withMail)
	}
	if !slices.Equal(cs[:10], comments(10, sitePages, 1)) {
		t.Error("the same seed gave other comments")
	}
}

func TestBody(t *testing.T) {
	c := comment{name: "Élodie R.", message: "Merci pour ces précisions sur le budget participatif.", email: "elodie.r@example.org", page: "articles/budget"}
	v, err := url.ParseQuery(c.body("TOKEN", siteBase))
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{
		"fields[name]":      {c.name},
		"fields[message]":   {c.message},
		"fields[email]":     {c.email},
		"fields[website]":   {""},
		"options[page]":     {"articles/budget"},
		"options[redirect]": {"http://localhost:8080/articles/budget/#comments"},
		"options[token]":    {"TOKEN"},
	}
	for k, vs := range want {
		if !slices.Equal(v[k], vs) {
			t.Errorf("%s = %q, want %q", k, v[k], vs)
		}
	}
	if len(v) != len(want) {
		t.Errorf("%d keys, want %d: %v", len(v), len(want), v)
	}
}

func TestPercentile(t *testing.T) {
	var v []time.Duration
	for i := 1; i <= 1000; i++ {
		v = append(v, time.Duration(i))
	}
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500}, {0.99, 990}, {0.999, 999}, {1, 1000}, {0.0001, 1}} {
		if got := percentile(v, tt.q); got != tt.want {
			t.Errorf("percentile(%v) = %d, want %d", tt.q, got, tt.want)
		}
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile of nothing = %d", got)
	}
}

// TestCount checks what a run's figures are made of: the warm-up is left out of the window's
// counts, latency runs from the due time, and the rate counts the 202 answers that arrived
// within the window.
func TestCount(t *testing.T) {
	l := &load{rate: 10} // one request every 100 ms
	for i := range 30 {
		s := shot{lag: time.Millisecond, latency: 50 * time.Millisecond, status: 202}
		switch i {
		case 12:
			s.status = 422
		case 13:
			s.status = 0 // no answer
		case 29:
			s.latency = 2 * time.Second // answered after the window
		}
		l.shots = append(l.shots, s)
	}
	var x result
	x.window = 2 * time.Second
	x.count(l, 10)
	if x.posts != 20 || x.accepted != 18 || x.errors != 1 || x.statuses[422] != 1 || x.failures() != 2 {
		t.Errorf("posts %d, accepted %d, errors %d, statuses %v", x.posts, x.accepted, x.errors, x.statuses)
	}
	if x.answered != 28 {
		t.Errorf("%d answered 202 in all, want 28", x.answered)
	}
	// Arrived in [1 s, 3 s): request 9 of the warm-up (at 0.95 s) is out, requests 10 to 28 but
	// 12 and 13 are in, 29 is out: 17 in 2 s.
	if x.rate != 8.5 {
		t.Errorf("rate %v, want 8.5", x.rate)
	}
	if x.p50 != 50*time.Millisecond || x.max != 2*time.Second || x.lag99 != time.Millisecond {
		t.Errorf("p50 %v, max %v, lag p99 %v", x.p50, x.max, x.lag99)
	}
}

func TestThousands(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 9999.6: "10,000", 1234567: "1,234,567", -1500: "-1,500"} {
		if got := thousands(v); got != want {
			t.Errorf("thousands(%v) = %q, want %q", v, got, want)
		}
	}
}

// TestRun runs the whole benchmark at a low rate: the server must take every post, keep every
// one, and the report must carry the figures.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs parvis serve")
	}
	var out, log bytes.Buffer
	err := run(context.Background(), []string{"--rate", "200", "--duration", "1s", "--warmup", "500ms",
		"--runs", "2", "--visitors", "5", "--conns", "20", "--work", t.TempDir()}, &out, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	report := out.String()
	for _, want := range []string{"200/s offered", "accepted/s", "p99.9", "peak RSS", "median",
		"Run 1    200 posts in the window: 200 answered 202, no transport error",
		"300 answered 202 in all (warm-up included), 300 on disk once stopped", "every one kept", "no verdict"} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q:\n%s", want, report)
		}
	}
	if strings.Contains(report, "MISMATCH") {
		t.Errorf("a run lost submissions:\n%s", report)
	}
}
