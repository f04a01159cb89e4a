package mail

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// script is a backend that answers each delivery with the next of its errors (nil once
// they are spent) and keeps what it delivered.
type script struct {
	mu   sync.Mutex
	errs []error
	sent []Message
	hits int
}

func (s *script) Send(_ context.Context, m Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hits++
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		if err != nil {
			return err
		}
	}
	s.sent = append(s.sent, m)
	return nil
}

func (s *script) delivered() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.sent...)
}

// clock is a time the test moves.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }
func openDB(t *testing.T, p string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(p, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func newSpool(t *testing.T, b Sender, o SpoolOptions) (*Spool, *clock, *bbolt.DB) {
	t.Helper()
	db := openDB(t, filepath.Join(t.TempDir(), "parvis.db"))
	t.Cleanup(func() { db.Close() })
	c := &clock{now: date}
	o.Now = c.Now
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := NewSpool(db, b, o)
	if err != nil {
		t.Fatal(err)
	}
	return s, c, db
}

func note(i int) Message {
	m := sample()
	m.ID = ""
	m.To = "p" + string(rune('a'+i)) + "@example.org"
	return m
}

var errDown = Unavailable(errors.New("dial tcp 127.0.0.1:25: connection refused"))

// TestSpoolRetries proves the retry queue's rules, one case a row: what the backend answers,
// how many passes the clock allows (each after the backoff), and what is delivered, given
// up or still queued.
func TestSpoolRetries(t *testing.T) {
	errTemp := errors.New("451 4.7.1 greylisted, try again later")
	errPerm := Permanent(errors.New("550 5.1.1 no such user"))
	tests := []struct {
		name                       string
		msgs                       int
		errs                       []error
		passes                     int
		step                       time.Duration
		delivered, failed, waiting int
		hits                       int
	}{
		{name: "delivered at once", msgs: 3, passes: 1, delivered: 3, hits: 3},
		{name: "server down, then up: all delivered, one try each while down", msgs: 3, errs: []error{errDown, errDown}, passes: 3, step: time.Hour, delivered: 3, hits: 5},
		{name: "server down: one try a pass, not one per message", msgs: 5, errs: []error{errDown, errDown, errDown}, passes: 3, step: time.Hour, waiting: 5, hits: 3},
		{name: "one message deferred: the others go on", msgs: 3, errs: []error{errTemp}, passes: 1, delivered: 2, waiting: 1, hits: 3},
		{name: "deferred, then delivered after its backoff", msgs: 1, errs: []error{errTemp}, passes: 2, step: time.Minute, delivered: 1, hits: 2},
		{name: "refused for good: given up at once", msgs: 2, errs: []error{errPerm}, passes: 2, step: time.Hour, delivered: 1, failed: 1, hits: 2},
		{name: "down past the bound: given up and reported", msgs: 2, errs: []error{errDown, errDown, errDown, errDown}, passes: 4, step: 20 * time.Hour, failed: 2, hits: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &script{errs: tt.errs}
			var reported []Failure
			s, c, _ := newSpool(t, b, SpoolOptions{MinDelay: time.Minute, MaxDelay: time.Hour, OnGiveUp: func(f Failure) { reported = append(reported, f) }})
			for i := range tt.msgs {
				if err := s.Send(context.Background(), note(i)); err != nil {
					t.Fatal(err)
				}
				c.add(time.Millisecond) // queued in this order
			}
			for p := range tt.passes {
				if p > 0 {
					c.add(tt.step)
				}
				s.pass(context.Background())
			}
			st, err := s.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if n := len(b.delivered()); n != tt.delivered || st.Queued != tt.waiting || len(reported) != tt.failed || st.Failed != tt.failed || b.hits != tt.hits {
				t.Errorf("delivered %d, queued %d, given up %d (%d kept), tries %d; want %d, %d, %d, %d",
					n, st.Queued, len(reported), st.Failed, b.hits, tt.delivered, tt.waiting, tt.failed, tt.hits)
			}
			for _, f := range reported {
				if strings.Contains(f.Error, "@example.org") || f.Subject == "" || f.Error == "" {
					t.Errorf("report %+v: it must say what failed and why, and not to whom", f)
				}
			}
			seen := map[string]bool{}
			for _, m := range b.delivered() {
				if seen[m.ID] {
					t.Errorf("%s delivered twice", m.ID)
				}
				seen[m.ID] = true
			}
		})
	}
}

// TestSpoolOnce proves that a notice queued twice under its ID (a worker that crashed after
// queueing it, and does its work again) is delivered once, and not again after delivery.
func TestSpoolOnce(t *testing.T) {
	b := &script{}
	s, _, _ := newSpool(t, b, SpoolOptions{})
	m := sample()
	ctx := context.Background()
	for range 2 {
		if err := s.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	s.pass(ctx)
	if err := s.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	s.pass(ctx)
	if n := len(b.delivered()); n != 1 {
		t.Errorf("delivered %d times, want once", n)
	}
}

// TestSpoolDurable proves that what was queued survives the process: a spool opened again
// on the same file delivers it.
func TestSpoolDurable(t *testing.T) {
	p := filepath.Join(t.TempDir(), "parvis.db")
	db := openDB(t, p)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := NewSpool(db, &script{errs: []error{errDown}}, SpoolOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := s.Send(context.Background(), note(i)); err != nil {
			t.Fatal(err)
		}
	}
	s.pass(context.Background()) // the server is down
	db.Close()

	db = openDB(t, p)
	defer db.Close()
	b := &script{}
	// The first message's backoff was kept with it: the new process waits it out.
	later := func() time.Time { return time.Now().Add(time.Hour) }
	s, err = NewSpool(db, b, SpoolOptions{Logger: quiet, Now: later})
	if err != nil {
		t.Fatal(err)
	}
	s.pass(context.Background())
	if n := len(b.delivered()); n != 3 {
		t.Errorf("%d of 3 delivered after a restart", n)
	}
}

// TestSpoolForget proves that a person's queued mail can be listed and deleted by address
// (for an unsubscription or an erasure), and that a message forgotten while queued is
// never sent.
func TestSpoolForget(t *testing.T) {
	b := &script{}
	s, _, _ := newSpool(t, b, SpoolOptions{})
	ctx := context.Background()
	for i := range 3 {
		if err := s.Send(ctx, note(i)); err != nil {
			t.Fatal(err)
		}
	}
	if l, _ := s.Queued("PB@example.org"); len(l) != 1 || l[0].To != "pb@example.org" {
		t.Errorf("queued for pb: %v", l)
	}
	if n, err := s.Forget("pb@EXAMPLE.org"); n != 1 || err != nil {
		t.Errorf("forget: %d, %v", n, err)
	}
	for _, id := range []string{"01sub.confirm", "01sub.reply.01x", "01subother.confirm"} {
		m := note(5)
		m.ID = id
		if err := s.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.ForgetPrefix("01sub."); n != 2 || err != nil { // one subscription's, not its neighbour's
		t.Errorf("forget by prefix: %d, %v", n, err)
	}
	s.pass(ctx)
	for _, m := range b.delivered() {
		if m.To == "pb@example.org" {
			t.Error("a forgotten message was sent")
		}
	}
	if n := len(b.delivered()); n != 3 {
		t.Errorf("delivered %d, want 3", n)
	}
}

// TestSpoolRefusesBadMessage proves that a message that could never be sent is refused when
// queued, not left to fail for two days.
func TestSpoolRefusesBadMessage(t *testing.T) {
	s, _, _ := newSpool(t, &script{}, SpoolOptions{})
	m := sample()
	m.To = "x@y.example\r\nBcc: all@example.org"
	if err := s.Send(context.Background(), m); err == nil {
		t.Fatal("queued a header injection")
	}
	if st, _ := s.Stats(); st.Queued != 0 {
		t.Errorf("%d queued", st.Queued)
	}
}
