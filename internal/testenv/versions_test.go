package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDepsScriptPinsTheSameVersions: scripts/test-deps.sh builds MinIO and actionlint ahead
// of the tests; with another version than these, the tests would build theirs again.
func TestDepsScriptPinsTheSameVersions(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "scripts", "test-deps.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"minio_version=" + MinIOVersion + "\n", "actionlint_version=" + ActionlintVersion + "\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("scripts/test-deps.sh has no %q", strings.TrimSpace(want))
		}
	}
}
