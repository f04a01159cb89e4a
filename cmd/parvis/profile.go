//go:build profile

package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"time"
)

// A parvis built with -tags profile records what it does for a while, to see where the
// service spends its time under load (see bench/README.md):
//
//	PARVIS_CPUPROFILE=FILE  a CPU profile, for go tool pprof
//	PARVIS_TRACE=FILE       an execution trace, for go tool trace
//	PARVIS_HEAPPROFILE=FILE the heap as it is at the window's end, for go tool pprof
//	PARVIS_PROFILE_AFTER    when to start, after the process has (default 5s)
//	PARVIS_PROFILE_FOR      for how long (default 10s)
//
// The files are complete when "profiling done" is logged: the window must end before the
// process does.
func init() {
	cpu, tr, heap := os.Getenv("PARVIS_CPUPROFILE"), os.Getenv("PARVIS_TRACE"), os.Getenv("PARVIS_HEAPPROFILE")
	if cpu == "" && tr == "" && heap == "" {
		return
	}
	after, span := envDuration("PARVIS_PROFILE_AFTER", 5*time.Second), envDuration("PARVIS_PROFILE_FOR", 10*time.Second)
	go func() {
		time.Sleep(after)
		var stops []func()
		if cpu != "" {
			f := create(cpu)
			if err := pprof.StartCPUProfile(f); err != nil {
				fatal(err)
			}
			stops = append(stops, func() { pprof.StopCPUProfile(); closeFile(f) })
		}
		if tr != "" {
			f := create(tr)
			if err := trace.Start(f); err != nil {
				fatal(err)
			}
			stops = append(stops, func() { trace.Stop(); closeFile(f) })
		}
		if heap != "" {
			stops = append(stops, func() {
				f := create(heap)
				if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
					fatal(err)
				}
				closeFile(f)
			})
		}
		time.Sleep(span)
		for _, stop := range stops {
			stop()
		}
		fmt.Fprintln(os.Stderr, "parvis: profiling done")
	}()
}

func envDuration(name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		fatal(fmt.Errorf("%s: %w", name, err))
	}
	return d
}

func create(path string) *os.File {
	f, err := os.Create(path)
	if err != nil {
		fatal(err)
	}
	return f
}

func closeFile(f io.Closer) {
	if err := f.Close(); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "parvis: profiling:", err)
	os.Exit(2)
}
