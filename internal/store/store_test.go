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

	for i := 1; i <= 5; i++ {
		until, err := s.LoginFailed("ana", now, 5, 15*time.Minute, 15*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if locked := !until.IsZero(); locked != (i == 5) {
			t.Errorf("after %d failures locked = %v", i, locked)
		}
	}
	if s.LockedUntil("ana", now.Add(time.Minute)).IsZero() {
		t.Error("not locked after 5 failures")
	}
	if !s.LockedUntil("ana", now.Add(16*time.Minute)).IsZero() {
		t.Error("still locked after the lock ran out")
	}
	if err := s.LoginSucceeded("ana"); err != nil {
		t.Fatal(err)
	}
	if !s.LockedUntil("ana", now).IsZero() {
		t.Error("a success did not clear the failures")
	}
}
