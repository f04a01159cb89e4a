package commentsvc

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/parvis/parvis/internal/mail"
	"github.com/parvis/parvis/internal/store"
)

// notifyArchive is the test site with the opt-in boxes on its comment form, and a sender.
var notifyArchive = strings.Replace(strings.Replace(siteArchive,
	"      email: {type: email, private: true}\n",
	"      email: {type: email, private: true}\n"+
		"      notify: {type: choice, choices: [\"oui\"], private: true, label: Me prévenir de la publication}\n"+
		"      replies: {type: choice, choices: [\"oui\"], private: true, label: Me prévenir des réponses}\n", 1),
	"language: fr\n", "language: fr\nservice:\n  mailFrom: \"Mairie de Testville <noreply@testville.example>\"\n", 1)

// mailFixture is a service on notifyArchive whose mail goes through a real spool (in a bbolt
// file of its own) to backend, delivering at once.
type mailFixture struct {
	*fixture
	spool *mail.Spool
}

func newMailFixture(t *testing.T, archive string, backend mail.Sender, opts ...Option) *mailFixture {
	t.Helper()
	repoDir, st, all := parts(t, archive, 50*time.Millisecond)
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "mail.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sp, err := mail.NewSpool(db, backend, mail.SpoolOptions{MinDelay: 20 * time.Millisecond, MaxDelay: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(append(append(all, WithAdminToken("admintoken"), WithMail(sp)), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	svc.notes().digestGather = 20 * time.Millisecond
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(srv.Close)
	return &mailFixture{fixture: &fixture{svc: svc, srv: srv, repo: repoDir, st: st}, spool: sp}
}

// waitMail waits until box holds n messages, and returns them.
func waitMail(t *testing.T, box *outbox, n int) []mail.Message {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(box.messages()) < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	msgs := box.messages()
	if len(msgs) < n {
		t.Fatalf("%d messages sent, want %d: %+v", len(msgs), n, msgs)
	}
	return msgs
}

var linkRE = regexp.MustCompile(`https?://[^\s"<>]+`)

// link finds the address in a mail's text that contains part, moved onto the test server.
func (f *mailFixture) link(t *testing.T, m mail.Message, part string) string {
	t.Helper()
	for _, l := range linkRE.FindAllString(m.Body, -1) {
		if strings.Contains(l, part) {
			u, _ := url.Parse(l)
			return f.srv.URL + u.RequestURI()
		}
	}
	t.Fatalf("no link with %q in the mail:\n%s", part, m.Body)
	return ""
}

// call makes a request as a mail program or a browser would: no cookie, no Origin.
func call(t *testing.T, method, u, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestNotificationOptIn proves who is written to after a submission, one case a row: only
// someone who left an address and ticked a box, and then only to confirm the address first
// (double opt-in); an address left without a box ticked is not kept at all.
func TestNotificationOptIn(t *testing.T) {
	tests := []struct {
		name              string
		fields            map[string]string
		confirm           bool
		decision, replies bool
		wish              string
	}{
		{name: "no address", fields: map[string]string{"fields[notify]": "oui"}},
		{name: "an address, no box ticked", fields: map[string]string{"fields[email]": "claire@example.org"}},
		{name: "publication", fields: map[string]string{"fields[email]": "claire@example.org", "fields[notify]": "oui"}, confirm: true, decision: true, wish: "de sa publication ou de son refus."},
		{name: "replies only", fields: map[string]string{"fields[email]": "claire@example.org", "fields[replies]": "oui"}, confirm: true, replies: true, wish: "des réponses à votre commentaire."},
		{name: "both", fields: map[string]string{"fields[email]": "claire@example.org", "fields[notify]": "oui", "fields[replies]": "oui"}, confirm: true, decision: true, replies: true, wish: "puis des réponses"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			box := &outbox{}
			f := newMailFixture(t, notifyArchive, box)
			f.run(t)
			id := f.submit(t, tt.fields)
			f.wait(t, id, store.Pending)
			sub, err := f.st.Subscription(id)
			if !tt.confirm {
				time.Sleep(50 * time.Millisecond)
				if n := len(box.messages()); n != 0 || !errors.Is(err, store.ErrNotFound) {
					t.Errorf("%d messages, subscription %+v", n, sub)
				}
				if p, _ := f.st.Private(id); p["email"] != "" {
					t.Errorf("the address is kept: %v", p)
				}
				return
			}
			if err != nil || sub.Decision != tt.decision || sub.Replies != tt.replies || sub.Active() || sub.Email != "claire@example.org" {
				t.Fatalf("subscription %+v, %v", sub, err)
			}
			m := waitMail(t, box, 1)[0]
			if m.To != "claire@example.org" || m.Subject != "Confirmez votre adresse pour suivre votre contribution" || m.Kind != "confirm" {
				t.Errorf("mail to %q, subject %q", m.To, m.Subject)
			}
			for _, want := range []string{tt.wish, "« Merci pour ces précisions. »", "/api/v1/subscriptions/" + id + "/confirm?token=",
				"/api/v1/submissions/" + id + "?token=" + f.svc.ReceiptToken(id), "/api/v1/subscriptions/" + id + "/unsubscribe?token="} {
				if !strings.Contains(m.Body, want) || !strings.Contains(m.HTML, want) {
					t.Errorf("the mail lacks %q in both parts:\n%s\n%s", want, m.Body, m.HTML)
				}
			}
			if !strings.HasPrefix(m.Unsubscribe, "https://www.testville.example/api/v1/subscriptions/"+id+"/unsubscribe?token=") {
				t.Errorf("List-Unsubscribe: %q", m.Unsubscribe)
			}
		})
	}
}

// TestNotificationFlow proves the life of a subscription through the service's HTTP
// handler: confirmed from the mail's link (GET shows a button, and confirms nothing; POST
// confirms), told of the publication with the link to it and the receipt's, then of a reply;
// unsubscribed in one click by a POST with no cookie, after which nothing of the address
// is left.
func TestNotificationFlow(t *testing.T) {
	box := &outbox{}
	f := newMailFixture(t, notifyArchive, box)
	f.run(t)
	ctx := context.Background()
	a := f.submit(t, map[string]string{"fields[email]": "claire@example.org", "fields[notify]": "oui", "fields[replies]": "oui"})
	f.wait(t, a, store.Pending)
	confirm := waitMail(t, box, 1)[0]
	link := f.link(t, confirm, "/confirm?token=")

	if status, body := call(t, "GET", link, ""); status != 200 || !strings.Contains(body, "Confirmer mon adresse</button>") {
		t.Fatalf("GET confirm: %d\n%s", status, body)
	}
	if sub, _ := f.st.Subscription(a); sub.Active() {
		t.Fatal("following the link confirmed the address: a mail scanner would")
	}
	if status, body := call(t, "POST", link, ""); status != 200 || !strings.Contains(body, "Adresse confirmée") {
		t.Fatalf("POST confirm: %d\n%s", status, body)
	}
	if sub, _ := f.st.Subscription(a); !sub.Active() {
		t.Fatal("not confirmed")
	}

	if _, err := f.svc.Approve(ctx, a, "ana"); err != nil {
		t.Fatal(err)
	}
	pub := f.wait(t, a, store.Published)
	published := waitMail(t, box, 2)[1]
	if published.Subject != "Votre contribution est publiée" || !strings.Contains(published.Body, pub.URL) || !strings.Contains(published.HTML, `href="`+pub.URL+`"`) ||
		!strings.Contains(published.Body, f.svc.ReceiptToken(a)) || !strings.Contains(published.Body, "pendant 90 jours") {
		t.Errorf("the publication's notice:\n%s", published.Body)
	}
	sub, err := f.st.Subscription(a)
	if err != nil || sub.Until.IsZero() {
		t.Fatalf("the subscription for replies: %+v %v", sub, err)
	}

	// Bob replies, then replies to himself: Claire hears of the first reply only.
	b := f.submit(t, map[string]string{"options[parent]": a, "fields[name]": "Bob", "fields[message]": "Je ne suis pas d’accord.", "fields[email]": "bob@example.org", "fields[replies]": "oui"})
	f.wait(t, b, store.Pending)
	waitMail(t, box, 3) // Bob's confirmation
	if _, err := f.svc.Approve(ctx, b, "ana"); err != nil {
		t.Fatal(err)
	}
	f.wait(t, b, store.Published)
	reply := waitMail(t, box, 4)[3]
	if reply.To != "claire@example.org" || reply.Subject != "Nouvelle réponse à votre commentaire sur « Le budget »" ||
		!strings.Contains(reply.Body, "Bob a répondu") || !strings.Contains(reply.Body, "> Je ne suis pas d’accord.") || !strings.Contains(reply.Body, "#comment-"+b) {
		t.Errorf("the reply's notice to %s: %s\n%s", reply.To, reply.Subject, reply.Body)
	}

	unsub := f.link(t, reply, "/unsubscribe?token=")
	if status, body := call(t, "GET", unsub, ""); status != 200 || !strings.Contains(body, `name="List-Unsubscribe" value="One-Click"`) {
		t.Errorf("GET unsubscribe: %d\n%s", status, body)
	}
	if _, err := f.st.Subscription(a); err != nil {
		t.Fatal("the GET unsubscribed")
	}
	if status, _ := call(t, "POST", unsub, "List-Unsubscribe=One-Click"); status != 200 {
		t.Errorf("one-click unsubscribe: %d", status)
	}
	if l, _ := f.st.SubscriptionsTo("claire@example.org"); len(l) != 0 {
		t.Errorf("the address is still kept: %+v", l)
	}
	if status, _ := call(t, "POST", unsub, "List-Unsubscribe=One-Click"); status != 200 {
		t.Errorf("unsubscribing twice: %d", status)
	}
	if l, _ := f.spool.Queued("claire@example.org"); len(l) != 0 {
		t.Errorf("mail still queued for the address: %d", len(l))
	}
	// No address went to Git, in any branch or commit (DESIGN.md, principle 2).
	out, err := exec.Command("git", "-C", f.repo, "log", "--all", "-p").CombinedOutput()
	if err != nil {
		t.Fatal(err, string(out))
	}
	if strings.Contains(string(out), "@example.org") || !strings.Contains(string(out), "Je ne suis pas d’accord.") {
		t.Error("an address is in the repository's history, or the history is not the one searched")
	}
	// The spool's series, for the operator's monitoring.
	got := map[string]float64{}
	mfs, _ := f.svc.Metrics().Gather()
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "parvis_mail_") {
			m := mf.GetMetric()[0]
			got[mf.GetName()] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	if got["parvis_mail_delivered_total"] < 4 || got["parvis_mail_queued"] != 0 || len(got) != 5 {
		t.Errorf("mail series: %v", got)
	}
}

// TestNotificationDecisionBeforeConfirmation proves that a decision made before the address
// is confirmed is held, told at once on confirmation (a rejection with its reason), and that
// the address goes with it.
func TestNotificationDecisionBeforeConfirmation(t *testing.T) {
	box := &outbox{}
	f := newMailFixture(t, notifyArchive, box)
	f.run(t)
	a := f.submit(t, map[string]string{"fields[email]": "claire@example.org", "fields[notify]": "oui"})
	f.wait(t, a, store.Pending)
	confirm := waitMail(t, box, 1)[0]
	if _, err := f.svc.Reject(context.Background(), a, "ana", "Ce message est sans rapport avec la page."); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(box.messages()); n != 1 {
		t.Fatalf("%d messages before the confirmation, want only the confirmation", n)
	}
	if status, _ := call(t, "POST", f.link(t, confirm, "/confirm?token="), ""); status != 200 {
		t.Fatalf("confirm: %d", status)
	}
	rej := waitMail(t, box, 2)[1]
	if rej.Subject != "Votre contribution n’a pas été publiée" || !strings.Contains(rej.Body, "> Ce message est sans rapport avec la page.") ||
		!strings.Contains(rej.HTML, "Ce message est sans rapport avec la page.") || !strings.Contains(rej.Body, f.svc.ReceiptToken(a)) {
		t.Errorf("the rejection's notice:\n%s", rej.Body)
	}
	if _, err := f.st.Subscription(a); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the subscription outlived its last notice: %v", err)
	}
}

// TestNotificationLinksRefuseBadTokens proves that the mails' links act only with their own
// token: any other answers the same page as an expired link and changes nothing.
func TestNotificationLinksRefuseBadTokens(t *testing.T) {
	box := &outbox{}
	f := newMailFixture(t, notifyArchive, box)
	f.run(t)
	a := f.submit(t, map[string]string{"fields[email]": "claire@example.org", "fields[notify]": "oui"})
	f.wait(t, a, store.Pending)
	waitMail(t, box, 1)
	good := f.svc.token("unsubscribe", a)
	for _, u := range []string{
		"/api/v1/subscriptions/" + a + "/confirm?token=" + good, // another purpose's token
		"/api/v1/subscriptions/" + a + "/confirm",
		"/api/v1/subscriptions/" + a + "/unsubscribe?token=" + good[:len(good)-1] + "A",
		"/api/v1/subscriptions/" + a + "/unsubscribe?token=" + f.svc.ReceiptToken(a),
		"/api/v1/subscriptions/OTHER/unsubscribe?token=" + good,
		"/api/v1/digest/ana/unsubscribe?token=" + good,
	} {
		if status, body := call(t, "POST", f.srv.URL+u, "List-Unsubscribe=One-Click"); status != 404 || !strings.Contains(body, "Lien expiré") {
			t.Errorf("POST %s: %d", u, status)
		}
	}
	if sub, err := f.st.Subscription(a); err != nil || sub.Active() {
		t.Errorf("the subscription changed: %+v %v", sub, err)
	}
}

// TestNotificationConfirmationFlood proves that the forms cannot flood someone's mailbox
// with confirmations: an address gets three a day, whatever is submitted with it.
func TestNotificationConfirmationFlood(t *testing.T) {
	box := &outbox{}
	f := newMailFixture(t, notifyArchive, box)
	f.run(t)
	var ids []string
	for i := range 5 {
		ids = append(ids, f.submit(t, map[string]string{"fields[email]": "victim@example.org", "fields[notify]": "oui", "fields[message]": "Message " + string(rune('A'+i))}))
	}
	for _, id := range ids {
		f.wait(t, id, store.Pending)
	}
	waitMail(t, box, confirmsPerDay)
	time.Sleep(100 * time.Millisecond)
	if n := len(box.messages()); n != confirmsPerDay {
		t.Errorf("%d confirmations to one address, want %d", n, confirmsPerDay)
	}
	if l, _ := f.st.SubscriptionsTo("victim@example.org"); len(l) != confirmsPerDay {
		t.Errorf("%d subscriptions kept, want %d (the others' address is not kept)", len(l), confirmsPerDay)
	}
}

// TestNotificationEnglish proves that mails are in the site's language.
func TestNotificationEnglish(t *testing.T) {
	box := &outbox{}
	f := newMailFixture(t, strings.Replace(notifyArchive, "language: fr\n", "language: en\n", 1), box)
	f.run(t)
	a := f.submit(t, map[string]string{"fields[email]": "claire@example.org", "fields[notify]": "oui"})
	f.wait(t, a, store.Pending)
	m := waitMail(t, box, 1)[0]
	if m.Subject != "Confirm your address to follow your submission" || !strings.Contains(m.HTML, "Confirm my address</a>") || !strings.Contains(m.HTML, `<html lang="en">`) {
		t.Errorf("%s\n%s", m.Subject, m.Body)
	}
}

// TestDigest proves the moderators' digest: every new submission is listed once, with a
// link to it in the moderation pages, in mails to each moderator with an address, never two
// within the interval; and the digest's one-click unsubscribe deletes the address.
func TestDigest(t *testing.T) {
	box := &outbox{}
	const every = 600 * time.Millisecond
	f := newMailFixture(t, notifyArchive, box, WithDigest(every))
	if err := f.svc.AddModerator("ana", "$2a$10$yS3IMFF3gnHQw.I55Zk2V..ZFhDSLvq8.gw8KiuLxRiQ46RbeMGve"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetModeratorEmail("ana", "Ana <ana@mairie.example>"); err == nil {
		t.Error("a named address was taken for a bare one")
	}
	if err := f.svc.SetModeratorEmail("ana", "ana@mairie.example"); err != nil {
		t.Fatal(err)
	}
	f.run(t)
	var ids []string
	for i := range 4 {
		ids = append(ids, f.submit(t, map[string]string{"fields[message]": "Message " + string(rune('A'+i))}))
		time.Sleep(150 * time.Millisecond)
	}
	listed := map[string]int{}
	var digests []mail.Message
	deadline := time.Now().Add(10 * time.Second)
	for len(listed) < len(ids) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		digests = box.messages()
		clear(listed)
		for _, m := range digests {
			for _, id := range ids {
				if strings.Contains(m.Body, "/admin/submissions/"+id+"\n") && strings.Contains(m.HTML, `href="https://www.testville.example/admin/submissions/`+id+`"`) {
					listed[id]++
				}
			}
		}
	}
	if len(digests) < 2 {
		t.Fatalf("%d digests for submissions spread over %s, want at least 2", len(digests), 4*150*time.Millisecond)
	}
	for _, id := range ids {
		if listed[id] != 1 {
			t.Errorf("%s listed in %d digests, want 1", id, listed[id])
		}
	}
	for i, m := range digests {
		if m.To != "ana@mairie.example" || m.Kind != "digest" || !strings.Contains(m.Subject, "contribution(s) à modérer") {
			t.Errorf("digest to %s: %s", m.To, m.Subject)
		}
		if i > 0 {
			if gap := m.Date.Sub(digests[i-1].Date); gap < every {
				t.Errorf("digest %d came %s after the one before, want at least %s", i, gap, every)
			}
		}
	}
	last := digests[len(digests)-1]
	if status, _ := call(t, "POST", f.link(t, last, "/api/v1/digest/ana/unsubscribe?token="), "List-Unsubscribe=One-Click"); status != 200 {
		t.Errorf("unsubscribing from the digest: %d", status)
	}
	if m, _ := f.st.ModeratorEmails(); m["ana"] != "" {
		t.Error("the moderator's address is kept after unsubscribing")
	}
}

// TestForgetAddress proves the hook an erasure uses: every subscription of an address, the
// mail queued for it and a moderator's digest address go; others stay.
func TestForgetAddress(t *testing.T) {
	down := &failing{err: mail.Unavailable(errors.New("connection refused"))} // mail stays queued
	f := newMailFixture(t, notifyArchive, down)
	if err := f.svc.AddModerator("ana", "$2a$10$yS3IMFF3gnHQw.I55Zk2V..ZFhDSLvq8.gw8KiuLxRiQ46RbeMGve"); err != nil {
		t.Fatal(err)
	}
	_ = f.svc.SetModeratorEmail("ana", "claire@example.org")
	f.run(t)
	a := f.submit(t, map[string]string{"fields[email]": "claire@example.org", "fields[notify]": "oui"})
	b := f.submit(t, map[string]string{"fields[email]": "bob@example.org", "fields[notify]": "oui"})
	f.wait(t, a, store.Pending)
	f.wait(t, b, store.Pending)
	if l, _ := f.svc.Subscriptions("CLAIRE@example.org"); len(l) != 1 || l[0].ID != a {
		t.Fatalf("claire's subscriptions: %+v", l)
	}
	if l, _ := f.spool.Queued("claire@example.org"); len(l) == 0 {
		t.Fatal("no mail queued for the address to forget")
	}
	if n, err := f.svc.ForgetAddress("claire@example.org"); n != 1 || err != nil {
		t.Errorf("forgot %d, %v", n, err)
	}
	if l, _ := f.spool.Queued("claire@example.org"); len(l) != 0 {
		t.Errorf("%d mails still queued for the address", len(l))
	}
	if m, _ := f.st.ModeratorEmails(); m["ana"] != "" {
		t.Error("the moderator's address with it is kept")
	}
	if l, _ := f.svc.Subscriptions("bob@example.org"); len(l) != 1 {
		t.Error("another person's subscription went too")
	}
}

// failing is a mail backend that fails every delivery with err.
type failing struct{ err error }

func (s *failing) Send(context.Context, mail.Message) error { return s.err }
