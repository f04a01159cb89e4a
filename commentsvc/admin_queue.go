package commentsvc

import (
	"context"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/parvis/parvis/internal/forge"
	"github.com/parvis/parvis/internal/site"
	"github.com/parvis/parvis/internal/store"
)

// queueRow is one submission in the queue.
type queueRow struct {
	*store.Record
	Title      string // the record's, as people read it (recordTitle)
	FormTitle  string
	PageTitle  string
	PageURL    string // the public page
	PageFound  bool
	Excerpt    string
	Selectable bool // pending: can be decided from the list
	Checked    bool
}

// statusTab is one status filter, with how many submissions have it.
type statusTab struct {
	Status  store.Status
	Count   int
	URL     string
	Current bool
}

type formOption struct {
	Name, Title string
	Selected    bool
}

// queueView is the queue page, and the bulk form's state when it comes back with errors.
type queueView struct {
	adminPage
	Status     store.Status
	Form       string
	Before     string
	Tabs       []statusTab
	Forms      []formOption
	Caption    string
	Rows       []queueRow
	Older      string // the next page's address, when there is one
	Newest     string // the first page's address, when this is not it
	Selectable bool   // the bulk form is shown

	Reasons     []string
	Reason      string
	Details     string
	BulkError   string // tied to the selection
	ReasonError string // tied to the reason
	Error       string // the summary at the top
}

// handleQueue shows the submissions: GET /admin/?status=…&form=…&before=…
func (a *admin) handleQueue(w http.ResponseWriter, r *http.Request, sess *session) {
	q := r.URL.Query()
	v, err := a.queue(r.Context(), sess, store.Status(q.Get("status")), q.Get("form"), q.Get("before"), nil)
	if err != nil {
		a.unavailable(w, sess, "listing submissions", err)
		return
	}
	v.Flash = a.takeFlash(w, r, sess)
	a.render(w, http.StatusOK, "queue.html", v)
}

// queueURL is the address of a queue page.
func (a *admin) queueURL(status store.Status, form, before string) string {
	q := url.Values{}
	if status != store.Pending {
		q.Set("status", string(status))
	}
	if form != "" {
		q.Set("form", form)
	}
	if before != "" {
		q.Set("before", before)
	}
	if len(q) == 0 {
		return a.root
	}
	return a.root + "?" + q.Encode()
}

// queue builds a queue page. Unknown filter values fall back to the defaults rather than
// failing: they come from an address someone may have edited by hand.
func (a *admin) queue(ctx context.Context, sess *session, status store.Status, form, before string, checked []string) (*queueView, error) {
	if !slices.Contains(adminStatuses, status) {
		status = store.Pending
	}
	if _, ok := a.s.cfg.Forms[form]; !ok {
		form = ""
	}
	if !flashID.MatchString(before) {
		before = ""
	}
	v := &queueView{
		adminPage: a.pageFor(adminMsg(a.lang, "queue"), sess),
		Status:    status, Form: form, Before: before, Reasons: a.reasons,
	}
	v.OnQueue = true
	counts, err := a.s.store.Count()
	if err != nil {
		return nil, err
	}
	for _, st := range adminStatuses {
		v.Tabs = append(v.Tabs, statusTab{Status: st, Count: counts[st], URL: a.queueURL(st, form, ""), Current: st == status})
	}
	names := make([]string, 0, len(a.s.cfg.Forms))
	for name := range a.s.cfg.Forms {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		v.Forms = append(v.Forms, formOption{Name: name, Title: a.formTitle(name), Selected: name == form})
	}
	label := adminMsg(a.lang, "status_"+string(status))
	v.Caption = adminMsg(a.lang, "caption", label)
	if form != "" {
		v.Caption = adminMsg(a.lang, "caption_form", label, a.formTitle(form))
	}

	recs, more, err := a.list(before, status, form, adminPageSize)
	if err != nil {
		return nil, err
	}
	if more {
		v.Older = a.queueURL(status, form, recs[len(recs)-1].ID)
	}
	if before != "" {
		v.Newest = a.queueURL(status, form, "")
	}
	current := a.s.Site()
	for _, rec := range recs {
		row := queueRow{Record: rec, Title: a.recordTitle(rec), FormTitle: a.formTitle(rec.Form), Selectable: rec.Status == store.Pending}
		row.PageTitle, row.PageURL, row.PageFound = pageInfo(current, rec.Page)
		row.Checked = row.Selectable && slices.Contains(checked, rec.ID)
		if row.Selectable {
			row.Excerpt = rec.Excerpt
			if row.Excerpt == "" { // a record from before excerpts were kept
				row.Excerpt = a.excerpt(ctx, rec.ID)
			}
			v.Selectable = true
		}
		v.Rows = append(v.Rows, row)
	}
	return v, nil
}

// list returns up to n submissions with status (and from form, when given), newest first,
// below the ID before, and whether there are more. The store filters by status; the form
// is filtered here, a batch at a time.
func (a *admin) list(before string, status store.Status, form string, n int) ([]*store.Record, bool, error) {
	const batch = 200
	var out []*store.Record
	for {
		l, err := a.s.List(before, batch, status)
		if err != nil {
			return nil, false, err
		}
		for _, rec := range l {
			if form != "" && rec.Form != form {
				continue
			}
			if len(out) == n {
				return out, true, nil
			}
			out = append(out, rec)
		}
		if len(l) < batch {
			return out, false, nil
		}
		before = l[len(l)-1].ID
	}
}

func (a *admin) formTitle(name string) string {
	if f := a.s.cfg.Forms[name]; f != nil && f.Title != "" {
		return f.Title
	}
	return name
}

// pageInfo gives the title and public address of the page a submission belongs to.
func pageInfo(st *site.Site, ref string) (title, link string, found bool) {
	if ref == "" || st == nil {
		return "", "", false
	}
	p := st.Page(ref)
	if p == nil {
		return ref, "", false
	}
	return p.Title, st.Config.AbsURL(p.URL), true
}

// excerpt is the start of what a pending submission says, read from its change. A change's
// content does not move while it is pending, so excerpts are kept (within a bound).
func (a *admin) excerpt(ctx context.Context, id string) string {
	a.excerptMu.Lock()
	text, ok := a.excerpts[id]
	a.excerptMu.Unlock()
	if ok {
		return text
	}
	p, err := a.s.forge.Get(ctx, id)
	if err != nil {
		return ""
	}
	text = excerptOf(p.Files, a.s.cfg.Location)
	a.excerptMu.Lock()
	if len(a.excerpts) >= 2000 {
		clear(a.excerpts)
	}
	a.excerpts[id] = text
	a.excerptMu.Unlock()
	return text
}

// excerptOf returns the first words of the first text among files: a comment's message, a
// page's body.
func excerptOf(files []forge.File, loc *time.Location) string {
	const runes = 160
	for _, f := range files {
		var text string
		switch strings.ToLower(path.Ext(f.Path)) {
		case ".yaml", ".yml":
			if c, err := site.ParseComment(f.Path, f.Data, loc); err == nil {
				text = c.Body
			}
		case ".md":
			if _, body, _, err := site.ParseFrontMatter(f.Data); err == nil {
				text = string(body)
			}
		case ".txt":
			text = string(f.Data)
		}
		text = strings.Join(strings.Fields(text), " ")
		if text == "" {
			continue
		}
		if r := []rune(text); len(r) > runes {
			text = strings.TrimSpace(string(r[:runes-1])) + "…"
		}
		return text
	}
	return ""
}

// composeReason makes the reason the author reads from a preset and the moderator's words.
func composeReason(preset, details string) string {
	preset, details = strings.TrimSpace(preset), strings.TrimSpace(details)
	switch {
	case preset == "":
		return details
	case details == "":
		return preset
	}
	return preset + " " + details
}

// reasonError checks a reason as Reject will, so that the fault shows on the field.
func (a *admin) reasonError(reason string) string {
	switch {
	case reason == "":
		return adminMsg(a.lang, "reason_missing")
	case len([]rune(reason)) > 1000:
		return adminMsg(a.lang, "reason_too_long")
	}
	return ""
}

// decide approves or rejects one submission in the moderator's name.
func (a *admin) decide(ctx context.Context, id, action, moderator, reason string) flashResult {
	var err error
	if action == "approve" {
		_, err = a.s.Approve(ctx, id, moderator)
	} else {
		_, err = a.s.Reject(ctx, id, moderator, reason)
	}
	done := "approved"
	if action == "reject" {
		done = "rejected"
	}
	res := decisionResult(err, done)
	if res == "failed" {
		a.s.log.Error("moderation: "+action, "id", id, "moderator", moderator, "err", err)
	} else {
		a.s.log.Info("moderation: "+action, "id", id, "moderator", moderator, "result", res)
	}
	return flashResult{ID: id, Result: res}
}

// decisionContext outlives the request: a decision under way finishes even when the
// browser gives up waiting, so that a bulk action is not cut in the middle.
func decisionContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Minute)
}

// handleBulk decides for the submissions ticked in the queue: POST /admin/bulk. Each is
// decided on its own, so that a conflict or an orphan reply leaves the others decided.
func (a *admin) handleBulk(w http.ResponseWriter, r *http.Request, sess *session) {
	f := r.PostForm
	var ids []string
	for _, id := range f["id"] {
		if flashID.MatchString(id) && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	action := f.Get("action")
	if action != "approve" && action != "reject" {
		a.errorPage(w, http.StatusBadRequest, sess, adminMsg(a.lang, "forbidden_title"), adminMsg(a.lang, "bulk_none"))
		return
	}
	reason := composeReason(f.Get("reason"), f.Get("details"))
	bulkErr, reasonErr := "", ""
	switch {
	case len(ids) == 0:
		bulkErr = adminMsg(a.lang, "bulk_none")
	case len(ids) > maxBulk:
		bulkErr = adminMsg(a.lang, "bulk_too_many", maxBulk)
	}
	if action == "reject" {
		reasonErr = a.reasonError(reason)
	}
	if bulkErr != "" || reasonErr != "" {
		v, err := a.queue(r.Context(), sess, store.Pending, f.Get("form"), f.Get("before"), ids)
		if err != nil {
			a.unavailable(w, sess, "listing submissions", err)
			return
		}
		v.BulkError, v.ReasonError = bulkErr, reasonErr
		v.Reason, v.Details = f.Get("reason"), f.Get("details")
		v.Error = adminMsg(a.lang, "decision_errors")
		a.render(w, http.StatusUnprocessableEntity, "queue.html", v)
		return
	}
	ctx, cancel := decisionContext(r)
	defer cancel()
	results := make([]flashResult, 0, len(ids))
	for _, id := range ids {
		results = append(results, a.decide(ctx, id, action, sess.User, reason))
	}
	a.setFlash(w, r, sess, results)
	form, before := f.Get("form"), f.Get("before")
	if _, ok := a.s.cfg.Forms[form]; !ok {
		form = ""
	}
	if !flashID.MatchString(before) {
		before = ""
	}
	http.Redirect(w, r, a.queueURL(store.Pending, form, before), http.StatusSeeOther)
}
