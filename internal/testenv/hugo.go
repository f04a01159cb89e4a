package testenv

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const hugoModule = "github.com/gohugoio/hugo"

// HugoVersion returns the version of Hugo pinned in the repository's tools/go.mod, so that
// changing the pin there is enough to have tests and benchmarks use (and build) the new one.
func HugoVersion() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return moduleVersion(filepath.Join(root, "tools", "go.mod"), hugoModule)
}

// moduleVersion finds the version that a go.mod file requires of module.
func moduleVersion(gomod, module string) (string, error) {
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "require "))
		if len(f) >= 2 && f[0] == module && strings.HasPrefix(f[1], "v") {
			return f[1], nil
		}
	}
	return "", fmt.Errorf("testenv: %s does not require %s", gomod, module)
}

// HugoPath returns the path of the cached Hugo binary, building it from tools/go.mod on first
// use (about two minutes from a cold module and build cache).
func HugoPath(ctx context.Context) (string, error) {
	version, err := HugoVersion()
	if err != nil {
		return "", err
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return Binary(ctx, "hugo-"+version, GoBuild(filepath.Join(root, "tools"), hugoModule))
}

// Hugo returns the path of the cached Hugo binary for a test, building it if needed.
// It skips the test under -short.
func Hugo(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs Hugo, which -short leaves out")
	}
	path, err := HugoPath(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return path
}
