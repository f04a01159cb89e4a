package testenv

import (
	"context"
	"testing"
)

// ActionlintVersion is the release of actionlint that checks .github/workflows.
const ActionlintVersion = "v1.7.12"

// ActionlintPath returns the path of the cached actionlint binary, building it on first use.
func ActionlintPath(ctx context.Context) (string, error) {
	return Binary(ctx, "actionlint-"+ActionlintVersion, GoInstall("github.com/rhysd/actionlint/cmd/actionlint@"+ActionlintVersion))
}

// Actionlint returns the path of actionlint for a test, building it if needed. It skips
// the test under -short.
func Actionlint(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs actionlint, which -short leaves out")
	}
	path, err := ActionlintPath(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return path
}
