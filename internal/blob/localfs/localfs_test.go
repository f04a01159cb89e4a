package localfs

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/parvis/parvis/internal/blob"
)

func TestStore(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := New(root)
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
	// Finding 10 of the hostile-input review: deleted uploads left their folders behind.
	if _, err := os.Stat(filepath.Join(root, "uploads")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the emptied folders are left: %v", err)
	}
	if _, err := os.Stat(root); err != nil {
		t.Errorf("the root went with them: %v", err)
	}
	if err := s.Put(ctx, "uploads/01ABC/a", []byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "uploads/01ABC/b", []byte("b")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "uploads/01ABC/a"); err != nil {
		t.Fatal(err)
	}
	if b, err := s.Get(ctx, "uploads/01ABC/b"); err != nil || string(b) != "b" {
		t.Errorf("a sibling of a deleted blob: %q, %v", b, err)
	}
	for _, bad := range []string{"", "/etc/passwd", "../x", "a/../../x", "a//b", "a\\b", "./a", "a/."} {
		if err := s.Put(ctx, bad, []byte("x")); err == nil {
			t.Errorf("Put(%q) was accepted", bad)
		}
	}
}

// TestPutDeleteRace puts and deletes blobs of many folders at once: a Delete removing an
// emptied folder must never make a Put fail.
func TestPutDeleteRace(t *testing.T) {
	ctx := context.Background()
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 200 {
				key := "uploads/" + string(rune('a'+i)) + string(rune('a'+j%26)) + "/0"
				if err := s.Put(ctx, key, []byte("x")); err != nil {
					t.Error(err)
					return
				}
				if err := s.Delete(ctx, key); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
