package site

import (
	"fmt"
	"io/fs"
	"mime"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// Site is a loaded content repository: its configuration, its published pages and comments.
type Site struct {
	Config   *Config
	Pages    []*Page               // the published pages, by Path
	Sections map[string]*Page      // optional section intros (articles/_index.md), "" for the home page's
	Comments map[string][]*Comment // threads by page Ref, top-level comments oldest first
	Static   []string              // files under static/, content paths
	Shared   []*Page               // shared dossiers and their pages: not published in the clear
	Layouts  fs.FS                 // the site's layouts/ folder, nil when it has none

	byRef map[string]*Page
}

// Options tunes what Load publishes.
type Options struct {
	Drafts bool      // publish drafts
	Future bool      // publish pages dated after Now
	Now    time.Time // the build's clock; zero means time.Now()
	// Reserved site paths that pages must not take, with what owns them (list pages, feeds).
	Reserved map[string]string
	// BaseURL, when set, replaces parvis.yaml's (Config.SetBaseURL).
	BaseURL string
}

// Page returns the published page with the given Ref, or nil.
func (s *Site) Page(ref string) *Page { return s.byRef[ref] }

type source struct {
	file, ref string
	bundle    []string // other files of a bundle
	kind      string   // page, section, comment
}

// Load reads a site from fsys, whose root holds parvis.yaml. Every fault found is returned in
// an ErrorList; the site is only returned when there is none.
func Load(fsys fs.FS, opts Options) (*Site, error) {
	cfg, err := LoadConfig(fsys)
	if err != nil {
		return nil, err
	}
	if opts.BaseURL != "" {
		if err := cfg.SetBaseURL(opts.BaseURL); err != nil {
			return nil, err
		}
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	s := &Site{Config: cfg, Sections: map[string]*Page{}, Comments: map[string][]*Comment{}, byRef: map[string]*Page{}}
	var errs ErrorList

	srcs, static, werrs := scan(fsys)
	errs = append(errs, werrs...)
	s.Static = static
	if fi, err := fs.Stat(fsys, "layouts"); err == nil && fi.IsDir() {
		s.Layouts, _ = fs.Sub(fsys, "layouts")
	}

	// Parse in parallel; results keep the order of srcs so that the build is deterministic.
	type result struct {
		page    *Page
		comment *Comment
		errs    ErrorList
	}
	results := make([]result, len(srcs))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				src := srcs[i]
				data, err := fs.ReadFile(fsys, src.file)
				if err != nil {
					results[i].errs = ErrorList{errorf(src.file, 0, "%v", err)}
					continue
				}
				switch src.kind {
				case "comment":
					c, err := ParseComment(src.file, data, cfg.Location)
					if err != nil {
						results[i].errs = AsList(err)
						continue
					}
					c.Page = src.ref
					results[i].comment = c
				default:
					p, perrs := newPage(src.file, src.ref, data, cfg)
					if p != nil && len(perrs) == 0 {
						perrs = append(perrs, addResources(fsys, p, src.bundle)...)
					}
					results[i] = result{page: p, errs: perrs}
				}
			}
		}()
	}
	for i := range srcs {
		next <- i
	}
	close(next)
	wg.Wait()

	all := map[string]*Page{} // every page, published or not, for references
	var pages []*Page
	var comments []*Comment
	for i, r := range results {
		errs = append(errs, r.errs...)
		switch {
		case r.comment != nil:
			comments = append(comments, r.comment)
		case r.page != nil && len(r.errs) == 0:
			if srcs[i].kind == "section" {
				s.Sections[r.page.Section] = r.page
				continue
			}
			if prev, dup := all[r.page.Ref]; dup {
				errs = append(errs, errorf(r.page.Path, 0, "the page %s is also written as %s", r.page.Ref, prev.Path))
				continue
			}
			all[r.page.Ref] = r.page
			pages = append(pages, r.page)
		}
	}

	// Decide what is published.
	hidden := map[string]bool{}
	for _, p := range pages {
		if p.Dossier != nil && p.Dossier.Shared() {
			hidden[p.Ref] = true
		}
	}
	for _, p := range pages {
		switch {
		case hidden[p.Ref] || hidden[p.InDossier]:
			s.Shared = append(s.Shared, p)
		case p.Draft && !opts.Drafts:
		case p.Kind != KindEvent && p.Date.After(opts.Now) && !opts.Future:
		default:
			s.Pages = append(s.Pages, p)
			s.byRef[p.Ref] = p
		}
	}

	errs = append(errs, s.checkOutputs(opts.Reserved)...)
	errs = append(errs, s.resolveDossiers(all)...)

	// Thread comments per page.
	byPage := map[string][]*Comment{}
	var pageOrder []string
	for _, c := range comments {
		if all[c.Page] == nil {
			errs = append(errs, errorf(c.Path, 0, "no page %s for this comment (comments/<page path>/<id>.yaml)", c.Page))
			continue
		}
		if byPage[c.Page] == nil {
			pageOrder = append(pageOrder, c.Page)
		}
		byPage[c.Page] = append(byPage[c.Page], c)
	}
	sharedRefs := map[string]bool{}
	for _, p := range s.Shared {
		sharedRefs[p.Ref] = true
	}
	for _, ref := range pageOrder {
		top, terrs := thread(byPage[ref])
		errs = append(errs, terrs...)
		// A shared page's comments are kept too, for the build to seal with it; lists and
		// feeds walk the published pages only, so they never show them.
		if s.byRef[ref] != nil || sharedRefs[ref] {
			s.Comments[ref] = top
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// scan walks the content folders and lists what to parse.
func scan(fsys fs.FS) (srcs []source, static []string, errs ErrorList) {
	ignored := func(name string) bool {
		return (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || strings.HasSuffix(name, "~")) && name != "_index.md"
	}
	// The root's own _index.md is the home page's intro.
	if _, err := fs.Stat(fsys, "_index.md"); err == nil {
		srcs = append(srcs, source{file: "_index.md", ref: "", kind: "section"})
	}
	sections := make([]string, 0, len(Sections))
	for s := range Sections {
		sections = append(sections, s)
	}
	sort.Strings(sections)
	for _, sec := range sections {
		if _, err := fs.Stat(fsys, sec); err != nil {
			continue
		}
		err := fs.WalkDir(fsys, sec, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, errorf(p, 0, "%v", err))
				return nil
			}
			name := d.Name()
			if p != sec && ignored(name) {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if !d.IsDir() {
				if strings.HasSuffix(name, ".md") {
					if name == "_index.md" && path.Dir(p) == sec {
						srcs = append(srcs, source{file: p, ref: sec, kind: "section"})
						return nil
					}
					srcs = append(srcs, source{file: p, ref: strings.TrimSuffix(p, ".md"), kind: "page"})
				}
				return nil
			}
			if p == sec {
				return nil
			}
			// A folder with index.md is a leaf bundle: its other files are resources.
			entries, err := fs.ReadDir(fsys, p)
			if err != nil {
				errs = append(errs, errorf(p, 0, "%v", err))
				return fs.SkipDir
			}
			index := ""
			for _, e := range entries {
				if e.Name() == "index.md" {
					index = "index.md"
				} else if e.Name() == "_index.md" {
					index = "_index.md"
				}
			}
			if index == "_index.md" && sec == "dossiers" && path.Dir(p) == sec {
				// A dossier: a branch bundle whose .md files are its pages.
				var files []string
				for _, e := range entries {
					if !e.IsDir() && !ignored(e.Name()) && !strings.HasSuffix(e.Name(), ".md") {
						files = append(files, path.Join(p, e.Name()))
					}
				}
				srcs = append(srcs, source{file: path.Join(p, index), ref: p, kind: "page", bundle: files})
				return walkPages(fsys, p, entries, &srcs, &errs, ignored)
			}
			if index != "index.md" {
				if index == "_index.md" {
					errs = append(errs, errorf(path.Join(p, index), 0, "_index.md is for a dossier or a section; a page bundle uses index.md"))
				}
				return nil // a plain folder: keep walking
			}
			var files []string
			err = fs.WalkDir(fsys, p, func(q string, d fs.DirEntry, err error) error {
				if err != nil || q == p {
					return err
				}
				if ignored(d.Name()) {
					if d.IsDir() {
						return fs.SkipDir
					}
					return nil
				}
				if !d.IsDir() && q != path.Join(p, "index.md") {
					files = append(files, q)
				}
				return nil
			})
			if err != nil {
				errs = append(errs, errorf(p, 0, "%v", err))
			}
			srcs = append(srcs, source{file: path.Join(p, "index.md"), ref: p, kind: "page", bundle: files})
			return fs.SkipDir
		})
		if err != nil {
			errs = append(errs, errorf(sec, 0, "%v", err))
		}
	}
	if _, err := fs.Stat(fsys, "comments"); err == nil {
		cs, cerrs := scanComments(fsys, ignored)
		srcs = append(srcs, cs...)
		errs = append(errs, cerrs...)
	}
	if _, err := fs.Stat(fsys, "static"); err == nil {
		_ = fs.WalkDir(fsys, "static", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && !ignored(d.Name()) {
				static = append(static, p)
			}
			return nil
		})
	}
	return srcs, static, errs
}

// scanComments lists comments/, one folder per page. A large site has as many folders as
// pages, and reading a folder waits on the file system, so they are read several at a
// time; the list is then sorted, so that the result does not depend on that order.
func scanComments(fsys fs.FS, ignored func(string) bool) ([]source, ErrorList) {
	var (
		mu   sync.Mutex
		srcs []source
		errs ErrorList
		wg   sync.WaitGroup
	)
	sem := make(chan struct{}, 8)
	var visit func(dir string)
	visit = func(dir string) {
		defer wg.Done()
		sem <- struct{}{}
		entries, err := fs.ReadDir(fsys, dir)
		<-sem
		var local []source
		var lerrs ErrorList
		if err != nil {
			lerrs = append(lerrs, errorf(dir, 0, "%v", err))
		}
		for _, e := range entries {
			name := e.Name()
			if ignored(name) {
				continue
			}
			p := path.Join(dir, name)
			if e.IsDir() {
				wg.Add(1)
				go visit(p)
				continue
			}
			switch path.Ext(name) {
			case ".yaml", ".yml":
				local = append(local, source{file: p, ref: strings.TrimPrefix(dir, "comments/"), kind: "comment"})
			default:
				lerrs = append(lerrs, errorf(p, 0, "a comment is a .yaml file"))
			}
		}
		mu.Lock()
		srcs = append(srcs, local...)
		errs = append(errs, lerrs...)
		mu.Unlock()
	}
	wg.Add(1)
	visit("comments")
	wg.Wait()
	sort.Slice(srcs, func(i, j int) bool { return srcs[i].file < srcs[j].file })
	return srcs, errs
}

// walkPages lists the pages inside a dossier's folder.
func walkPages(fsys fs.FS, dir string, entries []fs.DirEntry, srcs *[]source, errs *ErrorList, ignored func(string) bool) error {
	for _, e := range entries {
		name := e.Name()
		if ignored(name) || name == "_index.md" {
			continue
		}
		p := path.Join(dir, name)
		if !e.IsDir() {
			if strings.HasSuffix(name, ".md") {
				*srcs = append(*srcs, source{file: p, ref: strings.TrimSuffix(p, ".md"), kind: "page"})
			}
			continue
		}
		if _, err := fs.Stat(fsys, path.Join(p, "index.md")); err != nil {
			*errs = append(*errs, errorf(p, 0, "a folder in a dossier is a page bundle and needs an index.md"))
			continue
		}
		var files []string
		_ = fs.WalkDir(fsys, p, func(q string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && q != path.Join(p, "index.md") && !ignored(d.Name()) {
				files = append(files, q)
			}
			return nil
		})
		*srcs = append(*srcs, source{file: path.Join(p, "index.md"), ref: p, kind: "page", bundle: files})
	}
	return fs.SkipDir
}

// mediaTypes completes the system's table, which may lack office formats.
var mediaTypes = map[string]string{
	".pdf": "application/pdf", ".odt": "application/vnd.oasis.opendocument.text",
	".ods": "application/vnd.oasis.opendocument.spreadsheet", ".odp": "application/vnd.oasis.opendocument.presentation",
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
	".webp": "image/webp", ".svg": "image/svg+xml", ".csv": "text/csv", ".txt": "text/plain",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".zip":  "application/zip", ".mp3": "audio/mpeg", ".mp4": "video/mp4",
}

// MediaType returns the media type for a file name.
func MediaType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := mediaTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		t, _, _ = strings.Cut(t, ";")
		return t
	}
	return "application/octet-stream"
}

func addResources(fsys fs.FS, p *Page, files []string) ErrorList {
	var errs ErrorList
	for _, f := range files {
		fi, err := fs.Stat(fsys, f)
		if err != nil {
			errs = append(errs, errorf(f, 0, "%v", err))
			continue
		}
		p.Resources = append(p.Resources, &Resource{
			Name:      strings.TrimPrefix(f, p.Bundle+"/"),
			Path:      f,
			Size:      fi.Size(),
			MediaType: MediaType(f),
		})
	}
	fm := &fields{fm: &FrontMatter{Lines: map[string]int{}}, file: p.Path}
	switch p.Kind {
	case KindDocument:
		p.Document.Files = documentFiles(p, fm)
		if len(p.Document.Files) == 0 {
			errs = append(errs, errorf(p.Path, 0, "a document needs at least one file beside its index.md"))
		}
	case KindPhoto:
		var images []*Resource
		for _, r := range p.Resources {
			switch r.MediaType {
			case "image/jpeg", "image/png", "image/gif":
				images = append(images, r)
			}
		}
		if len(images) != 1 {
			errs = append(errs, errorf(p.Path, 0, "a photo bundle needs exactly one JPEG, PNG or GIF image beside its index.md, found %d", len(images)))
		} else {
			p.Photo.Image = images[0]
		}
	}
	if p.Image != "" && !strings.HasPrefix(p.Image, "/") && !strings.Contains(p.Image, "://") {
		found := false
		for _, r := range p.Resources {
			found = found || r.Name == p.Image
		}
		if !found {
			errs = append(errs, errorf(p.Path, 0, "image: no file %q in the page's bundle", p.Image))
		}
	}
	return append(errs, fm.errs...)
}

// documentFiles orders a document's files as its files key says, then the rest by name.
func documentFiles(p *Page, f *fields) []*Resource {
	byName := map[string]*Resource{}
	for _, r := range p.Resources {
		byName[r.Name] = r
	}
	var out []*Resource
	used := map[string]bool{}
	if list, ok := p.Params["files"].([]any); ok {
		for _, e := range list {
			m, _ := e.(map[string]any)
			name, _ := m["name"].(string)
			r := byName[name]
			if r == nil {
				f.errs = append(f.errs, errorf(p.Path, 0, "files: no file %q beside index.md", name))
				continue
			}
			r.Title, _ = m["title"].(string)
			out = append(out, r)
			used[name] = true
		}
	}
	delete(p.Params, "files")
	for _, r := range p.Resources {
		if !used[r.Name] {
			out = append(out, r)
		}
	}
	return out
}

// checkOutputs finds site paths that two things would write.
func (s *Site) checkOutputs(reserved map[string]string) ErrorList {
	var errs ErrorList
	owner := map[string]string{}
	for u, what := range reserved {
		owner[u] = what
	}
	claim := func(u string, p *Page, what string) {
		if prev, ok := owner[u]; ok {
			errs = append(errs, errorf(p.Path, 0, "duplicate output path %s: %s, and %s", u, what, prev))
			return
		}
		owner[u] = what + " " + p.Path
	}
	for _, p := range s.Pages {
		claim(p.URL, p, "the page")
	}
	for _, p := range s.Pages {
		for _, a := range p.Aliases {
			claim(a, p, "an alias of")
		}
	}
	return errs
}

// resolveDossiers links each dossier to its items: its references, then its folder's pages.
func (s *Site) resolveDossiers(all map[string]*Page) ErrorList {
	var errs ErrorList
	for _, d := range append(append([]*Page{}, s.Pages...), s.Shared...) {
		if d.Dossier == nil {
			continue
		}
		seen := map[string]bool{}
		for _, ref := range d.Dossier.ItemRefs {
			p := all[ref]
			if p == nil {
				errs = append(errs, errorf(d.Path, 0, "items: unknown reference %q (a content path such as articles/my-article)", ref))
				continue
			}
			if p.Dossier != nil {
				errs = append(errs, errorf(d.Path, 0, "items: %q is a dossier; a dossier gathers pages, events and documents", ref))
				continue
			}
			if s.byRef[ref] == nil && !d.Dossier.Shared() {
				continue // a draft or future page: listed once it is published
			}
			if !seen[ref] {
				d.Dossier.Items = append(d.Dossier.Items, p)
				seen[ref] = true
			}
		}
		var own []*Page
		for _, p := range all {
			if p.InDossier == d.Ref && !seen[p.Ref] && (s.byRef[p.Ref] != nil || d.Dossier.Shared()) {
				own = append(own, p)
			}
		}
		sort.SliceStable(own, func(i, j int) bool {
			if own[i].Weight != own[j].Weight {
				return own[i].Weight < own[j].Weight
			}
			if !own[i].Date.Equal(own[j].Date) {
				return own[i].Date.Before(own[j].Date)
			}
			return own[i].Path < own[j].Path
		})
		d.Dossier.Items = append(d.Dossier.Items, own...)
	}
	return errs
}

// ByDate returns the pages of the given kinds, newest first.
func (s *Site) ByDate(kinds ...Kind) []*Page {
	var out []*Page
	for _, p := range s.Pages {
		for _, k := range kinds {
			if p.Kind == k {
				out = append(out, p)
				break
			}
		}
	}
	byDate(out)
	return out
}

// String describes the site for logs.
func (s *Site) String() string {
	return fmt.Sprintf("%s: %d pages, %d commented pages", s.Config.Title, len(s.Pages), len(s.Comments))
}
