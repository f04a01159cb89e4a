package share_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime/quotedprintable"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"go.etcd.io/bbolt"

	"github.com/parvis/parvis/internal/mail"
	"github.com/parvis/parvis/internal/share"
	"github.com/parvis/parvis/internal/site"
	"github.com/parvis/parvis/internal/store"
)

func testKey() share.Key {
	return share.Key{Dossier: "dossiers/x", ID: "abc", Version: 3, Secret: bytes.Repeat([]byte{7}, 32), Salt: []byte("salt")}
}

func TestSealOpen(t *testing.T) {
	k := testKey()
	content := []byte("<p>Le contenu du dossier</p>")
	obj, err := k.Seal("page.bin", share.Meta{Kind: "page", Title: "Titre"}, content)
	if err != nil {
		t.Fatal(err)
	}
	if len(obj) != share.MinObject || string(obj[:4]) != share.Magic {
		t.Fatalf("object of %d bytes, magic %q", len(obj), obj[:4])
	}
	if bytes.Contains(obj, content) || bytes.Contains(obj, []byte("Titre")) {
		t.Fatal("the object holds its content in clear")
	}
	meta, got, err := share.Open(k.Secret, 3, "abc", "page.bin", obj)
	if err != nil || string(got) != string(content) || meta.Title != "Titre" || meta.Size != len(content) {
		t.Fatalf("open: %+v %q %v", meta, got, err)
	}
	other := bytes.Repeat([]byte{8}, 32)
	flipped := bytes.Clone(obj)
	flipped[len(flipped)-100] ^= 1
	for _, c := range []struct {
		name    string
		secret  []byte
		version int
		id, obj string
		data    []byte
		want    error
	}{
		{"wrong key", other, 3, "abc", "page.bin", obj, share.ErrWrongKey},
		{"old link", k.Secret, 2, "abc", "page.bin", obj, share.ErrOldKey},
		{"another object's place", k.Secret, 3, "abc", "f.bin", obj, share.ErrWrongKey},
		{"another dossier", k.Secret, 3, "abd", "page.bin", obj, share.ErrWrongKey},
		{"tampered", k.Secret, 3, "abc", "page.bin", flipped, share.ErrWrongKey},
		{"truncated object", k.Secret, 3, "abc", "page.bin", obj[:100], share.ErrWrongKey},
		{"not sealed", k.Secret, 3, "abc", "page.bin", []byte("<html>"), share.ErrNotSealed},
		{"short key", k.Secret[:16], 3, "abc", "page.bin", obj, share.ErrWrongKey},
	} {
		if _, _, err := share.Open(c.secret, c.version, c.id, c.obj, c.data); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	// The nonce is synthetic: the same content seals to the same bytes, another to others.
	again, _ := k.Seal("page.bin", share.Meta{Kind: "page", Title: "Titre"}, content)
	if !bytes.Equal(obj, again) {
		t.Error("sealing twice gave two objects")
	}
	diff, _ := k.Seal("page.bin", share.Meta{Kind: "page", Title: "Titre"}, []byte("<p>Autre</p>"))
	if bytes.Equal(obj[8:20], diff[8:20]) {
		t.Error("two contents share a nonce")
	}
}

func TestParseFragment(t *testing.T) {
	k := testKey()
	good := k.Fragment()
	if !strings.HasPrefix(good, "k=3.") || len(good) != len("k=3.")+43 {
		t.Fatalf("fragment %q", good)
	}
	for _, c := range []struct{ frag, err string }{
		{"#" + good, ""},
		{"#x=1&" + good, ""},
		{"#" + good[:30], "incomplete"},
		{"#" + good + "AAAA", "incomplete"},
		{"#k=0." + good[4:], "malformed"},
		{"#k=" + good[4:], "malformed"},
		{"#comments", "no key"},
		{"", "no key"},
	} {
		v, secret, err := share.ParseFragment(c.frag)
		switch {
		case c.err == "" && (err != nil || v != 3 || !bytes.Equal(secret, k.Secret)):
			t.Errorf("%q: %d %v", c.frag, v, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: got %v, want an error saying %q", c.frag, err, c.err)
		}
	}
}

func TestCheckAddress(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"claire@exemple.fr", true},
		{" claire@exemple.fr ", true},
		{"Claire <claire@exemple.fr>", false},
		{"claire@exemple.fr\r\nBcc: x@y.z", false},
		{"claire", false},
		{"", false},
	} {
		if _, err := share.CheckAddress(c.in); (err == nil) != c.ok {
			t.Errorf("%q: %v", c.in, err)
		}
	}
}

const siteFiles = `title: Ville de Testville
baseURL: https://www.testville.example/
language: fr
publisher: Mairie de Testville
service:
  mailFrom: "Mairie <mairie@testville.example>"
`

// fixture is a site with a shared dossier, a store and an outbox.
type fixture struct {
	site    *site.Site
	store   *store.Store
	outbox  string
	m       *share.Manager
	builds  int
	buildOK bool
}

func newFixture(t *testing.T, cfg string) *fixture {
	t.Helper()
	fsys := fstest.MapFS{
		"parvis.yaml":                            {Data: []byte(cfg)},
		"dossiers/finances/_index.md":            {Data: []byte("---\ntitle: Commission des finances\nvisibility: shared\n---\nTexte.\n")},
		"dossiers/finances/note.md":              {Data: []byte("---\ntitle: Note\n---\nNote.\n")},
		"dossiers/public/_index.md":              {Data: []byte("---\ntitle: Public\n---\nOuvert.\n")},
		"articles/une-actualite.md":              {Data: []byte("---\ntitle: Actu\ndate: 2026-01-01\n---\nActu.\n")},
		"comments/articles/une-actualite/c.yaml": {Data: []byte("_id: c\nname: A\ndate: 2026-01-02T00:00:00Z\nmessage: ok\n")},
	}
	s, err := site.Load(fsys, site.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db, err := bbolt.Open(filepath.Join(dir, "parvis.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := store.New(db)
	if err != nil {
		t.Fatal(err)
	}
	out, err := mail.NewOutbox(filepath.Join(dir, "outbox"))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{site: s, store: st, outbox: out.Dir(), m: share.New(st, out), buildOK: true}
}

func (f *fixture) rebuild(context.Context) (*site.Site, error) {
	f.builds++
	if !f.buildOK {
		return nil, errors.New("the build failed")
	}
	return f.site, nil
}

// mails reads the outbox: each message's recipient and the link it carries.
func (f *fixture) mails(t *testing.T) map[string][]string {
	t.Helper()
	entries, err := os.ReadDir(f.outbox)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	to := regexp.MustCompile(`(?m)^To: <?([^>\r\n]+)>?`)
	link := regexp.MustCompile(`https://www\.testville\.example/shared/[a-z0-9]+/#k=[0-9]+\.[A-Za-z0-9_-]{43}`)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(f.outbox, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m := to.FindSubmatch(b)
		if m == nil {
			t.Fatalf("%s has no To:\n%s", e.Name(), b)
		}
		body, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(b)))
		if err != nil {
			t.Fatal(err)
		}
		l := link.FindString(string(body))
		if l == "" {
			t.Fatalf("%s has no link:\n%s", e.Name(), b)
		}
		out[string(m[1])] = append(out[string(m[1])], l)
	}
	return out
}

func TestManagerInviteRevokeRotate(t *testing.T) {
	f := newFixture(t, siteFiles)
	ctx := context.Background()
	const dossier = "dossiers/finances"

	for _, c := range []struct{ dossier, email, err string }{
		{"dossiers/public", "a@b.fr", "not a shared dossier"},
		{"dossiers/nothing", "a@b.fr", "not a shared dossier"},
		{dossier, "Nom <a@b.fr>", "not an e-mail address"},
	} {
		if _, err := f.m.Invite(ctx, f.site, c.dossier, c.email, f.rebuild); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("invite %s %s: %v", c.dossier, c.email, err)
		}
	}

	// The first invitation makes the key and rebuilds with it before sending.
	out, err := f.m.Invite(ctx, f.site, "finances", "alice@exemple.fr", f.rebuild)
	if err != nil || out.Version != 1 || len(out.Sent) != 1 || f.builds != 1 {
		t.Fatalf("invite: %+v %v (builds %d)", out, err, f.builds)
	}
	if _, err := f.m.Invite(ctx, f.site, dossier, "bob@exemple.fr", f.rebuild); err != nil || f.builds != 1 {
		t.Fatalf("second invite: %v (builds %d)", err, f.builds)
	}
	key, err := f.m.Key(dossier)
	if err != nil || key.Version != 1 {
		t.Fatal(key, err)
	}
	mails := f.mails(t)
	want := "https://www.testville.example" + key.Base() + "#" + key.Fragment()
	if len(mails) != 2 || mails["alice@exemple.fr"][0] != want || mails["bob@exemple.fr"][0] != want {
		t.Fatalf("mails %v, want each with %s", mails, want)
	}
	// The address is in the private store, nowhere else the site sees.
	if members, _ := f.m.Members(f.site, dossier); len(members) != 2 || members[0].Email != "alice@exemple.fr" || members[0].Sent != 1 {
		t.Errorf("members %+v", members)
	}
	if !f.m.Admits(dossier, key.Token()) || f.m.Admits(dossier, "") || f.m.Admits("dossiers/public", key.Token()) {
		t.Error("Admits")
	}

	// Revoking: a new key, a rebuild, and a link for the one who stays.
	if _, err := f.m.Revoke(ctx, f.site, dossier, "carol@exemple.fr", f.rebuild); !errors.Is(err, share.ErrNoMember) {
		t.Errorf("revoke a stranger: %v", err)
	}
	out, err = f.m.Revoke(ctx, f.site, dossier, "ALICE@exemple.fr", f.rebuild)
	if err != nil || out.Version != 2 || len(out.Sent) != 1 || out.Sent[0] != "bob@exemple.fr" || f.builds != 2 {
		t.Fatalf("revoke: %+v %v (builds %d)", out, err, f.builds)
	}
	key2, _ := f.m.Key(dossier)
	if key2.ID != key.ID || bytes.Equal(key2.Secret, key.Secret) || !bytes.Equal(key2.Salt, key.Salt) {
		t.Error("the rotated key keeps the dossier's ID and salt and changes the secret")
	}
	if f.m.Admits(dossier, key.Token()) || !f.m.Admits(dossier, key2.Token()) {
		t.Error("the old token is still admitted, or the new one is not")
	}
	mails = f.mails(t)
	if len(mails["alice@exemple.fr"]) != 1 || len(mails["bob@exemple.fr"]) != 2 || !strings.HasSuffix(mails["bob@exemple.fr"][1], key2.Fragment()) &&
		!strings.HasSuffix(mails["bob@exemple.fr"][0], key2.Fragment()) {
		t.Errorf("after the revocation: %v", mails)
	}

	// A failed rebuild sends nothing; the links stay owed and the next rotation sends them.
	f.buildOK = false
	if _, err := f.m.Rotate(ctx, f.site, dossier, f.rebuild); err == nil || !strings.Contains(err.Error(), "still opens with the old key") {
		t.Errorf("rotate with a failing build: %v", err)
	}
	if n := len(f.mails(t)["bob@exemple.fr"]); n != 2 {
		t.Errorf("a link was sent for a key the site is not built with (%d mails)", n)
	}
	f.buildOK = true
	out, err = f.m.Rotate(ctx, f.site, dossier, f.rebuild)
	if err != nil || out.Version != 4 || len(out.Sent) != 1 {
		t.Fatalf("rotate: %+v %v", out, err)
	}
	list, err := f.m.Dossiers(f.site)
	if err != nil || len(list) != 1 || list[0].Title != "Commission des finances" || list[0].Version != 4 || list[0].Members != 1 || !list[0].InSite {
		t.Errorf("dossiers: %+v %v", list, err)
	}
}

func TestManagerNeedsMail(t *testing.T) {
	f := newFixture(t, strings.Split(siteFiles, "service:")[0])
	if _, err := f.m.Invite(context.Background(), f.site, "finances", "a@b.fr", f.rebuild); !errors.Is(err, share.ErrNoMail) {
		t.Errorf("got %v", err)
	}
	if f.builds != 0 {
		t.Error("rebuilt for nothing")
	}
}

// TestKeyMadeOnce: the build's first call makes the key; later ones, concurrent or not,
// get the same.
func TestKeyMadeOnce(t *testing.T) {
	f := newFixture(t, siteFiles)
	done := make(chan share.Key, 8)
	for range 8 {
		go func() {
			k, err := f.m.Key("dossiers/finances")
			if err != nil {
				t.Error(err)
			}
			done <- k
		}()
	}
	first := <-done
	for range 7 {
		if k := <-done; k.ID != first.ID || !bytes.Equal(k.Secret, first.Secret) {
			t.Fatal("two keys for one dossier")
		}
	}
	if first.Version != 1 || len(first.Secret) != 32 || len(first.ID) != 24 {
		t.Errorf("key %+v", first)
	}
	_ = time.Now
}
