package mail

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOutbox(t *testing.T) {
	dir := t.TempDir()
	o, err := NewOutbox(dir)
	if err != nil {
		t.Fatal(err)
	}
	err = o.Send(context.Background(), Message{From: "Mairie <noreply@ville.example>", To: "claire@example.org", Subject: "Votre commentaire est publié", Body: "Bonjour,\nMerci."})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("%d messages in the outbox, want 1", len(files))
	}
	b, _ := os.ReadFile(files[0])
	for _, want := range []string{"To: claire@example.org\r\n", "Subject: =?utf-8?q?Votre_commentaire_est_publi=C3=A9?=\r\n", "\r\n\r\nBonjour,\r\nMerci."} {
		if !strings.Contains(string(b), want) {
			t.Errorf("message lacks %q:\n%s", want, b)
		}
	}
	if err := o.Send(context.Background(), Message{From: "a@b", To: "x@y\r\nBcc: z@w", Subject: "s"}); err == nil {
		t.Error("a header injection was sent")
	}
}
