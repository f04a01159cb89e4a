package gitlocal

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/go-git/go-billy/v5"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"
)

// checkout is the worktree checked out on the main branch, which an approval keeps in step
// by rewriting only the files it changes, as git does on a fast-forward: a full status of
// a 10,000-file site would cost far more than the approval itself.
//
// It holds .git/index.lock from reading the index to writing it, as git commands do, so
// that a git command cannot change the index in between, nor this write a git command's.
type checkout struct {
	f    *Forge
	fs   billy.Filesystem
	idx  *index.Index
	lock *os.File // nil in memory
}

// openCheckout returns the worktree when HEAD is on the main branch and none of the files
// the approval changes has local edits there (nor an untracked file in the way, nor a
// symbolic link on the way). Otherwise it returns nil: the worktree is left as it is. The
// caller must call write or release.
func (f *Forge) openCheckout(deltas []delta) (*checkout, error) {
	if len(deltas) == 0 {
		return nil, nil
	}
	head, err := f.repo.Storer.Reference(plumbing.HEAD)
	if err != nil || head.Type() != plumbing.SymbolicReference || head.Target() != f.main {
		return nil, nil
	}
	wt, err := f.repo.Worktree()
	if errors.Is(err, git.ErrIsBareRepository) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for _, d := range deltas {
		if !d.to.absent() && !d.to.mode.IsFile() {
			return nil, nil // a submodule, made by hand: left to git
		}
	}
	c := &checkout{f: f, fs: wt.Filesystem}
	if f.flush.gitDir != "" {
		c.lock, err = os.OpenFile(filepath.Join(f.flush.gitDir, "index.lock"), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if errors.Is(err, fs.ErrExist) {
			return nil, nil // a git command is at work on the index
		}
		if err != nil {
			return nil, fmt.Errorf("gitlocal: lock the index: %w", err)
		}
	}
	if c.idx, err = f.repo.Storer.Index(); err != nil {
		c.release()
		return nil, fmt.Errorf("gitlocal: read the index: %w", err)
	}
	for _, d := range deltas {
		ok, err := c.clean(d.path, d.from)
		if err != nil || !ok {
			c.release()
			return nil, err
		}
	}
	return c, nil
}

// release gives up the index lock without writing.
func (c *checkout) release() {
	if c.lock != nil {
		c.lock.Close()
		os.Remove(c.lock.Name())
		c.lock = nil
	}
}

// clean reports whether path holds old, the main branch's entry, in both the index and the
// worktree.
func (c *checkout) clean(p string, old entry) (bool, error) {
	for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
		fi, err := c.fs.Lstat(dir)
		if err == nil && !fi.IsDir() {
			return false, nil // a file or a symbolic link where the folder goes
		}
	}
	e, err := c.idx.Entry(p)
	if errors.Is(err, index.ErrEntryNotFound) {
		e = nil
	} else if err != nil {
		return false, err
	}
	fi, err := c.fs.Lstat(p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	exists := err == nil
	if old.absent() {
		return e == nil && !exists, nil
	}
	// Stage 0 is a merged entry (go-git's index.Merged says 1, which is a conflict's base).
	if e == nil || e.Hash != old.hash || e.Stage != 0 || !exists || fi.IsDir() {
		return false, nil
	}
	if mode, err := filemode.NewFromOSFileMode(fi.Mode()); err != nil || mode != old.mode {
		return false, nil
	}
	// Stat data as the index recorded it, and older than the index: unchanged (racy git).
	if int64(e.Size) == fi.Size() && fi.ModTime().Equal(e.ModifiedAt) &&
		!c.idx.ModTime.IsZero() && fi.ModTime().Before(c.idx.ModTime) {
		return true, nil
	}
	data, err := c.read(p, old.mode)
	if err != nil {
		return false, nil
	}
	return plumbing.ComputeHash(plumbing.BlobObject, data) == old.hash, nil
}

func (c *checkout) read(p string, mode filemode.FileMode) ([]byte, error) {
	if mode == filemode.Symlink {
		target, err := c.fs.Readlink(p)
		return []byte(target), err
	}
	f, err := c.fs.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// write puts the new content of every path in the worktree and the index, and releases the
// lock.
func (c *checkout) write(deltas []delta) error {
	defer c.release()
	for _, d := range deltas {
		if err := c.put(d.path, d.to); err != nil {
			return fmt.Errorf("%s: %w", d.path, err)
		}
	}
	c.idx.Cache = nil // the cached trees describe the old content
	if c.lock == nil {
		return c.f.repo.Storer.SetIndex(c.idx)
	}
	w := bufio.NewWriter(c.lock)
	if err := index.NewEncoder(w).Encode(c.idx); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := c.lock.Close(); err != nil {
		return err
	}
	lock := c.lock.Name()
	c.lock = nil
	if err := os.Rename(lock, filepath.Join(c.f.flush.gitDir, "index")); err != nil {
		os.Remove(lock)
		return err
	}
	return nil
}

func (c *checkout) put(p string, e entry) error {
	if e.absent() {
		if err := c.fs.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		c.idx.Remove(p)
		for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
			if list, err := c.fs.ReadDir(dir); err != nil || len(list) > 0 || c.fs.Remove(dir) != nil {
				break // Git has no empty folders: neither has its checkout
			}
		}
		return nil
	}
	data, err := readBlob(c.f.repo.Storer, e.hash)
	if err != nil {
		return err
	}
	if err := c.fs.MkdirAll(path.Dir(p), 0o755); err != nil {
		return err
	}
	if e.mode == filemode.Symlink {
		if err := c.fs.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := c.fs.Symlink(string(data), p); err != nil {
			return err
		}
	} else if err := c.replace(p, data, e.mode); err != nil {
		return err
	}
	fi, err := c.fs.Lstat(p)
	if err != nil {
		return err
	}
	ie, err := c.idx.Entry(p)
	if err != nil {
		ie = c.idx.Add(p)
	}
	// Stat data git also compares (ctime, inode) is left empty: git checks such an entry
	// by its content, and records it again.
	*ie = index.Entry{
		Name:       p,
		Hash:       e.hash,
		Mode:       e.mode,
		Size:       uint32(fi.Size()),
		ModifiedAt: fi.ModTime(),
	}
	return nil
}

// replace writes a file whole, through a temporary file renamed over it, so that a reader
// (a site build) never sees half of it.
func (c *checkout) replace(p string, data []byte, mode filemode.FileMode) error {
	var buf [6]byte
	rand.Read(buf[:])
	name := path.Join(path.Dir(p), ".parvis-"+hex.EncodeToString(buf[:])+"-"+path.Base(p))
	tmp, err := c.fs.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		perm := os.FileMode(0o644)
		if mode == filemode.Executable {
			perm = 0o755
		}
		if ch, ok := c.fs.(billy.Change); ok {
			err = ch.Chmod(name, perm)
		}
	}
	if err == nil {
		err = c.fs.Rename(name, p)
	}
	if err != nil {
		c.fs.Remove(name)
	}
	return err
}
