package bolt

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/parvis/parvis/internal/queue"
)

// crashEnv names the file the crash test's child process writes to.
const crashEnv = "PARVIS_QUEUE_CRASH_DB"

// TestCrash kills a process that is putting and acking items with SIGKILL at a random
// moment, then checks that the file holds every item the process reported as accepted and
// none it reported as acked, and that its indexes and counters agree. The same file goes
// through several crashes.
func TestCrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	put, acking, acked := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for round := range 4 {
		r := crashRound(t, path)
		for id := range r["put"] {
			if put[id] {
				t.Fatalf("round %d: ID %s reported twice", round, id)
			}
			put[id] = true
		}
		for id := range r["acking"] {
			acking[id] = true
		}
		for id := range r["ack"] {
			acked[id] = true
		}

		q, err := Open(path)
		if err != nil {
			t.Fatalf("round %d: reopening after the crash: %v", round, err)
		}
		db := q.DB()
		checkConsistent(t, db, []byte("queue"))
		missing, back := 0, 0
		if err := db.View(func(tx *bbolt.Tx) error {
			meta := tx.Bucket([]byte("queue")).Bucket(bucketMeta)
			for id := range put {
				// An item killed during its Ack may be either way.
				switch inDB := meta.Get([]byte(id)) != nil; {
				case acked[id] && inDB:
					back++
				case !acking[id] && !inDB:
					missing++
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		// Every accepted key is still known: sending an item again, with its key, is refused
		// as a duplicate of the first, acked or not (the key window is a day).
		checked := 0
		for id := range put {
			if checked == 200 {
				break
			}
			checked++
			got, err := q.Put(context.Background(), queue.Item{Key: crashKey(id)})
			if !errors.Is(err, queue.ErrDuplicate) || got != id {
				t.Fatalf("round %d: sending %s again gave %q, %v; want a duplicate of it", round, id, got, err)
			}
		}
		if err := q.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: %d accepted and %d acked so far", round, len(put), len(acked))
		if missing > 0 || back > 0 {
			t.Fatalf("round %d: %d accepted items missing, %d acked items back", round, missing, back)
		}
	}
	if len(put) == 0 || len(acked) == 0 {
		t.Fatalf("the children reported %d puts and %d acks: nothing was tested", len(put), len(acked))
	}
}

// crashKey is the idempotency key the child gives the item with this ID.
func crashKey(id string) string { return "k-" + id }

// crashRound runs one child, kills it, and returns the IDs it reported, by what it said.
func crashRound(t *testing.T, path string) map[string]map[string]bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	said := map[string]map[string]bool{"put": {}, "acking": {}, "ack": {}}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	// Kill it at a random moment once it works at full speed.
	var kill <-chan time.Time
	timeout := time.After(time.Minute)
	for line := range lines {
		if kill == nil {
			kill = time.After(time.Duration(50+rand.IntN(400)) * time.Millisecond)
		}
		select {
		case <-kill:
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			kill = make(chan time.Time) // never again
		case <-timeout:
			cmd.Process.Kill()
			t.Fatal("the child did not report in time")
		default:
		}
		if what, id, ok := strings.Cut(line, " "); ok && said[what] != nil {
			said[what][id] = true
		}
	}
	if err := cmd.Wait(); err == nil {
		t.Fatal("the child exited by itself")
	}
	return said
}

// TestCrashChild is the child of TestCrash: it puts and acks until it is killed, writing
// "put ID" once Put returned, "acking ID" before it calls Ack and "ack ID" once Ack returned.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("run by TestCrash")
	}
	q, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var mu sync.Mutex // one write per line: lines must not interleave
	report := func(what, id string) {
		mu.Lock()
		defer mu.Unlock()
		if _, err := fmt.Fprintf(os.Stdout, "%s %s\n", what, id); err != nil {
			os.Exit(3)
		}
	}
	for range 16 {
		go func() {
			for {
				id := queue.NewID()
				id, err := q.Put(ctx, queue.Item{ID: id, Key: crashKey(id), Kind: "comment", Payload: make([]byte, 200+rand.IntN(2000))})
				if err != nil {
					fmt.Fprintln(os.Stderr, "put:", err)
					os.Exit(2)
				}
				report("put", id)
			}
		}()
	}
	for {
		items, err := q.Lease(ctx, 20, time.Minute)
		if err != nil {
			fmt.Fprintln(os.Stderr, "lease:", err)
			os.Exit(2)
		}
		for _, it := range items {
			if rand.IntN(4) == 0 {
				continue // left leased: its lease will run out after the crash
			}
			report("acking", it.ID)
			if err := q.Ack(ctx, it.Receipt); err != nil {
				fmt.Fprintln(os.Stderr, "ack:", err)
				os.Exit(2)
			}
			report("ack", it.ID)
		}
	}
}

// checkConsistent checks a queue's file: bbolt's own page checks, then that every record
// is in the index of its state and only there, and that the counters match.
func checkConsistent(t *testing.T, db *bbolt.DB, bucket []byte) {
	t.Helper()
	err := db.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("bbolt check: %v", err)
		}
		tn := &txn{cfg: &config{bucket: bucket}}
		if err := tn.load(tx); err != nil {
			return err
		}
		var counted [stateFailed + 1]int64
		indexed := 0
		err := tn.meta.ForEach(func(k, v []byte) error {
			r, err := decodeRecord(v)
			if err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			counted[r.state]++
			b, ik := tn.index(&r, string(k))
			if !hasKey(b, ik) {
				t.Errorf("item %s in state %d is missing from its index", k, r.state)
			}
			indexed++
			return nil
		})
		if err != nil {
			return err
		}
		if counted != tn.counts {
			t.Errorf("counters say %v, records say %v", tn.counts, counted)
		}
		n := tn.ready.Stats().KeyN + tn.waiting.Stats().KeyN + tn.failed.Stats().KeyN
		if n != indexed {
			t.Errorf("indexes hold %d entries for %d items", n, indexed)
		}
		if d := tn.data.Stats().KeyN; d != indexed {
			t.Errorf("%d payloads for %d items", d, indexed)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func hasKey(b *bbolt.Bucket, k []byte) bool {
	got, _ := b.Cursor().Seek(k)
	return string(got) == string(k)
}
