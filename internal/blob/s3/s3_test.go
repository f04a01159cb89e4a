package s3_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/parvis/parvis/internal/blob"
	"github.com/parvis/parvis/internal/blob/blobtest"
	"github.com/parvis/parvis/internal/blob/s3"
	"github.com/parvis/parvis/internal/testenv"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in, bucket, prefix, err string
	}{
		{in: "s3://site", bucket: "site"},
		{in: "s3://site/", bucket: "site"},
		{in: "s3://my.site-2026/www/ville", bucket: "my.site-2026", prefix: "www/ville"},
		{in: "s3://site/www/", bucket: "site", prefix: "www"},
		{in: "https://site/www", err: "not an s3://"},
		{in: "s3://", err: "not a bucket name"},
		{in: "s3://Site/www", err: "not a bucket name"},
		{in: "s3://a/www", err: "not a bucket name"},
		{in: "s3://a..b/www", err: "not a bucket name"},
		{in: "s3://site/../other", err: "not a clean relative path"},
		{in: "s3://site/a//b", err: "not a clean relative path"},
		{in: "s3://site//a", err: "not a clean relative path"},
		{in: "s3://site/a\\b", err: "not a clean relative path"},
	} {
		loc, err := s3.ParseURL(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseURL(%q) = %v, %v; want an error with %q", tc.in, loc, err, tc.err)
			}
			continue
		}
		if err != nil || loc.Bucket != tc.bucket || loc.Prefix != tc.prefix {
			t.Errorf("ParseURL(%q) = %+v, %v; want %s %q", tc.in, loc, err, tc.bucket, tc.prefix)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		o   s3.Options
		err string
	}{
		{s3.Options{Endpoint: "ftp://x"}, "not an http"},
		{s3.Options{Endpoint: "127.0.0.1:9000"}, "not an http"},
		{s3.Options{AccessKeyID: "k"}, "secret access key"},
	} {
		if _, err := s3.New(ctx, s3.Location{Bucket: "site"}, tc.o); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("New(%+v) = %v, want %q", tc.o, err, tc.err)
		}
	}
}

func newStore(t *testing.T, m *testenv.MinIO, loc s3.Location, o s3.Options) *s3.Store {
	t.Helper()
	if o.Endpoint == "" {
		o.Endpoint = m.Endpoint
	}
	o.Region, o.PathStyle, o.AccessKeyID, o.SecretAccessKey = m.Region, true, m.AccessKey, m.SecretKey
	s, err := s3.New(context.Background(), loc, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestMinIO runs the blob conformance suite against a real MinIO, each store under a prefix
// of its own in one bucket (so Isolation checks prefixes), and then the failures.
func TestMinIO(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket := m.Bucket(t)
	var n atomic.Int32
	t.Run("Conformance", func(t *testing.T) {
		blobtest.Run(t, func(t *testing.T) blob.Store {
			return newStore(t, m, s3.Location{Bucket: bucket, Prefix: fmt.Sprintf("uploads-%d", n.Add(1))}, s3.Options{})
		})
	})
	t.Run("NoPrefix", func(t *testing.T) {
		s := newStore(t, m, s3.Location{Bucket: m.Bucket(t)}, s3.Options{})
		if err := s.Put(context.Background(), "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
		var keys []string
		if err := s.Walk(context.Background(), func(k, etag string) error { keys = append(keys, k); return nil }); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(keys) != "[k]" {
			t.Errorf("Walk = %v", keys)
		}
	})
	t.Run("ObjectsAndWalk", func(t *testing.T) { testObjects(t, m, bucket) })
	t.Run("Check", func(t *testing.T) {
		ctx := context.Background()
		if err := newStore(t, m, s3.Location{Bucket: bucket}, s3.Options{}).Check(ctx); err != nil {
			t.Errorf("Check of a bucket that is there: %v", err)
		}
		if err := newStore(t, m, s3.Location{Bucket: "no-such-bucket"}, s3.Options{}).Check(ctx); err == nil || !strings.Contains(err.Error(), "no such bucket") {
			t.Errorf("Check of a missing bucket: %v", err)
		}
		bad, err := s3.New(ctx, s3.Location{Bucket: bucket}, s3.Options{Endpoint: m.Endpoint, PathStyle: true, Region: m.Region, AccessKeyID: m.AccessKey, SecretAccessKey: "wrong-secret"})
		if err != nil {
			t.Fatal(err)
		}
		if err := bad.Check(ctx); err == nil || !strings.Contains(err.Error(), "access refused") {
			t.Errorf("Check with a wrong secret: %v", err)
		}
	})
	t.Run("Retries", func(t *testing.T) { testRetries(t, m, bucket) })
}

func testObjects(t *testing.T, m *testenv.MinIO, bucket string) {
	ctx := context.Background()
	s := newStore(t, m, s3.Location{Bucket: bucket, Prefix: "site/www"}, s3.Options{})
	other := newStore(t, m, s3.Location{Bucket: bucket, Prefix: "site/www-old"}, s3.Options{})
	if _, err := other.PutObject(ctx, "index.html", []byte("old"), nil); err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Content-Type": {"application/pdf"}, "Cache-Control": {"public, max-age=60"}, "Content-Disposition": {"attachment"}}
	etag, err := s.PutObject(ctx, "documents/a b/é.pdf", []byte("%PDF-1.4"), h)
	if err != nil {
		t.Fatal(err)
	}
	if len(etag) != 32 || strings.Contains(etag, `"`) {
		t.Errorf("ETag %q: want the 32 hex digits of an MD5, unquoted", etag)
	}
	data, got, err := s.GetObject(ctx, "documents/a b/é.pdf")
	if err != nil || string(data) != "%PDF-1.4" {
		t.Fatalf("GetObject = %q, %v", data, err)
	}
	for _, k := range []string{"Content-Type", "Cache-Control", "Content-Disposition"} {
		if got.Get(k) != h.Get(k) {
			t.Errorf("%s = %q, want %q", k, got.Get(k), h.Get(k))
		}
	}
	if _, err := s.PutObject(ctx, "x", nil, http.Header{"X-Frame-Options": {"DENY"}}); err == nil || !strings.Contains(err.Error(), "cannot keep the header X-Frame-Options") {
		t.Errorf("a header S3 cannot keep: %v", err)
	}
	listed := map[string]string{}
	if err := s.Walk(ctx, func(k, e string) error { listed[k] = e; return nil }); err != nil {
		t.Fatal(err)
	}
	// The prefix is a folder: www-old, beside it, is not under www.
	if len(listed) != 1 || listed["documents/a b/é.pdf"] != etag {
		t.Errorf("Walk = %v, want only the PDF with ETag %s", listed, etag)
	}
	if err := s.DeleteObject(ctx, "documents/a b/é.pdf"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.GetObject(ctx, "documents/a b/é.pdf"); err != blob.ErrNotFound {
		t.Errorf("GetObject after DeleteObject: %v", err)
	}
}

// faulty is a proxy in front of MinIO that answers 500 to every other request and drops the
// connection of every fifth, before MinIO sees them.
type faulty struct {
	n     atomic.Int32
	proxy *httputil.ReverseProxy
}

func (f *faulty) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch n := f.n.Add(1); {
	case n%5 == 0:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	case n%2 == 0:
		http.Error(w, "<Error><Code>InternalError</Code></Error>", http.StatusInternalServerError)
	default:
		f.proxy.ServeHTTP(w, r)
	}
}

// testRetries: requests that meet 5xx answers and dropped connections are tried again with
// backoff, and succeed; with a single attempt, the same faults are errors.
func testRetries(t *testing.T, m *testenv.MinIO, bucket string) {
	target, _ := url.Parse(m.Endpoint)
	f := &faulty{proxy: httputil.NewSingleHostReverseProxy(target)}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	s := newStore(t, m, s3.Location{Bucket: bucket, Prefix: "flaky"}, s3.Options{Endpoint: srv.URL, MaxAttempts: 8})
	for i := range 10 {
		key, data := fmt.Sprintf("k%d", i), bytes.Repeat([]byte{byte(i)}, 1000*i)
		if err := s.Put(ctx, key, data); err != nil {
			t.Fatalf("Put through faults: %v", err)
		}
		got, err := s.Get(ctx, key)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get through faults: %d bytes, %v", len(got), err)
		}
	}
	if f.n.Load() < 40 {
		t.Errorf("only %d requests reached the proxy: the faults were not met", f.n.Load())
	}
	once := newStore(t, m, s3.Location{Bucket: bucket, Prefix: "flaky"}, s3.Options{Endpoint: srv.URL, MaxAttempts: 1})
	failed := 0
	for i := range 10 {
		if _, err := once.Get(ctx, fmt.Sprintf("k%d", i)); err != nil {
			failed++
		}
	}
	if failed == 0 {
		t.Error("with one attempt, no request failed: the proxy put no fault in the way")
	}
}
