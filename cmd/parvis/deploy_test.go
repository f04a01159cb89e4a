package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parvis/parvis/internal/blob/s3"
	"github.com/parvis/parvis/internal/deploy"
	"github.com/parvis/parvis/internal/doccheck/doccorpus"
	"github.com/parvis/parvis/internal/testenv"
)

// deployClock is the build's clock in these tests, so that two builds of one site are equal.
const deployClock = "2026-04-01T10:00:00+02:00"

// cliWith runs a parvis command in-process with the variables vars.
func cliWith(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}, args)
	return code, out.String(), errb.String()
}

func minioVars(m *testenv.MinIO) map[string]string {
	return map[string]string{"AWS_ACCESS_KEY_ID": m.AccessKey, "AWS_SECRET_ACCESS_KEY": m.SecretKey, "AWS_REGION": m.Region}
}

func openBucket(t *testing.T, m *testenv.MinIO, u string) *s3.Store {
	t.Helper()
	loc, err := s3.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	s, err := s3.New(context.Background(), loc, s3.Options{Endpoint: m.Endpoint, Region: m.Region, PathStyle: true, AccessKeyID: m.AccessKey, SecretAccessKey: m.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type s3Object struct {
	data []byte
	h    http.Header
}

// readBucket reads every object back.
func readBucket(t *testing.T, s *s3.Store) map[string]s3Object {
	t.Helper()
	ctx := context.Background()
	var keys []string
	if err := s.Walk(ctx, func(k, _ string) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatal(err)
	}
	objs := make(map[string]s3Object, len(keys))
	for _, k := range keys {
		data, h, err := s.GetObject(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		objs[k] = s3Object{data, h}
	}
	return objs
}

// readBuild reads a built folder: path → content.
func readBuild(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

var (
	fingerprint   = regexp.MustCompile(`^(css|js)/[^/]+\.[0-9a-f]{8}\.(css|js)$`)
	wantTypes     = map[string]string{".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".jpg": "image/jpeg", ".png": "image/png", ".svg": "image/svg+xml", ".pdf": "application/pdf", ".ics": "text/calendar; charset=utf-8", ".txt": "text/plain; charset=utf-8", ".bin": "application/octet-stream", ".json": "application/json", ".webp": "image/webp", ".odt": "application/vnd.oasis.opendocument.text"}
	xmlTypes      = []string{"application/rss+xml; charset=utf-8", "application/atom+xml; charset=utf-8", "application/xml; charset=utf-8"}
	shortCacheExt = map[string]bool{".html": true, ".xml": true, ".ics": true, ".bin": true, ".json": true, ".txt": true}
)

// downloads reads the paths a _headers file makes downloads.
func downloads(headers []byte) map[string]bool {
	out := map[string]bool{}
	var cur string
	for _, line := range strings.Split(string(headers), "\n") {
		switch {
		case strings.HasPrefix(line, "/"):
			cur = strings.TrimPrefix(strings.TrimSpace(line), "/")
		case strings.EqualFold(strings.TrimSpace(line), "Content-Disposition: attachment"):
			out[cur] = true
		}
	}
	return out
}

// assertBucketHolds checks that the bucket holds the build, byte for byte, and nothing else
// but the manifest, with the headers a reader should get: the media type of each file, a
// year's immutable cache for fingerprinted assets and a minute's for pages and feeds, and a
// citizen's document as a download.
func assertBucketHolds(t *testing.T, s *s3.Store, build string) {
	t.Helper()
	files, objs := readBuild(t, build), readBucket(t, s)
	attach := downloads(files[deploy.HeadersFile])
	if len(attach) == 0 {
		t.Fatal("the build has no citizen's document to check")
	}
	delete(files, deploy.HeadersFile)
	if _, ok := objs[deploy.ManifestKey]; !ok {
		t.Error("the bucket has no manifest")
	}
	delete(objs, deploy.ManifestKey)
	var missing, extra, differ []string
	for k, data := range files {
		o, ok := objs[k]
		switch {
		case !ok:
			missing = append(missing, k)
			continue
		case !bytes.Equal(o.data, data):
			differ = append(differ, k)
		}
		ext := filepath.Ext(k)
		ct := o.h.Get("Content-Type")
		if want, ok := wantTypes[ext]; ok && ct != want || ext == ".xml" && !contains(xmlTypes, ct) || !ok && ext != ".xml" && ct != "application/octet-stream" {
			t.Errorf("%s: Content-Type %q", k, ct)
		}
		cc := o.h.Get("Cache-Control")
		switch {
		case fingerprint.MatchString(k):
			if cc != "public, max-age=31536000, immutable" {
				t.Errorf("%s, fingerprinted: Cache-Control %q", k, cc)
			}
		case shortCacheExt[ext]:
			if cc != "public, max-age=60" {
				t.Errorf("%s, a page or a feed: Cache-Control %q", k, cc)
			}
		case cc == "" || strings.Contains(cc, "immutable"):
			t.Errorf("%s: Cache-Control %q", k, cc)
		}
		if cd := o.h.Get("Content-Disposition"); attach[k] != (cd == "attachment") {
			t.Errorf("%s: Content-Disposition %q (a citizen's document: %v)", k, cd, attach[k])
		}
	}
	for k := range objs {
		if _, ok := files[k]; !ok {
			extra = append(extra, k)
		}
	}
	for name, l := range map[string][]string{"missing from the bucket": missing, "in the bucket, not the build": extra, "different in the bucket": differ} {
		if len(l) > 0 {
			sort.Strings(l)
			t.Errorf("%d files %s: %v", len(l), name, l[:min(len(l), 10)])
		}
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// demoCopy copies the demo site and adds a page a citizen sent, with a document.
func demoCopy(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "site")
	if err := copySite(filepath.Join("..", "..", "content"), dir); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, "articles", "compte-rendu-amicale")
	if err := os.MkdirAll(page, 0o755); err != nil {
		t.Fatal(err)
	}
	md := "---\nsubmitted: article\ntitle: L'assemblée générale de l'amicale\ndate: 2026-03-10T10:00:00+01:00\n---\nLe compte rendu est joint.\n"
	if err := os.WriteFile(filepath.Join(page, "index.md"), []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(page, "compte-rendu.pdf"), doccorpus.LibreOffice(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// summary is the last line of a deploy's output.
func summary(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

// countUploads counts the upload lines of a --verbose deploy.
func countUploads(out string) int {
	return strings.Count(out, "\nupload  ") + boolInt(strings.HasPrefix(out, "upload  "))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// editFile replaces old by new in a file of the site, once.
func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s has no %q", path, old)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDeployDemoToMinIO deploys the demo to a real MinIO, reads it all back, deploys after
// one changed comment (at most 5 objects may go), and kills a deploy midway with SIGKILL
// before running it again: each time the bucket must end equal to the build.
func TestDeployDemoToMinIO(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket := m.Bucket(t)
	target := "s3://" + bucket + "/www"
	store := openBucket(t, m, target)
	siteDir := demoCopy(t)
	cache := t.TempDir()
	vars := minioVars(m)
	deployArgs := func(extra ...string) []string {
		return append(append([]string{"deploy", "--site", siteDir, "--cache", cache, "--now", deployClock,
			"--endpoint", m.Endpoint, "--path-style", "--verbose"}, extra...), target)
	}
	deployOnce := func(what string, extra ...string) (int, time.Duration, string) {
		t.Helper()
		start := time.Now()
		code, out, errs := cliWith(t, vars, deployArgs(extra...)...)
		took := time.Since(start)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s\n%s", what, code, out, errs)
		}
		return countUploads(out), took, out
	}
	build := func() string {
		t.Helper()
		out := filepath.Join(t.TempDir(), "public")
		if code, o, errs := cliWith(t, nil, "build", "--site", siteDir, "--out", out, "--cache", cache, "--now", deployClock, "--quiet"); code != 0 {
			t.Fatalf("build: %d\n%s\n%s", code, o, errs)
		}
		return out
	}

	n, took, out := deployOnce("first deploy")
	ref := build()
	if files := len(readBuild(t, ref)) - 1; n != files { // all but _headers
		t.Errorf("first deploy uploaded %d objects, the build has %d files", n, files)
	}
	t.Logf("figure: first deploy of the demo: %d objects uploaded in %s with the build; %s", n, took.Round(time.Millisecond), summary(out))
	assertBucketHolds(t, store, ref)

	if n, _, out := deployOnce("the same again"); n != 0 {
		t.Errorf("deploying the same site again uploaded %d objects:\n%s", n, out)
	}

	// One comment changes: the first of an article published at the build's clock.
	comments, _ := filepath.Glob(filepath.Join(siteDir, "comments", "articles", "*", "*.yaml"))
	sort.Strings(comments)
	var comment, page string
	for _, c := range comments {
		p := "articles/" + filepath.Base(filepath.Dir(c)) + "/index.html"
		if _, err := os.Stat(filepath.Join(ref, filepath.FromSlash(p))); err == nil {
			comment, page = c, p
			break
		}
	}
	if comment == "" {
		t.Fatal("the demo has no comment on a published article")
	}
	editFile(t, comment, "message: |\n  ", "message: |\n  Modifié : ")
	_, _, out = deployOnce("dry run", "--dry-run")
	if !strings.Contains(out, "would upload  "+page+"  (changed, ") || !strings.Contains(out, "Would deploy to "+target) {
		t.Errorf("the dry run does not list the page:\n%s", out)
	}
	assertBucketHolds(t, store, ref) // the dry run changed nothing
	n, took, out = deployOnce("after one comment")
	if n > 5 || n == 0 {
		t.Errorf("after one comment, %d objects were uploaded, want 1 to 5:\n%s", n, out)
	}
	t.Logf("figure: deploy after one comment: %d objects uploaded (and the manifest) in %s with the build; %s", n, took.Round(time.Millisecond), summary(out))
	ref = build()
	assertBucketHolds(t, store, ref)

	// Every page changes (the site's title), and the deploy is killed midway: the pages
	// it sent are in the bucket, the manifest still tells of the old ones.
	config := filepath.Join(siteDir, "parvis.yaml")
	before := ref
	editFile(t, config, "\ntitle: ", "\ntitle: Commune de Test, ")
	killed := killDeployMidway(t, m, deployArgs("--concurrency", "2"), 10)
	if strings.Contains(killed, "Deployed to") {
		t.Fatalf("the deploy ended before it was killed:\n%s", killed)
	}
	if _, _, out := deployOnce("dry run after the kill", "--dry-run"); !strings.Contains(out, "would upload") {
		t.Fatal("the killed deploy had nothing left to do: it was not cut midway")
	}
	// The change is taken back and deployed: the pages the killed run sent must go back too,
	// though the manifest says they are the old ones.
	editFile(t, config, "\ntitle: Commune de Test, ", "\ntitle: ")
	n, took, out = deployOnce("the change taken back")
	t.Logf("the deploy of the old site after the kill: %d objects uploaded in %s with the build; %s", n, took.Round(time.Millisecond), summary(out))
	if n < 10 {
		t.Errorf("after the kill, going back to the old site uploaded %d objects, fewer than the killed run had changed", n)
	}
	assertBucketHolds(t, store, before)
	// And the change again, with a second kill, then in full.
	editFile(t, config, "\ntitle: ", "\ntitle: Commune de Test, ")
	killDeployMidway(t, m, deployArgs("--concurrency", "2"), 10)
	n, took, out = deployOnce("after the second kill")
	t.Logf("the deploy run again after the second kill: %d objects uploaded in %s with the build; %s", n, took.Round(time.Millisecond), summary(out))
	assertBucketHolds(t, store, build())
}

// killDeployMidway runs parvis deploy in a process of its own and kills it with SIGKILL once
// it has told of after uploads, then returns what it printed.
func killDeployMidway(t *testing.T, m *testenv.MinIO, args []string, after int) string {
	t.Helper()
	enc, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^TestDeployChild$")
	// Its own temporary folder: a killed deploy leaves its build there.
	cmd.Env = append(append(os.Environ(), m.Env()...), "PARVIS_DEPLOY_CHILD="+string(enc), "TMPDIR="+t.TempDir())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	sc := bufio.NewScanner(stdout)
	uploads := 0
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "upload  ") {
			if uploads++; uploads == after {
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				break
			}
		}
	}
	go io.Copy(io.Discard, stdout)
	err = cmd.Wait()
	if uploads < after {
		t.Fatalf("the deploy ended after %d uploads (%v):\n%s\n%s", uploads, err, out.String(), stderr.String())
	}
	return out.String()
}

// TestDeployChild is parvis deploy in a process of its own, for killDeployMidway.
func TestDeployChild(t *testing.T) {
	raw := os.Getenv("PARVIS_DEPLOY_CHILD")
	if raw == "" {
		return // only a child of TestDeployDemoToMinIO runs it
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		t.Fatal(err)
	}
	os.Exit(run(context.Background(), &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, args))
}

func TestDeployRefuses(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"deploy"}, 2, "want one s3://bucket/prefix address"},
		{[]string{"deploy", "https://bucket/x"}, 2, "not an s3://bucket/prefix address"},
		{[]string{"deploy", "s3://B/x"}, 2, "not a bucket name"},
		{[]string{"deploy", "s3://site/../x"}, 2, "not a clean relative path"},
		{[]string{"deploy", "--endpoint", "localhost:9000", "s3://site/x"}, 2, "--endpoint"},
		{[]string{"deploy", "--concurrency", "0", "s3://site/x"}, 2, "--concurrency"},
	} {
		code, _, errs := cliWith(t, nil, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, %q; want %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
}

// deploySite takes documents, as the demo does, from citizens with no wait.
const deploySite = `
-- parvis.yaml --
title: Ville de Testville
baseURL: http://localhost:8080/
language: fr
forms:
  document:
    fields:
      file: {type: file, required: true, accept: [application/pdf], max: 20971520}
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

// serveFor runs parvis serve in-process until stop is called or the test ends.
func serveFor(t *testing.T, addr string, vars map[string]string, args ...string) (log *syncBuffer, stop func()) {
	t.Helper()
	log = &syncBuffer{}
	e := &env{stdin: strings.NewReader(""), stdout: log, stderr: log, getenv: func(k string) string { return vars[k] }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, e, append([]string{"serve", "--addr", addr, "--antispam-challenge", "off"}, args...))
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Errorf("parvis serve did not stop:\n%s", log.String())
		}
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case code := <-done:
			t.Fatalf("parvis serve exited with %d:\n%s", code, log.String())
		default:
		}
		if res, err := oneShot.Get("http://" + addr + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return log, stop
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("parvis serve did not start:\n%s", log.String())
	return nil, nil
}

// waitFor polls cond for up to 30 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("gave up waiting: %s", what)
}

// TestServeDeployAndUploadsInS3 runs parvis serve with --deploy and --uploads against a real
// MinIO: the site is in the bucket from the start; a citizen's document waits in the upload
// bucket, not on the server's disk; once approved, the rebuilt site is deployed with it, and
// the document is a download there.
func TestServeDeployAndUploadsInS3(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket := m.Bucket(t)
	site, uploads := "s3://"+bucket+"/www", "s3://"+bucket+"/private/uploads"
	siteDir := writeSite(t, deploySite)
	data := filepath.Join(t.TempDir(), "var")
	vars := minioVars(m)
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	args := []string{"--site", siteDir, "--data", data, "--deploy", site, "--uploads", uploads, "--endpoint", m.Endpoint, "--path-style"}

	// --deploy inside --uploads, or the other way, would publish the uploads.
	if code, _, errs := cliWith(t, vars, "serve", "--addr", "127.0.0.1:0", "--site", siteDir, "--data", data, "--deploy", "s3://"+bucket, "--uploads", uploads, "--endpoint", m.Endpoint, "--path-style"); code != 2 || !strings.Contains(errs, "--uploads must not be inside --deploy") {
		t.Errorf("overlapping --deploy and --uploads: %d %s", code, errs)
	}

	// Workers off: the document stays queued, its file in the upload bucket.
	_, stop := serveFor(t, addr, vars, append(args, "--workers", "0")...)
	siteStore, upStore := openBucket(t, m, site), openBucket(t, m, uploads)
	if _, _, err := siteStore.GetObject(context.Background(), "articles/budget/index.html"); err != nil {
		t.Fatalf("the site is not in the bucket after start: %v", err)
	}
	base := "http://" + addr
	res, err := http.Get(base + "/api/v1/challenge?form=document")
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token string }
	json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	time.Sleep(1100 * time.Millisecond)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("fields[title]", "Un compte rendu")
	mw.WriteField("fields[description]", "Le compte rendu de la réunion publique du 3 mars.")
	mw.WriteField("options[token]", tok.Token)
	fw, _ := mw.CreateFormFile("fields[file]", "cr.pdf")
	fw.Write(doccorpus.LibreOffice())
	mw.Close()
	req, _ := http.NewRequest("POST", base+"/api/v1/entries/document", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept", "application/json")
	res, err = oneShot.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var accepted map[string]string
	json.NewDecoder(res.Body).Decode(&accepted)
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("the document was answered %d: %v", res.StatusCode, accepted)
	}
	waiting := readBucket(t, upStore)
	if len(waiting) != 1 {
		t.Fatalf("the upload bucket holds %d objects, want the document", len(waiting))
	}
	for _, o := range waiting {
		if !bytes.Equal(o.data, doccorpus.LibreOffice()) {
			t.Error("the upload bucket holds another file than the document")
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(data, "uploads")); len(entries) != 0 {
		t.Errorf("the document is on the server's disk too: %v", entries)
	}
	stop()

	// Workers on: the change is opened from the file in the bucket, which then goes.
	serveFor(t, addr, vars, args...)
	id := accepted["id"]
	waitFor(t, "the change to be opened", func() bool {
		_, out, _ := cliWith(t, nil, "moderate", "list", "--json", "--site", siteDir, "--data", data)
		return strings.Contains(out, id)
	})
	waitFor(t, "the upload to leave the bucket", func() bool { return len(readBucket(t, upStore)) == 0 })
	if code, out, errs := cliWith(t, nil, "moderate", "approve", id, "--site", siteDir, "--data", data); code != 0 {
		t.Fatalf("approve: %d\n%s\n%s", code, out, errs)
	}
	var pdf string
	waitFor(t, "the document to be deployed", func() bool {
		for k := range readBucket(t, siteStore) {
			if strings.HasPrefix(k, "documents/") && strings.HasSuffix(k, ".pdf") {
				pdf = k
				return true
			}
		}
		return false
	})
	data2, h, err := siteStore.GetObject(context.Background(), pdf)
	if err != nil || !bytes.Equal(data2, doccorpus.LibreOffice()) {
		t.Fatalf("the deployed document: %v", err)
	}
	if h.Get("Content-Disposition") != "attachment" || h.Get("Content-Type") != "application/pdf" {
		t.Errorf("the deployed citizen's document: %v", h)
	}
	// The bucket holds what the server built.
	pub := filepath.Join(data, "public")
	waitFor(t, "the bucket to hold the rebuilt site", func() bool {
		objs := readBucket(t, siteStore)
		for k, b := range readBuild(t, pub) {
			if k == deploy.HeadersFile {
				continue
			}
			if o, ok := objs[k]; !ok || !bytes.Equal(o.data, b) {
				return false
			}
		}
		return true
	})
}
