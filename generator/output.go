package generator

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing/fstest"
	"time"
)

// Output receives the built files. Paths are slash-separated and relative to the site root.
// Implementations must be safe for concurrent use.
type Output interface {
	WriteFile(name string, data []byte) error
	Stats() (files int, bytes int64)
}

// DirOutput writes a folder as a whole: files go to a staging folder beside it, and Commit
// puts the staging folder in its place, so that a failed build leaves the old site intact and
// a page deleted from the content does not linger in the output.
//
// Writes are handed to a pool of writers, more than there are processors: creating a
// folder and a file waits on the file system far longer than it uses a processor, and
// rendering need not wait for it.
type DirOutput struct {
	root    string
	staging string
	dirs    sync.Map // folders known to exist
	files   atomic.Int64
	bytes   atomic.Int64

	start  sync.Once
	prep   sync.WaitGroup
	jobs   chan dirJob
	wg     sync.WaitGroup
	failed atomic.Pointer[error]
	closed bool
}

type dirJob struct {
	name string
	data []byte
}

// dirWriters is how many writes may wait on the file system at once.
const dirWriters = 16

// NewDirOutput returns an Output that will replace root when committed.
func NewDirOutput(root string) (*DirOutput, error) {
	root = filepath.Clean(root)
	parent, base := filepath.Dir(root), filepath.Base(root)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	staging, err := os.MkdirTemp(parent, "."+base+".parvis-")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(staging, 0o755); err != nil {
		return nil, err
	}
	return &DirOutput{root: root, staging: staging}, nil
}

// WriteFile queues a copy of data for writing; a write's error comes back from a later
// WriteFile, or from Commit.
func (o *DirOutput) WriteFile(name string, data []byte) error {
	if !fs.ValidPath(name) || name == "." {
		return fmt.Errorf("output path %q is not inside the output folder", name)
	}
	if err := o.failed.Load(); err != nil {
		return *err
	}
	o.start.Do(func() {
		o.jobs = make(chan dirJob, 4*dirWriters)
		for range dirWriters {
			o.wg.Add(1)
			go o.writer()
		}
	})
	o.files.Add(1)
	o.bytes.Add(int64(len(data)))
	o.jobs <- dirJob{name: name, data: bytes.Clone(data)}
	return nil
}

func (o *DirOutput) writer() {
	defer o.wg.Done()
	for j := range o.jobs {
		if o.failed.Load() != nil {
			continue // drain: the build has failed
		}
		if err := o.write(j.name, j.data); err != nil {
			o.failed.CompareAndSwap(nil, &err)
		}
	}
}

func (o *DirOutput) write(name string, data []byte) error {
	full := filepath.Join(o.staging, filepath.FromSlash(name))
	dir := filepath.Dir(full)
	if _, ok := o.dirs.Load(dir); !ok {
		// Most folders are new and their parent exists: try the one call first.
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
		}
		o.dirs.Store(dir, true)
	}
	return writeFile(full, data)
}

// Prepare creates the given folders (slash-separated, relative) in order, from one
// goroutine, while the build renders. Pages live each in a folder of their own, so once
// their folders exist the writers never contend for a folder, where creating thousands of
// sibling folders at once makes the kernel spin on their parent's lock. A writer that gets
// ahead creates its folder itself.
func (o *DirOutput) Prepare(dirs []string) {
	o.prep.Add(1)
	go func() {
		defer o.prep.Done()
		for _, d := range dirs {
			if o.failed.Load() != nil {
				return
			}
			full := filepath.Join(o.staging, filepath.FromSlash(d))
			if _, ok := o.dirs.Load(full); ok {
				continue
			}
			if err := os.MkdirAll(full, 0o755); err != nil {
				o.failed.CompareAndSwap(nil, &err)
				return
			}
			o.dirs.Store(full, true)
		}
	}()
}

// wait lets the queued writes finish and returns the first error.
func (o *DirOutput) wait() error {
	o.prep.Wait()
	if o.jobs != nil && !o.closed {
		close(o.jobs)
		o.closed = true
	}
	o.wg.Wait()
	if err := o.failed.Load(); err != nil {
		return *err
	}
	return nil
}

func (o *DirOutput) Stats() (int, int64) { return int(o.files.Load()), o.bytes.Load() }

// Commit waits for the writes, then replaces the output folder with what was written. It
// must not be called while WriteFile may still be.
func (o *DirOutput) Commit() error {
	if err := o.wait(); err != nil {
		_ = os.RemoveAll(o.staging)
		return err
	}
	old := ""
	if _, err := os.Lstat(o.root); err == nil {
		old = o.staging + ".old"
		if err := os.Rename(o.root, old); err != nil {
			return err
		}
	}
	if err := os.Rename(o.staging, o.root); err != nil {
		if old != "" {
			_ = os.Rename(old, o.root)
		}
		return err
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}

// Abort drops what was written; the output folder is left as it was.
func (o *DirOutput) Abort() error {
	_ = o.wait()
	return os.RemoveAll(o.staging)
}

// MemoryOutput keeps the built site in memory, as an fs.FS.
type MemoryOutput struct {
	mu    sync.Mutex
	files map[string][]byte
	bytes int64
}

// NewMemoryOutput returns an empty MemoryOutput.
func NewMemoryOutput() *MemoryOutput { return &MemoryOutput{files: map[string][]byte{}} }

func (o *MemoryOutput) WriteFile(name string, data []byte) error {
	if !fs.ValidPath(name) || name == "." {
		return fmt.Errorf("output path %q is not inside the output folder", name)
	}
	cp := bytes.Clone(data)
	o.mu.Lock()
	if old, ok := o.files[name]; ok {
		o.bytes -= int64(len(old))
	}
	o.files[name] = cp
	o.bytes += int64(len(cp))
	o.mu.Unlock()
	return nil
}

func (o *MemoryOutput) Stats() (int, int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.files), o.bytes
}

// File returns a built file's content.
func (o *MemoryOutput) File(name string) ([]byte, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	b, ok := o.files[strings.TrimPrefix(path.Clean("/"+name), "/")]
	return b, ok
}

// Names lists the built files, sorted.
func (o *MemoryOutput) Names() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]string, 0, len(o.files))
	for n := range o.files {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// FS returns the built site as a read-only file system.
func (o *MemoryOutput) FS() fs.FS {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := make(fstest.MapFS, len(o.files))
	for n, b := range o.files {
		m[n] = &fstest.MapFile{Data: b, Mode: 0o644, ModTime: time.Time{}}
	}
	return m
}
