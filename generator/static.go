package generator

import (
	"bytes"
	"io/fs"
	"strings"
)

// staticJobs copies the theme's static files (with their fingerprints) and the site's
// static/ folder, which wins over the theme for the same path.
func (b *build) staticJobs() []job {
	own := map[string]bool{}
	for _, p := range b.site.Static {
		own[strings.TrimPrefix(p, "static/")] = true
	}
	var jobs []job
	for _, f := range b.th.static {
		if own[f.name] {
			continue
		}
		f := f
		jobs = append(jobs, func(*bytes.Buffer) error { return b.write(f.name, f.data) })
	}
	for _, p := range b.site.Static {
		p := p
		if p == "static/"+HeadersFile {
			continue // written with the generator's own (headersJob)
		}
		jobs = append(jobs, func(*bytes.Buffer) error {
			data, err := fs.ReadFile(b.g.src, p)
			if err != nil {
				return err
			}
			return b.write(strings.TrimPrefix(p, "static/"), data)
		})
	}
	return jobs
}
