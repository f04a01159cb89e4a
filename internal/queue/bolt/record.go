package bolt

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.etcd.io/bbolt"

	"github.com/parvis/parvis/internal/queue"
)

// state is where an item is in its life; each state has its own index bucket.
type state byte

const (
	stateReady   state = iota + 1 // in ready, by seq
	stateDelayed                  // in waiting, by visibleAt
	stateLeased                   // in waiting, by lease expiry
	stateFailed                   // in failed, by ID
)

// record is an item's metadata, stored under its ID. The payload is kept apart so that
// leasing and retrying rewrite a few dozen bytes, not the whole submission.
type record struct {
	state     state
	seq       uint64 // acceptance order, for FIFO
	enqueued  int64  // Unix nanoseconds
	visibleAt int64  // Unix nanoseconds: when a delayed or leased item is due
	attempts  int
	lease     uint64 // the last lease's number, checked against receipts
	key       string
	kind      string
	lastError string
}

const recordVersion = 1

var errCorrupt = errors.New("bolt: corrupt queue record")

func (r *record) encode() []byte {
	b := make([]byte, 0, 2+5*binary.MaxVarintLen64+3*2+len(r.key)+len(r.kind)+len(r.lastError))
	b = append(b, recordVersion, byte(r.state))
	b = binary.AppendUvarint(b, r.seq)
	b = binary.AppendVarint(b, r.enqueued)
	b = binary.AppendVarint(b, r.visibleAt)
	b = binary.AppendUvarint(b, uint64(r.attempts))
	b = binary.AppendUvarint(b, r.lease)
	for _, s := range [...]string{r.key, r.kind, r.lastError} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

func decodeRecord(b []byte) (record, error) {
	var r record
	if len(b) < 2 || b[0] != recordVersion || b[1] < byte(stateReady) || b[1] > byte(stateFailed) {
		return r, errCorrupt
	}
	r.state = state(b[1])
	d := decoder{b: b[2:]}
	r.seq = d.uvarint()
	r.enqueued = d.varint()
	r.visibleAt = d.varint()
	r.attempts = int(d.uvarint())
	r.lease = d.uvarint()
	r.key = d.string()
	r.kind = d.string()
	r.lastError = d.string()
	if d.bad || len(d.b) != 0 {
		return record{}, errCorrupt
	}
	return r, nil
}

// decoder reads varints and strings, remembering the first fault.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.bad, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.bad, d.b = true, nil
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// keyIndex finds when an idempotency key was last accepted. It lives in memory, read from
// the key log and the held keys when the queue opens, and is changed by the committer alone,
// after each transaction has committed. It holds no pointer, so however many keys a busy
// day leaves in it, the garbage collector has nothing to scan there: an entry is a hash of
// the key and where the key's record is on disk (32 bytes, some 50 with the map's own).
// The record, found in the log or among the held keys under timeKey(accepted, seq), gives
// the key itself, checked on every hit, and the item's ID.
type keyIndex map[keyHash]keyEntry

// keyHash is the start of a key's SHA-256: two keys share one by chance with a probability
// near 2⁻¹²⁸ per pair, and a shared one would only make a later key take over the entry.
type keyHash [16]byte

func hashKey(key string) keyHash {
	s := sha256.Sum256([]byte(key))
	return keyHash(s[:16])
}

// keyEntry is where a key's record is. A zero entry among a transaction's changes deletes
// the key: seqs start at 1.
type keyEntry struct {
	seq      uint64 // the item's seq: tells this acceptance from a later one of the same key
	accepted int64
}

func (e keyEntry) logKey() []byte { return timeKey(e.accepted, e.seq) }

// keyLogValue is what the key log and the held keys hold under accepted|seq: the key, then
// the item's ID.
func keyLogValue(key, id string) []byte {
	b := make([]byte, 0, binary.MaxVarintLen64+len(key)+len(id))
	b = binary.AppendUvarint(b, uint64(len(key)))
	return append(append(b, key...), id...)
}

func decodeKeyLogValue(b []byte) (key, id string, err error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < n {
		return "", "", errCorrupt
	}
	return string(b[w : w+int(n)]), string(b[w+int(n):]), nil
}

// loadKeys reads the key index: the log, then the held keys; of two acceptances of one key,
// the later one wins.
func loadKeys(t *txn) (keyIndex, error) {
	keys := keyIndex{}
	for _, b := range []*bbolt.Bucket{t.keylog, t.keyheld} {
		err := b.ForEach(func(k, v []byte) error {
			key, _, err := decodeKeyLogValue(v)
			if err != nil || len(k) != 16 {
				return errCorrupt
			}
			h, e := hashKey(key), keyEntry{seq: binary.BigEndian.Uint64(k[8:]), accepted: timeOfKey(k)}
			if old, ok := keys[h]; !ok || old.seq < e.seq {
				keys[h] = e
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// keyRecord is what layout 1's keys bucket held for an idempotency key; it is only read,
// to move those keys to layout 2.
type keyRecord struct {
	seq      uint64 // the item's seq: tells this acceptance from a later one of the same key
	accepted int64
	id       string
}

func decodeKeyRecord(b []byte) (keyRecord, error) {
	if len(b) < 16 {
		return keyRecord{}, errCorrupt
	}
	return keyRecord{
		seq:      binary.BigEndian.Uint64(b),
		accepted: int64(binary.BigEndian.Uint64(b[8:])),
		id:       string(b[16:]),
	}, nil
}

// u64 encodes n big-endian, so that byte order is numeric order.
func u64(n uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), n)
}

// timeKey is the key of the waiting index and the key log: a time, then a seq to keep keys unique.
func timeKey(nanos int64, seq uint64) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, uint64(max(nanos, 0)))
	binary.BigEndian.PutUint64(b[8:], seq)
	return b
}

func timeOfKey(k []byte) int64 { return int64(binary.BigEndian.Uint64(k)) }

// A receipt names one lease of one item: "<lease number>:<id>".
func receipt(lease uint64, id string) string {
	return strconv.FormatUint(lease, 10) + ":" + id
}

func parseReceipt(s string) (lease uint64, id string, err error) {
	n, id, ok := strings.Cut(s, ":")
	if ok {
		lease, err = strconv.ParseUint(n, 10, 64)
	}
	if !ok || err != nil || lease == 0 || id == "" {
		return 0, "", fmt.Errorf("%w: malformed receipt %q", queue.ErrInvalid, s)
	}
	return lease, id, nil
}
