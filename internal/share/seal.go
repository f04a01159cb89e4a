// Package share publishes dossiers shared with chosen people on a static site. A shared
// dossier's pages and files are sealed at build time with AES-256-GCM under a random key
// per dossier and key version, held in the service's private store; the published page is
// a shell that decrypts them in the browser with WebCrypto, with the key the reader's link
// carries in its fragment (#k=…), which browsers never send to a server.
//
// A sealed object (a page, or a file) is one file of the built site:
//
//	object    = "PVS1" | version (uint32, big-endian) | nonce (12 bytes) | ciphertext | tag (16 bytes)
//	aad       = object[0:8] | dossier ID | "/" | name (the object's path below /shared/<ID>/)
//	plaintext = metaLen (uint32, big-endian) | meta (JSON) | content | zero padding
//
// The padding brings every object to max(4 KiB, the next power of two), so that its size
// tells no more than a bucket. The nonce is derived from the key, the aad and the
// plaintext (a synthetic IV): the same content sealed twice gives the same bytes, so that
// builds stay reproducible and a deploy uploads only what changed, and two different
// plaintexts never share a nonce. The aad binds an object to its place: a file served in
// place of a page, or one dossier's object in another's, does not open.
package share

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Magic starts every sealed object.
const Magic = "PVS1"

const (
	headerSize = 4 + 4 + 12
	tagSize    = 16
	// MinObject is the smallest sealed object; above it sizes are powers of two.
	MinObject = 4096
	keySize   = 32
)

// Meta describes a sealed object's content; it is sealed with it.
type Meta struct {
	Kind  string `json:"t"`               // "page" or "file"
	Title string `json:"title,omitempty"` // a page's title, for the tab
	Name  string `json:"name,omitempty"`  // a file's name, for the download
	Type  string `json:"type,omitempty"`  // a file's media type
	Size  int    `json:"size"`            // the content's length, before padding
}

// Key is a dossier's current key, as the build seals with it.
type Key struct {
	Dossier string // the dossier's content ref
	ID      string // its name in the built site: /shared/<ID>/
	Version int
	Secret  []byte // 32 bytes
	Salt    []byte // keys the names of pages and files
}

// Base is the site path of the dossier's sealed pages.
func (k Key) Base() string { return "/shared/" + k.ID + "/" }

// Fragment is what a link carries after #: the version and the key, k=<version>.<key>.
func (k Key) Fragment() string {
	return "k=" + strconv.Itoa(k.Version) + "." + base64.RawURLEncoding.EncodeToString(k.Secret)
}

// Token proves that a submission comes from someone holding the key: the shell adds it to
// the dossier's forms (options[share]), computed in the browser, and the service compares
// it with the current key's. It is derived from the key, so that the key itself is never
// sent.
func (k Key) Token() string { return Token(k.Secret) }

// Token derives the contribution token of a key.
func Token(secret []byte) string {
	return base64.RawURLEncoding.EncodeToString(mac(secret, []byte(tokenLabel)))
}

// Labels of the values derived from a key; share.js uses the same.
const (
	tokenLabel = "parvis share contribute v1"
	nonceLabel = "parvis share nonce v1"
)

// Name is the name of a page's or file's object in the built site: a keyed hash of what it
// is, so that names say nothing of the content and stay the same across key versions.
func (k Key) Name(kind string, parts ...string) string {
	h := hmac.New(sha256.New, k.Salt)
	h.Write([]byte(kind))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func mac(key, data []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(data)
	return h.Sum(nil)
}

// PaddedSize is the size of a sealed object whose meta and content take n bytes.
func PaddedSize(n int) int {
	need := headerSize + 4 + n + tagSize
	size := MinObject
	for size < need {
		size *= 2
	}
	return size
}

// Seal seals content under the key as the object called name (its path below Base).
func (k Key) Seal(name string, meta Meta, content []byte) ([]byte, error) {
	if len(k.Secret) != keySize {
		return nil, fmt.Errorf("share: the key of %s is %d bytes, not %d", k.Dossier, len(k.Secret), keySize)
	}
	if k.Version < 1 || k.ID == "" {
		return nil, fmt.Errorf("share: the key of %s has no version or ID", k.Dossier)
	}
	meta.Size = len(content)
	mj, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	size := PaddedSize(len(mj) + len(content))
	out := make([]byte, headerSize, size)
	copy(out, Magic)
	binary.BigEndian.PutUint32(out[4:8], uint32(k.Version))
	plain := make([]byte, size-headerSize-tagSize)
	binary.BigEndian.PutUint32(plain, uint32(len(mj)))
	copy(plain[4:], mj)
	copy(plain[4+len(mj):], content)
	aad := additional(out[:8], k.ID, name)

	// The synthetic nonce: a MAC of everything sealed, under a key of its own.
	h := hmac.New(sha256.New, mac(k.Secret, []byte(nonceLabel)))
	h.Write(aad)
	h.Write(plain)
	copy(out[8:headerSize], h.Sum(nil))

	gcm, err := newGCM(k.Secret)
	if err != nil {
		return nil, err
	}
	return gcm.Seal(out, out[8:headerSize], plain, aad), nil
}

func additional(head []byte, id, name string) []byte {
	aad := make([]byte, 0, len(head)+len(id)+1+len(name))
	aad = append(aad, head...)
	aad = append(aad, id...)
	aad = append(aad, '/')
	return append(aad, name...)
}

func newGCM(secret []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(secret)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Errors of Open, which the browser's script tells apart the same way.
var (
	ErrNotSealed  = errors.New("share: not a sealed object")
	ErrOldKey     = errors.New("share: the object is sealed under another key version")
	ErrWrongKey   = errors.New("share: the key does not open the object")
	ErrBadContent = errors.New("share: the object's content is malformed")
)

// Open checks and decrypts a sealed object: the inverse of Seal, for tests and tools (the
// browser has its own, in the theme's share.js).
func Open(secret []byte, version int, id, name string, obj []byte) (Meta, []byte, error) {
	var meta Meta
	if len(obj) < headerSize+tagSize+4 || string(obj[:4]) != Magic {
		return meta, nil, ErrNotSealed
	}
	if v := int(binary.BigEndian.Uint32(obj[4:8])); v != version {
		return meta, nil, fmt.Errorf("%w (object %d, key %d)", ErrOldKey, v, version)
	}
	if len(secret) != keySize {
		return meta, nil, ErrWrongKey
	}
	gcm, err := newGCM(secret)
	if err != nil {
		return meta, nil, err
	}
	plain, err := gcm.Open(nil, obj[8:headerSize], obj[headerSize:], additional(obj[:8], id, name))
	if err != nil {
		return meta, nil, ErrWrongKey
	}
	n := int(binary.BigEndian.Uint32(plain))
	if n > len(plain)-4 {
		return meta, nil, ErrBadContent
	}
	if err := json.Unmarshal(plain[4:4+n], &meta); err != nil {
		return meta, nil, ErrBadContent
	}
	rest := plain[4+n:]
	if meta.Size < 0 || meta.Size > len(rest) || !allZero(rest[meta.Size:]) {
		return meta, nil, ErrBadContent
	}
	return meta, rest[:meta.Size], nil
}

func allZero(b []byte) bool { return len(bytes.Trim(b, "\x00")) == 0 }

// ParseFragment reads a link's fragment (with or without its #): the key version and the
// key. Its errors say what is wrong with the link, for a person who copied part of it.
func ParseFragment(frag string) (version int, secret []byte, err error) {
	frag = strings.TrimPrefix(frag, "#")
	var k string
	for _, part := range strings.Split(frag, "&") {
		if v, ok := strings.CutPrefix(part, "k="); ok {
			k = v
		}
	}
	if k == "" {
		return 0, nil, errors.New("the link carries no key (#k=…)")
	}
	vs, ks, ok := strings.Cut(k, ".")
	version, verr := strconv.Atoi(vs)
	if !ok || verr != nil || version < 1 {
		return 0, nil, errors.New("the key in the link is malformed: it starts with its version, a number, then a dot")
	}
	secret, err = base64.RawURLEncoding.DecodeString(ks)
	if err != nil || len(secret) != keySize {
		return 0, nil, fmt.Errorf("the key in the link is incomplete: it is %d characters long, not 43", len(ks))
	}
	return version, secret, nil
}
