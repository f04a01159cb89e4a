package commentsvc

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parvis/parvis/internal/mail"
	"github.com/parvis/parvis/internal/store"
)

// outbox keeps sent messages in memory.
type outbox struct {
	mu   sync.Mutex
	sent []mail.Message
}

func (o *outbox) Send(_ context.Context, m mail.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, m)
	return nil
}

func (o *outbox) messages() []mail.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]mail.Message(nil), o.sent...)
}

func (f *fixture) submit(t *testing.T, overrides map[string]string) string {
	t.Helper()
	res := f.post(t, "/api/v1/entries/comment", form, f.comment(overrides).Encode(), map[string]string{"Accept": "application/json"})
	var a map[string]string
	json.NewDecoder(res.Body).Decode(&a)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("submit: %d %v", res.StatusCode, a)
	}
	return a["id"]
}

func (f *fixture) wait(t *testing.T, id string, status store.Status) *store.Record {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if r, err := f.st.Get(id); err == nil && r.Status == status {
			return r
		}
	}
	r, _ := f.st.Get(id)
	t.Fatalf("%s never reached %s: %+v", id, status, r)
	return nil
}

func TestModeration(t *testing.T) {
	box := &outbox{}
	f := newFixture(t, WithMail(box))
	f.svc.cfg.Service.MailFrom = "Mairie <noreply@testville.example>"
	f.run(t)
	ctx := context.Background()

	a := f.submit(t, map[string]string{"fields[email]": "claire@example.org", "fields[message]": "Un **premier** message."})
	b := f.submit(t, map[string]string{"fields[email]": "bob@example.org", "fields[message]": "Un second message."})
	f.wait(t, a, store.Pending)
	f.wait(t, b, store.Pending)

	sub, err := f.svc.Get(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(sub.Preview), "<strong>premier</strong>") || !strings.Contains(sub.Diff, `+message: "Un **premier** message."`) {
		t.Errorf("preview %q\ndiff %q", sub.Preview, sub.Diff)
	}
	if strings.Contains(sub.Diff, "claire@example.org") {
		t.Error("the e-mail address is in the change")
	}

	if _, err := f.svc.Reject(ctx, b, "ana", "  "); !errors.Is(err, ErrReason) {
		t.Errorf("a blank reason: %v", err)
	}
	if _, err := f.svc.Reject(ctx, "nope", "ana", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("an unknown id: %v", err)
	}
	if _, err := f.svc.Approve(ctx, a, "ana"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Approve(ctx, a, "ana"); !errors.Is(err, ErrNotPending) {
		t.Errorf("approving twice: %v", err)
	}
	if _, err := f.svc.Reject(ctx, b, "ana", "Hors sujet"); err != nil {
		t.Fatal(err)
	}
	pub := f.wait(t, a, store.Published)
	if pub.Moderator != "ana" || !strings.HasSuffix(pub.URL, "/articles/budget/#comment-"+a) {
		t.Errorf("published record: %+v", pub)
	}
	// The comment is on the main branch's worktree, the citizen was told, and the address
	// is forgotten.
	files, _ := filepath.Glob(filepath.Join(f.repo, "comments/articles/budget", a+".yaml"))
	if len(files) != 1 {
		t.Errorf("the approved comment is not in the worktree")
	} else if b, _ := os.ReadFile(files[0]); strings.Contains(string(b), "@") {
		t.Errorf("the comment file holds an address:\n%s", b)
	}
	// Both left an address without ticking a box to be told (this form has none): no mail
	// goes to an address nobody confirmed (double opt-in, TestNotifications), and the
	// addresses were never kept.
	if msgs := box.messages(); len(msgs) != 0 {
		t.Errorf("%d messages sent to addresses that asked for none: %+v", len(msgs), msgs)
	}
	for _, id := range []string{a, b} {
		if subs, _ := f.st.SubscriptionsTo(map[string]string{a: "claire@example.org", b: "bob@example.org"}[id]); len(subs) != 0 {
			t.Errorf("a subscription of %s kept: %+v", id, subs)
		}
	}
	for _, id := range []string{a, b} {
		p, _ := f.st.Private(id)
		for deadline := time.Now().Add(5 * time.Second); p != nil && time.Now().Before(deadline); p, _ = f.st.Private(id) {
			time.Sleep(10 * time.Millisecond)
		}
		if p != nil {
			t.Errorf("private fields of %s kept after the decision: %v", id, p)
		}
	}
}

func TestOrphanReply(t *testing.T) {
	f := newFixture(t)
	f.run(t)
	ctx := context.Background()
	// A reply to c1 (published) is fine; a reply whose parent is then deleted from the site
	// (here: never published) must not land, or the build would stop.
	id := f.submit(t, map[string]string{"options[parent]": "c1"})
	f.wait(t, id, store.Pending)
	if err := os.Remove(filepath.Join(f.repo, "comments/articles/budget/c1.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Publish(ctx); err != nil { // the site as rebuilt has no c1 any more
		t.Fatal(err)
	}
	if _, err := f.svc.Approve(ctx, id, "ana"); !errors.Is(err, ErrOrphan) {
		t.Errorf("approving an orphan reply: %v", err)
	}
}

func TestAdminAPI(t *testing.T) {
	f := newFixture(t)
	f.run(t)
	id := f.submit(t, nil)
	f.wait(t, id, store.Pending)
	call := func(method, path, token, body string) (int, string) {
		req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	tests := []struct {
		method, path, token, body string
		status                    int
		want                      string
	}{
		{"GET", "/admin/api/submissions", "", "", 401, "unauthorized"},
		{"GET", "/admin/api/submissions", "wrong", "", 401, "unauthorized"},
		{"GET", "/admin/api/submissions?status=pending", "admintoken", "", 200, id},
		{"GET", "/admin/api/submissions/" + id, "admintoken", "", 200, "diff"},
		{"GET", "/admin/api/submissions/nope", "admintoken", "", 404, "no such submission"},
		{"POST", "/admin/api/submissions/" + id + "/reject", "admintoken", `{}`, 400, "reason"},
		{"POST", "/admin/api/submissions/" + id + "/reject", "admintoken", `{"reason": "Doublon", "moderator": "cli"}`, 200, "rejected"},
		// Issue 11, point 5: a decision from the command line names who made it.
		{"POST", "/admin/api/submissions/" + id + "/approve", "admintoken", "", 400, "moderator"},
		{"POST", "/admin/api/submissions/" + id + "/reject", "admintoken", `{"reason": "Doublon"}`, 400, "moderator"},
		{"POST", "/admin/api/submissions/" + id + "/approve?moderator=cli", "admintoken", "", 409, "not awaiting"},
		{"PUT", "/admin/api/moderators/ana", "admintoken", `{"hash": "plain"}`, 400, "bcrypt"},
		{"PUT", "/admin/api/moderators/ana", "admintoken", `{"hash": "$2a$10$yS3IMFF3gnHQw.I55Zk2V..ZFhDSLvq8.gw8KiuLxRiQ46RbeMGve"}`, 200, "ana"},
		{"DELETE", "/admin/api/moderators/ana", "admintoken", "", 200, "ana"},
		{"DELETE", "/admin/api/moderators/ana", "admintoken", "", 404, "not found"},
	}
	for _, tt := range tests {
		status, body := call(tt.method, tt.path, tt.token, tt.body)
		if status != tt.status || !strings.Contains(body, tt.want) {
			t.Errorf("%s %s: %d %s, want %d with %q", tt.method, tt.path, status, body, tt.status, tt.want)
		}
	}
}

// TestReconcile decides two changes with plain Git while the service is down: the merged
// one is published when the service starts again, the deleted one rejected.
func TestReconcile(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = f.svc.Run(ctx) }()
	a := f.submit(t, map[string]string{"fields[message]": "Fusionné à la main."})
	b := f.submit(t, map[string]string{"fields[message]": "Supprimé à la main."})
	f.wait(t, a, store.Pending)
	f.wait(t, b, store.Pending)
	cancel()
	<-done

	git := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = f.repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=E", "GIT_AUTHOR_EMAIL=e@x.example", "GIT_COMMITTER_NAME=E", "GIT_COMMITTER_EMAIL=e@x.example")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("merge", "--ff-only", "parvis/"+a)
	git("branch", "-D", "parvis/"+a, "parvis/"+b)
	if err := f.svc.Publish(context.Background()); err != nil { // the site as an editor's rebuild leaves it
		t.Fatal(err)
	}
	f.run(t)
	f.wait(t, a, store.Published)
	rej := f.wait(t, b, store.Rejected)
	if rej.Reason == "" {
		t.Error("the rejected record has no reason")
	}
}
