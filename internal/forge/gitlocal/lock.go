package gitlocal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// lockFile is held (flock) in the .git folder while a change is written, so that two
// processes (parvis serve and parvis moderate) never write the same repository at once.
const lockFile = "parvis.lock"

// repoLock serializes the work on one repository: go-git's storage is not safe for
// concurrent use, and approvals must not interleave.
type repoLock struct {
	sem chan struct{} // a mutex that a context can give up waiting for
	dot billy.Filesystem
}

var locks = struct {
	sync.Mutex
	m map[string]*repoLock
}{m: make(map[string]*repoLock)}

// lockFor returns the lock shared by every Forge on the repository at gitDir, or a lock of
// its own when the repository is not on disk.
func lockFor(gitDir string, dot billy.Filesystem) *repoLock {
	if gitDir == "" {
		return &repoLock{sem: make(chan struct{}, 1)}
	}
	locks.Lock()
	defer locks.Unlock()
	l, ok := locks.m[gitDir]
	if !ok {
		l = &repoLock{sem: make(chan struct{}, 1), dot: dot}
		locks.m[gitDir] = l
	}
	return l
}

// acquire takes the lock; write also takes the lock file, against other processes.
func (l *repoLock) acquire(ctx context.Context, write bool) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err // select would pick at random between a free lock and a done ctx
	}
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	unlock := func() { <-l.sem }
	if !write || l.dot == nil {
		return unlock, nil
	}
	f, err := l.dot.OpenFile(lockFile, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("gitlocal: lock file: %w", err)
	}
	if err := f.Lock(); err != nil {
		f.Close()
		unlock()
		return nil, fmt.Errorf("gitlocal: lock file: %w", err)
	}
	return func() {
		f.Unlock()
		f.Close()
		unlock()
	}, nil
}

// acquire takes the repository's lock, and has go-git read the pack files again when
// someone (git gc) changed them: it would not see the objects moved into a new pack.
func (f *Forge) acquire(ctx context.Context, write bool) (release func(), err error) {
	release, err = f.lock.acquire(ctx, write)
	if err != nil || f.flush.gitDir == "" {
		return release, err
	}
	if fi, err := os.Stat(filepath.Join(f.flush.gitDir, "objects", "pack")); err == nil && !fi.ModTime().Equal(f.packs) {
		if s, ok := f.repo.Storer.(*filesystem.Storage); ok {
			s.Reindex()
		}
		f.packs = fi.ModTime()
	}
	return release, nil
}

// diskDir returns the absolute path of the repository's .git folder when its storage is on
// disk, and "" otherwise.
func diskDir(s any) (string, billy.Filesystem) {
	fs, ok := s.(*filesystem.Storage)
	if !ok {
		return "", nil
	}
	dot := fs.Filesystem()
	base := billy.Basic(dot)
	for i := 0; i < 8; i++ { // through chroot and polyfill wrappers
		u, ok := base.(interface{ Underlying() billy.Basic })
		if !ok {
			break
		}
		base = u.Underlying()
	}
	switch base.(type) {
	case *osfs.ChrootOS, *osfs.BoundOS:
	default:
		return "", nil
	}
	dir, err := filepath.Abs(dot.Root())
	if err != nil {
		return "", nil
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	return dir, dot
}

// syncer makes what a change wrote durable before the change is reported done: the
// submission has left the queue by then, and a power cut must not take it back.
type syncer struct{ gitDir string }

// objects flushes loose objects and the folders naming them. Objects already packed are
// durable already.
func (s syncer) objects(hashes []plumbing.Hash) error {
	if s.gitDir == "" {
		return nil
	}
	dirs := make(map[string]bool)
	for _, h := range hashes {
		hex := h.String()
		dir := filepath.Join(s.gitDir, "objects", hex[:2])
		if err := fsync(filepath.Join(dir, hex[2:])); err != nil {
			return err
		}
		dirs[dir] = true
	}
	for dir := range dirs {
		syncDir(dir)
	}
	return nil
}

// refs flushes reference files (or their removal) and packed-refs.
func (s syncer) refs(names ...plumbing.ReferenceName) error {
	if s.gitDir == "" {
		return nil
	}
	dirs := map[string]bool{s.gitDir: true}
	files := []string{filepath.Join(s.gitDir, "packed-refs")}
	for _, n := range names {
		file := filepath.Join(s.gitDir, filepath.FromSlash(n.String()))
		files = append(files, file)
		// The folders up to .git, which a new branch may just have created.
		for dir := filepath.Dir(file); len(dir) > len(s.gitDir); dir = filepath.Dir(dir) {
			dirs[dir] = true
		}
	}
	for _, f := range files {
		if err := fsync(f); err != nil {
			return err
		}
	}
	for dir := range dirs {
		syncDir(dir)
	}
	return nil
}

// syncDir flushes a folder's entries. Not every system can (Windows cannot open a folder
// for it), so this one is best effort.
func syncDir(name string) {
	if f, err := os.Open(name); err == nil {
		f.Sync()
		f.Close()
	}
}

// fsync flushes one file; one that does not exist is not an error.
func fsync(name string) error {
	f, err := os.Open(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("gitlocal: sync: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("gitlocal: sync %s: %w", name, err)
	}
	return nil
}
