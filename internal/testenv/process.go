package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// FreePort returns a TCP port of 127.0.0.1 that was free when asked. Another program may take
// it before the caller binds it; servers that can report the port they chose are better.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Server is a program that a test starts and talks to.
type Server struct {
	Path string
	Args []string
	Env  []string // added to the test's environment
	Dir  string
	// Ready returns nil once the program answers; see HTTPReady and TCPReady.
	Ready func(context.Context) error
	// Timeout bounds the wait for Ready; the default is one minute.
	Timeout time.Duration
}

// Process is a started Server.
type Process struct {
	cmd  *exec.Cmd
	out  syncBuffer
	done chan struct{}
	err  error // the exit status, once done is closed
}

// Output returns what the program wrote so far, standard output and error mixed.
func (p *Process) Output() string { return p.out.String() }

// Start starts s, waits until it is ready, and stops it (and its children) when the test
// ends. The program's output is logged if the test fails.
func Start(t testing.TB, s Server) *Process {
	t.Helper()
	p := &Process{cmd: exec.Command(s.Path, s.Args...), done: make(chan struct{})}
	p.cmd.Dir = s.Dir
	p.cmd.Env = append(os.Environ(), s.Env...)
	p.cmd.Stdout = &p.out
	p.cmd.Stderr = &p.out
	ownGroup(p.cmd)
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", s.Path, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("output of %s:\n%s", s.Path, p.Output())
		}
	})
	if s.Ready == nil {
		return p
	}
	timeout := s.Timeout
	if timeout == 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last error
	for {
		if last = s.Ready(ctx); last == nil {
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited before it was ready (%v):\n%s", s.Path, p.err, p.Output())
		case <-ctx.Done():
			t.Fatalf("%s not ready after %s: %v", s.Path, timeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop asks the program to end, and kills it if it has not within a few seconds.
func (p *Process) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	terminate(p.cmd)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		kill(p.cmd)
		<-p.done
	}
}

// HTTPReady is ready when a GET of url gets any answer below 500.
func HTTPReady(url string) func(context.Context) error {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			return fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return nil
	}
}

// TCPReady is ready when addr accepts a connection.
func TCPReady(addr string) func(context.Context) error {
	return func(ctx context.Context) error {
		var d net.Dialer
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
}

// syncBuffer collects a program's output, written from os/exec's copying goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
