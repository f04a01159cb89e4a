package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"time"
)

// sample is one build's cost.
type sample struct {
	wall time.Duration
	cpu  time.Duration // user + system
	rss  int64         // peak resident set, bytes
}

func (s sample) String() string {
	return fmt.Sprintf("%s  %s  (CPU %s)", seconds(s.wall), megabytes(s.rss), seconds(s.cpu))
}

// measure runs a build as a child process and reads its cost from the kernel.
func measure(ctx context.Context, argv []string, env []string) (sample, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%v\n%s", err, out.Bytes())
	}
	st := cmd.ProcessState
	ru, ok := st.SysUsage().(*syscall.Rusage)
	if !ok {
		return sample{}, fmt.Errorf("no resource usage on %s", runtime.GOOS)
	}
	return sample{wall: wall, cpu: st.UserTime() + st.SystemTime(), rss: maxRSS(ru)}, nil
}

// maxRSS converts ru_maxrss to bytes: Linux counts kilobytes, macOS bytes.
func maxRSS(ru *syscall.Rusage) int64 {
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss)
	}
	return int64(ru.Maxrss) * 1024
}

// stat sums up samples of one quantity.
type stat struct{ median, min, max float64 }

func summarize(values []float64) stat {
	v := slices.Clone(values)
	slices.Sort(v)
	n := len(v)
	if n == 0 {
		return stat{}
	}
	med := v[n/2]
	if n%2 == 0 {
		med = (v[n/2-1] + v[n/2]) / 2
	}
	return stat{median: med, min: v[0], max: v[n-1]}
}

func walls(s []sample) stat {
	return summarize(each(s, func(x sample) float64 { return x.wall.Seconds() }))
}
func rsses(s []sample) stat {
	return summarize(each(s, func(x sample) float64 { return float64(x.rss) }))
}
func cpuTimes(s []sample) stat {
	return summarize(each(s, func(x sample) float64 { return x.cpu.Seconds() }))
}

func each(s []sample, f func(sample) float64) []float64 {
	out := make([]float64, len(s))
	for i, x := range s {
		out[i] = f(x)
	}
	return out
}

// outputSize is what a build to disk wrote.
type outputSize struct {
	files, html int
	bytes       int64
}

func sizeOf(dir string) (outputSize, error) {
	var o outputSize
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		o.files++
		o.bytes += fi.Size()
		if filepath.Ext(p) == ".html" {
			o.html++
		}
		return nil
	})
	return o, err
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func megabytes(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/1e6) }

// flush writes every dirty page of the machine back to disk.
func flush() { syscall.Sync() }
