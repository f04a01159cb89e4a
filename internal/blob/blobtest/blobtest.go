// Package blobtest is the conformance suite that every blob.Store implementation runs.
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/parvis/parvis/internal/blob"
)

// NewFunc returns a new, empty store. Each call's store must not see another's keys.
type NewFunc func(t *testing.T) blob.Store

// Run runs the suite against the stores newStore makes.
func Run(t *testing.T, newStore NewFunc) {
	tests := []struct {
		name string
		run  func(*testing.T, blob.Store)
	}{
		{"PutGet", testPutGet},
		{"Overwrite", testOverwrite},
		{"Missing", testMissing},
		{"Delete", testDelete},
		{"Payloads", testPayloads},
		{"Keys", testKeys},
		{"InvalidKeys", testInvalidKeys},
		{"Isolation", nil},
		{"Concurrent", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.run == nil {
				testIsolation(t, newStore(t), newStore(t))
				return
			}
			tc.run(t, newStore(t))
		})
	}
}

var ctx = context.Background()

func mustPut(t *testing.T, s blob.Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(ctx, key, data); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func mustGet(t *testing.T, s blob.Store, key string, want []byte) {
	t.Helper()
	got, err := s.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %d bytes %.40q, want %d bytes %.40q", key, len(got), got, len(want), want)
	}
}

func mustMiss(t *testing.T, s blob.Store, key string) {
	t.Helper()
	if b, err := s.Get(ctx, key); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Get(%q) of a missing key = %q, %v; want blob.ErrNotFound", key, b, err)
	}
}

func testPutGet(t *testing.T, s blob.Store) {
	mustPut(t, s, "uploads/01ABC/photo.jpg", []byte("jpeg"))
	mustGet(t, s, "uploads/01ABC/photo.jpg", []byte("jpeg"))
}

func testOverwrite(t *testing.T, s blob.Store) {
	mustPut(t, s, "uploads/01ABC/a.pdf", []byte("the first, longer version"))
	mustPut(t, s, "uploads/01ABC/a.pdf", []byte("second"))
	mustGet(t, s, "uploads/01ABC/a.pdf", []byte("second"))
}

func testMissing(t *testing.T, s blob.Store) {
	mustMiss(t, s, "uploads/none/x")
	mustPut(t, s, "uploads/some/x", []byte("x"))
	mustMiss(t, s, "uploads/some/y")
	mustMiss(t, s, "uploads/some") // a folder of keys is not a key
	if err := s.Delete(ctx, "uploads/none/x"); err != nil {
		t.Errorf("deleting a missing key: %v", err)
	}
}

func testDelete(t *testing.T, s blob.Store) {
	mustPut(t, s, "uploads/01ABC/a", []byte("a"))
	mustPut(t, s, "uploads/01ABC/b", []byte("b"))
	if err := s.Delete(ctx, "uploads/01ABC/a"); err != nil {
		t.Fatal(err)
	}
	mustMiss(t, s, "uploads/01ABC/a")
	mustGet(t, s, "uploads/01ABC/b", []byte("b")) // a sibling stays
	if err := s.Delete(ctx, "uploads/01ABC/a"); err != nil {
		t.Errorf("deleting twice: %v", err)
	}
	if err := s.Delete(ctx, "uploads/01ABC/b"); err != nil {
		t.Fatal(err)
	}
	mustMiss(t, s, "uploads/01ABC/b")
	// The emptied folder takes a new key again.
	mustPut(t, s, "uploads/01ABC/c", []byte("c"))
	mustGet(t, s, "uploads/01ABC/c", []byte("c"))
}

func testPayloads(t *testing.T, s blob.Store) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 6<<20/16) // over S3's 5 MB part size
	for key, data := range map[string][]byte{
		"empty": {}, "bytes": all, "big": big, "crlf": []byte("a\r\nb\r\n"),
	} {
		mustPut(t, s, "p/"+key, data)
		mustGet(t, s, "p/"+key, data)
	}
}

// testKeys: the names citizens' files get are kept as they are, with their spaces, accents
// and dots.
func testKeys(t *testing.T, s blob.Store) {
	for i, key := range []string{
		"a", "uploads/01ABC/Compte rendu (final).pdf", "uploads/01ABC/été 2026.jpg",
		"uploads/01ABC/.hidden", "uploads/01ABC/x..y", "uploads/01ABC/a+b=c&d",
		"deep/a/b/c/d/e/f/g/h", "uploads/01ABC/%2e%2e",
	} {
		data := []byte(fmt.Sprintf("data %d", i))
		mustPut(t, s, key, data)
		mustGet(t, s, key, data)
	}
}

func testInvalidKeys(t *testing.T, s blob.Store) {
	for _, bad := range []string{"", "/etc/passwd", "../x", "a/../../x", "a//b", "a\\b", "./a", "a/.", "a/", "a\x00b", string(bytes.Repeat([]byte("k"), 600))} {
		if err := s.Put(ctx, bad, []byte("x")); err == nil {
			t.Errorf("Put(%q) was accepted", bad)
		}
		if _, err := s.Get(ctx, bad); err == nil || errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Get(%q) = %v, want a refusal", bad, err)
		}
		if err := s.Delete(ctx, bad); err == nil {
			t.Errorf("Delete(%q) was accepted", bad)
		}
	}
}

// testIsolation: two stores (two folders, two prefixes) do not share keys.
func testIsolation(t *testing.T, a, b blob.Store) {
	mustPut(t, a, "uploads/k", []byte("a"))
	mustMiss(t, b, "uploads/k")
	mustPut(t, b, "uploads/k", []byte("b"))
	mustGet(t, a, "uploads/k", []byte("a"))
	if err := b.Delete(ctx, "uploads/k"); err != nil {
		t.Fatal(err)
	}
	mustGet(t, a, "uploads/k", []byte("a"))
}

func testConcurrent(t *testing.T, s blob.Store) {
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 10 {
				key := fmt.Sprintf("uploads/%d/%d", w, i%3)
				data := []byte(fmt.Sprintf("%d-%d", w, i))
				if err := s.Put(ctx, key, data); err != nil {
					t.Error(err)
					return
				}
				got, err := s.Get(ctx, key)
				if err != nil || !bytes.Equal(got, data) {
					t.Errorf("Get(%q) = %q, %v; want %q", key, got, err, data)
					return
				}
				if i%2 == 1 {
					if err := s.Delete(ctx, key); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}
