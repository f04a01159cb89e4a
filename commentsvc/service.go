// Package commentsvc is the submission service: it takes what citizens send through the
// site's forms, checks it, keeps it durably, turns it into a change on a forge, and lets
// moderators approve or reject it.
//
// It is a facade in the spirit of goldmark's: New takes options and returns a Service whose
// Handler serves the HTTP surface (intake, receipts, moderation, health, metrics) and whose
// Run drives the background work (the queue's worker, the forge watcher, rebuilds). It does
// not build the site itself: the caller passes a rebuild function.
package commentsvc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parvis/parvis/internal/antispam"
	"github.com/parvis/parvis/internal/blob"
	"github.com/parvis/parvis/internal/forge"
	"github.com/parvis/parvis/internal/forms"
	"github.com/parvis/parvis/internal/mail"
	"github.com/parvis/parvis/internal/markdown"
	"github.com/parvis/parvis/internal/queue"
	"github.com/parvis/parvis/internal/share"
	"github.com/parvis/parvis/internal/site"
	"github.com/parvis/parvis/internal/store"
)

// Service is the submission service of one site.
type Service struct {
	cfg       *site.Config
	forms     map[string]*forms.Form
	checker   *antispam.Checker
	queue     queue.Queue
	store     *store.Store
	forge     forge.Forge
	blobs     blob.Store
	mail      mail.Sender
	rebuild   func(context.Context) (*site.Site, error)
	secret    []byte
	log       *slog.Logger
	now       func() time.Time
	challenge bool
	antispam  antispam.Config
	adminKey  string // bearer token of the admin API, for the command line
	base      string // the service's public base URL, for receipts' links
	workers   int

	proxies      proxies  // peers whose forwarded headers are believed
	proxiesSet   bool     // WithTrustedProxies was given: parvis.yaml's list is not read
	public       []string // origins the service is reached at directly (where it listens)
	metricsToken string   // bearer token of /metrics on the public address; none: 404
	bodyRate     int      // bytes a second a request body must keep up, after bodyGrace
	bodyGrace    time.Duration
	handler      http.Handler

	current   atomic.Pointer[site.Site] // the site as last built: pages, comments
	intakes   atomic.Int64              // submissions received, for the worker's pacing
	macs      sync.Pool                 // HMAC-SHA256 keyed with the secret, for receipts
	metrics   *metrics
	rebuildCh chan struct{}
	mux       *http.ServeMux
	md        func() markdown.Renderers // the site's, as the generator makes them: for previews
	citizen   citizen                   // the built pages and recent submissions: refilled forms, receipts
	notices   *notices                  // notifications: subscriptions, digest (notify.go)
	sharing   *share.Manager            // shared dossiers' keys and members (admin_share.go)
	closing   atomic.Bool
	wg        sync.WaitGroup
}

// Option configures a Service.
type Option func(*Service)

// WithSite gives the site as last built: its configuration (forms policy, origin) and its
// pages, against which submissions are checked.
func WithSite(s *site.Site) Option {
	return func(sv *Service) { sv.current.Store(s); sv.cfg = s.Config }
}

// WithQueue sets the durable queue submissions wait in.
func WithQueue(q queue.Queue) Option { return func(s *Service) { s.queue = q } }

// WithStore sets the private store (records, accounts, sessions).
func WithStore(st *store.Store) Option { return func(s *Service) { s.store = st } }

// WithForge sets where submissions become changes.
func WithForge(f forge.Forge) Option { return func(s *Service) { s.forge = f } }

// WithBlobs sets where uploads wait until their change is opened.
func WithBlobs(b blob.Store) Option { return func(s *Service) { s.blobs = b } }

// WithMail sets how notifications are sent; without it none are.
func WithMail(m mail.Sender) Option { return func(s *Service) { s.mail = m } }

// WithRebuild sets the function that rebuilds and republishes the site after an approval,
// and returns the site as built.
func WithRebuild(fn func(context.Context) (*site.Site, error)) Option {
	return func(s *Service) { s.rebuild = fn }
}

// WithSecret sets the key of tokens, receipts and the hash transform. It must be kept
// private and stable: changing it invalidates receipts' links and changes avatars.
func WithSecret(key []byte) Option { return func(s *Service) { s.secret = key } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithChallenge turns the proof-of-work challenge and its question on or off (on by
// default). Every other anti-spam check stays on.
func WithChallenge(on bool) Option { return func(s *Service) { s.challenge = on } }

// WithAntispam tunes the rate limits and other global anti-spam settings.
func WithAntispam(c antispam.Config) Option { return func(s *Service) { s.antispam = c } }

// WithAdminToken enables the admin API for the command line, with this bearer token.
func WithAdminToken(tok string) Option { return func(s *Service) { s.adminKey = tok } }

// WithWorkers sets how many workers turn queued submissions into changes (default 1). Zero
// makes a service that only takes submissions: a replica, while another process works the
// queue.
func WithWorkers(n int) Option { return func(s *Service) { s.workers = max(n, 0) } }

// WithBaseURL sets the service's public address, for the links in receipts (default: the
// site's service URL, or its base URL).
func WithBaseURL(u string) Option { return func(s *Service) { s.base = u } }

// WithTrustedProxies sets the proxies (addresses or CIDR blocks, see ParseProxies) whose
// X-Forwarded-For and X-Forwarded-Proto are believed, in place of parvis.yaml's
// service.trustedProxies. With none, the peer of each connection is the client, whatever
// the headers say.
func WithTrustedProxies(p ...netip.Prefix) Option {
	return func(s *Service) { s.proxies, s.proxiesSet = append(proxies(nil), p...), true }
}

// WithPublicURL gives the addresses the service is reached at directly, such as the one
// parvis serve listens on ("http://localhost:8080"). Forms may come from them and redirects
// may go to them, besides the site's and the service's configured addresses; the first
// makes the service's links when no service URL is configured and the site's base URL
// names no public host. A request's Host header is never used for either.
func WithPublicURL(urls ...string) Option {
	return func(s *Service) {
		for _, u := range urls {
			if o := origin(u); o != "" {
				s.public = append(s.public, o)
			}
		}
	}
}

// WithMetricsToken serves /metrics on the service's own address to requests that carry
// this bearer token. Without it /metrics answers 404 there; MetricsHandler serves it on
// another address.
func WithMetricsToken(tok string) Option { return func(s *Service) { s.metricsToken = tok } }

// WithBodyRate sets the slowest a request's body may arrive: on average bytesPerSecond,
// after a grace period (default 8 KiB/s after 10 s). A client slower than that is cut off,
// so that it cannot hold a connection with a byte now and then. Zero turns the rule off.
func WithBodyRate(bytesPerSecond int, grace time.Duration) Option {
	return func(s *Service) { s.bodyRate, s.bodyGrace = max(bytesPerSecond, 0), max(grace, 0) }
}

// New checks the options and compiles the forms policy.
func New(opts ...Option) (*Service, error) {
	s := &Service{now: time.Now, log: slog.Default(), challenge: true, workers: 1, rebuildCh: make(chan struct{}, 1),
		bodyRate: defaultBodyRate, bodyGrace: defaultBodyGrace}
	for _, o := range opts {
		o(s)
	}
	switch {
	case s.cfg == nil:
		return nil, errors.New("commentsvc: no site (WithSite)")
	case s.queue == nil:
		return nil, errors.New("commentsvc: no queue (WithQueue)")
	case s.store == nil:
		return nil, errors.New("commentsvc: no store (WithStore)")
	case s.forge == nil:
		return nil, errors.New("commentsvc: no forge (WithForge)")
	case s.blobs == nil:
		return nil, errors.New("commentsvc: no blob store (WithBlobs)")
	case len(s.secret) < 16:
		return nil, errors.New("commentsvc: the secret must be at least 16 bytes (WithSecret)")
	}
	if s.base == "" {
		s.base = s.cfg.Service.URL
	}
	if !s.proxiesSet {
		p, err := ParseProxies(strings.Join(s.cfg.Service.TrustedProxies, ","))
		if err != nil {
			return nil, fmt.Errorf("commentsvc: service.trustedProxies: %w", err)
		}
		s.proxies = p
	}
	s.forms = map[string]*forms.Form{}
	for name, spec := range s.cfg.Forms {
		f, err := forms.Compile(name, spec, forms.Options{Secret: s.secret, Location: s.cfg.Location})
		if err != nil {
			return nil, fmt.Errorf("commentsvc: form %s: %w", name, err)
		}
		s.forms[name] = f
	}
	ac := s.antispam
	ac.Secret = s.secret
	ac.Challenge = s.challenge
	if o := s.siteOrigin(); o != "" {
		ac.Origins = append(ac.Origins, o)
	}
	ac.Forms = map[string]site.AntispamSpec{}
	for name, spec := range s.cfg.Forms {
		ac.Forms[name] = spec.Antispam
	}
	checker, err := antispam.New(ac)
	if err != nil {
		return nil, fmt.Errorf("commentsvc: %w", err)
	}
	s.checker = checker
	s.metrics = newMetrics(s)
	s.md = sync.OnceValue(func() markdown.Renderers {
		return markdown.ForSite(s.cfg.Language, s.cfg.Markdown.Unsafe, s.cfg.Markdown.Typography)
	})
	if q, ok := s.queue.(interface {
		SetCommitHook(func(ops int, d time.Duration, err error))
	}); ok {
		q.SetCommitHook(s.metrics.commit)
	}
	s.routes()
	return s, nil
}

// Handler serves the service's HTTP surface.
func (s *Service) Handler() http.Handler { return s.handler }

// MetricsHandler serves the Prometheus series to anyone who reaches it, for an address of
// its own that only the monitoring can reach.
func (s *Service) MetricsHandler() http.Handler { return s.metrics.handler() }

// Metrics returns the service's Prometheus registry, for callers that add their own.
func (s *Service) Metrics() *prometheus.Registry { return s.metrics.reg }

// Checker returns the anti-spam checker, whose StampHTML the static file server wraps so
// that served forms carry a fresh token.
func (s *Service) Checker() *antispam.Checker { return s.checker }

func (s *Service) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /api/v1/entries/{form}", s.handleEntry)
	m.HandleFunc("OPTIONS /api/v1/entries/{form}", s.handlePreflight)
	m.HandleFunc("POST /v3/entry/{service}/{owner}/{repo}/{branch}/{property}", s.handleStaticman)
	m.HandleFunc("GET /api/v1/submissions/{id}", s.handleReceipt)
	m.Handle("GET /api/v1/challenge", s.checker.ChallengeHandler())
	m.HandleFunc("GET /healthz", s.handleHealth)
	m.HandleFunc("GET /readyz", s.handleReady)
	m.Handle("GET /metrics", s.metrics.guarded(s.metricsToken))
	s.adminRoutes(m)
	s.mailSetup(m)
	// "/admin" as typed in an address bar: a relative redirect keeps a proxy's path prefix.
	m.Handle("GET /admin", http.RedirectHandler("admin/", http.StatusMovedPermanently))
	s.mux = m
	s.handler = s.front(m)
}

// siteOrigin is the scheme and host of the site, which forms must come from.
func (s *Service) siteOrigin() string {
	if s.cfg.Base == nil || s.cfg.BaseURL == "/" {
		return ""
	}
	return s.cfg.Base.Scheme + "://" + s.cfg.Base.Host
}

// Run works until ctx is done: it turns queued submissions into changes, watches the forge
// for merges made elsewhere, and rebuilds the site after approvals. It returns once the work
// under way is finished.
func (s *Service) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 3)
	run := func(name string, fn func(context.Context) error) {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := fn(ctx); err != nil && !errors.Is(err, context.Canceled) {
				s.log.Error("background work stopped", "part", name, "err", err)
				errc <- fmt.Errorf("%s: %w", name, err)
				cancel()
			}
		}()
	}
	for i := 0; i < s.workers; i++ {
		run("worker", s.work)
	}
	run("watch", s.watch)
	run("rebuild", s.rebuilder)
	run("mail", s.mailWork)
	// Approvals that did not reach the site before a restart are published now, and changes
	// decided elsewhere while the service was down are brought in step.
	s.requestRebuildIfApproved()
	if err := s.reconcile(ctx); err != nil {
		s.log.Error("reconciling pending submissions with the forge", "err", err)
	}
	<-ctx.Done()
	s.closing.Store(true)
	s.wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// Site returns the site as last built.
func (s *Service) Site() *site.Site { return s.current.Load() }

func (s *Service) handleHealth(w http.ResponseWriter, r *http.Request) {
	if _, err := s.queue.Stats(r.Context()); err != nil {
		http.Error(w, "queue: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// handleReady tells a load balancer whether to send submissions here: the process is not
// stopping, the site it checks them against is built, and the queue answers. /healthz only
// says the process is alive.
func (s *Service) handleReady(w http.ResponseWriter, r *http.Request) {
	why := ""
	switch {
	case s.closing.Load():
		why = "stopping"
	case s.Site() == nil:
		why = "no site built yet"
	default:
		if _, err := s.queue.Stats(r.Context()); err != nil {
			why = "queue: " + err.Error()
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	if why != "" {
		http.Error(w, why, http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ready")
}

// absURL makes one of the service's paths absolute, on linkBase.
func (s *Service) absURL(r *http.Request, p string) string {
	return strings.TrimRight(s.linkBase(r), "/") + p
}

// linkBase is where the service's links point: its configured address; else the site's,
// which the embedded default serves the service on; else the address it is reached at
// directly. A site whose base URL names this machine (localhost, as the demo's does) is
// being tried out, and may be served on another port than it says: there the address the
// server listens on comes first. The request's Host header is never read: a client could
// put any name in it, and the link would carry it into a receipt or a redirect.
func (s *Service) linkBase(r *http.Request) string {
	if s.base != "" {
		return s.base
	}
	site := s.siteOrigin()
	if site != "" && !loopbackHost(s.cfg.Base.Hostname()) {
		return site
	}
	if len(s.public) > 0 {
		return s.public[0]
	}
	if l := localOrigins(r); len(l) > 0 {
		return l[0]
	}
	return site
}

// origin is the scheme and host of an absolute http(s) URL, or "".
func origin(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || (p.Scheme != "http" && p.Scheme != "https") {
		return ""
	}
	return p.Scheme + "://" + p.Host
}

func loopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsLoopback()
}

// localOrigins are the origins of the socket a request came in on: the address the server
// really listens on, which the client does not choose. On loopback, localhost too.
func localOrigins(r *http.Request) []string {
	if r == nil {
		return nil
	}
	la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return nil
	}
	ap, err := netip.ParseAddrPort(la.String())
	if err != nil {
		return nil
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	a := ap.Addr().Unmap().WithZone("")
	l := []string{scheme + "://" + netip.AddrPortFrom(a, ap.Port()).String()}
	if a.IsLoopback() {
		l = append(l, fmt.Sprintf("%s://localhost:%d", scheme, ap.Port()))
	}
	return l
}
