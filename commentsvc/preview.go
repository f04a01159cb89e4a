package commentsvc

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"path"

	"github.com/parvis/parvis/internal/forge"
	"github.com/parvis/parvis/internal/markdown"
	"github.com/parvis/parvis/internal/site"
)

// renderPreview renders a file of a change as the site will publish it: a page's title,
// summary and body, or a comment's author and text. The body goes through the renderer the
// generator picks for it (markdown.Renderers.Page: a citizen's page is rendered as a
// citizen's text whatever markdown.unsafe says), with the site's settings, so the HTML is
// the very HTML of the published page. The pages show it in a sandboxed frame
// (handlePreview), where even a fault of the sanitizer could run nothing.
func (s *Service) renderPreview(buf *bytes.Buffer, f forge.File) error {
	md := s.md()
	lang := s.cfg.Markdown.Typography
	switch path.Ext(f.Path) {
	case ".md":
		fm, body, _, err := site.ParseFrontMatter(f.Data)
		if err != nil {
			return err
		}
		str := func(key string) string { v, _ := fm.Values[key].(string); return v }
		buf.WriteString(`<article class="page">`)
		if t := str("title"); t != "" {
			buf.WriteString("<h1>")
			template.HTMLEscape(buf, []byte(markdown.Typography(t, lang)))
			buf.WriteString("</h1>\n")
		}
		if sum := str("summary"); sum != "" {
			buf.WriteString(`<p class="summary">`)
			template.HTMLEscape(buf, []byte(markdown.Typography(sum, lang)))
			buf.WriteString("</p>\n")
		}
		buf.WriteString(`<div class="body">`)
		if _, err := md.Page(str("submitted")).Render(buf, body); err != nil {
			return err
		}
		buf.WriteString("</div></article>\n")
	default:
		c, err := site.ParseComment(f.Path, f.Data, s.cfg.Location)
		if err != nil {
			return err
		}
		buf.WriteString(`<article class="comment"><p class="author">`)
		template.HTMLEscape(buf, []byte(c.Name))
		buf.WriteString(`</p><div class="body">`)
		if _, err := md.Comment.Render(buf, []byte(c.Body)); err != nil {
			return err
		}
		buf.WriteString("</div></article>\n")
	}
	return nil
}

// previewCSP is the preview frame's own policy: no script, no request of any kind but its
// inline style, no form, no navigation of its parent, and a unique origin (sandbox), so that
// what a citizen wrote cannot act on the moderation pages even if it escaped the sanitizer.
const previewCSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox; form-action 'none'; base-uri 'none'; frame-ancestors 'self'"

// previewStyle sets the text as a page of the site reads: a column of text, the theme's
// sizes, headings, lists, quotes and tables.
const previewStyle = `body{font:1rem/1.6 system-ui,sans-serif;color:#1e1e1e;margin:1rem;max-width:46rem}
h1{font-size:1.75rem;line-height:1.25;margin:0 0 .75rem}h2{font-size:1.4rem}h3{font-size:1.2rem}
.summary{font-size:1.1rem;color:#3a3a3a}.author{font-weight:bold;margin:0}
blockquote{border-left:4px solid #ccc;margin-left:0;padding-left:1rem}
pre{background:#f4f4f4;padding:.75rem;overflow:auto}table{border-collapse:collapse}
th,td{border:1px solid #ccc;padding:.25rem .5rem}a{color:#000091}
article+article{border-top:1px solid #ccc;margin-top:1.5rem;padding-top:1rem}`

var previewPage = template.Must(template.New("preview").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>{{.Style}}</style></head><body>{{.Preview}}</body></html>
`))

// handlePreview serves the preview of a pending submission, alone, for the frame of its page:
// GET /admin/submissions/{id}/preview.
func (a *admin) handlePreview(w http.ResponseWriter, r *http.Request, sess *session) {
	if !flashID.MatchString(r.PathValue("id")) {
		a.errorPage(w, http.StatusNotFound, sess, adminMsg(a.lang, "not_found_title"), adminMsg(a.lang, "not_found_sub"))
		return
	}
	sub, err := a.s.Get(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, ErrNotFound):
		a.errorPage(w, http.StatusNotFound, sess, adminMsg(a.lang, "not_found_title"), adminMsg(a.lang, "not_found_sub"))
		return
	case err != nil:
		a.unavailable(w, sess, "reading a submission", err)
		return
	}
	var buf bytes.Buffer
	err = previewPage.Execute(&buf, map[string]any{
		"Lang": a.lang, "Title": adminMsg(a.lang, "preview"), "Style": template.CSS(previewStyle), "Preview": sub.Preview,
	})
	if err != nil {
		a.s.log.Error("rendering a preview", "err", err)
		http.Error(w, adminMsg(a.lang, "unavailable"), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", previewCSP)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}
