package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/parvis/parvis/internal/queue"
	"github.com/parvis/parvis/internal/queue/bolt"
)

// The service puts a submission and answers the citizen once Put returns; a worker leases
// it, does the work and acks it.
func Example() {
	dir, err := os.MkdirTemp("", "queue")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	q, err := bolt.Open(filepath.Join(dir, "service.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer q.Close()
	ctx := context.Background()

	// The form's hidden token makes a second click harmless.
	sub := queue.Item{Key: "form-token-7f3a", Kind: "comment", Payload: []byte(`{"name":"Anne","body":"Merci !"}`)}
	id, err := q.Put(ctx, sub)
	if err != nil {
		log.Fatal(err)
	}
	again, err := q.Put(ctx, sub)
	fmt.Println(errors.Is(err, queue.ErrDuplicate), again == id)

	// The worker: a long poll, then Ack on success, Retry on a fault.
	wait, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	items, err := q.Lease(wait, 10, time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	for _, it := range items {
		fmt.Printf("%s, attempt %d: %s\n", it.Kind, it.Attempts, it.Payload)
		if err := q.Ack(ctx, it.Receipt); err != nil {
			log.Fatal(err)
		}
	}
	s, err := q.Stats(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%+v\n", s)
	// Output:
	// true true
	// comment, attempt 1: {"name":"Anne","body":"Merci !"}
	// {Ready:0 Delayed:0 Leased:0 Failed:0}
}
