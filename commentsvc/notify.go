package commentsvc

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	htmltemplate "html/template"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parvis/parvis/internal/mail"
	"github.com/parvis/parvis/internal/site"
	"github.com/parvis/parvis/internal/store"
)

// Notifications. A citizen who leaves an address and ticks the form's box (a private field
// named notify, and replies on a comment form) gets a confirmation first; once the address
// is confirmed they hear when their submission is published or rejected, and, if they
// asked, when someone replies to their comment. Moderators who gave an address get a digest
// of new submissions. Every mail is in the site's language, as text and HTML, carries a
// one-click unsubscribe link, and the citizen's mails the receipt's link. Addresses live in
// the private store only (store.Subscription), and go once they have served.

const (
	// replyWindow is how long replies to a published comment are told; the address is
	// deleted then.
	replyWindow = 90 * 24 * time.Hour
	// confirmWithin is how long a confirmation link is valid; an unconfirmed address is
	// deleted then.
	confirmWithin = 7 * 24 * time.Hour
	// confirmsPerDay bounds the confirmations one address gets a day, so that the forms
	// cannot be used to flood someone else's mailbox.
	confirmsPerDay = 3
	// defaultDigest is the least time between two digests, unless configured.
	defaultDigest = 60 * time.Minute
)

// notices is the service's state for notifications.
type notices struct {
	digestEvery  time.Duration // least time between two digests; 0: parvis.yaml's, else an hour
	digestGather time.Duration // the wait after a new submission, for others to join it
	kick         chan struct{} // a new submission: the digest may be due
}

// notes returns the notifications' state, made by the first option that sets it or by New
// (mailSetup), before any goroutine reads it.
func (s *Service) notes() *notices {
	if s.notices == nil {
		s.notices = &notices{digestGather: time.Minute, kick: make(chan struct{}, 1)}
	}
	return s.notices
}

// WithDigest sets the least time between two digests of new submissions to moderators (in
// place of parvis.yaml's service.digestMinutes; default an hour).
func WithDigest(every time.Duration) Option {
	return func(s *Service) { s.notes().digestEvery = every }
}

// mailer says whether the service sends mail: a backend and a sender are configured.
func (s *Service) mailer() bool { return s.mail != nil && s.cfg.Service.MailFrom != "" }

// spool is the durable queue in front of the backend, when the service was given one.
func (s *Service) spool() *mail.Spool {
	sp, _ := s.mail.(*mail.Spool)
	return sp
}

// mailWork runs the notifications' background work until ctx is done: the spool's
// deliveries, the digest, and the expiry of subscriptions whose time is over.
func (s *Service) mailWork(ctx context.Context) error {
	var wg sync.WaitGroup
	if sp := s.spool(); sp != nil {
		// What was queued is delivered even if parvis.yaml no longer names a sender.
		wg.Add(1)
		go func() { defer wg.Done(); _ = sp.Run(ctx) }()
	}
	if s.mailer() {
		wg.Add(1)
		go func() { defer wg.Done(); s.digestLoop(ctx) }()
	}
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		s.expire()
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil
		case <-t.C:
		}
	}
}

// expire deletes the subscriptions whose time is over, addresses and all.
func (s *Service) expire() {
	now := s.now()
	if n, err := s.store.ExpireSubscriptions(now, now.Add(-confirmWithin)); err != nil {
		s.log.Warn("expiring subscriptions", "err", err)
	} else if n > 0 {
		s.log.Info("subscriptions expired, their addresses deleted", "count", n)
	}
}

// token signs a purpose and a name (a submission's ID, a moderator's name) with the
// service's secret, for the links of mails.
func (s *Service) token(purpose, name string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("mail-" + purpose + "\x00" + name))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

func (s *Service) validToken(purpose, name, tok string) bool {
	return tok != "" && hmac.Equal([]byte(tok), []byte(s.token(purpose, name)))
}

// notify tells the citizen, if they subscribed, that their submission is published or
// rejected, and the author of the comment a published reply answers. Private fields other
// than the subscription's have served once the submission is decided, and go.
func (s *Service) notify(ctx context.Context, rec *store.Record) {
	if rec.Status != store.Published && rec.Status != store.Rejected {
		return
	}
	if err := s.store.DeletePrivate(rec.ID); err != nil {
		s.log.Warn("forgetting private fields", "id", rec.ID, "err", err)
	}
	if !s.mailer() {
		return
	}
	s.tellDecision(ctx, rec)
	if rec.Status == store.Published {
		s.tellReply(ctx, rec)
	}
}

// tellDecision sends the decision's notice to a confirmed subscriber who asked for it, once,
// and deletes the subscription unless replies are still to be told.
func (s *Service) tellDecision(ctx context.Context, rec *store.Record) {
	sub, err := s.store.Subscription(rec.ID)
	if err != nil || !sub.Active() {
		return // none; or told once the address is confirmed
	}
	if sub.Decision && !sub.Decided {
		// Queued first, under an ID of its own: a crash before the subscription records it
		// queues it again, and the spool sends it once.
		if err := s.send(ctx, s.decisionNotice(rec, sub)); err != nil {
			s.log.Error("queueing a notification", "id", rec.ID, "err", err)
			return // the subscription stays: the next decision or confirmation tries again
		}
	}
	now := s.now()
	_, err = s.store.UpdateSubscription(rec.ID, func(sub *store.Subscription) (bool, error) {
		sub.Decided = true
		if !sub.Replies || rec.Status != store.Published {
			return false, nil
		}
		if sub.Until.IsZero() {
			sub.Until = now.Add(replyWindow)
		}
		return true, nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("recording a notification", "id", rec.ID, "err", err)
	}
}

// tellReply tells the author of the comment a published reply answers, if they asked.
func (s *Service) tellReply(ctx context.Context, rec *store.Record) {
	built := s.Site()
	if built == nil || rec.Page == "" {
		return
	}
	c := findComment(built.Comments[rec.Page], rec.ID)
	if c == nil || c.Parent == "" {
		return
	}
	sub, err := s.store.Subscription(c.Parent)
	if err != nil || !sub.Active() || !sub.Replies || (!sub.Until.IsZero() && s.now().After(sub.Until)) {
		return
	}
	if own, err := s.store.Subscription(rec.ID); err == nil && strings.EqualFold(own.Email, sub.Email) {
		return // one answering oneself
	}
	if err := s.send(ctx, s.replyNotice(rec, c, sub, built)); err != nil {
		s.log.Error("queueing a reply's notification", "id", rec.ID, "parent", c.Parent, "err", err)
	}
}

func findComment(l []*site.Comment, id string) *site.Comment {
	for _, c := range l {
		if c.ID == id {
			return c
		}
		if r := findComment(c.Replies, id); r != nil {
			return r
		}
	}
	return nil
}

// send hands a message to the mail backend (the spool, which keeps it until delivered).
func (s *Service) send(ctx context.Context, m mail.Message) error {
	if m.From == "" {
		m.From = s.cfg.Service.MailFrom
	}
	return s.mail.Send(ctx, m)
}

// forgetQueued deletes what is still queued for a subscription (its confirmation, its
// notices), so that an unsubscribed person gets none of it.
func (s *Service) forgetQueued(id string) {
	if sp := s.spool(); sp != nil {
		if _, err := sp.ForgetPrefix(id + "."); err != nil {
			s.log.Warn("forgetting queued mail", "id", id, "err", err)
		}
	}
}

// notice is one mail's content, which notice.txt and notice.html render.
type notice struct {
	Lang, Site, Subject, Greeting string
	Paras                         []string
	QuoteLabel, Quote             string
	Items                         []noticeItem
	Action, ActionLabel           string // the text before the link, and the button's
	ActionURL                     string
	Receipt, ReceiptURL           string
	Signature, Why                string
	Unsubscribe, UnsubscribeLabel string
	UnsubscribeURL                string
}

type noticeItem struct{ Title, Meta, URL string }

var (
	mailText = texttemplate.Must(texttemplate.New("notice.txt").Funcs(texttemplate.FuncMap{"quote": quoteText}).ParseFS(templateFS, "templates/mail/notice.txt"))
	mailHTML = htmltemplate.Must(htmltemplate.New("notice.html").ParseFS(templateFS, "templates/mail/notice.html"))
)

func quoteText(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = "> " + strings.TrimRight(l, "\r")
	}
	return strings.Join(lines, "\n")
}

// message renders a notice as a mail to one address.
func (s *Service) message(id, kind, to string, n *notice) mail.Message {
	n.Lang, n.Site = s.mailLang(), s.cfg.Title
	if n.Signature == "" {
		n.Signature = s.cfg.Publisher
		if n.Signature == "" {
			n.Signature = s.cfg.Title
		}
	}
	var text, html bytes.Buffer
	if err := mailText.Execute(&text, n); err != nil {
		s.log.Error("rendering a mail", "kind", kind, "err", err)
	}
	if err := mailHTML.Execute(&html, n); err != nil {
		s.log.Error("rendering a mail", "kind", kind, "err", err)
	}
	return mail.Message{ID: id, Kind: kind, To: to, Subject: oneLine(n.Subject), Body: text.String(), HTML: html.String(), Unsubscribe: n.UnsubscribeURL}
}

// oneLine keeps a header to one line whatever went into it (a page's title, a name).
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f || r == 0x2028 || r == 0x2029 }), " ")
}

func (s *Service) mailLang() string {
	if strings.HasPrefix(s.cfg.Language, "en") {
		return "en"
	}
	return "fr"
}

// mt returns a mail's string in the site's language, formatted with args.
func (s *Service) mt(key string, args ...any) string {
	return mailMsg(s.mailLang(), key, args...)
}

// citizenNotice fills what every mail to a citizen says: the receipt and the unsubscribe
// links, and why they get it.
func (s *Service) citizenNotice(sub *store.Subscription, n *notice) *notice {
	n.Greeting = s.mt("greeting")
	n.Receipt, n.ReceiptURL = s.mt("receipt"), s.statusURL(nil, sub.ID)
	n.Why = s.mt("why_citizen", s.cfg.Title)
	n.Unsubscribe, n.UnsubscribeLabel = s.mt("unsubscribe_text"), s.mt("unsubscribe")
	n.UnsubscribeURL = s.unsubscribeURL(sub.ID)
	return n
}

func (s *Service) unsubscribeURL(id string) string {
	return s.absURL(nil, "/api/v1/subscriptions/"+id+"/unsubscribe?token="+s.token("unsubscribe", id))
}

func (s *Service) confirmURL(id string) string {
	return s.absURL(nil, "/api/v1/subscriptions/"+id+"/confirm?token="+s.token("confirm", id))
}

// what names a submission in a mail: its title, else its first words.
func what(rec *store.Record) string {
	w := rec.Title
	if rec.Page != "" || w == rec.Form || w == "" {
		if e := firstWords(rec.Excerpt); e != "" {
			w = e
		}
	}
	return w
}

func (s *Service) decisionNotice(rec *store.Record, sub *store.Subscription) mail.Message {
	n := &notice{}
	kind := "published"
	if rec.Status == store.Published {
		n.Subject = s.mt("published_subject")
		n.Paras = []string{s.mt("published_lead", what(rec), s.cfg.Title)}
		if sub.Replies {
			n.Paras = append(n.Paras, s.mt("published_replies", int(replyWindow/(24*time.Hour))))
		}
		if rec.URL != "" {
			n.Action, n.ActionLabel, n.ActionURL = s.mt("published_action_text"), s.mt("published_action"), rec.URL
		}
	} else {
		kind = "rejected"
		n.Subject = s.mt("rejected_subject")
		n.Paras = []string{s.mt("rejected_lead", what(rec), s.cfg.Title)}
		n.QuoteLabel, n.Quote = s.mt("reason"), rec.Reason
		n.Paras = append(n.Paras, s.mt("rejected_after"))
	}
	return s.message(rec.ID+".decision", kind, sub.Email, s.citizenNotice(sub, n))
}

func (s *Service) replyNotice(rec *store.Record, c *site.Comment, sub *store.Subscription, built *site.Site) mail.Message {
	page := rec.Page
	if p := built.Page(rec.Page); p != nil {
		page = p.Title
	}
	name := oneLine(c.Name)
	if name == "" {
		name = s.mt("someone")
	}
	n := &notice{Subject: s.mt("reply_subject", page)}
	n.Paras = []string{s.mt("reply_lead", name, page)}
	n.QuoteLabel, n.Quote = s.mt("reply_quote"), firstWords(c.Body)
	if rec.URL != "" {
		n.Action, n.ActionLabel, n.ActionURL = s.mt("reply_action_text"), s.mt("reply_action"), rec.URL
	}
	s.citizenNotice(sub, n)
	n.Why = s.mt("why_replies", s.cfg.Title, sub.Until.In(s.location()).Format("2006-01-02"))
	return s.message(sub.ID+".reply."+rec.ID, "reply", sub.Email, n)
}

// mailMetrics registers the spool's series, when there is one.
func (s *Service) mailMetrics() {
	sp := s.spool()
	if sp == nil {
		return
	}
	stat := func(f func(mail.Stats) float64) func() float64 {
		return func() float64 {
			st, err := sp.Stats()
			if err != nil {
				return 0
			}
			return f(st)
		}
	}
	now := s.now
	s.metrics.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parvis_mail_queued", Help: "Mails waiting for delivery."}, stat(func(st mail.Stats) float64 { return float64(st.Queued) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parvis_mail_oldest_seconds", Help: "Age of the oldest mail waiting for delivery."}, stat(func(st mail.Stats) float64 {
			if st.Oldest.IsZero() {
				return 0
			}
			return now().Sub(st.Oldest).Seconds()
		})),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parvis_mail_delivered_total", Help: "Mails delivered by this process."}, stat(func(st mail.Stats) float64 { return float64(st.Delivered) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parvis_mail_retries_total", Help: "Failed deliveries that will be tried again."}, stat(func(st mail.Stats) float64 { return float64(st.Retried) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parvis_mail_given_up", Help: "Mails given up in the last 30 days (see the log)."}, stat(func(st mail.Stats) float64 { return float64(st.Failed) })),
	)
}
