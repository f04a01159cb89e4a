package commentsvc

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Who a request comes from, and what it may hold. The peer of a connection is known; what
// a proxy says of the client behind it (X-Forwarded-For, X-Forwarded-Proto) is believed only
// when the peer is one of the proxies the operator named, since any client can send those
// headers. The per-address limits (submissions, sign-in attempts, connections) all count
// against the address found here.
//
// RFC 7239's Forwarded header is not read: a proxy that sets X-Forwarded-For alone passes a
// client's own Forwarded header through untouched, and believing it would give the client
// its choice of address again.

// ParseProxies reads a list of trusted proxies: addresses or CIDR blocks, separated by
// commas or spaces ("10.0.0.0/8, 2001:db8::1"). An empty list trusts none.
func ParseProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		p, err := parseProxy(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func parseProxy(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an address or a CIDR block (such as 10.0.0.0/8)", s)
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or a CIDR block (such as 10.0.0.0/8)", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// proxies are the peers whose forwarded headers are believed.
type proxies []netip.Prefix

func (p proxies) trusted(a netip.Addr) bool {
	for _, n := range p {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// clientInfo is what the service believes of a request's origin.
type clientInfo struct {
	addr  netip.Addr
	https bool // the browser reached the service over HTTPS
}

type clientKey struct{}

// identify finds the client of r: the peer, or, when the peer is a trusted proxy, the
// right-most address of X-Forwarded-For that is not one (each proxy appends the address it
// got the request from, so everything left of the first untrusted entry is the client's
// to write). Entries that do not parse stop the walk: the peer is used.
func (p proxies) identify(r *http.Request) clientInfo {
	peer := peerAddr(r.RemoteAddr)
	c := clientInfo{addr: peer, https: r.TLS != nil}
	if len(p) == 0 || !p.trusted(peer) {
		return c
	}
	if v := lastValue(r.Header.Values("X-Forwarded-Proto")); v != "" {
		c.https = strings.EqualFold(v, "https")
	}
	c.addr = p.forwardedFor(peer, r.Header.Values("X-Forwarded-For"))
	return c
}

// forwardedFor walks X-Forwarded-For from the right (the last header first: a header sent
// twice is one list), skipping trusted proxies.
func (p proxies) forwardedFor(peer netip.Addr, headers []string) netip.Addr {
	addr := peer
	for i := len(headers) - 1; i >= 0; i-- {
		h := headers[i]
		for h != "" {
			entry := h
			if j := strings.LastIndexByte(h, ','); j >= 0 {
				entry, h = h[j+1:], h[:j]
			} else {
				h = ""
			}
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			a, ok := parseForwarded(entry)
			if !ok {
				return peer
			}
			if !p.trusted(a) {
				return a
			}
			addr = a
		}
	}
	return addr // every hop is a proxy: the farthest one is the client
}

// parseForwarded reads one entry of X-Forwarded-For: an address, with or without a port,
// IPv6 with or without brackets.
func parseForwarded(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// peerAddr is the address of a connection's other end, from Request.RemoteAddr.
func peerAddr(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	if a, err := netip.ParseAddr(remote); err == nil {
		return a.Unmap().WithZone("")
	}
	return netip.Addr{}
}

// lastValue is the last comma-separated value of a header that may be sent several times.
func lastValue(values []string) string {
	if len(values) == 0 {
		return ""
	}
	v := values[len(values)-1]
	if j := strings.LastIndexByte(v, ','); j >= 0 {
		v = v[j+1:]
	}
	return strings.TrimSpace(v)
}

// clientOf returns what the service's handler found of r's client; a request that did not
// come through it (a test calling a handler directly) is its peer.
func clientOf(r *http.Request) clientInfo {
	if c, ok := r.Context().Value(clientKey{}).(clientInfo); ok {
		return c
	}
	return proxies(nil).identify(r)
}

// clientIP is the address rate limits count against, as text.
func clientIP(r *http.Request) string {
	c := clientOf(r)
	if !c.addr.IsValid() {
		return r.RemoteAddr // not an IP connection: every such client shares one bucket
	}
	return c.addr.String()
}

// secure reports whether the browser reached the service over HTTPS: directly, or through
// a trusted proxy that says so.
func secure(r *http.Request) bool { return clientOf(r).https }

// addrGroup is the unit an address is counted in: an IPv4 address, or an IPv6 address's
// /64, the block one subscriber usually gets, so that rotating addresses inside it buys
// nothing.
func addrGroup(a netip.Addr) netip.Addr {
	if a.Is6() && !a.Is4In6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a.Unmap()
}

// Bodies must keep coming. A body may take its time, but not less than bodyRate bytes a
// second on average after a grace period: a 20 MB upload on a slow line goes through, a
// client that sends a byte now and then to hold a connection (slowloris) is cut off.
const (
	defaultBodyRate  = 8 << 10 // bytes a second
	defaultBodyGrace = 10 * time.Second
)

// front is what every request goes through before the routes: the client is identified
// once, and a request's body is held to the minimum rate.
func (s *Service) front(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(s.proxies) > 0 {
			r = r.WithContext(context.WithValue(r.Context(), clientKey{}, s.proxies.identify(r)))
		}
		if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 && s.bodyRate > 0 {
			start := time.Now()
			rc := http.NewResponseController(w)
			first := start.Add(s.bodyGrace)
			if rc.SetReadDeadline(first) == nil {
				r.Body = &pacedBody{ReadCloser: r.Body, rc: rc, start: start, set: first, rate: float64(s.bodyRate), grace: s.bodyGrace}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// pacedBody pushes the connection's read deadline back as the body arrives: the n-th byte
// is due grace + n/rate after the handler started.
type pacedBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	start time.Time
	set   time.Time // the deadline last set
	n     int64
	rate  float64
	grace time.Duration
}

func (p *pacedBody) Read(b []byte) (int, error) {
	n, err := p.ReadCloser.Read(b)
	p.n += int64(n)
	// Once the body has ended the server reads the connection in the background, to see
	// the client leave; a deadline set then would cut that read, and cancel the request.
	if n > 0 && err == nil {
		due := p.start.Add(p.grace + time.Duration(float64(p.n)/p.rate*float64(time.Second)))
		if due.Sub(p.set) >= time.Second { // one deadline a second at most
			if p.rc.SetReadDeadline(due) == nil {
				p.set = due
			}
		}
	}
	return n, err
}

// LimitListener caps the connections open at once from one client address (an IPv6
// client's /64) at perAddr; the service's trusted proxies are not capped, since they carry
// everyone's. A connection past the cap is answered 503 and closed. perAddr <= 0 caps
// nothing.
func (s *Service) LimitListener(ln net.Listener, perAddr int) net.Listener {
	if perAddr <= 0 {
		return ln
	}
	return &connLimiter{Listener: ln, max: perAddr, proxies: s.proxies, open: map[netip.Addr]int{}, refused: s.metrics.connRefused.Inc}
}

type connLimiter struct {
	net.Listener
	max     int
	proxies proxies
	refused func()

	mu   sync.Mutex
	open map[netip.Addr]int
}

// tooMany is the whole answer to a connection past the cap; it is written before the
// client has sent anything, which HTTP/1.1 clients read as the answer to their request.
var tooMany = func() string {
	body := "Too many connections from your address.\n"
	return fmt.Sprintf("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"+
		"Retry-After: 5\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}()

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		a := peerAddr(c.RemoteAddr().String())
		if !a.IsValid() || l.proxies.trusted(a) {
			return c, nil
		}
		key := addrGroup(a)
		l.mu.Lock()
		if l.open[key] >= l.max {
			l.mu.Unlock()
			l.refused()
			_ = c.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = io.WriteString(c, tooMany)
			_ = c.Close()
			continue
		}
		l.open[key]++
		l.mu.Unlock()
		return &limitedConn{Conn: c, release: func() { l.release(key) }}, nil
	}
}

func (l *connLimiter) release(key netip.Addr) {
	l.mu.Lock()
	if l.open[key]--; l.open[key] <= 0 {
		delete(l.open, key)
	}
	l.mu.Unlock()
}

// limitedConn gives its place back once, when it is closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// CloseWrite lets the server end its side first, so that the client reads the last answer.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
