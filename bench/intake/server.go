package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.etcd.io/bbolt"
	"golang.org/x/tools/txtar"
)

// site is the small site the server takes submissions for: a few articles open to comments,
// and the comment form of cmd/parvis's tests, whose minimum time before posting is 1 s.
const site = `
-- parvis.yaml --
title: Ville de Testville
baseURL: http://localhost:8080/
language: fr
forms:
  comment:
    fields:
      name: {required: true, max: 80}
      message: {type: markdown, required: true, max: 2000}
      email: {type: email, private: true}
    options: [page, parent, redirect]
    transforms: [{field: email, op: hash, to: avatar}]
    generated: {_id: id, date: date}
    path: "comments/{options.page}"
    filename: "{_id}.yaml"
    antispam: {honeypot: website, minSeconds: 1}
-- articles/budget.md --
---
title: Le budget 2026
date: 2026-03-14
---
Le budget est voté. Il prévoit la rénovation du gymnase et un budget participatif.
-- articles/piscine.md --
---
title: Fermeture estivale de la piscine
date: 2026-04-02
---
La piscine ferme du 1er au 21 août pour la vidange annuelle.
-- articles/pistes-cyclables.md --
---
title: De nouvelles pistes cyclables
date: 2026-04-20
---
Trois kilomètres de pistes relieront la gare au collège d'ici la rentrée.
-- articles/concertation-centre-bourg.md --
---
title: Concertation sur le centre-bourg
date: 2026-05-06
---
Donnez votre avis sur le réaménagement de la place de la Mairie.
`

// sitePages are the articles of site, as the form's options[page] names them.
var sitePages = []string{"articles/budget", "articles/piscine", "articles/pistes-cyclables", "articles/concertation-centre-bourg"}

// siteBase is the site's base URL, which the form's redirect option points into.
const siteBase = "http://localhost:8080/"

// minSeconds is the form's minimum time between loading the page and posting.
const minSeconds = 1

func writeSite(dir string) error {
	for _, f := range txtar.Parse([]byte(site)).Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// server is one `parvis serve` child process, on a fresh data folder.
type server struct {
	cmd  *exec.Cmd
	base string
	data string
	log  *os.File
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done
}

// rateLimit is what the rate-limit flags are set to: far above the offered rate, since every
// post comes from one address and goes to four pages, yet the buckets are still kept and
// spent on each post.
const rateLimit = "1000000"

// metricsToken is the bearer token the benchmark reads /metrics with.
const metricsToken = "bench-intake-metrics-token"

func startServer(ctx context.Context, bin, siteDir, data string, workers int) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, err
	}
	log, err := os.Create(data + ".log")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--site", siteDir, "--data", data, "--addr", addr,
		"--antispam-challenge", "off",
		"--rate-per-ip", rateLimit, "--burst-per-ip", rateLimit,
		"--rate-per-page", rateLimit, "--burst-per-page", rateLimit, "--workers", strconv.Itoa(workers))
	cmd.Stdout, cmd.Stderr = log, log
	// By the environment, which a build from before these settings ignores: the load comes
	// from one address, over more connections than one address may hold, /metrics is not
	// public without a token, and the posts share a few hundred page loads' tokens, each of
	// which carries one submission by default.
	cmd.Env = append(os.Environ(), "PARVIS_MAX_CONNS_PER_IP=0", "PARVIS_METRICS_TOKEN="+metricsToken, "PARVIS_TOKEN_USES=-1")
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, err
	}
	s := &server{cmd: cmd, base: "http://" + addr, data: data, log: log, done: make(chan struct{})}
	go func() { s.err = cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(s.base + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("parvis serve exited: %v\n%s", s.err, s.logTail())
		case <-ctx.Done():
			s.kill()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.kill()
	return nil, fmt.Errorf("parvis serve did not answer /healthz within a minute:\n%s", s.logTail())
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func (s *server) pid() int { return s.cmd.Process.Pid }

var tokenRE = regexp.MustCompile(`name="options\[token\]" value="([^"]+)"`)

// tokens loads pages as n visitors would, and returns the form token each page load carries.
func (s *server) tokens(n int) ([]string, error) {
	out := make([]string, 0, n)
	for i := range n {
		page := sitePages[i%len(sitePages)]
		res, err := http.Get(s.base + "/" + page + "/")
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return nil, err
		}
		m := tokenRE.FindSubmatch(body)
		if res.StatusCode != http.StatusOK || m == nil {
			return nil, fmt.Errorf("GET /%s/: status %d, no form token", page, res.StatusCode)
		}
		out = append(out, string(m[1]))
	}
	return out, nil
}

// metrics reads the server's Prometheus counters and gauges, by series (name and labels as
// written, e.g. `parvis_queue_items{state="ready"}`).
func (s *server) metrics() (map[string]float64, error) {
	req, _ := http.NewRequest("GET", s.base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+metricsToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: status %d", res.StatusCode)
	}
	m := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			m[line[:i]] = v
		}
	}
	return m, sc.Err()
}

// peakRSS is the process's resident high-water mark so far (VmHWM), in bytes.
func (s *server) peakRSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid()))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmHWM in /proc/PID/status")
}

// cpuTime is the CPU time (user and system) the process has used so far.
func (s *server) cpuTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.pid()))
	if err != nil {
		return 0, err
	}
	// Fields after the command's name, which is in parentheses and may hold spaces:
	// utime and stime are the 14th and 15th fields of the line, in clock ticks.
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc/PID/stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// written is what the process has caused to be written to disk so far (write_bytes of
// /proc/PID/io: pages written back, including by fsync).
func (s *server) written() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", s.pid()))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "write_bytes:"); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, errors.New("no write_bytes in /proc/PID/io")
}

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on every Linux port Go runs on.
const clockTicks = 100

// stop asks the server to shut down (SIGTERM: it finishes the requests and the item under
// way) and waits for it.
//
// The kernel's rusage of the exited server is no measure of its memory: Go starts a child
// sharing the parent's address space until exec, so the child's ru_maxrss starts at this
// process's own resident size, which holds the posts of the run. VmHWM belongs to the
// server's own address space.
func (s *server) stop() error {
	defer s.log.Close()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		s.kill()
		return fmt.Errorf("parvis serve did not stop within a minute of SIGTERM:\n%s", s.logTail())
	}
	if s.err != nil {
		return fmt.Errorf("parvis serve: %v\n%s", s.err, s.logTail())
	}
	return nil
}

func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

// logTail is the end of the server's log, for error messages.
func (s *server) logTail() string {
	b, _ := os.ReadFile(s.log.Name())
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// kept opens the stopped server's store and returns the IDs it holds: those still in the
// queue and those the worker has already turned into changes (a record each).
func kept(data string) (map[string]bool, error) {
	db, err := bbolt.Open(filepath.Join(data, "parvis.db"), 0o600, &bbolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	ids := map[string]bool{}
	err = db.View(func(tx *bbolt.Tx) error {
		// The layouts of internal/queue/bolt (queue/meta: id → record) and internal/store
		// (records: id → record).
		q := tx.Bucket([]byte("queue"))
		if q == nil || q.Bucket([]byte("meta")) == nil {
			return errors.New("no queue/meta bucket in parvis.db")
		}
		recs := tx.Bucket([]byte("records"))
		if recs == nil {
			return errors.New("no records bucket in parvis.db")
		}
		for _, b := range []*bbolt.Bucket{q.Bucket([]byte("meta")), recs} {
			if err := b.ForEach(func(k, _ []byte) error { ids[string(k)] = true; return nil }); err != nil {
				return err
			}
		}
		return nil
	})
	return ids, err
}
