package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// TestCrashKeepsEveryAnsweredSubmission runs the real binary, sends submissions from several
// clients, kills the server with SIGKILL at random moments, restarts it, and checks at the end
// that every submission answered 202 is pending exactly once: a record in the store and one
// branch whose file holds its text, no more.
func TestCrashKeepsEveryAnsweredSubmission(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	bin := filepath.Join(t.TempDir(), "parvis")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	siteDir := writeSite(t, testSite)
	data := filepath.Join(t.TempDir(), "var")

	acked := map[string]string{} // id → the text it carried
	var mu sync.Mutex
	rounds := 4
	for round := 0; round <= rounds; round++ {
		srv := startBinary(t, bin, siteDir, data)
		if round == rounds {
			// The last run only drains the queue.
			srv.waitDrained(t)
			srv.stop(t)
			break
		}
		token := srv.token(t)
		time.Sleep(1100 * time.Millisecond) // the form's minimum time
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		// Four clients, each pausing a little: a few hundred submissions in all, enough to
		// be cut mid-write by the kills, few enough for the worker to drain in seconds.
		for c := 0; c < 4; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				client := &http.Client{Timeout: 10 * time.Second}
				for n := 0; ctx.Err() == nil; n++ {
					text := fmt.Sprintf("crash-%d-%d-%d", round, c, n)
					id, ok := srv.submit(ctx, client, token, text)
					if ok {
						mu.Lock()
						acked[id] = text
						mu.Unlock()
					}
					time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond)
				}
			}()
		}
		time.Sleep(time.Duration(300+rand.IntN(1200)) * time.Millisecond)
		srv.kill(t)
		cancel()
		wg.Wait()
	}
	if len(acked) < 20 {
		t.Fatalf("only %d submissions were answered: the test proves little", len(acked))
	}

	// Every answered submission is one pending change: one branch, whose file holds its text.
	repo, err := git.PlainOpen(filepath.Join(data, "repo"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{} // text → branches holding it
	refs, _ := repo.References()
	_ = refs.ForEach(func(r *plumbing.Reference) error {
		if !strings.HasPrefix(r.Name().String(), "refs/heads/parvis/") {
			return nil
		}
		c, err := repo.CommitObject(r.Hash())
		if err != nil {
			return err
		}
		files, _ := c.Files()
		return files.ForEach(func(f *object.File) error {
			if !strings.HasPrefix(f.Name, "comments/") {
				return nil
			}
			body, _ := f.Contents()
			for _, line := range strings.Split(body, "\n") {
				if i := strings.Index(line, "crash-"); i >= 0 {
					seen[strings.TrimSpace(line[i:])]++
				}
			}
			return nil
		})
	})
	out, err := exec.Command(bin, "moderate", "list", "--json", "--site", siteDir, "--data", data).Output()
	if err != nil {
		t.Fatalf("moderate list: %v", err)
	}
	var pending []struct{ ID, Status string }
	if err := json.Unmarshal(out, &pending); err != nil {
		t.Fatal(err)
	}
	records := map[string]int{}
	for _, p := range pending {
		records[p.ID]++
	}
	for id, text := range acked {
		if records[id] != 1 {
			t.Errorf("submission %s was answered 202 but has %d pending records", id, records[id])
		}
		if _, err := repo.Reference(plumbing.NewBranchReferenceName("parvis/"+id), true); err != nil {
			t.Errorf("submission %s was answered 202 but has no branch", id)
		}
		if seen[text] != 1 {
			t.Errorf("the text of %s is in %d changes, want 1", id, seen[text])
		}
	}
	t.Logf("%d submissions answered across %d kills; %d pending in all", len(acked), rounds, len(pending))
}

type binServer struct {
	cmd  *exec.Cmd
	base string
	log  *bytes.Buffer
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startBinary starts parvis serve with the challenge off and the rate limits raised, and
// extra flags after those.
func startBinary(t *testing.T, bin, siteDir, data string, extra ...string) *binServer {
	t.Helper()
	addr := freePort(t)
	var log bytes.Buffer
	args := []string{"serve", "--site", siteDir, "--data", data, "--addr", addr,
		"--antispam-challenge", "off", "--rate-per-ip", "100000", "--burst-per-ip", "100000",
		"--rate-per-page", "100000", "--burst-per-page", "100000", "--token-uses", "-1"}
	cmd := exec.Command(bin, append(args, extra...)...)
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.Env = append(os.Environ(), "PARVIS_METRICS_TOKEN="+crashMetricsToken)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &binServer{cmd: cmd, base: "http://" + addr, log: &log}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(s.base + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the server did not start:\n%s", log.String())
	return nil
}

func (s *binServer) token(t *testing.T) string {
	t.Helper()
	res, err := http.Get(s.base + "/articles/budget/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := tokenRE.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no token on the page")
	}
	return string(m[1])
}

// submit posts one comment and reports its id when the server answered 202.
func (s *binServer) submit(ctx context.Context, c *http.Client, token, text string) (string, bool) {
	v := comment(token, "Testeur", text)
	req, _ := http.NewRequestWithContext(ctx, "POST", s.base+"/api/v1/entries/comment", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res, err := c.Do(req)
	if err != nil {
		return "", false
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		return "", false
	}
	var body map[string]string
	if json.NewDecoder(res.Body).Decode(&body) != nil || body["id"] == "" {
		return "", false
	}
	return body["id"], true
}

func (s *binServer) kill(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_ = s.cmd.Wait()
}

func (s *binServer) stop(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Errorf("the server did not stop on SIGTERM:\n%s", s.log.String())
		_ = s.cmd.Process.Kill()
	}
}

// waitDrained waits until the queue holds nothing ready or leased.
func (s *binServer) waitDrained(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		res, err := s.metrics()
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if queueEmpty(string(b)) {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	res, err := s.metrics()
	if err != nil {
		t.Fatalf("the queue did not drain, and /metrics: %v\n%s", err, s.log.String())
	}
	b, _ := io.ReadAll(res.Body)
	t.Fatalf("the queue did not drain:\n%s\n%s", grepLines(string(b), "parvis_queue"), s.log.String())
}

// crashMetricsToken opens /metrics, which is not public without one.
const crashMetricsToken = "crash-test-metrics-token"

func (s *binServer) metrics() (*http.Response, error) {
	req, _ := http.NewRequest("GET", s.base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+crashMetricsToken)
	return http.DefaultClient.Do(req)
}

func queueEmpty(metrics string) bool {
	left := 0
	found := false
	for _, line := range strings.Split(metrics, "\n") {
		for _, state := range []string{"ready", "leased", "delayed"} {
			if strings.HasPrefix(line, `parvis_queue_items{state="`+state+`"}`) {
				found = true
				var n float64
				fmt.Sscan(strings.Fields(line)[1], &n)
				left += int(n)
			}
		}
	}
	return found && left == 0
}

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
