package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestMain lets the test binary act as a server for TestStart.
func TestMain(m *testing.M) {
	if addr := os.Getenv("PARVIS_TESTENV_SERVE"); addr != "" {
		http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "pong") })
		fmt.Println("listening on", addr)
		if err := http.ListenAndServe(addr, nil); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	os.Exit(m.Run())
}

func writeScript(_ context.Context, dst string) error {
	return os.WriteFile(dst, []byte("#!/bin/sh\necho built\n"), 0o755)
}

func TestBinaryBuildsOnce(t *testing.T) {
	t.Setenv("PARVIS_TEST_CACHE", t.TempDir())
	var builds atomic.Int32
	build := func(ctx context.Context, dst string) error {
		builds.Add(1)
		time.Sleep(100 * time.Millisecond) // long enough for the others to queue on the lock
		return writeScript(ctx, dst)
	}
	paths := make([]string, 8)
	var wg sync.WaitGroup
	for i := range paths {
		wg.Go(func() {
			p, err := Binary(context.Background(), "tool-v1", build)
			if err != nil {
				t.Error(err)
			}
			paths[i] = p
		})
	}
	wg.Wait()
	if n := builds.Load(); n != 1 {
		t.Errorf("built %d times, want once", n)
	}
	for _, p := range paths[1:] {
		if p != paths[0] {
			t.Errorf("paths differ: %s, %s", p, paths[0])
		}
	}
	out, err := exec.Command(paths[0]).Output()
	if err != nil || string(out) != "built\n" {
		t.Errorf("running the cached binary: %q, %v", out, err)
	}
}

func TestBinaryFailedBuild(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("PARVIS_TEST_CACHE", cache)
	tests := []struct {
		name  string
		build BuildFunc
		want  string
	}{
		{"error", func(_ context.Context, dst string) error {
			os.WriteFile(dst, []byte("partial"), 0o755)
			return errors.New("compiler exploded")
		}, "compiler exploded"},
		{"nothing written", func(context.Context, string) error { return nil }, "no executable written"},
		{"not executable", func(_ context.Context, dst string) error {
			return os.WriteFile(dst, []byte("data"), 0o644)
		}, "no executable written"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Binary(context.Background(), "broken", tt.build)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if left, _ := filepath.Glob(filepath.Join(cache, "bin", "broken*")); len(left) != 1 || !strings.HasSuffix(left[0], ".lock") {
				t.Errorf("files left after a failed build: %v", left)
			}
		})
	}
	// A later successful build is not blocked by the failures.
	if _, err := Binary(context.Background(), "broken", writeScript); err != nil {
		t.Fatal(err)
	}
}

func TestCacheDir(t *testing.T) {
	tests := []struct {
		env, home, want string
	}{
		{env: "/tmp/parvis-cache", home: "/home/a", want: "/tmp/parvis-cache"},
		{env: "", home: "/home/a", want: "/home/a/.cache/parvis-test"},
	}
	for _, tt := range tests {
		t.Setenv("PARVIS_TEST_CACHE", tt.env)
		t.Setenv("HOME", tt.home)
		if got, err := CacheDir(); err != nil || got != tt.want {
			t.Errorf("CacheDir() with PARVIS_TEST_CACHE=%q HOME=%q = %q, %v; want %q", tt.env, tt.home, got, err, tt.want)
		}
	}
}

func TestModuleVersion(t *testing.T) {
	tests := []struct {
		name, gomod, want string
	}{
		{"block", "module x\n\ngo 1.26.0\n\ntool github.com/gohugoio/hugo\n\nrequire (\n\tgithub.com/gohugoio/hugo-goldmark-extensions/extras v0.7.0 // indirect\n\tgithub.com/gohugoio/hugo v0.165.0 // indirect\n)\n", "v0.165.0"},
		{"single line", "module x\n\nrequire github.com/gohugoio/hugo v0.150.1\n", "v0.150.1"},
		{"absent", "module x\n\nrequire github.com/gohugoio/hugo-goldmark-extensions/extras v0.7.0\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "go.mod")
			if err := os.WriteFile(f, []byte(tt.gomod), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := moduleVersion(f, hugoModule)
			if got != tt.want || (err != nil) != (tt.want == "") {
				t.Errorf("moduleVersion = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestHugo(t *testing.T) {
	hugo := Hugo(t)
	version, err := HugoVersion()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(hugo, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("hugo version: %v\n%s", err, out)
	}
	if !strings.HasPrefix(string(out), "hugo "+version+" ") {
		t.Errorf("hugo version = %q, want %s", out, version)
	}
}

func TestStart(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	var p *Process
	t.Run("running", func(t *testing.T) {
		p = Start(t, Server{
			Path:  os.Args[0],
			Env:   []string{"PARVIS_TESTENV_SERVE=" + addr},
			Ready: HTTPReady("http://" + addr + "/"),
		})
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "pong" {
			t.Errorf("body = %q", body)
		}
		if err := TCPReady(addr)(context.Background()); err != nil {
			t.Error(err)
		}
		if !strings.Contains(p.Output(), "listening on "+addr) {
			t.Errorf("output = %q", p.Output())
		}
	})
	// The subtest's cleanup stopped the server.
	select {
	case <-p.done:
	default:
		t.Fatal("the server still runs after its test ended")
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("the port still accepts connections")
	}
}

// TestGoInstall installs a small program whose module the root go.mod already requires, so
// that it comes from the module cache.
func TestGoInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	t.Setenv("PARVIS_TEST_CACHE", t.TempDir())
	tests := []struct {
		name, pkg, wantErr string
	}{
		{"stringer-v0.49.0", "golang.org/x/tools/cmd/stringer@v0.49.0", ""},
		{"no-version", "golang.org/x/tools/cmd/stringer", "want package@version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, err := Binary(context.Background(), tt.name, GoInstall(tt.pkg))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			out, _ := exec.Command(path, "-help").CombinedOutput()
			if !strings.Contains(string(out), "stringer") {
				t.Errorf("%s -help: %s", path, out)
			}
		})
	}
}
