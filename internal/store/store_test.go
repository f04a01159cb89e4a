package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func open(t *testing.T) *Store {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "s.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := New(db)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRecords(t *testing.T) {
	s := open(t)
	for i, st := range []Status{Pending, Published, Pending, Rejected} {
		id := string(rune('a' + i))
		if err := s.Put(&Record{ID: id, Form: "comment", Status: st}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		before string
		n      int
		st     []Status
		want   string
	}{
		{"", 0, nil, "dcba"},
		{"", 2, nil, "dc"},
		{"c", 0, nil, "ba"},
		{"zz", 0, nil, "dcba"},
		{"", 0, []Status{Pending}, "ca"},
		{"c", 0, []Status{Pending}, "a"},
		{"", 0, []Status{Approved}, ""},
	}
	for _, tt := range tests {
		l, err := s.List(tt.before, tt.n, tt.st...)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, r := range l {
			got += r.ID
		}
		if got != tt.want {
			t.Errorf("List(%q, %d, %v) = %q, want %q", tt.before, tt.n, tt.st, got, tt.want)
		}
	}
	r, err := s.Update("a", func(r *Record) error { r.Status = Published; r.URL = "/x/"; return nil })
	if err != nil || r.Status != Published {
		t.Fatalf("Update: %v %v", r, err)
	}
	if _, err := s.Update("a", func(r *Record) error { return errors.New("no") }); err == nil {
		t.Error("Update kept going after fn failed")
	}
	if r, _ := s.Get("a"); r.URL != "/x/" {
		t.Errorf("a failed Update changed the record: %+v", r)
	}
	if _, err := s.Get("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(nope) = %v, want ErrNotFound", err)
	}
	c, _ := s.Count()
	if c[Pending] != 1 || c[Published] != 2 || c[Rejected] != 1 {
		t.Errorf("Count = %v", c)
	}
}

func TestPrivate(t *testing.T) {
	s := open(t)
	if m, err := s.Private("x"); m != nil || err != nil {
		t.Fatalf("Private of nothing = %v, %v", m, err)
	}
	if err := s.SetPrivate("x", map[string]string{"email": "a@b.example"}); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Private("x"); m["email"] != "a@b.example" {
		t.Errorf("Private = %v", m)
	}
	if err := s.DeletePrivate("x"); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Private("x"); m != nil {
		t.Errorf("Private after delete = %v", m)
	}
}

func TestSessionsAndLockout(t *testing.T) {
	s := open(t)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	if err := s.PutModerator(Moderator{Name: "ana", Hash: "$2a$..."}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSession("tok", Session{User: "ana", CSRF: "c", Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if sess, err := s.Session("tok", now); err != nil || sess.User != "ana" {
		t.Fatalf("Session = %v, %v", sess, err)
	}
	if _, err := s.Session("tok", now.Add(2*time.Hour)); !errors.Is(err, ErrNotFound) {
		t.Errorf("an expired session is still valid: %v", err)
	}
	if err := s.PutSession("tok2", Session{User: "ana", Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteModerator("ana"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session("tok2", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting a moderator kept their session")
	}

	// Failed sign-ins: counted per key, forgotten after a quiet spell, cleared by a success.
	for i := 1; i <= 3; i++ {
		f, err := s.LoginFailed(now.Add(time.Duration(i)*time.Minute), time.Hour, "addr:a", "user:ana")
		if err != nil {
			t.Fatal(err)
		}
		if f["addr:a"].Count != i || f["user:ana"].Count != i || !f["addr:a"].Last.Equal(now.Add(time.Duration(i)*time.Minute)) {
			t.Errorf("after %d failures: %+v", i, f)
		}
	}
	f, err := s.Failures(now.Add(30*time.Minute), time.Hour, "addr:a", "addr:b")
	if err != nil || f["addr:a"].Count != 3 || f["addr:b"].Count != 0 {
		t.Errorf("failures: %+v, %v", f, err)
	}
	if f, _ := s.Failures(now.Add(2*time.Hour), time.Hour, "addr:a"); f["addr:a"].Count != 0 {
		t.Errorf("failures not forgotten after an hour without one: %+v", f)
	}
	if f, _ := s.LoginFailed(now.Add(2*time.Hour), time.Hour, "addr:a"); f["addr:a"].Count != 1 {
		t.Errorf("a failure after a quiet spell counts from one: %+v", f)
	}
	if err := s.LoginSucceeded(now, []string{"addr:a"}, []string{"known:ana|a"}); err != nil {
		t.Fatal(err)
	}
	if f, _ := s.Failures(now.Add(2*time.Hour), 3*time.Hour, "addr:a", "user:ana"); f["addr:a"].Count != 0 || f["user:ana"].Count != 3 {
		t.Errorf("a success cleared %+v, want the address's failures only", f)
	}
	if k, err := s.KnownSince("known:ana|a"); err != nil || !k.Equal(now) {
		t.Errorf("known since %v (%v), want %v", k, err, now)
	}
	if k, _ := s.KnownSince("known:ana|b"); !k.IsZero() {
		t.Errorf("an address never seen is known since %v", k)
	}
	if err := s.PurgeLogins(now.Add(24*time.Hour), time.Hour, 12*time.Hour); err != nil {
		t.Fatal(err)
	}
	if k, _ := s.KnownSince("known:ana|a"); !k.IsZero() {
		t.Errorf("an old sign-in outlived the purge")
	}
	_ = s.db.View(func(tx *bbolt.Tx) error {
		if n := tx.Bucket(bucketFailures).Stats().KeyN; n != 0 {
			t.Errorf("%d failure records outlived the purge", n)
		}
		return nil
	})
}
