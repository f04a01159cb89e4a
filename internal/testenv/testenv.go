// Package testenv gives tests the real external programs they run against (Hugo now; MinIO,
// Gitea, maildev and Chromium later): it finds or builds each binary once in a shared cache,
// picks free loopback ports, and starts a server and stops it when the test ends.
//
// Binaries are cached under $PARVIS_TEST_CACHE, or $HOME/.cache/parvis-test, so that a second
// run starts in seconds. Tests that need such a program skip under `go test -short`.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// CacheDir returns the root of the shared cache of built programs and downloads.
func CacheDir() (string, error) {
	if d := os.Getenv("PARVIS_TEST_CACHE"); d != "" {
		return filepath.Abs(d)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("testenv: no cache folder: set PARVIS_TEST_CACHE (%v)", err)
	}
	return filepath.Join(home, ".cache", "parvis-test"), nil
}

// BuildFunc writes an executable to dst. It may leave a partial file behind on error.
type BuildFunc func(ctx context.Context, dst string) error

// Binary returns the path of the cached executable name (which should carry the program's
// version, as in "hugo-v0.165.0"), calling build to make it when it is missing. A file lock
// makes concurrent callers, in this process or in other test binaries, build it only once.
func Binary(ctx context.Context, name string, build BuildFunc) (string, error) {
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "bin")
	path := filepath.Join(dir, name)
	if isExecutable(path) {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(ctx, path+".lock")
	if err != nil {
		return "", fmt.Errorf("testenv: lock %s: %w", name, err)
	}
	defer unlock()
	if isExecutable(path) { // built by whoever held the lock before us
		return path, nil
	}
	// Build beside the final path and rename, so that no one ever runs a half-written file.
	tmp := path + ".building"
	os.Remove(tmp)
	if err := build(ctx, tmp); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("testenv: build %s: %w", name, err)
	}
	if !isExecutable(tmp) {
		os.Remove(tmp)
		return "", fmt.Errorf("testenv: build %s: no executable written", name)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", err
	}
	return path, nil
}

// Require is Binary for a test: it skips under -short and fails the test on error.
func Require(t testing.TB, name string, build BuildFunc) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("needs %s, which -short leaves out", name)
	}
	path, err := Binary(context.Background(), name, build)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// RepoRoot returns the root of the Parvis checkout that holds the working directory: the
// nearest parent with both go.mod and tools/go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if fileExists(filepath.Join(dir, "go.mod")) && fileExists(filepath.Join(dir, "tools", "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testenv: not inside the Parvis repository (no go.mod beside tools/go.mod)")
		}
		dir = parent
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
