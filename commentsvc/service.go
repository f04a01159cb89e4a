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
	"net/http"
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

	current   atomic.Pointer[site.Site] // the site as last built: pages, comments
	intakes   atomic.Int64              // submissions received, for the worker's pacing
	macs      sync.Pool                 // HMAC-SHA256 keyed with the secret, for receipts
	metrics   *metrics
	rebuildCh chan struct{}
	mux       *http.ServeMux
	md        func() markdown.Renderers // the site's, as the generator makes them: for previews
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

// New checks the options and compiles the forms policy.
func New(opts ...Option) (*Service, error) {
	s := &Service{now: time.Now, log: slog.Default(), challenge: true, workers: 1, rebuildCh: make(chan struct{}, 1)}
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
		return markdown.ForSite(s.cfg.Markdown.Unsafe, s.cfg.Markdown.Typography)
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
func (s *Service) Handler() http.Handler { return s.mux }

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
	m.Handle("GET /metrics", s.metrics.handler())
	s.adminRoutes(m)
	// "/admin" as typed in an address bar: a relative redirect keeps a proxy's path prefix.
	m.Handle("GET /admin", http.RedirectHandler("admin/", http.StatusMovedPermanently))
	s.mux = m
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

// absURL makes one of the service's paths absolute: on its configured address, else on the
// address the request came to (the embedded default serves site and service together), else
// on the site's.
func (s *Service) absURL(r *http.Request, p string) string {
	base := s.base
	if base == "" && r != nil && r.Host != "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	if base == "" {
		base = s.siteOrigin()
	}
	return strings.TrimRight(base, "/") + p
}
