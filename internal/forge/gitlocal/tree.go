package gitlocal

import (
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// entry is what a path holds in a tree. The zero entry is "nothing": writing it removes
// the path.
type entry struct {
	hash plumbing.Hash
	mode filemode.FileMode
}

func (e entry) absent() bool { return e.hash.IsZero() }

// pathError says that a file of a change meets a folder of the tree, or the reverse.
type pathError struct {
	path   string
	reason string
}

func (e *pathError) Error() string { return fmt.Sprintf("%s: %s", e.path, e.reason) }

// writer stores the objects of a change straight into the repository's object database,
// without a worktree or an index, and remembers what it wrote so that it can be flushed.
type writer struct {
	s       storer.EncodedObjectStorer
	written []plumbing.Hash
}

// put stores an encoded object unless the repository holds it already.
func (w *writer) put(obj plumbing.EncodedObject) (plumbing.Hash, error) {
	h := obj.Hash()
	if w.s.HasEncodedObject(h) == nil {
		return h, nil
	}
	if _, err := w.s.SetEncodedObject(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	w.written = append(w.written, h)
	return h, nil
}

func (w *writer) blob(data []byte) (plumbing.Hash, error) {
	obj := w.s.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	obj.SetSize(int64(len(data)))
	wr, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := wr.Write(data); err != nil {
		wr.Close()
		return plumbing.ZeroHash, err
	}
	if err := wr.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return w.put(obj)
}

func (w *writer) commit(c *object.Commit) (plumbing.Hash, error) {
	obj := w.s.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return w.put(obj)
}

// apply writes the tree that root becomes once every path of updates holds its entry, and
// returns its hash. Only the folders on the way to an updated path are read and rewritten,
// so the cost follows the depth of the change, not the size of the site.
func (w *writer) apply(root plumbing.Hash, updates map[string]entry) (plumbing.Hash, error) {
	h, err := w.applyDir("", root, updates)
	if err != nil || !h.IsZero() {
		return h, err
	}
	return w.tree(nil) // a repository whose every file was removed still has a root tree
}

func (w *writer) applyDir(dir string, tree plumbing.Hash, updates map[string]entry) (plumbing.Hash, error) {
	entries := make(map[string]object.TreeEntry)
	if !tree.IsZero() {
		t, err := object.GetTree(w.s, tree)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		for _, e := range t.Entries {
			entries[e.Name] = e
		}
	}
	subs := make(map[string]map[string]entry)
	for p, e := range updates {
		name, rest, nested := strings.Cut(p, "/")
		if nested {
			if subs[name] == nil {
				subs[name] = make(map[string]entry)
			}
			subs[name][rest] = e
			continue
		}
		if old, ok := entries[name]; ok && old.Mode == filemode.Dir {
			return plumbing.ZeroHash, &pathError{path.Join(dir, name), "a folder of that name exists"}
		}
		if e.absent() {
			delete(entries, name)
		} else {
			entries[name] = object.TreeEntry{Name: name, Mode: e.mode, Hash: e.hash}
		}
	}
	for name, u := range subs {
		var sub plumbing.Hash
		if old, ok := entries[name]; ok {
			if old.Mode != filemode.Dir {
				return plumbing.ZeroHash, &pathError{path.Join(dir, name), "a file of that name exists where a folder is needed"}
			}
			sub = old.Hash
		}
		h, err := w.applyDir(path.Join(dir, name), sub, u)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if h.IsZero() {
			delete(entries, name) // Git has no empty folders
		} else {
			entries[name] = object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h}
		}
	}
	if len(entries) == 0 {
		return plumbing.ZeroHash, nil
	}
	list := make([]object.TreeEntry, 0, len(entries))
	for _, e := range entries {
		list = append(list, e)
	}
	return w.tree(list)
}

func (w *writer) tree(entries []object.TreeEntry) (plumbing.Hash, error) {
	sort.Sort(object.TreeEntrySorter(entries))
	obj := w.s.NewEncodedObject()
	if err := (&object.Tree{Entries: entries}).Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return w.put(obj)
}

// lookup returns what path holds in tree. A path under a file comes back as a "blocked"
// entry, which equals no entry a change could hold.
func lookup(s storer.EncodedObjectStorer, tree *object.Tree, p string) (entry, error) {
	t := tree
	for {
		name, rest, nested := strings.Cut(p, "/")
		var found *object.TreeEntry
		for i := range t.Entries {
			if t.Entries[i].Name == name {
				found = &t.Entries[i]
				break
			}
		}
		switch {
		case found == nil:
			return entry{}, nil
		case !nested:
			return entry{found.Hash, found.Mode}, nil
		case found.Mode != filemode.Dir:
			return entry{found.Hash, blocked}, nil
		}
		sub, err := object.GetTree(s, found.Hash)
		if err != nil {
			return entry{}, err
		}
		t, p = sub, rest
	}
}

// blocked is no mode Git writes.
const blocked filemode.FileMode = 0o1

func readBlob(s storer.EncodedObjectStorer, h plumbing.Hash) ([]byte, error) {
	b, err := object.GetBlob(s, h)
	if err != nil {
		return nil, err
	}
	r, err := b.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

// delta is one path that differs between two trees.
type delta struct {
	path     string
	from, to entry // absent on the side that lacks the path
}

// diffTrees lists the files that differ from tree a to tree b (either may be zero: empty).
// It descends only into folders whose hashes differ, unlike go-git's DiffTree, which reads
// every subfolder of a folder it compares: the cost follows the change, not the site.
func diffTrees(s storer.EncodedObjectStorer, a, b plumbing.Hash) ([]delta, error) {
	var out []delta
	err := diffDir(s, "", a, b, &out)
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, err
}

func diffDir(s storer.EncodedObjectStorer, dir string, a, b plumbing.Hash, out *[]delta) error {
	if a == b {
		return nil
	}
	entries := func(h plumbing.Hash) (map[string]entry, error) {
		m := make(map[string]entry)
		if h.IsZero() {
			return m, nil
		}
		t, err := object.GetTree(s, h)
		if err != nil {
			return nil, err
		}
		for _, e := range t.Entries {
			m[e.Name] = entry{e.Hash, e.Mode}
		}
		return m, nil
	}
	from, err := entries(a)
	if err != nil {
		return err
	}
	to, err := entries(b)
	if err != nil {
		return err
	}
	names := make(map[string]bool, len(from)+len(to))
	for n := range from {
		names[n] = true
	}
	for n := range to {
		names[n] = true
	}
	for name := range names {
		f, t := from[name], to[name]
		if f == t {
			continue
		}
		p := path.Join(dir, name)
		// A folder on either side is compared file by file; a file on either side is one delta.
		var fromDir, toDir plumbing.Hash
		if f.mode == filemode.Dir {
			fromDir, f = f.hash, entry{}
		}
		if t.mode == filemode.Dir {
			toDir, t = t.hash, entry{}
		}
		if f != t {
			*out = append(*out, delta{p, f, t})
		}
		if err := diffDir(s, p, fromDir, toDir, out); err != nil {
			return err
		}
	}
	return nil
}
