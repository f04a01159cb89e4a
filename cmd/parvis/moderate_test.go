package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parvis/parvis/commentsvc"
	"github.com/parvis/parvis/internal/store"
)

// cli runs a parvis command in-process and returns its exit code and output.
func cli(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}, args)
	return code, out.String(), errb.String()
}

// TestModerateOffline moderates with no server running: the command opens the store itself
// and rebuilds the site after an approval.
func TestModerateOffline(t *testing.T) {
	siteDir := writeSite(t, testSite)
	data := filepath.Join(t.TempDir(), "var")
	// Make a store with two pending submissions, then stop the server that made them.
	st, err := openState(siteDir, data, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := st.service(commentsvc.WithChallenge(false))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(serveMux(st, svc))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = svc.Run(ctx) }()
	tsrv := &testServer{Server: srv, st: st, svc: svc}
	// Two page loads: a token carries one submission.
	tokens := []string{tsrv.formToken(t, "/articles/budget/"), tsrv.formToken(t, "/articles/budget/")}
	time.Sleep(1100 * time.Millisecond)
	var ids []string
	for i, text := range []string{"Premier avis.", "Second avis."} {
		res := tsrv.post(t, "comment", comment(tokens[i], "Claire M.", text), "application/json")
		var a map[string]string
		json.NewDecoder(res.Body).Decode(&a)
		res.Body.Close()
		ids = append(ids, a["id"])
	}
	for _, id := range ids {
		tsrv.waitStatus(t, id, store.Pending)
	}
	srv.Close()
	cancel()
	<-done
	st.close()

	code, out, errs := cli(t, "", "moderate", "list", "--site", siteDir, "--data", data)
	if code != 0 || !strings.Contains(out, ids[0]) || !strings.Contains(out, ids[1]) {
		t.Fatalf("list: %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = cli(t, "", "moderate", "show", ids[0], "--site", siteDir, "--data", data)
	if code != 0 || !strings.Contains(out, "Premier avis.") {
		t.Errorf("show: %d\n%s", code, out)
	}
	if code, _, errs = cli(t, "", "moderate", "reject", ids[1], "--site", siteDir, "--data", data); code != 2 || !strings.Contains(errs, "--reason") {
		t.Errorf("reject without a reason: %d %s", code, errs)
	}
	if code, out, errs = cli(t, "", "moderate", "reject", ids[1], "--reason", "Doublon", "--json", "--site", siteDir, "--data", data); code != 0 || !strings.Contains(out, `"status": "rejected"`) {
		t.Errorf("reject: %d\n%s\n%s", code, out, errs)
	}
	if code, out, errs = cli(t, "", "moderate", "approve", ids[0], "--as", "ana", "--json", "--site", siteDir, "--data", data); code != 0 || !strings.Contains(out, `"status": "published"`) {
		t.Errorf("approve: %d\n%s\n%s", code, out, errs)
	}
	page, err := os.ReadFile(filepath.Join(data, "public", "articles", "budget", "index.html"))
	if err != nil || !strings.Contains(string(page), "Premier avis.") {
		t.Errorf("the rebuilt page lacks the approved comment (%v)", err)
	}
	if code, out, _ = cli(t, "", "moderate", "list", "--site", siteDir, "--data", data); code != 0 || !strings.Contains(out, "Nothing to moderate") {
		t.Errorf("list after decisions: %d\n%s", code, out)
	}
	if code, _, errs = cli(t, "court\n", "moderate", "adduser", "ana", "--password-stdin", "--site", siteDir, "--data", data); code == 0 {
		t.Errorf("a short password was taken")
	}
	if code, out, errs = cli(t, "un mot de passe assez long\n", "moderate", "adduser", "ana", "--password-stdin", "--site", siteDir, "--data", data); code != 0 {
		t.Errorf("adduser: %d %s %s", code, out, errs)
	}
	if code, _, errs = cli(t, "", "moderate", "frobnicate", "--site", siteDir); code != 2 {
		t.Errorf("an unknown action: %d %s", code, errs)
	}
}

// TestModerateThroughServer moderates while a server holds the store: the command goes
// through its admin API.
func TestModerateThroughServer(t *testing.T) {
	siteDir := writeSite(t, testSite)
	ts := startServer(t, siteDir)
	if err := ts.st.announce(ts.URL); err != nil {
		t.Fatal(err)
	}
	token := ts.formToken(t, "/articles/budget/")
	time.Sleep(1100 * time.Millisecond)
	res := ts.post(t, "comment", comment(token, "Claire M.", "Par le serveur."), "application/json")
	var a map[string]string
	json.NewDecoder(res.Body).Decode(&a)
	res.Body.Close()
	ts.waitStatus(t, a["id"], store.Pending)
	data := ts.st.dataDir

	code, out, errs := cli(t, "", "moderate", "list", "--json", "--site", siteDir, "--data", data)
	if code != 0 || !strings.Contains(out, a["id"]) {
		t.Fatalf("list through the server: %d\n%s\n%s", code, out, errs)
	}
	if code, out, errs = cli(t, "", "moderate", "approve", a["id"], "--site", siteDir, "--data", data); code != 0 {
		t.Fatalf("approve through the server: %d\n%s\n%s", code, out, errs)
	}
	ts.waitStatus(t, a["id"], store.Published)
	if code, _, errs = cli(t, "un mot de passe assez long\n", "moderate", "adduser", "bea", "--password-stdin", "--site", siteDir, "--data", data); code != 0 {
		t.Errorf("adduser through the server: %d %s", code, errs)
	}
	if _, err := ts.st.store.Moderator("bea"); err != nil {
		t.Errorf("the account is not in the server's store: %v", err)
	}
}
