package bolt

import "testing"

// The queue's records are read back from the file, which a crash, a full disk or an older
// program may have left in any state: decoding must refuse what it cannot read, never panic,
// and give back exactly what encoding wrote.

func FuzzRecord(f *testing.F) {
	for _, r := range []record{
		{state: stateReady, seq: 1, enqueued: 1700000000000000000, key: "c:abc", kind: "comment"},
		{state: stateFailed, seq: 1 << 60, visibleAt: -1, attempts: 10, lease: 7, lastError: "forge: 502"},
	} {
		f.Add(r.encode())
	}
	f.Add([]byte{recordVersion, byte(stateLeased), 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			return
		}
		again, err := decodeRecord(r.encode())
		if err != nil || again != r {
			t.Fatalf("decode(encode(%+v)) = %+v, %v", r, again, err)
		}
	})
}

func FuzzKeyLogValue(f *testing.F) {
	f.Add(keyLogValue("c:0123456789abcdef", "01JCZ3Q5W1V6D8X9Y0Z1A2B3C4"))
	f.Add(keyLogValue("", "id"))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		key, id, err := decodeKeyLogValue(b)
		if err != nil {
			return
		}
		if len(key)+len(id) > len(b) {
			t.Fatalf("decoded %d+%d bytes out of %d", len(key), len(id), len(b))
		}
		if k2, id2, err := decodeKeyLogValue(keyLogValue(key, id)); err != nil || k2 != key || id2 != id {
			t.Fatalf("%q, %q: round trip gave %q, %q, %v", key, id, k2, id2, err)
		}
	})
}

func FuzzReceipt(f *testing.F) {
	f.Add(receipt(42, "01JCZ3Q5W1V6D8X9Y0Z1A2B3C4"))
	f.Add("0:x")
	f.Add(":")
	f.Add("18446744073709551616:id")
	f.Fuzz(func(t *testing.T, s string) {
		lease, id, err := parseReceipt(s)
		if err != nil {
			return
		}
		if lease == 0 || id == "" {
			t.Fatalf("parseReceipt(%q) = %d, %q: accepted an empty part", s, lease, id)
		}
		if l2, id2, err := parseReceipt(receipt(lease, id)); err != nil || l2 != lease || id2 != id {
			t.Fatalf("round trip of %d, %q: %d, %q, %v", lease, id, l2, id2, err)
		}
	})
}
