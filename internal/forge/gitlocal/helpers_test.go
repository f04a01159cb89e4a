package gitlocal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-billy/v5/util"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/parvis/parvis/internal/forge"
	"github.com/parvis/parvis/internal/forge/forgetest"
)

// The site every test repository starts from.
var seed = map[string]string{
	"parvis.yaml":                  "title: Ville de Belcombe\nlanguage: fr\n",
	"articles/budget-2026.md":      "---\ntitle: Budget 2026\n---\nLe budget.\n",
	"pages/mentions-legales.md":    "---\ntitle: Mentions légales\n---\n",
	"comments/articles/old/1.yaml": "_id: \"1\"\nname: Ancien\nmessage: Bonjour\n",
}

var editor = object.Signature{Name: "Éditrice", Email: "editrice@belcombe.example"}

// clock is a test clock that moves one second at each reading, so that commits are ordered.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2026, 3, 14, 9, 30, 0, 0, time.FixedZone("CET", 3600))}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// run runs git in dir, with no user or system configuration, and returns its output.
func run(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := gitOutput(dir, nil, args...)
	if err != nil {
		t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func gitOutput(dir string, stdin []byte, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME="+editor.Name, "GIT_AUTHOR_EMAIL="+editor.Email,
		"GIT_COMMITTER_NAME="+editor.Name, "GIT_COMMITTER_EMAIL="+editor.Email,
		"LC_ALL=C")
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%w: %s", err, stderr.String())
	}
	return out.String(), nil
}

// diskRepo makes a working repository on disk, on branch main, with the seed site in
// siteDir, and returns its path.
func diskRepo(t testing.TB, siteDir string) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	run(t, dir, "init", "-q", "-b", "main")
	for name, data := range seed {
		writeFile(t, filepath.Join(dir, filepath.FromSlash(path.Join(siteDir, name))), data)
	}
	run(t, dir, "add", "-A")
	run(t, dir, "commit", "-q", "-m", "Site")
	return dir
}

func writeFile(t testing.TB, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// memRepo makes a repository in memory, with a worktree on branch master.
func memRepo(t testing.TB) *git.Repository {
	t.Helper()
	wtfs := memfs.New()
	repo, err := git.Init(memory.NewStorage(), wtfs)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range seed {
		if err := util.WriteFile(wtfs, name, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := wt.Add(name); err != nil {
			t.Fatal(err)
		}
	}
	sig := editor
	sig.When = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := wt.Commit("Site", &git.CommitOptions{Author: &sig}); err != nil {
		t.Fatal(err)
	}
	return repo
}

// cli inspects a repository on disk with plain git commands, as an editor would.
type cli struct {
	dir, main, site string
}

func (c *cli) git(args ...string) (string, error) { return gitOutput(c.dir, nil, args...) }

func (c *cli) repoPath(p string) string { return path.Join(c.site, p) }

func (c *cli) ReadFile(_ context.Context, p string) ([]byte, error) {
	out, err := c.git("ls-tree", "-z", c.main, "--", c.repoPath(p))
	if err != nil {
		return nil, err
	}
	if out == "" {
		return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
	}
	fields := strings.Fields(out)
	data, err := c.git("cat-file", "blob", fields[2])
	return []byte(data), err
}

const logFormat = "--format=%H%x00%an%x00%ae%x00%cn%x00%ce%x00%B%x1e"

func parseLog(out string) []forgetest.Commit {
	var list []forgetest.Commit
	for rec := range strings.SplitSeq(out, "\x1e") {
		f := strings.SplitN(strings.TrimLeft(rec, "\n"), "\x00", 6)
		if len(f) < 6 {
			continue
		}
		list = append(list, forgetest.Commit{
			Hash: f[0], Message: f[5],
			Author:    forgetest.Signature{Name: f[1], Email: f[2]},
			Committer: forgetest.Signature{Name: f[3], Email: f[4]},
		})
	}
	return list
}

func (c *cli) Head(context.Context) (forgetest.Commit, error) {
	out, err := c.git("log", "-1", logFormat, c.main)
	if err != nil {
		return forgetest.Commit{}, err
	}
	return parseLog(out)[0], nil
}

func (c *cli) Commits(_ context.Context, p *forge.Pending) ([]forgetest.Commit, error) {
	out, err := c.git("log", logFormat, c.main+".."+"refs/heads/"+p.Branch)
	return parseLog(out), err
}

func (c *cli) Edit(_ context.Context, files []forge.File, message string) error {
	for _, f := range files {
		name := filepath.Join(c.dir, filepath.FromSlash(c.repoPath(f.Path)))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(name, f.Data, 0o644); err != nil {
			return err
		}
		if _, err := c.git("add", "--", c.repoPath(f.Path)); err != nil {
			return err
		}
	}
	_, err := c.git("commit", "-q", "-m", message)
	return err
}

func (c *cli) Merge(_ context.Context, p *forge.Pending) error {
	_, err := c.git("merge", "-q", "--no-ff", "--no-edit", "refs/heads/"+p.Branch)
	return err
}

func (c *cli) Close(_ context.Context, p *forge.Pending) error {
	_, err := c.git("branch", "-q", "-D", p.Branch)
	return err
}

// gogit inspects a repository with go-git, holding the forge's lock: go-git's in-memory
// storage is not safe for concurrent use.
type gogit struct {
	f *Forge
}

func (g *gogit) locked(ctx context.Context, fn func() error) error {
	release, err := g.f.lock.acquire(ctx, true)
	if err != nil {
		return err
	}
	defer release()
	return fn()
}

func (g *gogit) ReadFile(ctx context.Context, p string) (data []byte, err error) {
	err = g.locked(ctx, func() error {
		main, err := g.f.mainCommit()
		if err != nil {
			return err
		}
		file, err := main.File(g.f.repoPath(p))
		if errors.Is(err, object.ErrFileNotFound) {
			return fmt.Errorf("%s: %w", p, fs.ErrNotExist)
		}
		if err != nil {
			return err
		}
		s, err := file.Contents()
		data = []byte(s)
		return err
	})
	return data, err
}

func asCommit(c *object.Commit) forgetest.Commit {
	return forgetest.Commit{
		Hash: c.Hash.String(), Message: c.Message,
		Author:    forgetest.Signature{Name: c.Author.Name, Email: c.Author.Email},
		Committer: forgetest.Signature{Name: c.Committer.Name, Email: c.Committer.Email},
	}
}

func (g *gogit) Head(ctx context.Context) (h forgetest.Commit, err error) {
	err = g.locked(ctx, func() error {
		main, err := g.f.mainCommit()
		if err == nil {
			h = asCommit(main)
		}
		return err
	})
	return h, err
}

func (g *gogit) Commits(ctx context.Context, p *forge.Pending) (list []forgetest.Commit, err error) {
	err = g.locked(ctx, func() error {
		ref, err := g.f.repo.Reference(plumbing.NewBranchReferenceName(p.Branch), true)
		if err != nil {
			return err
		}
		c, err := g.f.repo.CommitObject(ref.Hash())
		for err == nil && c.Hash.String() != p.Base {
			list = append(list, asCommit(c))
			c, err = c.Parent(0)
		}
		return err
	})
	return list, err
}

func (g *gogit) Edit(ctx context.Context, files []forge.File, message string) error {
	return g.locked(ctx, func() error {
		wt, err := g.f.repo.Worktree()
		if err != nil {
			return err
		}
		for _, f := range files {
			name := g.f.repoPath(f.Path)
			if err := util.WriteFile(wt.Filesystem, name, f.Data, 0o644); err != nil {
				return err
			}
			if _, err := wt.Add(name); err != nil {
				return err
			}
		}
		sig := editor
		sig.When = time.Now()
		_, err = wt.Commit(message, &git.CommitOptions{Author: &sig})
		return err
	})
}

// Merge fast-forwards the main branch and its worktree to the change, keeping the branch.
func (g *gogit) Merge(ctx context.Context, p *forge.Pending) error {
	return g.locked(ctx, func() error {
		main, err := g.f.mainCommit()
		if err != nil {
			return err
		}
		if main.Hash.String() != p.Base {
			return errors.New("main has moved: cannot fast-forward")
		}
		ref, err := g.f.repo.Reference(plumbing.NewBranchReferenceName(p.Branch), true)
		if err != nil {
			return err
		}
		wt, err := g.f.repo.Worktree()
		if err != nil {
			return err
		}
		return wt.Reset(&git.ResetOptions{Commit: ref.Hash(), Mode: git.MergeReset})
	})
}

func (g *gogit) Close(ctx context.Context, p *forge.Pending) error {
	return g.locked(ctx, func() error {
		return g.f.repo.Storer.RemoveReference(plumbing.NewBranchReferenceName(p.Branch))
	})
}
