package share

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"sync"
	"time"

	"github.com/parvis/parvis/internal/mail"
	"github.com/parvis/parvis/internal/site"
	"github.com/parvis/parvis/internal/store"
)

// Manager keeps the shared dossiers' keys and members in the private store, gives the build
// its keys, invites people and sends them their links. It is safe for concurrent use.
type Manager struct {
	store *store.Store
	mail  mail.Sender
	now   func() time.Time
	mu    sync.Mutex // one change of members or keys at a time, with its rebuild and mail
}

// New returns a Manager on st, sending links with m (nil: links cannot be sent, and Invite
// says so).
func New(st *store.Store, m mail.Sender) *Manager {
	return &Manager{store: st, mail: m, now: time.Now}
}

// Rebuild rebuilds and republishes the site, and returns it as built.
type Rebuild func(context.Context) (*site.Site, error)

// Errors callers tell apart.
var (
	ErrNotShared = errors.New("not a shared dossier of the site")
	ErrNoMember  = errors.New("not a member of the dossier")
	ErrNoMail    = errors.New("no mail: parvis.yaml's service.mailFrom is not set")
)

// Key returns a dossier's current key, making its first one when it has none: the build
// calls it for each shared dossier it seals.
func (m *Manager) Key(dossier string) (Key, error) {
	d, err := m.store.SharedDossier(dossier)
	if errors.Is(err, store.ErrNotFound) {
		d, err = m.store.UpdateSharedDossier(dossier, func(d *store.SharedDossier, created bool) error {
			if !created {
				return nil // made meanwhile
			}
			return m.initialize(d)
		})
	}
	if err != nil {
		return Key{}, err
	}
	return keyOf(d), nil
}

func keyOf(d *store.SharedDossier) Key {
	return Key{Dossier: d.Ref, ID: d.ID, Version: d.Key.Version, Secret: d.Key.Secret, Salt: d.Salt}
}

func (m *Manager) initialize(d *store.SharedDossier) error {
	id := make([]byte, 15)
	d.Salt = make([]byte, 32)
	if _, err := rand.Read(id); err != nil {
		return err
	}
	if _, err := rand.Read(d.Salt); err != nil {
		return err
	}
	d.ID = strings.ToLower(base32.StdEncoding.EncodeToString(id))
	d.Created = m.now().UTC()
	return m.newKey(d)
}

func (m *Manager) newKey(d *store.SharedDossier) error {
	secret := make([]byte, keySize)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	d.Key = store.ShareKey{Version: d.Key.Version + 1, Secret: secret, Created: m.now().UTC()}
	return nil
}

// Admits reports whether token is the contribution token of the dossier's current key: a
// submission to the dossier carries it (options[share]). A token of an earlier key is
// refused, so that a person removed from the dossier cannot add to it.
func (m *Manager) Admits(dossier, token string) bool {
	if token == "" {
		return false
	}
	d, err := m.store.SharedDossier(dossier)
	if err != nil {
		return false
	}
	return hmac.Equal([]byte(Token(d.Key.Secret)), []byte(token))
}

// Dossier is a shared dossier as the commands and the moderation pages list it.
type Dossier struct {
	Ref     string    `json:"ref"`
	Title   string    `json:"title"`
	URL     string    `json:"url,omitempty"` // the shell's address, without a key
	Version int       `json:"version"`       // 0: not built with a key yet
	Members int       `json:"members"`
	Rotated time.Time `json:"rotated,omitzero"` // when the current key was made
	InSite  bool      `json:"in_site"`          // false: the store remembers a dossier the site no longer shares
}

// Dossiers lists the site's shared dossiers and those the store still remembers, by ref.
func (m *Manager) Dossiers(s *site.Site) ([]Dossier, error) {
	recs, err := m.store.SharedDossiers()
	if err != nil {
		return nil, err
	}
	byRef := map[string]*store.SharedDossier{}
	for _, d := range recs {
		byRef[d.Ref] = d
	}
	var out []Dossier
	seen := map[string]bool{}
	for _, p := range SharedDossiers(s) {
		d := Dossier{Ref: p.Ref, Title: p.Title, InSite: true}
		if r := byRef[p.Ref]; r != nil {
			d.Version, d.Members, d.Rotated = r.Key.Version, len(r.Members), r.Key.Created
			d.URL = s.Config.AbsURL(keyOf(r).Base())
		}
		out = append(out, d)
		seen[p.Ref] = true
	}
	for _, r := range recs {
		if !seen[r.Ref] {
			out = append(out, Dossier{Ref: r.Ref, Version: r.Key.Version, Members: len(r.Members), Rotated: r.Key.Created})
		}
	}
	return out, nil
}

// SharedDossiers returns the site's shared dossiers (their _index.md pages), by ref.
func SharedDossiers(s *site.Site) []*site.Page {
	if s == nil {
		return nil
	}
	var out []*site.Page
	for _, p := range s.Shared {
		if p.Dossier != nil && p.Dossier.Shared() {
			out = append(out, p)
		}
	}
	return out
}

// SharedPage returns a page of a shared dossier (the dossier itself, or a page of its
// folder), or nil.
func SharedPage(s *site.Site, ref string) *site.Page {
	if s == nil || ref == "" {
		return nil
	}
	for _, p := range s.Shared {
		if p.Ref == ref {
			return p
		}
	}
	return nil
}

// DossierOf is the ref of the shared dossier a shared page belongs to.
func DossierOf(p *site.Page) string {
	if p.Dossier != nil {
		return p.Ref
	}
	return p.InDossier
}

func (m *Manager) dossier(s *site.Site, ref string) (*site.Page, error) {
	ref = strings.Trim(strings.TrimSpace(ref), "/")
	if !strings.HasPrefix(ref, "dossiers/") {
		ref = "dossiers/" + ref
	}
	for _, p := range SharedDossiers(s) {
		if p.Ref == ref {
			return p, nil
		}
	}
	return nil, fmt.Errorf("%s: %w (a dossier whose _index.md says visibility: shared)", ref, ErrNotShared)
}

// Members lists a dossier's members, in the order they were added.
func (m *Manager) Members(s *site.Site, dossier string) ([]store.ShareMember, error) {
	p, err := m.dossier(s, dossier)
	if err != nil {
		return nil, err
	}
	d, err := m.store.SharedDossier(p.Ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return d.Members, nil
}

// CheckAddress refuses what is not a bare address (name@domain), naming it.
func CheckAddress(addr string) (string, error) {
	addr = strings.TrimSpace(addr)
	a, err := netmail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != addr || strings.ContainsAny(addr, "\r\n") {
		return "", fmt.Errorf("%q: not an e-mail address (name@domain)", addr)
	}
	return addr, nil
}

// Outcome says what a change of members or keys did.
type Outcome struct {
	Dossier string   `json:"dossier"`
	Version int      `json:"version"`        // the key version the site is now sealed with
	Sent    []string `json:"sent,omitempty"` // the addresses a link was sent to
	Members int      `json:"members"`
}

// Invite adds a person to a shared dossier and sends them their link. An address already a
// member gets their link again. When the dossier had no key yet, its first one is made and
// the site rebuilt with it before the link goes.
func (m *Manager) Invite(ctx context.Context, s *site.Site, dossier, email string, rebuild Rebuild) (*Outcome, error) {
	p, err := m.dossier(s, dossier)
	if err != nil {
		return nil, err
	}
	email, err = CheckAddress(email)
	if err != nil {
		return nil, err
	}
	if err := m.canMail(s); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	fresh := false
	d, err := m.store.UpdateSharedDossier(p.Ref, func(d *store.SharedDossier, created bool) error {
		if created {
			fresh = true
			if err := m.initialize(d); err != nil {
				return err
			}
		}
		if mem := member(d, email); mem != nil {
			mem.Sent = 0 // asked again: send again
			return nil
		}
		d.Members = append(d.Members, store.ShareMember{Email: email, Added: m.now().UTC()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if fresh {
		if s, err = rebuild(ctx); err != nil {
			return nil, fmt.Errorf("%s was added, but the site could not be rebuilt with the dossier's first key (the link is sent after the next rotation): %w", email, err)
		}
	}
	return m.sendOwed(ctx, s, p, d, false)
}

// Revoke removes a person from a dossier: the key is rotated, the site rebuilt, and the
// people who remain get their new link. Their old links, and the removed person's, no
// longer open the dossier.
func (m *Manager) Revoke(ctx context.Context, s *site.Site, dossier, email string, rebuild Rebuild) (*Outcome, error) {
	p, err := m.dossier(s, dossier)
	if err != nil {
		return nil, err
	}
	email = strings.TrimSpace(email)
	m.mu.Lock()
	defer m.mu.Unlock()
	_, err = m.store.UpdateSharedDossier(p.Ref, func(d *store.SharedDossier, created bool) error {
		kept := d.Members[:0]
		found := false
		for _, mem := range d.Members {
			if strings.EqualFold(mem.Email, email) {
				found = true
				continue
			}
			kept = append(kept, mem)
		}
		if created || !found {
			return fmt.Errorf("%s: %w %s", email, ErrNoMember, p.Ref)
		}
		d.Members = kept
		return m.newKey(d)
	})
	if err != nil {
		return nil, err
	}
	return m.rebuildAndSend(ctx, p, rebuild)
}

// Rotate gives a dossier a new key, rebuilds the site under it and sends every member their
// new link: for a link that went astray, or on a schedule.
func (m *Manager) Rotate(ctx context.Context, s *site.Site, dossier string, rebuild Rebuild) (*Outcome, error) {
	p, err := m.dossier(s, dossier)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, err = m.store.UpdateSharedDossier(p.Ref, func(d *store.SharedDossier, created bool) error {
		if created {
			return m.initialize(d)
		}
		return m.newKey(d)
	})
	if err != nil {
		return nil, err
	}
	return m.rebuildAndSend(ctx, p, rebuild)
}

// rebuildAndSend rebuilds under the new key, then sends the links owed. The links go only
// once the site is sealed with the key they carry; if the build fails they stay owed, and
// the next rotation sends them.
func (m *Manager) rebuildAndSend(ctx context.Context, p *site.Page, rebuild Rebuild) (*Outcome, error) {
	s, err := rebuild(ctx)
	if err != nil {
		return nil, fmt.Errorf("the key of %s was changed, but the site could not be rebuilt: %w (the published dossier still opens with the old key; rotate again once the build is mended)", p.Ref, err)
	}
	d, err := m.store.SharedDossier(p.Ref)
	if err != nil {
		return nil, err
	}
	if len(d.Members) > 0 {
		if err := m.canMail(s); err != nil {
			return nil, fmt.Errorf("the key of %s was changed and the site rebuilt, but the new links could not be sent: %w", p.Ref, err)
		}
	}
	return m.sendOwed(ctx, s, p, d, true)
}

func member(d *store.SharedDossier, email string) *store.ShareMember {
	for i := range d.Members {
		if strings.EqualFold(d.Members[i].Email, email) {
			return &d.Members[i]
		}
	}
	return nil
}

func (m *Manager) canMail(s *site.Site) error {
	if m.mail == nil || s == nil || s.Config.Service.MailFrom == "" {
		return ErrNoMail
	}
	return nil
}

// sendOwed sends a link to each member whose last link is of an older key, and records it.
// A message is queued under an ID of the dossier, the key version and the address, so that
// a retry after a crash does not send it twice.
func (m *Manager) sendOwed(ctx context.Context, s *site.Site, p *site.Page, d *store.SharedDossier, renewed bool) (*Outcome, error) {
	k := keyOf(d)
	out := &Outcome{Dossier: d.Ref, Version: k.Version, Members: len(d.Members)}
	link := s.Config.AbsURL(k.Base()) + "#" + k.Fragment()
	var errs []error
	for _, mem := range d.Members {
		if mem.Sent >= k.Version {
			continue
		}
		msg := invitation(s.Config, p.Title, link, renewed)
		msg.To = mem.Email
		msg.ID = messageID(d, mem, !renewed)
		if err := m.mail.Send(ctx, msg); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", mem.Email, err))
			continue
		}
		out.Sent = append(out.Sent, mem.Email)
	}
	if len(out.Sent) > 0 {
		sent := map[string]bool{}
		for _, e := range out.Sent {
			sent[e] = true
		}
		if _, err := m.store.UpdateSharedDossier(d.Ref, func(cur *store.SharedDossier, _ bool) error {
			for i := range cur.Members {
				if sent[cur.Members[i].Email] && cur.Key.Version == k.Version {
					cur.Members[i].Sent = k.Version
				}
			}
			return nil
		}); err != nil {
			errs = append(errs, err)
		}
	}
	if f, ok := m.mail.(interface {
		Flush(context.Context) (mail.Stats, error)
	}); ok && len(out.Sent) > 0 {
		// A spool queues; a command with no server to deliver it would exit first. One
		// pass now, bounded, sends the links (a server's own passes would too, later).
		fctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		_, _ = f.Flush(fctx)
		cancel()
	}
	return out, errors.Join(errs...)
}

// A message's ID names the dossier, the key version and the address (hashed, since the ID
// is logged), so that the spool sends a link owed after a rotation once, even when a crash
// comes between queueing and recording it. An invitation asked again gets an ID of its own.
func messageID(d *store.SharedDossier, mem store.ShareMember, again bool) string {
	h := sha256.Sum256([]byte(strings.ToLower(mem.Email)))
	id := fmt.Sprintf("share-%s-v%d-%s", d.ID, d.Key.Version, hex.EncodeToString(h[:6]))
	if again {
		n := make([]byte, 4)
		_, _ = rand.Read(n)
		id += "-" + hex.EncodeToString(n)
	}
	return id
}
