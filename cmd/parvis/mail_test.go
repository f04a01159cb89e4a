package main

import (
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
)

// TestModerateAddUserEmail proves that parvis moderate adduser --email keeps the
// moderator's address in the private store, for the digest, and that an address that is not
// a bare one is refused before anything is written.
func TestModerateAddUserEmail(t *testing.T) {
	siteDir := writeSite(t, testSite)
	data := filepath.Join(t.TempDir(), "var")
	const pw = "a password long enough\n"
	code, _, errs := cli(t, pw, "moderate", "adduser", "ana", "--email", "Ana <ana@mairie.example>", "--password-stdin", "--site", siteDir, "--data", data)
	if code != 2 || !strings.Contains(errs, "--email") {
		t.Errorf("a named address: exit %d, %s", code, errs)
	}
	code, out, errs := cli(t, pw, "moderate", "adduser", "bruno", "--email", "bruno@mairie.example", "--password-stdin", "--site", siteDir, "--data", data)
	if code != 0 || !strings.Contains(out, "digest of new submissions goes to bruno@mairie.example") {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	st, err := openStore(siteDir, data, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	if m, _ := st.store.ModeratorEmails(); len(m) != 1 || m["bruno"] != "bruno@mairie.example" {
		t.Errorf("addresses kept: %v", m)
	}
	if l, _ := st.store.Moderators(); len(l) != 1 || l[0].Name != "bruno" {
		t.Errorf("accounts: %+v (the refused one must not exist)", l)
	}
}

// TestServeMailFlags proves that parvis serve refuses, before it starts, an SMTP address
// that holds its password (without repeating it) or a negative digest interval.
func TestServeMailFlags(t *testing.T) {
	siteDir := writeSite(t, testSite)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--smtp-url", "smtp://mairie:hunter2secret@mail.example:587"}, "PARVIS_SMTP_PASSWORD"},
		{[]string{"--smtp-url", "smtp://mairie@mail.example?starttls=0"}, "in clear"},
		{[]string{"--smtp-url", "smtp://mairie@mail.example"}, "has no password"},
		{[]string{"--smtp-url", "smtp://mail.example", "--smtp-password-file", filepath.Join(t.TempDir(), "missing")}, "smtp password file"},
		{[]string{"--digest-minutes", "-5"}, "--digest-minutes"},
	} {
		args := append([]string{"serve", "--site", siteDir, "--addr", "127.0.0.1:0"}, tt.args...)
		code, _, errs := cli(t, "", args...)
		if code == 0 || !strings.Contains(errs, tt.want) || strings.Contains(errs, "hunter2secret") {
			t.Errorf("%v: exit %d, %s", tt.args, code, errs)
		}
	}
}
