package generator

import (
	"bytes"
	"io/fs"
	"slices"
	"strings"
)

// HeadersFile is the file, at the root of the output, that names the response headers some
// files need, in the format Netlify and Cloudflare Pages read (a path, then indented
// "Name: value" lines). parvis serve applies it too, and a deploy can set the same headers
// on the objects it uploads.
const HeadersFile = "_headers"

// headersJob writes HeadersFile: every file a citizen sent with a page (a document, and
// anything in its bundle but the pictures Parvis re-encoded) is served as a download, never
// shown in the site's origin, so that active content a check missed in a PDF cannot run
// there. The site's own static/_headers comes first, as written.
func (b *build) headersJob() job {
	return func(buf *bytes.Buffer) error {
		buf.Reset()
		if slices.Contains(b.site.Static, "static/"+HeadersFile) {
			own, err := fs.ReadFile(b.g.src, "static/"+HeadersFile)
			if err != nil {
				return err
			}
			buf.Write(own)
			if len(own) > 0 && own[len(own)-1] != '\n' {
				buf.WriteByte('\n')
			}
		}
		var paths []string
		for _, p := range b.site.Pages {
			if p.Submitted == "" {
				continue
			}
			for _, r := range p.Resources {
				if !strings.HasPrefix(r.MediaType, "image/") || r.MediaType == "image/svg+xml" {
					paths = append(paths, b.site.Config.RelURL(p.URL+r.Name))
				}
			}
		}
		if len(paths) == 0 && buf.Len() == 0 {
			return nil
		}
		slices.Sort(paths)
		for _, p := range paths {
			buf.WriteString(p)
			buf.WriteString("\n  Content-Disposition: attachment\n  Content-Security-Policy: sandbox\n  X-Content-Type-Options: nosniff\n")
		}
		return b.write(HeadersFile, buf.Bytes())
	}
}
