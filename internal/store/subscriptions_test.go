package store

import (
	"errors"
	"testing"
	"time"
)

// TestSubscriptions proves the life of a subscription in the store: added once per
// submission, found and deleted by address (any case), changed or deleted in one step, and
// expired when unconfirmed too long or when its replies' time is over.
func TestSubscriptions(t *testing.T) {
	s := open(t)
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	subs := []*Subscription{
		{ID: "a", Email: "Claire@example.org", Decision: true, Created: now.Add(-8 * 24 * time.Hour)},                                             // unconfirmed, old
		{ID: "b", Email: "claire@example.org", Decision: true, Created: now.Add(-time.Hour)},                                                      // unconfirmed, recent
		{ID: "c", Email: "bob@example.org", Replies: true, Created: now.Add(-100 * 24 * time.Hour), Confirmed: now, Until: now.Add(-time.Minute)}, // replies over
		{ID: "d", Email: "bob@example.org", Replies: true, Created: now, Confirmed: now, Until: now.Add(time.Hour)},
	}
	for _, sub := range subs {
		if ok, err := s.AddSubscription(sub); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	if ok, _ := s.AddSubscription(&Subscription{ID: "a", Email: "other@example.org"}); ok {
		t.Error("a second subscription for one submission")
	}
	if l, _ := s.SubscriptionsTo("CLAIRE@example.org"); len(l) != 2 {
		t.Errorf("claire has %d subscriptions, want 2", len(l))
	}
	if n, _ := s.PendingConfirmations("claire@example.org", now.Add(-24*time.Hour)); n != 1 {
		t.Errorf("%d recent unconfirmed, want 1", n)
	}
	if n, err := s.ExpireSubscriptions(now, now.Add(-7*24*time.Hour)); n != 2 || err != nil {
		t.Errorf("expired %d (%v), want a and c", n, err)
	}
	for id, want := range map[string]bool{"a": false, "b": true, "c": false, "d": true} {
		if _, err := s.Subscription(id); (err == nil) != want {
			t.Errorf("%s: %v, kept %v", id, err, want)
		}
	}
	sub, err := s.UpdateSubscription("b", func(sub *Subscription) (bool, error) { sub.Confirmed = now; return true, nil })
	if err != nil || !sub.Active() {
		t.Errorf("confirming: %+v %v", sub, err)
	}
	if _, err := s.UpdateSubscription("b", func(*Subscription) (bool, error) { return false, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Subscription("b"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted by its update: %v", err)
	}
	if n, _ := s.DeleteSubscriptionsTo("BOB@example.org"); n != 1 {
		t.Errorf("deleted %d of bob's, want 1", n)
	}
}

// TestModeratorEmails proves that a moderator's address is kept, found by address and
// removed, and that the digest's state round-trips.
func TestModeratorEmails(t *testing.T) {
	s := open(t)
	if m, err := s.ModeratorEmails(); len(m) != 0 || err != nil {
		t.Fatal(m, err) // an older store, without the bucket
	}
	_ = s.SetModeratorEmail("ana", "ana@mairie.example")
	_ = s.SetModeratorEmail("bruno", "bruno@mairie.example")
	if l, _ := s.ModeratorsByEmail("ANA@mairie.example"); len(l) != 1 || l[0] != "ana" {
		t.Errorf("by address: %v", l)
	}
	_ = s.SetModeratorEmail("ana", "")
	if m, _ := s.ModeratorEmails(); len(m) != 1 || m["bruno"] == "" {
		t.Errorf("after removing ana's: %v", m)
	}
	d := Digest{Sent: time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC), Cursor: "01j"}
	if err := s.SetDigest(d); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Digest(); got != d {
		t.Errorf("digest %+v", got)
	}
}
