// Package deploy puts a built site in an S3-compatible bucket, uploading only what changed.
//
// What is in the bucket is known from two things: the bucket's listing (keys and ETags),
// which is the truth, and a manifest that the last complete deploy wrote, which says for
// each ETag it uploaded which content and headers it had. A file is skipped only when both
// agree with the build. So a deploy cut midway, an object removed by hand or a second
// deployer are all seen by the next run, which uploads what differs and finishes the job.
//
// Order matters to readers: the files that pages point at (pictures, style sheets) go
// first, then the pages and feeds, then what is gone is deleted, and the manifest last.
package deploy

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/parvis/parvis/internal/headers"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/parvis/parvis/internal/blob"
)

// ManifestKey is the object, under the target's prefix, that the last complete deploy wrote.
// It names no path (only hashes of them), since it is as public as the site.
const ManifestKey = ".parvis-manifest.json"

// HeadersFile is the build's file of response headers (generator.HeadersFile), which is
// applied to the objects rather than uploaded.
const HeadersFile = "_headers"

// Storable are the headers an object keeps, which the bucket sends back with it.
var Storable = []string{"Cache-Control", "Content-Disposition", "Content-Language", "Content-Type"}

// Target is the bucket under its prefix (internal/blob/s3's Store).
type Target interface {
	// Walk calls fn with each object's key and ETag.
	Walk(ctx context.Context, fn func(key, etag string) error) error
	// GetObject returns an object's data, or blob.ErrNotFound.
	GetObject(ctx context.Context, key string) ([]byte, http.Header, error)
	// PutObject stores data with the headers h names, and returns its ETag.
	PutObject(ctx context.Context, key string, data []byte, h http.Header) (string, error)
	// DeleteObject removes an object; a missing one is not an error.
	DeleteObject(ctx context.Context, key string) error
}

// Options tune a deploy. The zero value is fine.
type Options struct {
	// BasePath is the site's path under its host (parvis.yaml's baseURL path), which the
	// _headers file's paths start with.
	BasePath string
	// Concurrency is the number of requests at once; zero means 8.
	Concurrency int
	// DryRun computes what would change and changes nothing.
	DryRun bool
	// NoDelete keeps the objects the build no longer has.
	NoDelete bool
	// Log, when set, gets one line per upload and deletion.
	Log io.Writer
	// Progress, when set (a terminal), gets a progress bar.
	Progress io.Writer
	// Now is the clock of the manifest's date; nil means time.Now.
	Now func() time.Time
}

// Action is one change to the bucket.
type Action struct {
	Op     string // "upload" or "delete"
	Key    string
	Reason string // "new", "changed", or "gone"
	Size   int64
	Type   string // an upload's Content-Type
}

func (a Action) String() string {
	if a.Op == "delete" {
		return fmt.Sprintf("delete  %s  (%s)", a.Key, a.Reason)
	}
	return fmt.Sprintf("upload  %s  (%s, %s, %s)", a.Key, a.Reason, size(a.Size), a.Type)
}

// Report says what a deploy did, or would do with DryRun.
type Report struct {
	Files     int // in the build
	Uploaded  int
	Deleted   int
	Unchanged int
	Kept      int   // gone from the build but kept (NoDelete, or not known to be ours)
	Bytes     int64 // uploaded
	Actions   []Action
	// Warnings are things the bucket cannot do that the operator should know of: headers
	// of _headers it cannot keep, objects it does not know to be its own.
	Warnings []string
	Took     time.Duration
	DryRun   bool
}

func (r *Report) String() string {
	if r.DryRun {
		up, del := 0, 0
		for _, a := range r.Actions {
			if a.Op == "upload" {
				up++
			} else {
				del++
			}
		}
		return fmt.Sprintf("%d of %d files to upload (%s), %d to delete, %d unchanged", up, r.Files, size(r.Bytes), del, r.Unchanged)
	}
	s := fmt.Sprintf("%d of %d files uploaded (%s), %d deleted, %d unchanged", r.Uploaded, r.Files, size(r.Bytes), r.Deleted, r.Unchanged)
	if r.Kept > 0 {
		s += fmt.Sprintf(", %d kept", r.Kept)
	}
	return s + fmt.Sprintf(" in %s", r.Took.Round(time.Millisecond))
}

// file is one file of the build, as it should be in the bucket.
type file struct {
	key    string
	path   string // on disk
	size   int64
	header http.Header
	hash   string // of the normalized content and the headers
}

// manifest is the JSON kept under ManifestKey.
type manifest struct {
	Version  int                      `json:"version"`
	Deployed time.Time                `json:"deployed"`
	Files    map[string]manifestEntry `json:"files"` // by keyHash
	// Foreign are the objects (by keyHash) that were under the prefix, not in the build,
	// when the first deploy came: not the site's, so never deleted.
	Foreign []string `json:"foreign,omitempty"`
}

// same reports whether two manifests record the same objects.
func (m *manifest) same(o *manifest) bool {
	if len(m.Files) != len(o.Files) || !slices.Equal(m.Foreign, o.Foreign) {
		return false
	}
	for k, e := range m.Files {
		if o.Files[k] != e {
			return false
		}
	}
	return true
}

type manifestEntry struct {
	Hash string `json:"h"`
	ETag string `json:"e"`
}

const manifestVersion = 1

func keyHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:12])
}

// Deploy makes the bucket hold the build in dir.
func Deploy(ctx context.Context, dir string, t Target, o Options) (*Report, error) {
	start := time.Now()
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	rep := &Report{}
	files, warnings, err := scan(dir, o.BasePath)
	if err != nil {
		return nil, err
	}
	rep.Files, rep.Warnings = len(files), warnings

	listed := map[string]string{}
	var nested []string // folders where another deploy keeps its own site
	if err := t.Walk(ctx, func(key, etag string) error {
		switch {
		case key == ManifestKey:
		case strings.HasSuffix(key, "/"+ManifestKey):
			nested = append(nested, strings.TrimSuffix(key, ManifestKey))
		default:
			listed[key] = etag
		}
		return nil
	}); err != nil {
		return nil, err
	}
	// A site deployed under this one's prefix (a preview in www/preview/) is not this
	// one's to delete, nor to write over.
	for _, dir := range nested {
		for key := range listed {
			if strings.HasPrefix(key, dir) {
				delete(listed, key)
			}
		}
		for _, f := range files {
			if strings.HasPrefix(f.key, dir) {
				return nil, fmt.Errorf("the build has %s, under %s, where another deploy keeps its site (%s%s)", f.key, dir, dir, ManifestKey)
			}
		}
	}
	old, owned, err := readManifest(ctx, t)
	if err != nil {
		return nil, err
	}

	var uploads []*file
	next := &manifest{Version: manifestVersion, Files: make(map[string]manifestEntry, len(files))}
	inBuild := make(map[string]bool, len(files))
	for _, f := range files {
		inBuild[f.key] = true
		etag, there := listed[f.key]
		if e, ok := old.Files[keyHash(f.key)]; there && ok && e.ETag == etag && e.Hash == f.hash {
			next.Files[keyHash(f.key)] = e
			rep.Unchanged++
			continue
		}
		reason := "new"
		if there {
			reason = "changed"
		}
		uploads = append(uploads, f)
		rep.Actions = append(rep.Actions, Action{Op: "upload", Key: f.key, Reason: reason, Size: f.size, Type: f.header.Get("Content-Type")})
	}
	var deletes, foreign []string
	wasForeign := map[string]bool{}
	for _, k := range old.Foreign {
		wasForeign[k] = true
	}
	for key := range listed {
		switch {
		case inBuild[key]:
		case !owned || wasForeign[keyHash(key)]:
			foreign = append(foreign, key)
		default:
			deletes = append(deletes, key)
		}
	}
	sort.Strings(deletes)
	sort.Strings(foreign)
	for _, key := range foreign {
		next.Foreign = append(next.Foreign, keyHash(key))
	}
	slices.Sort(next.Foreign)
	rep.Kept = len(foreign)
	if !owned && len(foreign) > 0 {
		// No manifest: these objects were not put there by a deploy, and the prefix may
		// be shared with something else. They are recorded as not the site's and left.
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d objects not in the build were under the prefix before the first deploy; they are left in place, now and later (the first: %s)", len(foreign), foreign[0]))
	}
	if o.NoDelete {
		rep.Kept += len(deletes)
		deletes = nil
	}
	for _, key := range deletes {
		rep.Actions = append(rep.Actions, Action{Op: "delete", Key: key, Reason: "gone"})
	}
	if o.DryRun {
		for _, a := range rep.Actions {
			if a.Op == "upload" {
				rep.Bytes += a.Size
			}
		}
		rep.DryRun = true
		rep.Took = time.Since(start)
		return rep, nil
	}

	bar := newProgress(o.Progress, len(uploads)+len(deletes))
	defer bar.done()
	var logMu sync.Mutex
	logf := func(a Action) {
		bar.step()
		if o.Log != nil {
			logMu.Lock()
			fmt.Fprintln(o.Log, a)
			logMu.Unlock()
		}
	}

	// A first deploy claims the prefix before its first upload, so that a run cut midway
	// leaves the next one a manifest, and so the right to delete what it left.
	if !owned && len(uploads) > 0 {
		claim := &manifest{Version: manifestVersion, Deployed: o.Now().UTC(), Files: map[string]manifestEntry{}, Foreign: next.Foreign}
		if err := writeManifest(ctx, t, claim); err != nil {
			return rep, err
		}
	}

	var mu sync.Mutex
	var uploaded atomic.Int64
	for _, phase := range [2]bool{false, true} {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(o.Concurrency)
		for i, f := range uploads {
			if isDocument(f.key) != phase {
				continue
			}
			a := rep.Actions[i]
			g.Go(func() error {
				etag, err := upload(gctx, t, f)
				if err != nil {
					return err
				}
				mu.Lock()
				next.Files[keyHash(f.key)] = manifestEntry{Hash: f.hash, ETag: etag}
				rep.Uploaded++
				rep.Bytes += f.size
				mu.Unlock()
				uploaded.Add(1)
				logf(a)
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			rep.Took = time.Since(start)
			return rep, err
		}
	}

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Concurrency)
	for _, key := range deletes {
		g.Go(func() error {
			if err := t.DeleteObject(gctx, key); err != nil {
				return err
			}
			mu.Lock()
			rep.Deleted++
			mu.Unlock()
			logf(Action{Op: "delete", Key: key, Reason: "gone"})
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		rep.Took = time.Since(start)
		return rep, err
	}
	// The manifest goes last, and only when something changed: written at every deploy, it
	// would be one more object uploaded each time for nothing.
	if len(uploads) > 0 || len(deletes) > 0 || !owned || !next.same(old) {
		next.Deployed = o.Now().UTC()
		if err := writeManifest(ctx, t, next); err != nil {
			rep.Took = time.Since(start)
			return rep, err
		}
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// upload reads f again, checks it is what was planned, and puts it.
func upload(ctx context.Context, t Target, f *file) (string, error) {
	data, err := os.ReadFile(f.path)
	if err != nil {
		return "", err
	}
	if h := contentHash(f.key, data, f.header); h != f.hash {
		return "", fmt.Errorf("%s changed during the deploy: run it again once the build is done", f.path)
	}
	etag, err := t.PutObject(ctx, f.key, data, f.header)
	if err != nil {
		return "", err
	}
	if etag == "" {
		// A provider that sends no ETag back lists the MD5, as S3 does for one-part uploads.
		sum := md5.Sum(data)
		etag = hex.EncodeToString(sum[:])
	}
	return etag, nil
}

func readManifest(ctx context.Context, t Target) (m *manifest, owned bool, err error) {
	data, _, err := t.GetObject(ctx, ManifestKey)
	switch {
	case errors.Is(err, blob.ErrNotFound):
		return &manifest{}, false, nil
	case err != nil:
		return nil, false, err
	}
	m = &manifest{}
	if json.Unmarshal(data, m) != nil || m.Version != manifestVersion {
		// Damaged, or another version's: ours, but it vouches for nothing, so every
		// file is uploaded again.
		return &manifest{}, true, nil
	}
	return m, true, nil
}

func writeManifest(ctx context.Context, t Target, m *manifest) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = t.PutObject(ctx, ManifestKey, data, http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}})
	return err
}

// contentHash names a file's normalized content and its headers together, so that a
// change of headers alone (a document that became a download) is uploaded too.
func contentHash(key string, data []byte, h http.Header) string {
	s := sha256.New()
	s.Write(normalize(key, data))
	for _, name := range Storable {
		fmt.Fprintf(s, "\n%s: %s", name, h.Get(name))
	}
	return hex.EncodeToString(s.Sum(nil)[:16])
}

// scan reads the build: every regular file but _headers, with the headers it should be
// served with.
func scan(dir, basePath string) ([]*file, []string, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("the build: %w", err)
	}
	if !fi.IsDir() {
		return nil, nil, fmt.Errorf("the build %s is not a folder", dir)
	}
	var rules headers.Rules
	if b, err := os.ReadFile(filepath.Join(dir, HeadersFile)); err == nil {
		rules = headers.Parse(b)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	unstorable := map[string][]string{}
	var files []*file
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file (a link?): a build holds only files", p)
		}
		switch key {
		case HeadersFile:
			return nil
		case ManifestKey:
			return fmt.Errorf("%s: the build has a file named as the deploy's manifest", p)
		}
		if err := checkKey(key); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		h := http.Header{}
		h.Set("Content-Type", contentType(key, data[:min(len(data), 512)]))
		h.Set("Cache-Control", cacheControl(key))
		for _, hd := range rules.Match(sitePaths(basePath, key)...) {
			if slices.Contains(Storable, hd.Name) {
				h.Set(hd.Name, hd.Value)
			} else {
				unstorable[hd.Name] = append(unstorable[hd.Name], key)
			}
		}
		files = append(files, &file{key: key, path: p, size: int64(len(data)), header: h, hash: contentHash(key, data, h)})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("the build %s is empty: nothing to deploy", dir)
	}
	var warnings []string
	names := make([]string, 0, len(unstorable))
	for n := range unstorable {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		keys := unstorable[n]
		more := ""
		if len(keys) > 1 {
			more = fmt.Sprintf(" and %d more", len(keys)-1)
		}
		warnings = append(warnings, fmt.Sprintf("%s: the bucket cannot send the header %s (for %s%s): set it in the CDN in front", HeadersFile, n, keys[0], more))
	}
	return files, warnings, nil
}

// checkKey refuses what is not a clean relative path: a file name with a backslash or a
// control character is a mistake in the build, and some providers would mangle it.
func checkKey(key string) error {
	if len(key) > 900 {
		return fmt.Errorf("the path is longer than an object key may be")
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return fmt.Errorf("the path has a character an object key must not: %q", r)
		}
	}
	return nil
}

func size(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000_000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

// progress draws a one-line bar on a terminal, at most ten times a second.
type progress struct {
	w     io.Writer
	total int
	mu    sync.Mutex
	n     int
	last  time.Time
}

func newProgress(w io.Writer, total int) *progress {
	if w == nil || total == 0 {
		return &progress{}
	}
	p := &progress{w: w, total: total}
	p.draw()
	return p
}

func (p *progress) step() {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if time.Since(p.last) > 100*time.Millisecond || p.n == p.total {
		p.draw()
	}
}

func (p *progress) draw() {
	const width = 30
	fill := width * p.n / p.total
	fmt.Fprintf(p.w, "\rdeploy [%s%s] %d/%d", strings.Repeat("=", fill), strings.Repeat(" ", width-fill), p.n, p.total)
	p.last = time.Now()
}

func (p *progress) done() {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w)
}
