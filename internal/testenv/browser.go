package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// ChromiumPath is where Debian's chromium package installs the browser.
const ChromiumPath = "/usr/bin/chromium"

// AxeVersion is the release of axe-core that accessibility tests inject into pages.
const AxeVersion = "4.14.1"

// Chromium returns the path of headless Chromium for a test. It skips the test under -short
// and fails it when the browser is missing: scripts/test-deps.sh installs it (Debian's
// chromium package; a browser is not something a test should install behind one's back).
func Chromium(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs Chromium, which -short leaves out")
	}
	if !isExecutable(ChromiumPath) {
		t.Fatalf("testenv: no Chromium at %s: run scripts/test-deps.sh (apt-get install chromium)", ChromiumPath)
	}
	return ChromiumPath
}

// AxePath returns the path of axe.min.js from the pinned axe-core, installing the package
// with npm into the cache ($PARVIS_TEST_CACHE/npm) on first use. A file lock makes concurrent
// test binaries install it once.
func AxePath(ctx context.Context) (string, error) {
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	prefix := filepath.Join(cache, "npm")
	script := filepath.Join(prefix, "node_modules", "axe-core", "axe.min.js")
	if axeInstalled(prefix) {
		return script, nil
	}
	if err := os.MkdirAll(prefix, 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(ctx, filepath.Join(prefix, ".axe.lock"))
	if err != nil {
		return "", fmt.Errorf("testenv: lock axe-core: %w", err)
	}
	defer unlock()
	if axeInstalled(prefix) {
		return script, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("testenv: axe-core %s needs npm: %w", AxeVersion, err)
	}
	cmd := exec.CommandContext(ctx, npm, "install", "--prefix", prefix, "--no-audit", "--no-fund", "--save-exact", "axe-core@"+AxeVersion)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("testenv: npm install axe-core@%s: %v\n%s", AxeVersion, err, out)
	}
	if !axeInstalled(prefix) {
		return "", errors.New("testenv: npm installed no axe-core " + AxeVersion)
	}
	return script, nil
}

// axeInstalled reports whether the cache holds the pinned axe-core, not another release.
func axeInstalled(prefix string) bool {
	data, err := os.ReadFile(filepath.Join(prefix, "node_modules", "axe-core", "axe.min.js"))
	// axe.min.js starts with "/*! axe v4.14.1".
	return err == nil && bytes.Contains(data[:min(len(data), 64)], []byte("axe v"+AxeVersion+"\n"))
}

// Axe returns the source of axe-core for a test, to evaluate in a page after each
// navigation. It skips the test under -short.
func Axe(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs axe-core, which -short leaves out")
	}
	path, err := AxePath(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
