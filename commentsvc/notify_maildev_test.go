package commentsvc

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parvis/parvis/internal/mail"
	"github.com/parvis/parvis/internal/store"
	"github.com/parvis/parvis/internal/testenv"
)

var hrefRE = regexp.MustCompile(`href="([^"]+)"`)

// onServer moves one of the service's absolute links onto the test server.
func (f *mailFixture) onServer(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(strings.ReplaceAll(raw, "&amp;", "&"))
	if err != nil || u.Host != "www.testville.example" {
		t.Fatalf("a link off the site: %q", raw)
	}
	return f.srv.URL + u.RequestURI()
}

// TestNotificationMaildev proves the whole way to a real SMTP server (maildev, on loopback,
// with AUTH): the confirmation, confirmed through the link of its HTML part; the
// publication's notice with its headers (sender, subject, one-click unsubscribe), both parts
// and their links, which the service answers (the receipt, the publication, the
// unsubscribe by POST as a mail program makes it); the moderators' digest.
func TestNotificationMaildev(t *testing.T) {
	md := testenv.StartMaildev(t, testenv.MaildevOptions{User: "parvis", Password: "s3cret-pass"})
	backend, err := mail.NewSMTPFromURL(fmt.Sprintf("smtp://parvis@127.0.0.1:%d?starttls=0&timeout=5s", md.SMTPPort), "s3cret-pass")
	if err != nil {
		t.Fatal(err)
	}
	f := newMailFixture(t, notifyArchive, backend, WithDigest(time.Hour))
	if err := f.svc.AddModerator("ana", "$2a$10$yS3IMFF3gnHQw.I55Zk2V..ZFhDSLvq8.gw8KiuLxRiQ46RbeMGve"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetModeratorEmail("ana", "ana@mairie.example"); err != nil {
		t.Fatal(err)
	}
	f.run(t)
	id := f.submit(t, map[string]string{"fields[email]": "claire@example.org", "fields[notify]": "oui"})
	f.wait(t, id, store.Pending)

	byTo := func(l []testenv.MaildevMail, to, kind string) *testenv.MaildevMail {
		for i := range l {
			if l[i].To[0].Address == to && strings.Contains(l[i].MessageID, kind) {
				return &l[i]
			}
		}
		return nil
	}
	l := md.WaitEmails(t, 2, 10*time.Second) // the confirmation and the digest
	confirm, digest := byTo(l, "claire@example.org", ".confirm@"), byTo(l, "ana@mairie.example", "digest.")
	if confirm == nil || digest == nil {
		t.Fatalf("received %d mails, want a confirmation and a digest", len(l))
	}
	if !strings.Contains(digest.Text, "/admin/submissions/"+id) || !strings.Contains(digest.HTML, `/admin/submissions/`+id+`"`) {
		t.Errorf("the digest lacks the submission's link:\n%s", digest.Text)
	}
	var confirmLink string
	for _, m := range hrefRE.FindAllStringSubmatch(confirm.HTML, -1) {
		if strings.Contains(m[1], "/confirm?token=") {
			confirmLink = f.onServer(t, m[1])
		}
	}
	if confirmLink == "" || !strings.Contains(confirm.Text, strings.TrimPrefix(confirmLink, f.srv.URL)) {
		t.Fatalf("the confirmation's link is not in both parts:\n%s\n%s", confirm.Text, confirm.HTML)
	}
	if status, _ := call(t, "POST", confirmLink, ""); status != 200 {
		t.Fatalf("confirming: %d", status)
	}
	if _, err := f.svc.Approve(context.Background(), id, "ana"); err != nil {
		t.Fatal(err)
	}
	rec := f.wait(t, id, store.Published)
	var pub *testenv.MaildevMail
	for deadline := time.Now().Add(10 * time.Second); pub == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		pub = byTo(md.Emails(t), "claire@example.org", ".decision@")
	}
	if pub == nil {
		t.Fatal("no publication notice")
	}
	if pub.Subject != "Votre contribution est publiée" || pub.From[0].Address != "noreply@testville.example" || pub.From[0].Name != "Mairie de Testville" ||
		pub.MessageID != id+".decision@testville.example" || pub.Header("auto-submitted") != "auto-generated" {
		t.Errorf("headers: subject %q, from %+v, message-id %q", pub.Subject, pub.From, pub.MessageID)
	}
	unsub := strings.Trim(pub.Header("list-unsubscribe"), "<>")
	if !strings.HasPrefix(unsub, "https://www.testville.example/api/v1/subscriptions/"+id+"/unsubscribe?token=") || pub.Header("list-unsubscribe-post") != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe %q, List-Unsubscribe-Post %q", unsub, pub.Header("list-unsubscribe-post"))
	}
	receipt := f.svc.statusURL(nil, id)
	for _, want := range []string{rec.URL, receipt, unsub} {
		if !strings.Contains(pub.Text, want) || !strings.Contains(pub.HTML, `href="`+strings.ReplaceAll(want, "&", "&amp;")+`"`) {
			t.Errorf("a part lacks the link %s:\n%s\n%s", want, pub.Text, pub.HTML)
		}
	}
	if status, body := call(t, "GET", f.onServer(t, receipt), ""); status != 200 || !strings.Contains(body, "Publié") {
		t.Errorf("the receipt's link: %d", status)
	}
	if status, _ := call(t, "POST", f.onServer(t, unsub), "List-Unsubscribe=One-Click"); status != 200 {
		t.Errorf("one-click unsubscribe: %d", status)
	}
	if l, _ := f.st.SubscriptionsTo("claire@example.org"); len(l) != 0 {
		t.Errorf("the address outlived its last notice: %+v", l)
	}
	if st, _ := f.spool.Stats(); st.Queued != 0 || st.Failed != 0 {
		t.Errorf("the spool after: %+v", st)
	}
}
