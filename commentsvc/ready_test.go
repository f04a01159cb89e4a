package commentsvc

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// TestReady: /readyz says ready while the service runs, and 503 once it stops, so that a
// load balancer sends submissions elsewhere; /healthz stays up meanwhile.
func TestReady(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = f.svc.Run(ctx) }()
	get := func(p string) int {
		res, err := http.Get(f.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := get("/readyz"); got != http.StatusOK {
		t.Errorf("running: /readyz %d", got)
	}
	cancel()
	<-done
	deadline := time.Now().Add(5 * time.Second)
	for get("/readyz") != http.StatusServiceUnavailable && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := get("/readyz"); got != http.StatusServiceUnavailable {
		t.Errorf("stopped: /readyz %d", got)
	}
	if got := get("/healthz"); got != http.StatusOK {
		t.Errorf("stopped: /healthz %d", got)
	}
}
