package commentsvc

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/parvis/parvis/internal/antispam"
)

// TestFinding6ForwardedHeaders: X-Forwarded-For and X-Forwarded-Proto are believed only
// from a trusted proxy, and then only up to the right-most address that is not one.
func TestFinding6ForwardedHeaders(t *testing.T) {
	lan := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name    string
		proxies []netip.Prefix
		peer    string
		xff     []string
		proto   []string
		want    string
		https   bool
	}{
		{"no proxy configured: loopback is no proxy", nil, "127.0.0.1:5000", []string{"198.51.100.1"}, []string{"https"}, "127.0.0.1", false},
		{"an untrusted peer", lan, "203.0.113.9:5000", []string{"198.51.100.1"}, []string{"https"}, "203.0.113.9", false},
		{"a trusted proxy", lan, "10.0.0.1:5000", []string{"198.51.100.1"}, []string{"https"}, "198.51.100.1", true},
		{"a spoofed entry left of the client", lan, "10.0.0.1:5000", []string{"6.6.6.6, 198.51.100.1"}, nil, "198.51.100.1", false},
		{"a chain of proxies", lan, "10.0.0.1:5000", []string{"6.6.6.6, 198.51.100.1, 10.0.0.2, 10.9.9.9"}, nil, "198.51.100.1", false},
		{"two headers are one list", lan, "10.0.0.1:5000", []string{"6.6.6.6", "198.51.100.1, 10.0.0.2"}, nil, "198.51.100.1", false},
		{"the client in the first header", lan, "10.0.0.1:5000", []string{"198.51.100.1", "10.0.0.3"}, nil, "198.51.100.1", false},
		{"spaces and empty entries", lan, "10.0.0.1:5000", []string{"  198.51.100.1 ,, 10.0.0.2 ,"}, nil, "198.51.100.1", false},
		{"a port", lan, "10.0.0.1:5000", []string{"198.51.100.1:4711"}, nil, "198.51.100.1", false},
		{"IPv6 with brackets and a port", lan, "10.0.0.1:5000", []string{"[2001:db8::1]:4711"}, nil, "2001:db8::1", false},
		{"IPv6 with brackets", lan, "10.0.0.1:5000", []string{"[2001:db8::1]"}, nil, "2001:db8::1", false},
		{"IPv6 bare", lan, "10.0.0.1:5000", []string{"2001:db8::1"}, nil, "2001:db8::1", false},
		{"IPv4 in IPv6", lan, "10.0.0.1:5000", []string{"::ffff:198.51.100.1"}, nil, "198.51.100.1", false},
		{"an IPv6 proxy", lan, "[::1]:5000", []string{"198.51.100.1"}, nil, "198.51.100.1", false},
		{"garbage: the peer", lan, "10.0.0.1:5000", []string{"198.51.100.1, garbage"}, nil, "10.0.0.1", false},
		{"unknown: the peer", lan, "10.0.0.1:5000", []string{"unknown"}, nil, "10.0.0.1", false},
		{"a zone: the peer", lan, "10.0.0.1:5000", []string{"fe80::1%eth0"}, nil, "10.0.0.1", false},
		{"an overlong entry: the peer", lan, "10.0.0.1:5000", []string{strings.Repeat("9", 5000)}, nil, "10.0.0.1", false},
		{"no header: the peer", lan, "10.0.0.1:5000", nil, nil, "10.0.0.1", false},
		{"every hop a proxy: the farthest", lan, "10.0.0.1:5000", []string{"10.0.0.5, 10.0.0.2"}, nil, "10.0.0.5", false},
		{"the last proto wins", lan, "10.0.0.1:5000", nil, []string{"http", "http, https"}, "10.0.0.1", true},
		{"proto http", lan, "10.0.0.1:5000", nil, []string{"http"}, "10.0.0.1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			for _, v := range tt.proto {
				r.Header.Add("X-Forwarded-Proto", v)
			}
			c := proxies(tt.proxies).identify(r)
			if c.addr.String() != tt.want || c.https != tt.https {
				t.Errorf("client %s, https %v; want %s, %v", c.addr, c.https, tt.want, tt.https)
			}
		})
	}
}

func TestParseProxies(t *testing.T) {
	p, err := ParseProxies("10.0.0.0/8, 192.0.2.7 2001:db8::/32,::ffff:172.16.0.0/108\t::1")
	if err != nil {
		t.Fatal(err)
	}
	want := "[10.0.0.0/8 192.0.2.7/32 2001:db8::/32 172.16.0.0/12 ::1/128]"
	if fmt.Sprint(p) != want {
		t.Errorf("parsed %v, want %s", p, want)
	}
	for _, bad := range []string{"10.0.0.0/33", "localhost", "10.0.0.*", "fe80::1%eth0", "10.0.0.0/8,example.org"} {
		if _, err := ParseProxies(bad); err == nil || !strings.Contains(err.Error(), "not an address or a CIDR block") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if p, err := ParseProxies(" "); err != nil || len(p) != 0 {
		t.Errorf("an empty list: %v, %v", p, err)
	}
}

func TestAddrGroup(t *testing.T) {
	for in, want := range map[string]string{
		"198.51.100.7":         "198.51.100.7",
		"::ffff:198.51.100.7":  "198.51.100.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::",
	} {
		if got := addrGroup(netip.MustParseAddr(in)).String(); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

// TestFinding6RotatingHeaderDoesNotBypassTheRateLimit: a client on loopback that sends a
// new X-Forwarded-For each time used to get a fresh bucket each time.
func TestFinding6RotatingHeaderDoesNotBypassTheRateLimit(t *testing.T) {
	f := newFixture(t, WithAntispam(antispam.Config{RatePerIP: rate.Every(time.Hour), BurstPerIP: 2, RatePerPage: rate.Inf}))
	var got []int
	for i := range 4 {
		res := f.post(t, "/api/v1/entries/comment", form, f.comment(map[string]string{"fields[message]": fmt.Sprint("Message ", i)}).Encode(),
			map[string]string{"Accept": "application/json", "X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i+1)})
		got = append(got, res.StatusCode)
	}
	if fmt.Sprint(got) != "[202 202 429 429]" {
		t.Errorf("statuses %v, want the third refused: the header is not the client's address", got)
	}
}

// TestFinding10HostHeader: the Host header, which the client writes, neither makes the
// receipt's address nor lets a redirect out.
func TestFinding10HostHeader(t *testing.T) {
	f := newFixture(t)
	send := func(v url.Values, headers map[string]string) *http.Response {
		req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/entries/comment", strings.NewReader(v.Encode()))
		req.Host = "evil.example"
		req.Header.Set("Content-Type", form)
		for k, h := range headers {
			req.Header.Set(k, h)
		}
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	res := send(f.comment(nil), map[string]string{"Accept": "application/json"})
	var a map[string]string
	_ = json.NewDecoder(res.Body).Decode(&a)
	if res.StatusCode != http.StatusAccepted || !strings.HasPrefix(a["status_url"], "https://www.testville.example/api/v1/submissions/") {
		t.Errorf("%d, status_url %q: want it on the configured address", res.StatusCode, a["status_url"])
	}
	for _, target := range []string{"http://evil.example/", "https://evil.example/x"} {
		res = send(f.comment(map[string]string{"options[redirect]": target, "fields[message]": "Vers " + target}), nil)
		if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || strings.Contains(loc, "evil.example") {
			t.Errorf("redirect %s: %d to %q", target, res.StatusCode, loc)
		}
	}
	res = send(f.comment(map[string]string{"fields[message]": "Depuis evil"}), map[string]string{"Origin": "http://evil.example"})
	if res.StatusCode != http.StatusForbidden || res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a post from the origin the Host header names: %d, CORS %q", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
	}
	// The address the server listens on is its own, whatever Host says.
	res = send(f.comment(map[string]string{"options[redirect]": f.srv.URL + "/merci", "fields[message]": "Vers le service"}), map[string]string{"Origin": f.srv.URL})
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != f.srv.URL+"/merci" {
		t.Errorf("a redirect to the service's own address: %d to %q", res.StatusCode, loc)
	}
}

const testMetricsToken = "a-metrics-token-of-some-length"

// TestFinding10Metrics: /metrics is not public on the service's address.
func TestFinding10Metrics(t *testing.T) {
	get := func(url, auth string) int {
		req, _ := http.NewRequest("GET", url, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusOK && !strings.Contains(url, "/healthz") && !strings.Contains(string(b), "parvis_queue_commit_errors_total") {
			t.Errorf("%s: 200 without the series", url)
		}
		return res.StatusCode
	}
	f := newFixture(t)
	if got := get(f.srv.URL+"/metrics", ""); got != http.StatusNotFound {
		t.Errorf("without a token: %d, want 404", got)
	}
	if got := get(f.srv.URL+"/healthz", ""); got != http.StatusOK {
		t.Errorf("/healthz: %d", got)
	}
	own := httptest.NewServer(f.svc.MetricsHandler())
	defer own.Close()
	if got := get(own.URL, ""); got != http.StatusOK {
		t.Errorf("on an address of its own: %d", got)
	}

	const token = testMetricsToken
	f = newFixture(t, WithMetricsToken(token))
	for auth, want := range map[string]int{
		"":                      http.StatusUnauthorized,
		"Bearer wrong":          http.StatusUnauthorized,
		"Bearer " + token + "x": http.StatusUnauthorized,
		"Basic " + token:        http.StatusUnauthorized,
		"Bearer " + token:       http.StatusOK,
	} {
		if got := get(f.srv.URL+"/metrics", auth); got != want {
			t.Errorf("Authorization %q: %d, want %d", auth, got, want)
		}
	}
}

// TestFinding10SlowBody: a body that trickles in is cut off soon after the grace period,
// while one that keeps the minimum rate goes through however long it takes.
func TestFinding10SlowBody(t *testing.T) {
	const grace = time.Second
	f := newFixture(t, WithBodyRate(1024, grace))
	addr := strings.TrimPrefix(f.srv.URL, "http://")

	t.Run("slowloris", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if f.svc.forms["comment"].MaxBytes() < 2000 {
			t.Fatal("the form takes less than the body the test sends")
		}
		start := time.Now()
		fmt.Fprintf(c, "POST /api/v1/entries/comment HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: 2000\r\n\r\n", form)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for time.Since(start) < 15*time.Second {
				if _, err := c.Write([]byte("a")); err != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
		_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		cut := time.Since(start)
		if err == nil {
			res.Body.Close()
		}
		t.Logf("slowloris: cut after %v (%v, %v)", cut.Round(time.Millisecond), statusOf(res), err)
		if cut > grace+2*time.Second {
			t.Errorf("a body of a byte every 100 ms held the connection %v", cut)
		}
		_ = c.Close()
		<-done
	})
	t.Run("slow but steady", func(t *testing.T) {
		v := f.comment(map[string]string{"fields[message]": strings.Repeat("é", 480)})
		body := v.Encode()
		if len(body) < 2500 {
			t.Fatalf("body of %d bytes: too short to outlast the grace period", len(body))
		}
		pr, pw := io.Pipe()
		go func() {
			for b := []byte(body); len(b) > 0; {
				n := min(200, len(b))
				_, _ = pw.Write(b[:n])
				b = b[n:]
				time.Sleep(100 * time.Millisecond) // 2 KB/s, twice the minimum
			}
			pw.Close()
		}()
		req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/entries/comment", pr)
		req.ContentLength = int64(len(body))
		req.Header.Set("Content-Type", form)
		req.Header.Set("Accept", "application/json")
		start := time.Now()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if took := time.Since(start); res.StatusCode != http.StatusAccepted || took < grace {
			t.Errorf("%d after %v: %s", res.StatusCode, took, b)
		}
	})
}

func statusOf(res *http.Response) string {
	if res == nil {
		return "no answer"
	}
	return res.Status
}

// TestFinding10ConnectionCap: one address holds at most so many connections at once; the
// next is refused while other addresses, and the trusted proxies, still get in.
func TestFinding10ConnectionCap(t *testing.T) {
	const capacity = 3
	serve := func(t *testing.T, opts ...Option) string {
		f := newFixture(t, opts...)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: f.svc.Handler()}
		go func() { _ = srv.Serve(f.svc.LimitListener(ln, capacity)) }()
		t.Cleanup(func() { _ = srv.Close() })
		return ln.Addr().String()
	}
	// open makes a connection from a local address and asks /healthz on it, keeping it open.
	open := func(t *testing.T, from, to string) (net.Conn, int) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
		c, err := d.Dial("tcp", to)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return c, 0 // closed: refused
		}
		res.Body.Close()
		return c, res.StatusCode
	}
	t.Run("per address", func(t *testing.T) {
		to := serve(t)
		var conns []net.Conn
		for i := range capacity {
			c, status := open(t, "127.0.0.1", to)
			if status != http.StatusOK {
				t.Fatalf("connection %d: %d", i+1, status)
			}
			conns = append(conns, c)
		}
		if _, status := open(t, "127.0.0.1", to); status == http.StatusOK {
			t.Fatalf("connection %d from one address was let in", capacity+1)
		} else {
			t.Logf("connection %d from one address: %d (0: closed)", capacity+1, status)
		}
		if _, status := open(t, "127.0.0.2", to); status != http.StatusOK {
			t.Errorf("another address: %d", status)
		}
		conns[0].Close()
		deadline := time.Now().Add(5 * time.Second)
		for {
			if _, status := open(t, "127.0.0.1", to); status == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("a closed connection did not give its place back")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	t.Run("trusted proxies are not capped", func(t *testing.T) {
		to := serve(t, WithTrustedProxies(netip.MustParsePrefix("127.0.0.1/32")))
		for i := range capacity + 2 {
			if _, status := open(t, "127.0.0.1", to); status != http.StatusOK {
				t.Fatalf("connection %d from the proxy: %d", i+1, status)
			}
		}
	})
}
