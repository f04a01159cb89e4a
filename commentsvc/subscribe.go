package commentsvc

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/parvis/parvis/internal/mail"
	"github.com/parvis/parvis/internal/site"
	"github.com/parvis/parvis/internal/store"
)

// The opt-in fields: private fields of a form's policy, ticked (any value) or not. The
// address is the form's private e-mail field.
const (
	fieldNotify  = "notify"  // tell me when it is published or rejected
	fieldReplies = "replies" // and when someone replies to my comment (forms with a parent)
)

// mailSetup registers the routes of mails' links and the mail metrics; New calls it.
func (s *Service) mailSetup(m *http.ServeMux) {
	s.notes()
	m.HandleFunc("GET /api/v1/subscriptions/{id}/confirm", s.handleConfirm)
	m.HandleFunc("POST /api/v1/subscriptions/{id}/confirm", s.handleConfirm)
	m.HandleFunc("GET /api/v1/subscriptions/{id}/unsubscribe", s.handleUnsubscribe)
	m.HandleFunc("POST /api/v1/subscriptions/{id}/unsubscribe", s.handleUnsubscribe)
	m.HandleFunc("GET /api/v1/digest/{name}/unsubscribe", s.handleDigestUnsubscribe)
	m.HandleFunc("POST /api/v1/digest/{name}/unsubscribe", s.handleDigestUnsubscribe)
	s.mailMetrics()
}

// emailField is the name of a form's private e-mail field, or "".
func emailField(spec *site.FormSpec) string {
	if spec == nil {
		return ""
	}
	for _, n := range spec.FieldOrder() {
		if f := spec.Fields[n]; f.Private && f.Type == "email" {
			return n
		}
	}
	return ""
}

// keepPrivate keeps what a processed submission's private fields are for: an address whose
// owner ticked the box becomes a subscription, awaiting confirmation, and its confirmation
// mail is queued; an address left without the box ticked is not kept at all. Other private
// fields are kept until the decision, as before. It is idempotent: the worker may process a
// submission twice after a crash.
func (s *Service) keepPrivate(ctx context.Context, id string, p payload) error {
	spec := s.cfg.Forms[p.Form]
	addr := emailField(spec)
	rest := map[string]string{}
	for k, v := range p.Private {
		if k != addr && k != fieldNotify && k != fieldReplies {
			rest[k] = v
		}
	}
	if err := s.store.SetPrivate(id, rest); err != nil {
		return err
	}
	s.kickDigest()
	email := p.Private[addr]
	decision := p.Private[fieldNotify] != ""
	replies := p.Private[fieldReplies] != "" && spec != nil && slices.Contains(spec.Options, "parent")
	if addr == "" || email == "" || !(decision || replies) || !s.mailer() {
		return nil
	}
	if err := mail.Check(mail.Message{From: s.cfg.Service.MailFrom, To: email}); err != nil {
		// The form took it; no mail could go to it: the submission goes on without.
		s.log.Warn("an address no mail can go to: not subscribed", "id", id)
		return nil
	}
	if sub, err := s.store.Subscription(id); err == nil {
		if !sub.Active() {
			return s.send(ctx, s.confirmNotice(sub, s.submissionName(p))) // queued once (its ID)
		}
		return nil
	}
	now := s.now().UTC()
	n, err := s.store.PendingConfirmations(email, now.Add(-24*time.Hour))
	if err != nil {
		return err
	}
	if n >= confirmsPerDay {
		s.log.Warn("no confirmation sent: this address has had its share today", "id", id, "pending", n)
		return nil
	}
	sub := &store.Subscription{ID: id, Email: email, Form: p.Form, Page: p.Options["page"], Decision: decision, Replies: replies, Created: now}
	if _, err := s.store.AddSubscription(sub); err != nil {
		return err
	}
	return s.send(ctx, s.confirmNotice(sub, s.submissionName(p)))
}

func (s *Service) submissionName(p payload) string {
	if w := s.whatOf(p.Form, p.Fields); w != "" {
		return w
	}
	if spec := s.cfg.Forms[p.Form]; spec != nil && spec.Title != "" {
		return spec.Title
	}
	return p.Form
}

func (s *Service) confirmNotice(sub *store.Subscription, what string) mail.Message {
	wish := s.mt("confirm_decision")
	switch {
	case sub.Decision && sub.Replies:
		wish = s.mt("confirm_both")
	case sub.Replies:
		wish = s.mt("confirm_replies")
	}
	n := &notice{Subject: s.mt("confirm_subject")}
	n.Paras = []string{s.mt("confirm_lead", what, s.cfg.Title, wish), s.mt("confirm_ask", int(confirmWithin/(24*time.Hour))), s.mt("confirm_notme")}
	n.Action, n.ActionLabel, n.ActionURL = s.mt("confirm_action_text"), s.mt("confirm_action"), s.confirmURL(sub.ID)
	return s.message(sub.ID+".confirm", "confirm", sub.Email, s.citizenNotice(sub, n))
}

// subscriptionPage answers with one of the pages mails' links open.
type subscriptionPage struct {
	status              int
	title, lead, button string
	oneClick, receipt   bool
	id                  string
}

func (s *Service) answerSubscription(w http.ResponseWriter, p subscriptionPage) {
	data := map[string]any{
		"Lang": s.cfg.Language, "Site": s.cfg.Title, "Title": s.mt(p.title), "Lead": p.lead, "Button": "", "OneClick": p.oneClick,
		"Back": s.siteLink("/"), "BackText": s.mt("page_back"),
	}
	if p.lead == "" {
		data["Lead"] = s.mt(p.title[:len(p.title)-len("title")] + "lead")
	}
	if p.button != "" {
		data["Button"] = s.mt(p.button)
	}
	if p.receipt {
		data["Receipt"], data["ReceiptURL"] = s.mt("page_receipt"), s.statusURL(nil, p.id)
	}
	w.Header().Set("Referrer-Policy", "no-referrer") // the address carries a token
	s.servicePage(w, p.status, "subscription", data)
}

func (s *Service) gone(w http.ResponseWriter) {
	s.answerSubscription(w, subscriptionPage{status: http.StatusNotFound, title: "page_gone_title"})
}

// handleConfirm is the confirmation link: GET shows a page with a button (a mail scanner
// that follows links confirms nothing), POST confirms. A decision made meanwhile is told at
// once.
func (s *Service) handleConfirm(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !s.validToken("confirm", id, r.URL.Query().Get("token")) {
		s.gone(w)
		return
	}
	sub, err := s.store.Subscription(id)
	now := s.now()
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.gone(w)
		return
	case err != nil:
		s.log.Error("reading a subscription", "id", id, "err", err)
		http.Error(w, msg(s.cfg.Language, "unavailable"), http.StatusServiceUnavailable)
		return
	case !sub.Active() && now.Sub(sub.Created) > confirmWithin:
		_ = s.store.DeleteSubscription(id)
		s.gone(w)
		return
	case sub.Active():
		s.answerSubscription(w, subscriptionPage{status: http.StatusOK, title: "page_confirmed_title", receipt: true, id: id})
		return
	case r.Method == http.MethodGet:
		s.answerSubscription(w, subscriptionPage{status: http.StatusOK, title: "page_confirm_title", button: "page_confirm_button", receipt: true, id: id})
		return
	}
	if _, err := s.store.UpdateSubscription(id, func(sub *store.Subscription) (bool, error) {
		if !sub.Active() {
			sub.Confirmed = now.UTC()
		}
		return true, nil
	}); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			s.gone(w)
			return
		}
		s.log.Error("confirming a subscription", "id", id, "err", err)
		http.Error(w, msg(s.cfg.Language, "unavailable"), http.StatusServiceUnavailable)
		return
	}
	if rec, err := s.store.Get(id); err == nil && (rec.Status == store.Published || rec.Status == store.Rejected) {
		s.tellDecision(r.Context(), rec)
	}
	s.answerSubscription(w, subscriptionPage{status: http.StatusOK, title: "page_confirmed_title", receipt: true, id: id})
}

// handleUnsubscribe is the unsubscribe link. POST unsubscribes at once, as RFC 8058's
// one-click asks (a mail program posts "List-Unsubscribe=One-Click", with no cookie and no
// page to read): the subscription, its address and what is queued for it are deleted. GET
// shows a page with a button that posts. Unsubscribing twice is no fault.
func (s *Service) handleUnsubscribe(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !s.validToken("unsubscribe", id, r.URL.Query().Get("token")) {
		s.gone(w)
		return
	}
	if r.Method == http.MethodGet {
		if _, err := s.store.Subscription(id); errors.Is(err, store.ErrNotFound) {
			s.answerSubscription(w, subscriptionPage{status: http.StatusOK, title: "page_unsubbed_title", receipt: true, id: id})
			return
		}
		s.answerSubscription(w, subscriptionPage{status: http.StatusOK, title: "page_unsub_title", button: "page_unsub_button", oneClick: true, receipt: true, id: id})
		return
	}
	if err := s.store.DeleteSubscription(id); err != nil {
		s.log.Error("unsubscribing", "id", id, "err", err)
		http.Error(w, msg(s.cfg.Language, "unavailable"), http.StatusServiceUnavailable)
		return
	}
	s.forgetQueued(id)
	s.answerSubscription(w, subscriptionPage{status: http.StatusOK, title: "page_unsubbed_title", receipt: true, id: id})
}

// Subscriptions returns the subscriptions of an address, for a person who asks what is kept
// about them.
func (s *Service) Subscriptions(email string) ([]*store.Subscription, error) {
	return s.store.SubscriptionsTo(email)
}

// ForgetAddress deletes every subscription of an address, the mail queued for it and the
// digest's address of any moderator who gave it, and returns how many subscriptions there
// were: what erasing a person's data asks of notifications.
func (s *Service) ForgetAddress(email string) (int, error) {
	n, err := s.store.DeleteSubscriptionsTo(email)
	if err != nil {
		return n, err
	}
	if sp := s.spool(); sp != nil {
		if _, err := sp.Forget(email); err != nil {
			return n, err
		}
	}
	names, err := s.store.ModeratorsByEmail(email)
	for _, name := range names {
		if err := s.store.SetModeratorEmail(name, ""); err != nil {
			return n, err
		}
	}
	return n, err
}
