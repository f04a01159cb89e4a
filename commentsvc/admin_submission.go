package commentsvc

import (
	"errors"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/parvis/parvis/internal/doccheck"
	"github.com/parvis/parvis/internal/forge"
	"github.com/parvis/parvis/internal/store"
)

// diffLine is a line of a unified diff and its kind, for styling: add, del, hunk, meta.
type diffLine struct {
	Class, Text string
}

func diffLines(d string) []diffLine {
	d = strings.TrimRight(d, "\n")
	if d == "" {
		return nil
	}
	var out []diffLine
	for _, l := range strings.Split(d, "\n") {
		class := ""
		switch {
		case strings.HasPrefix(l, "+++ "), strings.HasPrefix(l, "--- "), strings.HasPrefix(l, "diff "),
			strings.HasPrefix(l, "index "), strings.HasPrefix(l, "new file"), strings.HasPrefix(l, "deleted file"):
			class = "meta"
		case strings.HasPrefix(l, "@@"):
			class = "hunk"
		case strings.HasPrefix(l, "+"):
			class = "add"
		case strings.HasPrefix(l, "-"):
			class = "del"
		}
		out = append(out, diffLine{Class: class, Text: l})
	}
	return out
}

// submissionView is a submission's page.
type submissionView struct {
	adminPage
	Sub       *Submission
	Heading   string // the submission's title as people read it (recordTitle)
	Pending   bool
	FormTitle string
	PageTitle string
	PageURL   string
	PageFound bool
	Diff      []diffLine

	// What the moderator decides on (admin_contribution.go).
	Photos    []photoView
	Documents []documentView
	Fields    []fieldValue

	Reasons     []string
	Reason      string
	Details     string
	ReasonError string
	Error       string
}

func (a *admin) submissionView(sess *session, sub *Submission) *submissionView {
	title := a.recordTitle(sub.Record)
	v := &submissionView{
		adminPage: a.pageFor(adminMsg(a.lang, "submission_title", title), sess),
		Sub:       sub, Pending: sub.Status == store.Pending,
		FormTitle: a.formTitle(sub.Form), Reasons: a.reasons, Diff: diffLines(sub.Diff),
	}
	v.Heading = title
	v.PageTitle, v.PageURL, v.PageFound = pageInfo(a.s.Site(), sub.Record.Page)
	if v.Pending {
		a.contribution(v, sub)
	}
	return v
}

// loadSubmission reads a submission for its page, answering the request itself when it
// cannot.
func (a *admin) loadSubmission(w http.ResponseWriter, r *http.Request, sess *session) *Submission {
	sub, err := a.s.Get(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, ErrNotFound):
		a.errorPage(w, http.StatusNotFound, sess, adminMsg(a.lang, "not_found_title"), adminMsg(a.lang, "not_found_sub"))
		return nil
	case err != nil:
		a.unavailable(w, sess, "reading a submission", err)
		return nil
	}
	return sub
}

// handleSubmission shows one submission: GET /admin/submissions/{id}.
func (a *admin) handleSubmission(w http.ResponseWriter, r *http.Request, sess *session) {
	sub := a.loadSubmission(w, r, sess)
	if sub == nil {
		return
	}
	v := a.submissionView(sess, sub)
	v.Flash = a.takeFlash(w, r, sess)
	a.render(w, http.StatusOK, "submission.html", v)
}

// afterDecision redirects to the queue when the decision was made, and back to the
// submission, which shows why, when it was not.
func (a *admin) afterDecision(w http.ResponseWriter, r *http.Request, sess *session, res flashResult) {
	a.setFlash(w, r, sess, []flashResult{res})
	to := a.root
	if res.Result != "approved" && res.Result != "rejected" && res.Result != "not_found" {
		to = a.root + "submissions/" + res.ID
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// handleApprove approves one submission: POST /admin/submissions/{id}/approve.
func (a *admin) handleApprove(w http.ResponseWriter, r *http.Request, sess *session) {
	id := r.PathValue("id")
	if !flashID.MatchString(id) {
		a.errorPage(w, http.StatusNotFound, sess, adminMsg(a.lang, "not_found_title"), adminMsg(a.lang, "not_found_sub"))
		return
	}
	ctx, cancel := decisionContext(r)
	defer cancel()
	a.afterDecision(w, r, sess, a.decide(ctx, id, "approve", sess.User, ""))
}

// handleReject rejects one submission with a reason: POST /admin/submissions/{id}/reject.
// Without a usable reason, the page comes back with the fault on the field.
func (a *admin) handleReject(w http.ResponseWriter, r *http.Request, sess *session) {
	id := r.PathValue("id")
	if !flashID.MatchString(id) {
		a.errorPage(w, http.StatusNotFound, sess, adminMsg(a.lang, "not_found_title"), adminMsg(a.lang, "not_found_sub"))
		return
	}
	reason := composeReason(r.PostForm.Get("reason"), r.PostForm.Get("details"))
	if msg := a.reasonError(reason); msg != "" {
		sub := a.loadSubmission(w, r, sess)
		if sub == nil {
			return
		}
		v := a.submissionView(sess, sub)
		v.Reason, v.Details = r.PostForm.Get("reason"), r.PostForm.Get("details")
		v.ReasonError, v.Error = msg, adminMsg(a.lang, "decision_errors")
		a.render(w, http.StatusUnprocessableEntity, "submission.html", v)
		return
	}
	ctx, cancel := decisionContext(r)
	defer cancel()
	a.afterDecision(w, r, sess, a.decide(ctx, id, "reject", sess.User, reason))
}

// adminImageTypes are the images the pages show from a pending change, by their content.
var adminImageTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true}

// handleFile serves a file of a pending change, so that a moderator sees a proposed photo
// and reads a document before approving: GET /admin/submissions/{id}/files/{path...}.
// Each is typed by its content, never by its name. Images are shown; PDF and OpenDocument
// files are only downloaded (Content-Disposition: attachment) for the moderator's own
// reader, never displayed in the service's origin. Both are sandboxed, so that a file
// cannot act as a page of the service. Anything else is not served.
func (a *admin) handleFile(w http.ResponseWriter, r *http.Request, sess *session) {
	notFound := func() {
		a.errorPage(w, http.StatusNotFound, sess, adminMsg(a.lang, "not_found_title"), adminMsg(a.lang, "not_found_page"))
	}
	id, name := r.PathValue("id"), r.PathValue("path")
	if !flashID.MatchString(id) {
		notFound()
		return
	}
	p, err := a.s.forge.Get(r.Context(), id)
	if errors.Is(err, forge.ErrNotFound) || errors.Is(err, forge.ErrClosed) {
		notFound()
		return
	}
	if err != nil {
		a.unavailable(w, sess, "reading a change", err)
		return
	}
	for _, f := range p.Files {
		if f.Path != name {
			continue
		}
		ct := http.DetectContentType(f.Data)
		attach := false
		switch {
		case adminImageTypes[ct]:
		case ct == "application/pdf" && strings.EqualFold(path.Ext(f.Path), ".pdf"):
			attach = true
		case doccheck.MediaType(f.Data) != "" && documentTypes[strings.ToLower(path.Ext(f.Path))] != "":
			ct, attach = doccheck.MediaType(f.Data), true
		default:
			notFound()
			return
		}
		h := w.Header()
		h.Set("Content-Type", ct)
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		h.Set("Cache-Control", "private, no-store")
		if attach {
			h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(f.Path)}))
		}
		_, _ = w.Write(f.Data)
		return
	}
	notFound()
}
