package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// GoBuild returns a BuildFunc that runs `go build [flags] -o dst pkg` in dir, the folder of
// the module that pins pkg's version (tools/, for Hugo; a downloaded module, for Gitea).
func GoBuild(dir, pkg string, flags ...string) BuildFunc {
	return func(ctx context.Context, dst string) error {
		args := append(append([]string{"build"}, flags...), "-o", dst, pkg)
		return goCommand(ctx, dir, nil, args...)
	}
}

// GoInstall returns a BuildFunc that runs `go install pkg@version` (for programs such as
// MinIO that build from their own go.mod) and moves the binary to dst.
func GoInstall(pkgAtVersion string, flags ...string) BuildFunc {
	return func(ctx context.Context, dst string) error {
		if !strings.Contains(pkgAtVersion, "@") {
			return fmt.Errorf("go install %s: want package@version", pkgAtVersion)
		}
		bin, err := os.MkdirTemp(filepath.Dir(dst), ".gobin")
		if err != nil {
			return err
		}
		defer os.RemoveAll(bin)
		args := append(append([]string{"install"}, flags...), pkgAtVersion)
		if err := goCommand(ctx, "", []string{"GOBIN=" + bin}, args...); err != nil {
			return err
		}
		entries, err := os.ReadDir(bin)
		if err != nil {
			return err
		}
		if len(entries) != 1 {
			return fmt.Errorf("go install %s: %d files installed, want one", pkgAtVersion, len(entries))
		}
		return os.Rename(filepath.Join(bin, entries[0].Name()), dst)
	}
}

func goCommand(ctx context.Context, dir string, env []string, args ...string) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, gobin, args...)
	cmd.Dir = dir
	if dir == "" {
		// Outside any module, so that the caller's go.mod does not change what is installed.
		cmd.Dir = os.TempDir()
	}
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}
