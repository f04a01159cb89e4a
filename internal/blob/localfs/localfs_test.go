package localfs

import (
	"context"
	"errors"
	"testing"

	"github.com/parvis/parvis/internal/blob"
)

func TestStore(t *testing.T) {
	ctx := context.Background()
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "uploads/01ABC/photo.jpg", []byte("jpeg")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "uploads/01ABC/photo.jpg", []byte("jpeg2")); err != nil {
		t.Fatal(err)
	}
	if b, err := s.Get(ctx, "uploads/01ABC/photo.jpg"); err != nil || string(b) != "jpeg2" {
		t.Fatalf("Get = %q, %v", b, err)
	}
	if err := s.Delete(ctx, "uploads/01ABC/photo.jpg"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "uploads/01ABC/photo.jpg"); err != nil {
		t.Errorf("deleting twice: %v", err)
	}
	if _, err := s.Get(ctx, "uploads/01ABC/photo.jpg"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Get after Delete: %v", err)
	}
	for _, bad := range []string{"", "/etc/passwd", "../x", "a/../../x", "a//b", "a\\b", "./a", "a/."} {
		if err := s.Put(ctx, bad, []byte("x")); err == nil {
			t.Errorf("Put(%q) was accepted", bad)
		}
	}
}
