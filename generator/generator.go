// Package generator builds a Parvis content repository into a static site.
//
// It is a small facade in the spirit of goldmark: New takes options and returns a Generator
// whose Build reads the site, renders every page in parallel with the theme's html/template
// layouts, and writes the output (a folder, or memory). The same input gives byte-identical
// output: nothing depends on map order or on the clock other than the build's Now.
package generator

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/parvis/parvis/internal/site"
)

// Generator builds one site.
type Generator struct {
	src      fs.FS
	out      Output
	drafts   bool
	future   bool
	now      time.Time
	progress io.Writer
	workers  int
	theme    fs.FS
	cache    string
	baseURL  string // replaces parvis.yaml's, when set
	sealer   Sealer // seals shared dossiers (share.go); nil leaves them out
}

// Option configures a Generator.
type Option func(*Generator)

// WithSource reads the site from fsys, whose root holds parvis.yaml.
func WithSource(fsys fs.FS) Option { return func(g *Generator) { g.src = fsys } }

// WithSiteDir reads the site from a folder.
func WithSiteDir(dir string) Option { return func(g *Generator) { g.src = dirFS{os.DirFS(dir), dir} } }

// dirFS is os.DirFS with a quicker ReadFile (see readFile).
type dirFS struct {
	fs.FS
	root string
}

func (d dirFS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: fs.ErrInvalid}
	}
	return readFile(filepath.Join(d.root, filepath.FromSlash(name)))
}

// WithOutput sets where files are written; see DirOutput and MemoryOutput.
func WithOutput(o Output) Option { return func(g *Generator) { g.out = o } }

// WithDrafts publishes draft pages.
func WithDrafts(on bool) Option { return func(g *Generator) { g.drafts = on } }

// WithFuture publishes pages dated after the build's clock.
func WithFuture(on bool) Option { return func(g *Generator) { g.future = on } }

// WithNow sets the build's clock, which decides future pages and upcoming events.
func WithNow(t time.Time) Option { return func(g *Generator) { g.now = t } }

// WithProgress writes a progress line to w while a long build runs (a terminal, typically).
func WithProgress(w io.Writer) Option { return func(g *Generator) { g.progress = w } }

// WithWorkers sets how many pages render at once; the default is GOMAXPROCS.
func WithWorkers(n int) Option { return func(g *Generator) { g.workers = n } }

// WithTheme replaces the embedded default theme (layouts/, static/, i18n/ at its root).
func WithTheme(fsys fs.FS) Option { return func(g *Generator) { g.theme = fsys } }

// WithCacheDir keeps work that does not change between builds (resized images) in dir,
// so that rebuilding a site after each approval stays quick.
func WithCacheDir(dir string) Option { return func(g *Generator) { g.cache = dir } }

// WithBaseURL builds the site for another address than parvis.yaml's baseURL: parvis serve
// serves a site made for localhost at the address it listens on, as hugo server does.
func WithBaseURL(u string) Option { return func(g *Generator) { g.baseURL = u } }

// New returns a Generator. Without options it builds the current folder into memory.
func New(opts ...Option) *Generator {
	g := &Generator{workers: runtime.GOMAXPROCS(0)}
	for _, o := range opts {
		o(g)
	}
	if g.src == nil {
		g.src = os.DirFS(".")
	}
	if g.out == nil {
		g.out = NewMemoryOutput()
	}
	if g.now.IsZero() {
		g.now = time.Now()
	}
	if g.workers < 1 {
		g.workers = 1
	}
	return g
}

// Result sums up a build.
type Result struct {
	Pages    int // content pages rendered
	Files    int // files written, all kinds
	Bytes    int64
	Duration time.Duration
	// Site is the site as loaded, its pages and comments, for the service's checks. Its
	// pages' Body is nil: each is dropped once rendered, to keep a large build's memory low.
	Site *site.Site
}

func (r *Result) String() string {
	return fmt.Sprintf("%d pages, %d files (%.1f MB) in %s", r.Pages, r.Files, float64(r.Bytes)/1e6, r.Duration.Round(time.Millisecond))
}

// Build reads the site and writes it out. Content faults come back as a site.ErrorList,
// one per file and line, and nothing is written when there is one.
func (g *Generator) Build(ctx context.Context) (*Result, error) {
	start := time.Now()
	b, err := newBuild(g)
	if err != nil {
		return nil, (&build{g: g}).abort(err)
	}
	if err := b.run(ctx); err != nil {
		return nil, err
	}
	files, bytes := g.out.Stats()
	return &Result{Pages: len(b.site.Pages), Files: files, Bytes: bytes, Duration: time.Since(start), Site: b.site}, nil
}
