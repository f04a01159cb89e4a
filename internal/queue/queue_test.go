package queue

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		it   Item
		ok   bool
	}{
		{"ULID", Item{ID: NewID()}, true},
		{"Everything at its limit", Item{ID: strings.Repeat("a", MaxIDLen), Key: strings.Repeat("k", MaxKeyLen), Kind: strings.Repeat("c", MaxKindLen), Payload: make([]byte, MaxPayload)}, true},
		{"Dashes and underscores", Item{ID: "comment_2026-01-02"}, true},
		{"No ID", Item{}, false},
		{"Long ID", Item{ID: strings.Repeat("a", MaxIDLen+1)}, false},
		{"Slash", Item{ID: "a/b"}, false},
		{"Dot", Item{ID: ".."}, false},
		{"Non-ASCII", Item{ID: "été"}, false},
		{"Long key", Item{ID: "a", Key: strings.Repeat("k", MaxKeyLen+1)}, false},
		{"Long kind", Item{ID: "a", Kind: strings.Repeat("c", MaxKindLen+1)}, false},
		{"Large payload", Item{ID: "a", Payload: make([]byte, MaxPayload+1)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.it)
			if tc.ok && err != nil || !tc.ok && !errors.Is(err, ErrInvalid) {
				t.Errorf("Check = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestNewID(t *testing.T) {
	prev := ""
	for range 10000 {
		id := NewID()
		if id <= prev {
			t.Fatalf("NewID gave %s after %s: not increasing", id, prev)
		}
		if err := Check(Item{ID: id}); err != nil {
			t.Fatal(err)
		}
		prev = id
	}
}

func TestErrorText(t *testing.T) {
	long := strings.Repeat("é", MaxError) // two bytes a rune: the cut falls inside one
	tests := []struct {
		in   error
		want string
	}{
		{nil, ""},
		{errors.New("forge: 502"), "forge: 502"},
		{errors.New(long), long[:MaxError]},
		{errors.New("x" + long), ("x" + long)[:MaxError-1]},
	}
	for _, tc := range tests {
		got := ErrorText(tc.in)
		if got != tc.want || !utf8.ValidString(got) {
			t.Errorf("ErrorText(%.20v…) = %.20q… (%d bytes), want %d bytes", tc.in, got, len(got), len(tc.want))
		}
	}
}
