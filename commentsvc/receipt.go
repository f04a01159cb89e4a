package commentsvc

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/parvis/parvis/internal/forms"
	"github.com/parvis/parvis/internal/store"
)

// receipt is what a citizen sees of a submission: its status and, once decided, the link
// or the moderator's reason. Nothing else: not the content, not who moderated it.
type receipt struct {
	ID     string `json:"id"`
	Status string `json:"status"` // pending, published or rejected
	URL    string `json:"url,omitempty"`
	Reason string `json:"reason,omitempty"`
}

func (s *Service) receiptOf(id string) (receipt, *store.Record, error) {
	rc := receipt{ID: id, Status: "pending"}
	rec, err := s.store.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		// Accepted and still in the queue: a valid token proves the service issued it.
		return rc, nil, nil
	}
	if err != nil {
		return rc, nil, err
	}
	switch rec.Status {
	case store.Published:
		rc.Status, rc.URL = "published", rec.URL
	case store.Rejected:
		rc.Status, rc.Reason = "rejected", rec.Reason
	}
	return rc, rec, nil
}

// receiptView is the receipt page: a page of the site that says what was sent (the form,
// the contribution's title or first words), when (in the site's time zone), where it will
// appear, and where it stands, with its own address to come back to and a way back to the
// page it was sent from.
type receiptView struct {
	Lang, Site, Title  string
	Missing            bool
	Status             string // queued, pending, published, rejected
	FormTitle, What    string
	When, WhenISO      string
	PageTitle, PageURL string // the page it is about, or the page published
	URL, Reason        string
	Self               string // this page's address
	Back, BackText     string
}

// handleReceipt answers GET /api/v1/submissions/{id}?token=…
func (s *Service) handleReceipt(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	lang := s.cfg.Language
	v := &receiptView{Lang: lang, Site: s.cfg.Title, Title: msg(lang, "receipt_title"), Back: s.siteLink("/"), BackText: msg(lang, "back_home")}
	if !s.validReceipt(id, r.URL.Query().Get("token")) {
		if wantsJSON(r) {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found", "message": msg(lang, "not_found")})
			return
		}
		v.Missing = true
		s.servicePage(w, http.StatusNotFound, "receipt", v)
		return
	}
	rc, rec, err := s.receiptOf(id)
	if err != nil {
		s.log.Error("reading a receipt", "id", id, "err", err)
		http.Error(w, msg(lang, "unavailable"), http.StatusServiceUnavailable)
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, rc)
		return
	}
	v.Status, v.Reason, v.Self = rc.Status, rc.Reason, s.statusURL(r, id)
	if rc.URL != "" {
		v.URL = s.localURL(rc.URL)
	}
	var form, page, what string
	var when time.Time
	if sub, ok := s.citizen.recent.get(id); ok {
		form, page, what, when = sub.Form, sub.Page, sub.What, sub.Received
	}
	if rec != nil {
		form, page, when = rec.Form, rec.Page, rec.Created
		if what == "" {
			what = rec.Title
			if rec.Page != "" || what == rec.Form {
				what = firstWords(rec.Excerpt)
			}
		}
	} else if v.Status == "pending" {
		v.Status = "queued"
	}
	if when.IsZero() {
		if u, err := ulid.Parse(id); err == nil {
			when = ulid.Time(u.Time())
		}
	}
	if !when.IsZero() {
		v.When = strings.ReplaceAll(adminTime(lang, when, s.cfg.Location), " h ", "\u00a0h\u00a0")
		v.WhenISO = when.In(s.location()).Format("2006-01-02T15:04Z07:00")
	}
	if spec := s.cfg.Forms[form]; spec != nil {
		v.FormTitle = spec.Title
		if v.FormTitle == "" {
			v.FormTitle = strings.ToUpper(form[:1]) + form[1:]
		}
	}
	v.What = what
	if st := s.Site(); st != nil && page != "" {
		if pg := st.Page(page); pg != nil {
			v.PageTitle, v.PageURL = pg.Title, s.siteLink(pg.URL)
			v.Back, v.BackText = s.siteLink(pg.URL)+"#comments", msg(lang, "back_page", pg.Title)
		}
	}
	s.servicePage(w, http.StatusOK, "receipt", v)
}

func (s *Service) location() *time.Location {
	if s.cfg.Location != nil {
		return s.cfg.Location
	}
	return time.UTC
}

// firstWords shortens a text to its first words, for a receipt to name it by.
func firstWords(text string) string {
	const max = 90
	text = strings.Join(strings.Fields(text), " ")
	if r := []rune(text); len(r) > max {
		cut := string(r[:max])
		if i := strings.LastIndexByte(cut, ' '); i > max/2 {
			cut = cut[:i]
		}
		text = strings.TrimRight(cut, " ,;:.") + "…"
	}
	return text
}

// whatOf names a submission for its receipt: its title, else the first words of its text.
func (s *Service) whatOf(form string, fields map[string]string) string {
	for _, k := range []string{"title", "caption"} {
		if t := strings.TrimSpace(fields[k]); t != "" {
			return firstWords(t)
		}
	}
	if spec := s.cfg.Forms[form]; spec != nil {
		for _, name := range spec.FieldOrder() {
			if f := spec.Fields[name]; !f.Private && (f.Type == "textarea" || f.Type == "markdown") && fields[name] != "" {
				return firstWords(fields[name])
			}
		}
	}
	return ""
}

// sent answers a stored submission. A script gets its JSON (accepted); a browser a 303 to
// the page the submission asks to go back to, when the page it was sent from may go there,
// else to the receipt, which says what was sent and links back to the page. The receipt is
// remembered, so that it can say so before the worker has recorded the submission.
func (s *Service) sent(w http.ResponseWriter, r *http.Request, id, form string, sub *forms.Submission) {
	s.citizen.recent.put(id, recentSub{Form: form, Page: sub.Options["page"], What: s.whatOf(form, sub.Fields), Received: s.now()})
	if wantsJSON(r) {
		s.accepted(w, r, id, "")
		return
	}
	target := ""
	if to := sub.Options["redirect"]; to != "" && s.safeRedirect(r, to) {
		target = s.reachable(r, to)
	}
	if target == "" {
		target = s.statusURL(r, id)
		if !s.formActionAllows(r, target) {
			target = s.relativeToRequest(r, "/api/v1/submissions/"+id+"?token="+s.receiptToken(id))
		}
	}
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusSeeOther)
}

// formActionAllows tells whether the page that posted may be sent to target: a browser
// follows a form's redirect only where the page's Content-Security-Policy (form-action)
// allows, and a redirect it refuses leaves the person before a page that does nothing, with
// the submission sent. The page's origin is the request's Origin; the site's pages allow
// their own origin and the service's configured one, the service's own pages (a form shown
// again, posted from the service's address, which Referer names) the site's too.
func (s *Service) formActionAllows(r *http.Request, target string) bool {
	o := r.Header.Get("Origin")
	u, err := url.Parse(target)
	if o == "" || err != nil || !u.IsAbs() {
		return true // not a browser's form, or a redirect on the address posted to
	}
	to := u.Scheme + "://" + u.Host
	if strings.EqualFold(to, o) {
		return true
	}
	if svc := origin(s.cfg.Service.URL); svc != "" && strings.EqualFold(to, svc) {
		return true
	}
	if strings.EqualFold(to, s.siteOrigin()) {
		if ref, err := url.Parse(r.Referer()); err == nil && strings.EqualFold(ref.Scheme+"://"+ref.Host, o) {
			for _, p := range []string{"/api/", "/v2/", "/v3/"} {
				if strings.Contains(ref.Path, p) {
					return true
				}
			}
		}
	}
	return false
}

// reachable returns a safe redirect as the posting page may follow it: as it is, or on the
// origin the page was posted from when that is one of the site's (a site made for localhost
// and served on another address), or "".
func (s *Service) reachable(r *http.Request, to string) string {
	if s.formActionAllows(r, to) {
		return to
	}
	u, err := url.Parse(to)
	o := r.Header.Get("Origin")
	if err != nil || o == "" {
		return ""
	}
	for _, ok := range s.allowedOrigins(r) {
		if strings.EqualFold(o, ok) {
			out := o + u.EscapedPath()
			if u.RawQuery != "" {
				out += "?" + u.RawQuery
			}
			if u.Fragment != "" {
				out += "#" + u.EscapedFragment()
			}
			return out
		}
	}
	return ""
}

// relativeToRequest writes a path of the service relative to the request's own, so that a
// browser resolves it on the very address it posted to, which the page's policy allowed,
// below whatever prefix a proxy serves the service under.
func (s *Service) relativeToRequest(r *http.Request, p string) string {
	dir := r.URL.Path[:strings.LastIndexByte(r.URL.Path, '/')+1]
	return strings.Repeat("../", max(strings.Count(dir, "/")-1, 0)) + strings.TrimPrefix(p, "/")
}

// ReceiptToken returns the secret that a submission's receipt address carries, for callers
// that give the address out again (the moderation pages, the command line).
func (s *Service) ReceiptToken(id string) string { return s.receiptToken(id) }
