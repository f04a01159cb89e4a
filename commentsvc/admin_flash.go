package commentsvc

import (
	"crypto/hmac"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// A flash message carries the outcome of a decision across the redirect that follows it
// (Post/Redirect/Get). It lives in a short-lived cookie signed with the service's key and
// bound to the session, so the service keeps no state for it and several replicas can
// serve the pages. It holds only IDs and result codes: titles are read again when it is
// shown, and escaped like everything else.

// Result codes of one decision, one letter each to keep a bulk's cookie small.
var resultCodes = map[string]byte{
	"approved": 'a', "rejected": 'r', "not_pending": 'p', "conflict": 'c',
	"orphan": 'o', "not_found": 'n', "reason": 'e', "failed": 'f',
}

var resultNames = func() map[byte]string {
	m := map[byte]string{}
	for name, c := range resultCodes {
		m[c] = name
	}
	return m
}()

// decisionResult names the outcome of Approve or Reject for the moderator.
func decisionResult(err error, done string) string {
	switch {
	case err == nil:
		return done
	case errors.Is(err, ErrNotPending):
		return "not_pending"
	case errors.Is(err, ErrConflict):
		return "conflict"
	case errors.Is(err, ErrOrphan):
		return "orphan"
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrReason):
		return "reason"
	}
	return "failed"
}

// flashResult is one submission's outcome.
type flashResult struct {
	ID     string
	Result string // a key of resultCodes
}

// flashID is what an ID must look like to travel in the cookie.
var flashID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,100}$`)

func (a *admin) setFlash(w http.ResponseWriter, r *http.Request, sess *session, results []flashResult) {
	var b strings.Builder
	b.WriteString(strconv.FormatInt(a.s.now().Add(flashAge).Unix(), 10))
	for _, res := range results {
		if !flashID.MatchString(res.ID) || resultCodes[res.Result] == 0 {
			continue
		}
		b.WriteByte('.')
		b.WriteString(res.ID)
		b.WriteByte(':')
		b.WriteByte(resultCodes[res.Result])
	}
	payload := b.String()
	http.SetCookie(w, a.cookie(r, flashCookie, payload+"~"+a.mac("flash", sess.token, payload), int(flashAge.Seconds())))
}

// flashView is a flash message ready to show.
type flashView struct {
	Error   bool   // at least one submission was not decided as asked
	Summary string // for several submissions
	Items   []flashItem
}

type flashItem struct {
	ID, Title, Text string
	OK              bool
}

// takeFlash reads the flash message, if any, and clears it so that a reload does not show
// it again.
func (a *admin) takeFlash(w http.ResponseWriter, r *http.Request, sess *session) *flashView {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	http.SetCookie(w, a.cookie(r, flashCookie, "", -1))
	payload, sig, ok := strings.Cut(c.Value, "~")
	if !ok || !hmac.Equal([]byte(sig), []byte(a.mac("flash", sess.token, payload))) {
		return nil
	}
	parts := strings.Split(payload, ".")
	exp, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || a.s.now().Unix() > exp {
		return nil
	}
	v := &flashView{}
	counts := map[string]int{}
	for _, p := range parts[1:] {
		id, code, ok := strings.Cut(p, ":")
		if !ok || len(code) != 1 || resultNames[code[0]] == "" {
			continue
		}
		res := resultNames[code[0]]
		counts[res]++
		item := flashItem{ID: id, Text: adminMsg(a.lang, "res_"+res), OK: res == "approved" || res == "rejected"}
		item.Title = adminMsg(a.lang, "res_unknown_title", id)
		if rec, err := a.s.store.Get(id); err == nil && rec.Title != "" {
			item.Title = a.recordTitle(rec)
		}
		if !item.OK {
			v.Error = true
		}
		v.Items = append(v.Items, item)
	}
	if len(v.Items) == 0 {
		return nil
	}
	if len(v.Items) > 1 {
		v.Summary = adminMsg(a.lang, "flash_summary", counts["approved"], counts["rejected"], len(v.Items)-counts["approved"]-counts["rejected"])
	}
	return v
}
