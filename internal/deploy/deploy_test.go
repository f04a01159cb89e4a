package deploy

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/parvis/parvis/internal/blob"
)

// memTarget is a bucket in memory, which can be told to fail.
type memTarget struct {
	mu      sync.Mutex
	objects map[string]memObject
	ops     []string // "put KEY", "delete KEY", in order
	failAt  int      // when > 0, the failAt-th PutObject from now fails
	puts    int
}

type memObject struct {
	data []byte
	h    http.Header
	etag string
}

var errInjected = errors.New("injected fault")

func newMem() *memTarget { return &memTarget{objects: map[string]memObject{}} }

func (m *memTarget) Walk(ctx context.Context, fn func(key, etag string) error) error {
	m.mu.Lock()
	keys := make([]string, 0, len(m.objects))
	for k := range m.objects {
		keys = append(keys, k)
	}
	m.mu.Unlock()
	sort.Strings(keys)
	for _, k := range keys {
		m.mu.Lock()
		o := m.objects[k]
		m.mu.Unlock()
		if err := fn(k, o.etag); err != nil {
			return err
		}
	}
	return nil
}

func (m *memTarget) GetObject(ctx context.Context, key string) ([]byte, http.Header, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[key]
	if !ok {
		return nil, nil, blob.ErrNotFound
	}
	return bytes.Clone(o.data), o.h.Clone(), nil
}

func (m *memTarget) PutObject(ctx context.Context, key string, data []byte, h http.Header) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.puts++
	if m.failAt > 0 && m.puts == m.failAt {
		return "", errInjected
	}
	sum := md5.Sum(data)
	etag := hex.EncodeToString(sum[:])
	m.objects[key] = memObject{bytes.Clone(data), h.Clone(), etag}
	m.ops = append(m.ops, "put "+key)
	return etag, nil
}

func (m *memTarget) DeleteObject(ctx context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, key)
	m.ops = append(m.ops, "delete "+key)
	return nil
}

// takeOps returns the operations since the last call.
func (m *memTarget) takeOps() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	ops := m.ops
	m.ops, m.puts, m.failAt = nil, 0, 0
	return ops
}

// writeTree writes files (path → content) under a new folder.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var site1 = map[string]string{
	"index.html":                        "<!doctype html><title>Accueil</title>",
	"articles/a/index.html":             "<!doctype html><title>A</title>",
	"articles/a/pont-640w.jpg":          "jpeg",
	"articles/citoyen/index.html":       "<!doctype html><title>C</title>",
	"articles/citoyen/compte-rendu.pdf": "%PDF-1.4",
	"css/parvis.3f2a9c1d.css":           "body{}",
	"index.xml":                         `<?xml version="1.0"?><rss version="2.0"></rss>`,
	"old/index.html":                    "<!doctype html><title>Ancien</title>",
	"_headers":                          "/articles/citoyen/compte-rendu.pdf\n  Content-Disposition: attachment\n  Content-Security-Policy: sandbox\n  X-Content-Type-Options: nosniff\n",
}

func deploy(t *testing.T, dir string, m *memTarget, o Options) *Report {
	t.Helper()
	rep, err := Deploy(context.Background(), dir, m, o)
	if err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	return rep
}

// assertHolds checks that the bucket holds the build in dir, byte for byte, with the
// headers it should have, plus its manifest and the keys in extra, and nothing else.
func assertHolds(t *testing.T, m *memTarget, dir string, extra ...string) {
	t.Helper()
	files, _, err := scan(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{ManifestKey: true}
	for _, k := range extra {
		want[k] = true
	}
	for _, f := range files {
		want[f.key] = true
		data, _ := os.ReadFile(f.path)
		o, ok := m.objects[f.key]
		if !ok {
			t.Errorf("%s is not in the bucket", f.key)
			continue
		}
		if !bytes.Equal(o.data, data) {
			t.Errorf("%s in the bucket is %q, want %q", f.key, o.data, data)
		}
		for _, n := range Storable {
			if o.h.Get(n) != f.header.Get(n) {
				t.Errorf("%s: %s is %q, want %q", f.key, n, o.h.Get(n), f.header.Get(n))
			}
		}
	}
	for k := range m.objects {
		if !want[k] {
			t.Errorf("%s is in the bucket, not in the build", k)
		}
	}
}

func TestDeploy(t *testing.T) {
	m := newMem()
	dir := writeTree(t, site1)
	rep := deploy(t, dir, m, Options{})
	if rep.Uploaded != 8 || rep.Files != 8 || rep.Deleted != 0 {
		t.Errorf("first deploy: %s", rep)
	}
	ops := m.takeOps()
	// The manifest claims the prefix first and is written last; the files pages point at
	// go before the pages.
	if ops[0] != "put "+ManifestKey || ops[len(ops)-1] != "put "+ManifestKey {
		t.Errorf("the manifest is not first and last: %v", ops)
	}
	lastAsset, firstPage := 0, len(ops)
	for i, op := range ops[1 : len(ops)-1] {
		if isDocument(op) {
			firstPage = min(firstPage, i)
		} else {
			lastAsset = i
		}
	}
	if lastAsset > firstPage {
		t.Errorf("a page was uploaded before a file it may point at: %v", ops)
	}
	assertHolds(t, m, dir)
	if _, ok := m.objects[HeadersFile]; ok {
		t.Error("_headers was uploaded")
	}
	pdf := m.objects["articles/citoyen/compte-rendu.pdf"].h
	if pdf.Get("Content-Disposition") != "attachment" || pdf.Get("Content-Type") != "application/pdf" {
		t.Errorf("the citizen's document: %v", pdf)
	}
	if got := m.objects["css/parvis.3f2a9c1d.css"].h.Get("Cache-Control"); got != CacheImmutable {
		t.Errorf("the fingerprinted style sheet: Cache-Control %q", got)
	}
	if got := m.objects["index.html"].h.Get("Cache-Control"); got != CacheShort {
		t.Errorf("the home page: Cache-Control %q", got)
	}
	if len(rep.Warnings) != 2 || !strings.Contains(rep.Warnings[0], "Content-Security-Policy") || !strings.Contains(rep.Warnings[1], "X-Content-Type-Options") {
		t.Errorf("warnings of the headers a bucket cannot keep: %q", rep.Warnings)
	}
	// The manifest names no path.
	if strings.Contains(string(m.objects[ManifestKey].data), "citoyen") {
		t.Errorf("the manifest names paths: %s", m.objects[ManifestKey].data)
	}

	// Nothing changed: nothing is sent, not even the manifest.
	rep = deploy(t, dir, m, Options{})
	if ops := m.takeOps(); len(ops) != 0 || rep.Unchanged != 8 {
		t.Errorf("a deploy of the same build: %s, %v", rep, ops)
	}

	// One page changes, one goes, one comes: the page and the new one are uploaded, the
	// old one deleted after them, and the manifest written last.
	site2 := clone(site1)
	site2["articles/a/index.html"] = "<!doctype html><title>A, corrigé</title>"
	delete(site2, "old/index.html")
	site2["articles/b/index.html"] = "<!doctype html><title>B</title>"
	dir2 := writeTree(t, site2)
	var log bytes.Buffer
	rep = deploy(t, dir2, m, Options{Log: &log})
	ops = m.takeOps()
	sort.Strings(ops[:2])
	if want := []string{"put articles/a/index.html", "put articles/b/index.html", "delete old/index.html", "put " + ManifestKey}; fmt.Sprint(ops) != fmt.Sprint(want) {
		t.Errorf("ops = %v, want %v", ops, want)
	}
	if rep.Uploaded != 2 || rep.Deleted != 1 || rep.Unchanged != 6 {
		t.Errorf("second deploy: %s", rep)
	}
	for _, line := range []string{"upload  articles/a/index.html  (changed, ", "upload  articles/b/index.html  (new, ", "delete  old/index.html  (gone)"} {
		if !strings.Contains(log.String(), line) {
			t.Errorf("the log has no line %q:\n%s", line, log.String())
		}
	}
	assertHolds(t, m, dir2)

	// A change of headers alone is a change: the document stops being a download.
	site3 := clone(site2)
	site3["_headers"] = ""
	dir3 := writeTree(t, site3)
	rep = deploy(t, dir3, m, Options{})
	if ops := m.takeOps(); rep.Uploaded != 1 || ops[0] != "put articles/citoyen/compte-rendu.pdf" {
		t.Errorf("a change of headers: %s, %v", rep, ops)
	}
	assertHolds(t, m, dir3)
}

func clone(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func TestDryRunAndNoDelete(t *testing.T) {
	m := newMem()
	dir := writeTree(t, site1)
	rep := deploy(t, dir, m, Options{DryRun: true})
	if len(m.takeOps()) != 0 || len(m.objects) != 0 {
		t.Fatal("a dry run wrote to the bucket")
	}
	if len(rep.Actions) != 8 || !strings.HasPrefix(rep.String(), "8 of 8 files to upload") {
		t.Errorf("dry run: %s, %v", rep, rep.Actions)
	}
	deploy(t, dir, m, Options{})
	m.takeOps()
	site2 := clone(site1)
	delete(site2, "old/index.html")
	dir2 := writeTree(t, site2)
	rep = deploy(t, dir2, m, Options{DryRun: true})
	if len(rep.Actions) != 1 || rep.Actions[0].String() != "delete  old/index.html  (gone)" || len(m.takeOps()) != 0 {
		t.Errorf("dry run of a deletion: %v", rep.Actions)
	}
	rep = deploy(t, dir2, m, Options{NoDelete: true})
	if ops := m.takeOps(); rep.Kept != 1 || rep.Deleted != 0 || len(ops) != 1 || ops[0] != "put "+ManifestKey {
		t.Errorf("--no-delete: %s, %v", rep, ops)
	}
	assertHolds(t, m, dir2, "old/index.html")
	// Later, without --no-delete, it goes.
	rep = deploy(t, dir2, m, Options{})
	if rep.Deleted != 1 {
		t.Errorf("a deploy after --no-delete: %s", rep)
	}
	assertHolds(t, m, dir2)
}

// TestInterrupted cuts deploys after some uploads (the process killed, the network gone),
// then deploys again: the bucket ends holding the build, whatever the manifest said.
func TestInterrupted(t *testing.T) {
	// The first deploy puts a claim, 8 files and the manifest; the later one 7 files and
	// the manifest: each is cut at its first put, midway, and at its manifest.
	for _, failAt := range []int{1, 2, 4, 7, 8, 10} {
		t.Run(fmt.Sprint("first deploy cut at put ", failAt), func(t *testing.T) {
			m := newMem()
			dir := writeTree(t, site1)
			m.failAt = failAt
			if _, err := Deploy(context.Background(), dir, m, Options{Concurrency: 1}); !errors.Is(err, errInjected) {
				t.Fatalf("the cut deploy: %v", err)
			}
			m.takeOps()
			deploy(t, dir, m, Options{})
			assertHolds(t, m, dir)
		})
		t.Run(fmt.Sprint("later deploy cut at put ", failAt), func(t *testing.T) {
			m := newMem()
			deploy(t, writeTree(t, site1), m, Options{})
			site2 := map[string]string{}
			for k, v := range site1 {
				if k != "old/index.html" {
					site2[k] = v + " v2" // every file changes
				}
			}
			site2["_headers"] = site1["_headers"]
			dir2 := writeTree(t, site2)
			m.takeOps()
			m.failAt = min(failAt, 8)
			if _, err := Deploy(context.Background(), dir2, m, Options{Concurrency: 1}); !errors.Is(err, errInjected) {
				t.Fatalf("the cut deploy: %v", err)
			}
			m.takeOps()
			// Roll back to the first build: what the cut run uploaded is not what the
			// manifest vouches for, and is put back.
			dir1 := writeTree(t, site1)
			deploy(t, dir1, m, Options{})
			assertHolds(t, m, dir1)
			deploy(t, dir2, m, Options{})
			assertHolds(t, m, dir2)
		})
	}
}

// TestBucketChangedBehindItsBack: an object deleted or replaced by hand is put back, since
// the listing is believed over the manifest; a damaged manifest vouches for nothing.
func TestBucketChangedBehindItsBack(t *testing.T) {
	m := newMem()
	dir := writeTree(t, site1)
	deploy(t, dir, m, Options{})
	delete(m.objects, "articles/a/index.html")
	m.objects["index.html"] = memObject{[]byte("defaced"), http.Header{}, "0123"}
	m.takeOps()
	rep := deploy(t, dir, m, Options{})
	if rep.Uploaded != 2 {
		t.Errorf("after changes by hand: %s", rep)
	}
	assertHolds(t, m, dir)
	m.objects[ManifestKey] = memObject{[]byte("{not json"), http.Header{}, "x"}
	rep = deploy(t, dir, m, Options{})
	if rep.Uploaded != 8 {
		t.Errorf("with a damaged manifest: %s", rep)
	}
	assertHolds(t, m, dir)
	var man manifest
	if err := json.Unmarshal(m.objects[ManifestKey].data, &man); err != nil || len(man.Files) != 8 {
		t.Errorf("the manifest written after: %v, %d files", err, len(man.Files))
	}
}

// TestForeignObjects: a first deploy into a prefix that holds other things leaves them, and
// so do the deploys after it.
func TestForeignObjects(t *testing.T) {
	m := newMem()
	m.objects["backup/db.sql"] = memObject{[]byte("x"), http.Header{}, "1"}
	m.objects["index.html"] = memObject{[]byte("an older site"), http.Header{}, "2"}
	dir := writeTree(t, site1)
	rep := deploy(t, dir, m, Options{})
	if rep.Kept != 1 || len(rep.Warnings) != 3 || !strings.Contains(rep.Warnings[2], "backup/db.sql") {
		t.Errorf("first deploy into a used prefix: %s, %q", rep, rep.Warnings)
	}
	assertHolds(t, m, dir, "backup/db.sql") // index.html, in the build, is replaced
	site2 := clone(site1)
	delete(site2, "old/index.html")
	dir2 := writeTree(t, site2)
	rep = deploy(t, dir2, m, Options{})
	if rep.Deleted != 1 || rep.Kept != 1 {
		t.Errorf("a later deploy: %s", rep)
	}
	assertHolds(t, m, dir2, "backup/db.sql")
}

// TestNestedDeploy: a site deployed under this one's prefix is left alone.
func TestNestedDeploy(t *testing.T) {
	m := newMem()
	dir := writeTree(t, site1)
	deploy(t, dir, m, Options{})
	// Another deploy, under preview/, seen from the first one's prefix.
	preview := newMem()
	deploy(t, writeTree(t, map[string]string{"index.html": "preview"}), preview, Options{})
	for k, o := range preview.objects {
		m.objects["preview/"+k] = o
	}
	m.takeOps()
	rep := deploy(t, dir, m, Options{})
	if ops := m.takeOps(); len(ops) != 0 || rep.Deleted != 0 {
		t.Errorf("the deploy touched the one under it: %s, %v", rep, ops)
	}
	assertHolds(t, m, dir, "preview/index.html", "preview/"+ManifestKey)
	clash := clone(site1)
	clash["preview/index.html"] = "mine"
	if _, err := Deploy(context.Background(), writeTree(t, clash), m, Options{}); err == nil || !strings.Contains(err.Error(), "another deploy keeps its site") {
		t.Errorf("a build writing over another deploy: %v", err)
	}
}

func TestBadBuilds(t *testing.T) {
	m := newMem()
	for name, tc := range map[string]struct {
		dir  func(t *testing.T) string
		want string
	}{
		"missing": {func(t *testing.T) string { return filepath.Join(t.TempDir(), "none") }, "no such file"},
		"empty":   {func(t *testing.T) string { return writeTree(t, map[string]string{"_headers": ""}) }, "is empty"},
		"manifest": {func(t *testing.T) string {
			return writeTree(t, map[string]string{"index.html": "x", ManifestKey: "{}"})
		}, "named as the deploy's manifest"},
		"link": {func(t *testing.T) string {
			dir := writeTree(t, map[string]string{"index.html": "x"})
			if err := os.Symlink("/etc/passwd", filepath.Join(dir, "passwd")); err != nil {
				t.Skip(err)
			}
			return dir
		}, "not a regular file"},
		"backslash": {func(t *testing.T) string { return writeTree(t, map[string]string{"a\\b.html": "x"}) }, "must not"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Deploy(context.Background(), tc.dir(t), m, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Deploy = %v, want an error with %q", err, tc.want)
			}
			if len(m.objects) != 0 {
				t.Errorf("a refused build wrote to the bucket: %v", m.takeOps())
			}
		})
	}
}

func TestProgress(t *testing.T) {
	var bar bytes.Buffer
	m := newMem()
	deploy(t, writeTree(t, site1), m, Options{Progress: &bar})
	if !strings.Contains(bar.String(), "\rdeploy [==============================] 8/8") || !strings.HasSuffix(bar.String(), "\n") {
		t.Errorf("the progress bar: %q", bar.String())
	}
}
