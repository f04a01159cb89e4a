package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parvis/parvis/internal/doccheck/doccorpus"
)

// floodSite takes documents as the demo does: PDF or OpenDocument text, up to 20 MB.
const floodSite = `
-- parvis.yaml --
title: Ville de Testville
baseURL: http://localhost:8080/
language: fr
forms:
  document:
    fields:
      file: {type: file, required: true, accept: [application/pdf, application/vnd.oasis.opendocument.text], max: 20971520}
      title: {required: true, min: 5, max: 150}
      description: {type: markdown, required: true, min: 20, max: 3000}
    generated: {slug: slug, date: date}
    path: "documents/{slug}"
    filename: index.md
    format: markdown
    body: description
    antispam: {minSeconds: 1}
-- articles/budget.md --
---
title: Le budget
date: 2026-03-14
---
Le budget est voté.
`

// TestFinding2UploadFloodMemory is finding 2 of the hostile-input review: ten PDFs of 249 KB each
// inflating to 250 MB took the server from 758 MB to 2.8 GB, and ten ODTs of 120 KB with a
// 120 MB entry to 2.1 GB. It runs the real binary, sends fifty of each at once from a
// hundred addresses (behind a trusted proxy, so that no rate limit spares the checks), and
// reads the server's own peak resident memory (VmHWM): it must stay under 300 MB, every
// bomb must be refused, none answered 5xx, and real documents sent meanwhile accepted.
func TestFinding2UploadFloodMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and floods the real binary")
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil || !bytes.Contains(status, []byte("VmHWM")) {
		t.Skip("no /proc/PID/status to read a peak from")
	}
	bin := filepath.Join(t.TempDir(), "parvis")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	srv := startBinary(t, bin, writeSite(t, floodSite), filepath.Join(t.TempDir(), "var"),
		"--trusted-proxies", "127.0.0.1/32", "--max-conns-per-ip", "0")
	before := peakRSS(t, srv.cmd.Process.Pid)

	const each = 50
	type bomb struct {
		name string
		data []byte
	}
	bombs := []bomb{{"pdf", doccorpus.Bomb250()}, {"odt", doccorpus.ODT120()}}
	tokens := make([]string, 2*each+4)
	for i := range tokens {
		tokens[i] = srv.formToken(t, "document")
	}
	time.Sleep(1100 * time.Millisecond) // the form's minimum time
	var wg sync.WaitGroup
	var mu sync.Mutex
	answers := map[int]int{}
	start := time.Now()
	for i := range 2 * each {
		b := bombs[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			code := srv.postFile(t, tokens[i], fmt.Sprintf("198.51.100.%d", i+1), "compte-rendu."+b.name, b.data)
			mu.Lock()
			answers[code]++
			mu.Unlock()
		}()
	}
	// Citizens' real documents, sent in the middle of the flood, still get through.
	good := make([]int, 4)
	for i := range good {
		wg.Add(1)
		go func() {
			defer wg.Done()
			good[i] = srv.postFile(t, tokens[2*each+i], fmt.Sprintf("203.0.113.%d", i+1), "cr.pdf", doccorpus.LibreOffice())
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	for i, code := range good {
		if code != http.StatusAccepted {
			t.Errorf("a real document sent during the flood (%d): %d", i, code)
		}
	}
	peak := peakRSS(t, srv.cmd.Process.Pid)
	t.Logf("upload flood: %d bombs (%d PDFs of %d KB inflating to 250 MB, %d ODTs of %d KB with a 120 MB entry) in flight at once, answered %v in %v; server peak RSS %d MB (%d MB before)",
		2*each, each, len(bombs[0].data)>>10, each, len(bombs[1].data)>>10, answers, elapsed.Round(time.Millisecond), peak>>20, before>>20)
	for code, n := range answers {
		if code/100 != 4 || code == http.StatusTooManyRequests {
			t.Errorf("%d bombs answered %d, want a refusal", n, code)
		}
	}
	if peak > 300<<20 {
		t.Errorf("peak RSS %d MB, want under 300 MB", peak>>20)
	}
}

// peakRSS reads a process's peak resident memory, in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// formToken asks the challenge endpoint for a token, as a page's script does.
func (s *binServer) formToken(t *testing.T, form string) string {
	t.Helper()
	res, err := http.Get(s.base + "/api/v1/challenge?form=" + form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var v struct{ Token string }
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil || v.Token == "" {
		t.Fatalf("challenge: %v", err)
	}
	return v.Token
}

// postFile sends a document from the address from, as the trusted proxy names it, and
// returns the answer's status.
func (s *binServer) postFile(t *testing.T, token, from, name string, data []byte) int {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("fields[title]", "Un compte rendu")
	_ = mw.WriteField("fields[description]", "Le compte rendu de la réunion publique du 3 mars.")
	_ = mw.WriteField("options[token]", token)
	fw, _ := mw.CreateFormFile("fields[file]", name)
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", s.base+"/api/v1/entries/document", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Forwarded-For", from)
	res, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		t.Errorf("post: %v", err)
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}
