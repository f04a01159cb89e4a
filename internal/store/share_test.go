package store

import (
	"bytes"
	"errors"
	"testing"
)

func TestSharedDossiers(t *testing.T) {
	s := open(t)
	if _, err := s.SharedDossier("dossiers/a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown dossier: %v", err)
	}
	if l, err := s.SharedDossiers(); err != nil || len(l) != 0 {
		t.Fatalf("empty list: %v %v", l, err)
	}
	// A record without an ID or a whole key is refused, and nothing is written.
	if _, err := s.UpdateSharedDossier("dossiers/a", func(d *SharedDossier, created bool) error { return nil }); err == nil {
		t.Fatal("a record without a key was written")
	}
	if _, err := s.SharedDossier("dossiers/a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after a refused write: %v", err)
	}
	key := bytes.Repeat([]byte{1}, 32)
	for _, ref := range []string{"dossiers/b", "dossiers/a"} {
		d, err := s.UpdateSharedDossier(ref, func(d *SharedDossier, created bool) error {
			if !created {
				t.Errorf("%s: not created", ref)
			}
			d.ID, d.Key = "id-"+ref, ShareKey{Version: 1, Secret: key}
			d.Members = append(d.Members, ShareMember{Email: "a@b.fr"})
			return nil
		})
		if err != nil || d.Ref != ref {
			t.Fatal(d, err)
		}
	}
	boom := errors.New("boom")
	if _, err := s.UpdateSharedDossier("dossiers/a", func(d *SharedDossier, created bool) error {
		if created {
			t.Error("created twice")
		}
		d.Members = nil
		return boom
	}); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	d, err := s.SharedDossier("dossiers/a")
	if err != nil || d.Member("a@b.fr") == nil || d.Key.Version != 1 {
		t.Fatalf("an error from fn changed the record: %+v %v", d, err)
	}
	l, err := s.SharedDossiers()
	if err != nil || len(l) != 2 || l[0].Ref != "dossiers/a" {
		t.Fatalf("list: %+v %v", l, err)
	}
	if err := s.DeleteSharedDossier("dossiers/a"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSharedDossier("dossiers/a"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
}
