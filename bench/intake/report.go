package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// The project's targets for intake, at 10,000 submissions a second offered for 20 s.
const (
	targetRate = 10000
	targetP99  = 20 * time.Millisecond
)

// result is one run's figures. Unless said otherwise they are about the measured window: the
// requests due in it, or (rates, CPU) the time it spans.
type result struct {
	offered float64
	window  time.Duration

	posts    int         // requests due in the window
	accepted int         // of which answered 202
	statuses map[int]int // of which answered otherwise, by status
	errors   int         // of which got no answer (transport errors, timeouts)
	rate     float64     // 202 answers that arrived within the window, per second

	p50, p99, p999, max    time.Duration // latency from due to answer, over the answered
	lag50, lag99, lagMax   time.Duration // from due to sent: the client's own delay
	serverCPU, clientCPU   time.Duration
	machineCPU             time.Duration // every CPU's busy time: the rest is other processes' and interrupts'
	written                int64         // bytes the server wrote to disk
	rss, rssEnd            int64         // the server's peak RSS (VmHWM): at the window's end, after the run
	answered, unique       int           // 202 answers in the whole run (warm-up included), distinct IDs
	served, duplicates     int           // the server's accepted_total and duplicate_total
	queued                 int           // items in the queue after the run; the rest became changes
	commits, commitReqs    float64       // the queue's transactions over the whole run, and the requests they served
	commitSecs             float64       // their time, sync included
	onDisk, missing, extra int           // IDs kept once the server stopped; answered but not kept; kept but not answered
}

// sample reads the server's and this process's CPU time at the window's start and end, and
// the server's peak RSS at its end.
func (x *result) sample(ctx context.Context, srv *server, from, to time.Time) error {
	wait := func(t time.Time) error {
		select {
		case <-time.After(time.Until(t)):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := wait(from); err != nil {
		return err
	}
	s0, err := srv.cpuTime()
	if err != nil {
		return err
	}
	c0 := selfCPU()
	m0, err := busyCPU()
	if err != nil {
		return err
	}
	w0, err := srv.written()
	if err != nil {
		return err
	}
	if err := wait(to); err != nil {
		return err
	}
	s1, err := srv.cpuTime()
	if err != nil {
		return err
	}
	m1, err := busyCPU()
	if err != nil {
		return err
	}
	w1, err := srv.written()
	if err != nil {
		return err
	}
	x.written = w1 - w0
	x.serverCPU, x.clientCPU, x.machineCPU = s1-s0, selfCPU()-c0, m1-m0
	x.rss, err = srv.peakRSS()
	return err
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// busyCPU is the time every CPU of the machine has spent busy, from /proc/stat: user, nice,
// system, irq, softirq and steal.
func busyCPU() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, errors.New("unexpected /proc/stat")
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// others is the CPU the rest of the machine used during the window, in cores.
func (x *result) others() float64 {
	return x.cores(max(x.machineCPU-x.serverCPU-x.clientCPU, 0))
}

// count sums up the shots; the first nWarm are the warm-up.
func (x *result) count(l *load, nWarm int) {
	x.statuses = map[int]int{}
	from, to := l.due(nWarm), l.due(len(l.shots))
	var lat, lag []time.Duration
	arrived := 0
	for i, s := range l.shots {
		if s.status == http.StatusAccepted {
			x.answered++
			if end := l.due(i) + s.latency; end >= from && end < to {
				arrived++
			}
		}
		if i < nWarm {
			continue
		}
		x.posts++
		lag = append(lag, s.lag)
		switch s.status {
		case 0:
			x.errors++
			continue
		case http.StatusAccepted:
			x.accepted++
		default:
			x.statuses[s.status]++
		}
		lat = append(lat, s.latency)
	}
	x.rate = float64(arrived) / (to - from).Seconds()
	slices.Sort(lat)
	slices.Sort(lag)
	x.p50, x.p99, x.p999, x.max = percentile(lat, 0.5), percentile(lat, 0.99), percentile(lat, 0.999), percentile(lat, 1)
	x.lag50, x.lag99, x.lagMax = percentile(lag, 0.5), percentile(lag, 0.99), percentile(lag, 1)
}

// check compares the IDs answered 202 with those the stopped server kept.
func (x *result) check(l *load, kept map[string]bool) {
	answered := map[string]bool{}
	for _, id := range l.ids {
		if id != "" {
			answered[id] = true
		}
	}
	x.unique, x.onDisk = len(answered), len(kept)
	for id := range answered {
		if !kept[id] {
			x.missing++
		}
	}
	for id := range kept {
		if !answered[id] {
			x.extra++
		}
	}
}

// percentile is the nearest-rank percentile q (0 < q ≤ 1) of sorted values.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	k := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(k, 0), len(sorted)-1)]
}

// failures are the window's requests not answered 202.
func (x *result) failures() int { return x.posts - x.accepted }

// keptAll is whether the server's count and its disk agree with the answers.
func (x *result) keptAll() bool {
	return x.served == x.answered && x.duplicates == 0 && x.unique == x.answered &&
		x.missing == 0 && x.extra == 0 && x.onDisk == x.answered
}

func (x *result) String() string {
	return fmt.Sprintf("%s/s accepted  p50 %s  p99 %s  p99.9 %s  max %s  not 202: %d  RSS %s  CPU: server %.2f, client %.2f, other %.2f cores  lag p99 %s",
		thousands(x.rate), ms(x.p50), ms(x.p99), ms(x.p999), ms(x.max), x.failures(), megabytes(x.rss),
		x.cores(x.serverCPU), x.cores(x.clientCPU), x.others(), ms(x.lag99))
}

func (c *config) report(w io.Writer, res []*result) {
	fmt.Fprintf(w, "\nIntake   POST /api/v1/entries/comment, Accept: application/json, %s/s offered (open loop) for %s after %s of warm-up\n",
		thousands(c.rate), c.duration, c.warmup)
	worker := "worker on"
	if c.workers == 0 {
		worker = "no worker (--workers 0: intake alone)"
	}
	fmt.Fprintf(w, "Server   %s serve, durable queue, %s, challenge off, rate limits at %s/s; %d runs on %d CPUs\n",
		c.parvis, worker, rateLimit, len(res), runtime.NumCPU())
	fmt.Fprintf(w, "Client   %d connections at most, %d form tokens, latency from each request's due time\n\n", c.conns, c.visitors)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "run\t")
	for _, col := range columns {
		fmt.Fprint(tw, col.name+"\t")
	}
	fmt.Fprintln(tw)
	row := func(label string, value func(column) float64) {
		fmt.Fprint(tw, label+"\t")
		for _, col := range columns {
			fmt.Fprint(tw, col.format(value(col))+"\t")
		}
		fmt.Fprintln(tw)
	}
	for i, x := range res {
		row(strconv.Itoa(i+1), func(col column) float64 { return col.value(x) })
	}
	row("median", func(col column) float64 { return median(each(res, col.value)) })
	tw.Flush()
	fmt.Fprintln(w, "(CPU in cores: CPU time over the window's length; other: the rest of the machine, other processes and interrupts.")
	fmt.Fprintln(w, " CPU/post and disk/post: the server's CPU time and bytes written to disk, per post accepted in the window.")
	fmt.Fprintln(w, " Lag: from a request's due time to its sending.)")

	fmt.Fprintln(w)
	for i, x := range res {
		fmt.Fprintf(w, "Run %d    %s posts in the window: %s answered 202%s%s\n", i+1, thousands(float64(x.posts)),
			thousands(float64(x.accepted)), statusList(x.statuses), errorList(x.errors))
		verdict := "every one kept"
		if !x.keptAll() {
			verdict = fmt.Sprintf("MISMATCH: server counted %d accepted and %d duplicates, %d distinct IDs answered, %d kept, %d answered but not kept, %d kept but not answered",
				x.served, x.duplicates, x.unique, x.onDisk, x.missing, x.extra)
		}
		fmt.Fprintf(w, "         %s answered 202 in all (warm-up included), %s on disk once stopped (%s in the queue, %s already changes): %s\n",
			thousands(float64(x.answered)), thousands(float64(x.onDisk)), thousands(float64(x.queued)),
			thousands(float64(x.onDisk-x.queued)), verdict)
		fmt.Fprintf(w, "         server's peak RSS (VmHWM) %s at the window's end, %s once every answer was in\n",
			megabytes(x.rss), megabytes(x.rssEnd))
		if x.commits > 0 {
			fmt.Fprintf(w, "         queue: %s transactions in all, %.1f requests and %.2f ms each on average (sync included)\n",
				thousands(x.commits), x.commitReqs/x.commits, 1000*x.commitSecs/x.commits)
		}
	}

	fmt.Fprintln(w)
	rate := median(each(res, func(x *result) float64 { return x.rate }))
	p99 := time.Duration(median(each(res, func(x *result) float64 { return float64(x.p99) })))
	failed, lost := 0, 0
	for _, x := range res {
		failed += x.failures()
		if !x.keptAll() {
			lost++
		}
	}
	if c.rate < targetRate || c.duration < 20*time.Second {
		fmt.Fprintf(w, "Target   %s/s offered for 20 s at least; this load is lighter, so no verdict\n", thousands(targetRate))
		return
	}
	// A window's edges cut a few answers either way: the rate is met within 0.1 %.
	fmt.Fprintf(w, "Target   accepted ≥ %s/s: %s   p99 ≤ %s: %s   no errors: %s   every 202 kept: %s\n",
		thousands(targetRate), verdict(rate >= 0.999*targetRate), ms(targetP99), verdict(p99 <= targetP99),
		verdict(failed == 0), verdict(lost == 0))
}

// column is one figure of the table, per run and as the median of the runs.
type column struct {
	name   string
	value  func(*result) float64
	format func(float64) string
}

var columns = []column{
	{"accepted/s", func(x *result) float64 { return x.rate }, thousands},
	{"p50", durationOf(func(x *result) time.Duration { return x.p50 }), msFloat},
	{"p99", durationOf(func(x *result) time.Duration { return x.p99 }), msFloat},
	{"p99.9", durationOf(func(x *result) time.Duration { return x.p999 }), msFloat},
	{"max", durationOf(func(x *result) time.Duration { return x.max }), msFloat},
	{"not 202", func(x *result) float64 { return float64(x.failures()) }, thousands},
	{"peak RSS", func(x *result) float64 { return float64(x.rss) }, func(v float64) string { return megabytes(int64(v)) }},
	{"CPU server", func(x *result) float64 { return x.cores(x.serverCPU) }, cores},
	{"client", func(x *result) float64 { return x.cores(x.clientCPU) }, cores},
	{"other", func(x *result) float64 { return x.others() }, cores},
	{"CPU/post", func(x *result) float64 { return float64(x.serverCPU) / max(x.rate*x.window.Seconds(), 1) }, µs},
	{"disk/post", func(x *result) float64 { return float64(x.written) / max(x.rate*x.window.Seconds(), 1) }, kilobytes},
	{"lag p99", durationOf(func(x *result) time.Duration { return x.lag99 }), msFloat},
	{"lag max", durationOf(func(x *result) time.Duration { return x.lagMax }), msFloat},
}

func durationOf(f func(*result) time.Duration) func(*result) float64 {
	return func(x *result) float64 { return float64(f(x)) }
}

func (x *result) cores(d time.Duration) float64 { return d.Seconds() / x.window.Seconds() }

func cores(v float64) string     { return fmt.Sprintf("%.2f", v) }
func kilobytes(v float64) string { return fmt.Sprintf("%.1f KB", v/1e3) }
func msFloat(v float64) string   { return ms(time.Duration(v)) }
func µs(v float64) string        { return fmt.Sprintf("%.0f µs", v/float64(time.Microsecond)) }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func statusList(m map[int]int) string {
	var b strings.Builder
	for _, code := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, ", %d answered %d", m[code], code)
	}
	return b.String()
}

func errorList(n int) string {
	if n == 0 {
		return ", no transport error"
	}
	return fmt.Sprintf(", %d without an answer (transport error or timeout)", n)
}

func each(res []*result, f func(*result) float64) []float64 {
	out := make([]float64, len(res))
	for i, x := range res {
		out[i] = f(x)
	}
	return out
}

func median(values []float64) float64 {
	v := slices.Clone(values)
	slices.Sort(v)
	n := len(v)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// ms prints a duration in milliseconds, with two significant digits below 10 ms.
func ms(d time.Duration) string {
	m := float64(d) / float64(time.Millisecond)
	if m < 10 {
		return fmt.Sprintf("%.2f ms", m)
	}
	return fmt.Sprintf("%.0f ms", m)
}

func megabytes(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/1e6) }

// thousands prints a count or a rate rounded to a whole number, its thousands set apart by commas.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// writeTimeline writes, for each step of due time in the window, how many of the posts due
// then were answered, the p50, p99 and max of their latencies and the max of their lags, in
// milliseconds: a tail that
// comes in bursts (a collection, a stall) shows as a few bad rows, a saturated server as many.
func writeTimeline(path string, l *load, nWarm int, step time.Duration) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# window from %s\n", l.start.Add(l.due(nWarm)).UTC().Format(time.RFC3339Nano))
	b.WriteString("t_ms\tposts\tp50_ms\tp99_ms\tmax_ms\tlag_max_ms\n")
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	from := l.due(nWarm)
	var lat []time.Duration
	var lagMax time.Duration
	flush := func(t time.Duration) {
		if len(lat) == 0 {
			return
		}
		slices.Sort(lat)
		fmt.Fprintf(&b, "%.0f\t%d\t%.2f\t%.2f\t%.2f\t%.2f\n", ms(t), len(lat),
			ms(percentile(lat, 0.5)), ms(percentile(lat, 0.99)), ms(percentile(lat, 1)), ms(lagMax))
		lat, lagMax = lat[:0], 0
	}
	cur := time.Duration(0)
	for i := nWarm; i < len(l.shots); i++ {
		t := (l.due(i) - from) / step * step
		if t != cur {
			flush(cur)
			cur = t
		}
		s := l.shots[i]
		if s.status == 0 {
			continue
		}
		lat = append(lat, s.latency)
		lagMax = max(lagMax, s.lag)
	}
	flush(cur)
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
