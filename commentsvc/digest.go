package commentsvc

import (
	"context"
	"fmt"
	"net/http"
	netmail "net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/parvis/parvis/internal/mail"
	"github.com/parvis/parvis/internal/store"
)

// The moderators' digest: a mail listing the submissions that arrived since the last one,
// with a link to each in the moderation pages, to every moderator who gave an address; at
// most one every digestEvery. A submission after a quiet time is told after a short wait
// (digestGather), for others of the same moment to join it.

// SetModeratorEmail keeps the address a moderator's digest goes to, in the private store;
// "" removes it. The address must be a bare one (name@domain).
func (s *Service) SetModeratorEmail(name, email string) error {
	if err := CheckEmail(email); err != nil {
		return err
	}
	return s.store.SetModeratorEmail(name, email)
}

// CheckEmail reports whether addr is a bare e-mail address (name@domain), or empty.
func CheckEmail(addr string) error {
	if addr == "" {
		return nil
	}
	a, err := netmail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != addr {
		return fmt.Errorf("%q: not an e-mail address (name@domain)", addr)
	}
	return nil
}

func (s *Service) digestInterval() time.Duration {
	if d := s.notes().digestEvery; d > 0 {
		return d
	}
	if m := s.cfg.Service.DigestMinutes; m > 0 {
		return time.Duration(m) * time.Minute
	}
	return defaultDigest
}

// kickDigest says a submission arrived.
func (s *Service) kickDigest() {
	select {
	case s.notes().kick <- struct{}{}:
	default:
	}
}

// digestLoop sends digests until ctx is done.
func (s *Service) digestLoop(ctx context.Context) {
	every, gather := s.digestInterval(), s.notes().digestGather
	check := time.Minute // submissions another process recorded come without a kick
	for {
		d, err := s.store.Digest()
		if err != nil {
			s.log.Error("reading the digest's state", "err", err)
		}
		wait := check
		if due := d.Sent.Add(every); s.now().Before(due) {
			wait = due.Sub(s.now())
		} else if sent, err := s.sendDigest(ctx, d); err != nil {
			s.log.Error("sending the moderators' digest", "err", err)
		} else if sent {
			wait = every
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-s.notes().kick:
			t.Stop()
			if d, _ := s.store.Digest(); s.now().After(d.Sent.Add(every)) {
				// Due: let the submissions of this moment arrive together.
				select {
				case <-ctx.Done():
					return
				case <-time.After(gather):
				}
			}
		}
	}
}

// sendDigest sends a digest of the submissions pending since the last, if any, and reports
// whether it did.
func (s *Service) sendDigest(ctx context.Context, d store.Digest) (bool, error) {
	recs, err := s.store.List("", 0, store.Pending)
	if err != nil {
		return false, err
	}
	var fresh []*store.Record
	for _, r := range recs {
		if r.ID > d.Cursor {
			fresh = append(fresh, r)
		}
	}
	if len(fresh) == 0 {
		return false, nil
	}
	to, err := s.digestRecipients()
	if err != nil {
		return false, err
	}
	cursor := fresh[0].ID // newest first
	if len(to) > 0 {
		for name, addr := range to {
			if err := s.send(ctx, s.digestNotice(name, addr, fresh, cursor)); err != nil {
				return false, err
			}
		}
		s.log.Info("moderators' digest queued", "submissions", len(fresh), "moderators", len(to))
	}
	// Without a moderator's address the cursor moves on all the same: an address given
	// later gets what comes next, not the whole past.
	return len(to) > 0, s.store.SetDigest(store.Digest{Sent: s.now().UTC(), Cursor: cursor})
}

// digestRecipients are the moderators' addresses whose account still exists; the others'
// are deleted.
func (s *Service) digestRecipients() (map[string]string, error) {
	all, err := s.store.ModeratorEmails()
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, m := range s.cfg.Service.Moderators {
		known[m.Name] = true
	}
	for name := range all {
		if known[name] {
			continue
		}
		if _, err := s.store.Moderator(name); err != nil {
			_ = s.store.SetModeratorEmail(name, "")
			delete(all, name)
			s.log.Info("a removed moderator's address deleted", "moderator", name)
		}
	}
	return all, nil
}

func (s *Service) digestNotice(name, addr string, recs []*store.Record, cursor string) mail.Message {
	every := int(s.digestInterval() / time.Minute)
	n := &notice{Subject: s.mt("digest_subject", len(recs)), Greeting: s.mt("greeting")}
	n.Paras = []string{s.mt("digest_lead", len(recs), s.cfg.Title)}
	for i := len(recs) - 1; i >= 0; i-- { // oldest first, as they arrived
		r := recs[i]
		form := r.Form
		if spec := s.cfg.Forms[r.Form]; spec != nil && spec.Title != "" {
			form = spec.Title
		}
		author := r.Author
		if author == "" {
			author = "–"
		}
		n.Items = append(n.Items, noticeItem{
			Title: oneLine(r.Title), Meta: s.mt("digest_item", form, oneLine(author), adminTime(s.cfg.Language, r.Created, s.cfg.Location)),
			URL: s.absURL(nil, "/admin/submissions/"+url.PathEscape(r.ID)),
		})
	}
	n.Action, n.ActionLabel, n.ActionURL = s.mt("digest_action_text"), s.mt("digest_action"), s.absURL(nil, "/admin/")
	n.Why = s.mt("digest_why", name, every)
	n.Unsubscribe, n.UnsubscribeLabel = s.mt("digest_unsub_text"), s.mt("digest_unsub")
	n.UnsubscribeURL = s.absURL(nil, "/api/v1/digest/"+url.PathEscape(name)+"/unsubscribe?token="+s.token("digest", name))
	id := "digest." + strings.ToLower(cursor) + "." + name
	return s.message(id, "digest", addr, n)
}

// handleDigestUnsubscribe is the digest's unsubscribe link: POST deletes the moderator's
// address at once (RFC 8058), GET shows a page with a button.
func (s *Service) handleDigestUnsubscribe(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !s.validToken("digest", name, r.URL.Query().Get("token")) {
		s.gone(w)
		return
	}
	if r.Method == http.MethodGet {
		s.answerSubscription(w, subscriptionPage{status: http.StatusOK, title: "page_digest_title", lead: s.mt("page_digest_lead", name), button: "page_unsub_button", oneClick: true})
		return
	}
	if err := s.store.SetModeratorEmail(name, ""); err != nil {
		s.log.Error("removing a moderator's address", "moderator", name, "err", err)
		http.Error(w, msg(s.cfg.Language, "unavailable"), http.StatusServiceUnavailable)
		return
	}
	s.answerSubscription(w, subscriptionPage{status: http.StatusOK, title: "page_digest_title", lead: s.mt("page_digest_done", name, name)})
}
