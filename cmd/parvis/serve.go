package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"go.etcd.io/bbolt"
	"golang.org/x/time/rate"

	"github.com/parvis/parvis/commentsvc"
	"github.com/parvis/parvis/generator"
	"github.com/parvis/parvis/internal/antispam"
	"github.com/parvis/parvis/internal/blob"
	"github.com/parvis/parvis/internal/blob/localfs"
	"github.com/parvis/parvis/internal/forge/gitlocal"
	"github.com/parvis/parvis/internal/mail"
	qbolt "github.com/parvis/parvis/internal/queue/bolt"
	"github.com/parvis/parvis/internal/site"
	"github.com/parvis/parvis/internal/store"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "[--site DIR] [--addr :8080] [--data DIR]",
		"Serve the site, the submission service and the moderation pages in one process.\n"+
			"The site must be in a Git repository; when --site is not the root of one, a\n"+
			"working repository is made from it under --data on first start, and used from then on.")
	siteDir := fs.String("site", ".", "the site's folder (the one holding parvis.yaml)")
	addr := fs.String("addr", ":8080", "the address to listen on")
	baseFlag := fs.String("base-url", "", "the address readers reach the site at (default: parvis.yaml's baseURL, or the address listened on when that is a localhost one)")
	dataFlag := fs.String("data", "", "the folder for the service's private state and the built site (default: the site's var/)")
	challenge := fs.String("antispam-challenge", "on", "the proof-of-work challenge and its question: on or off (for local testing)")
	ratePerIP := fs.Float64("rate-per-ip", 0, "submissions a second allowed from one address (0: the default)")
	burstPerIP := fs.Int("burst-per-ip", 0, "submissions in a burst allowed from one address (0: the default)")
	ratePerPage := fs.Float64("rate-per-page", 0, "submissions a second allowed on one page (0: the default)")
	burstPerPage := fs.Int("burst-per-page", 0, "submissions in a burst allowed on one page (0: the default)")
	tokenUses := fs.Int("token-uses", 1, "submissions one form token may carry (a page load is one submission; -1: no limit, for load tests only)")
	workers := fs.Int("workers", 1, "workers turning submissions into changes; 0 only takes them, leaving them queued (for a replica whose queue another process works)")
	trusted := fs.String("trusted-proxies", "", "the proxies whose X-Forwarded-For and X-Forwarded-Proto are believed: addresses or CIDR blocks, comma-separated, or none (default: service.trustedProxies in parvis.yaml, else none)")
	metricsAddr := fs.String("metrics-addr", "", "an address of its own for /metrics, such as 127.0.0.1:9090 (default: none; /metrics on --addr then needs PARVIS_METRICS_TOKEN)")
	maxConns := fs.Int("max-conns-per-ip", 32, "connections open at once from one client address (an IPv6 client's /64); trusted proxies are exempt; 0: no cap")
	smtpURL := fs.String("smtp-url", "", "deliver mail to this server, as smtp://user@host:587?starttls=1 or smtps://user@host:465; the password comes from PARVIS_SMTP_PASSWORD or --smtp-password-file (default: none, mail is written to the data folder's outbox/)")
	smtpPassFile := fs.String("smtp-password-file", "", "a file holding the SMTP password")
	digest := fs.Int("digest-minutes", 0, "the least time between two digests of new submissions to moderators (default: service.digestMinutes in parvis.yaml, else 60)")
	publish := addPublishFlags(fs)
	if err := parse(e, fs, args); err != nil {
		return err
	}
	if *challenge != "on" && *challenge != "off" {
		return usageError{fmt.Sprintf("--antispam-challenge: %q is not on or off", *challenge)}
	}
	var extra []commentsvc.Option
	switch *trusted {
	case "":
	case "none":
		extra = append(extra, commentsvc.WithTrustedProxies())
	default:
		p, err := commentsvc.ParseProxies(*trusted)
		if err != nil {
			return usageError{"--trusted-proxies: " + err.Error()}
		}
		extra = append(extra, commentsvc.WithTrustedProxies(p...))
	}
	if *maxConns < 0 {
		return usageError{fmt.Sprintf("--max-conns-per-ip: %d is negative", *maxConns)}
	}
	var smtp *mail.SMTP
	if *smtpURL != "" {
		pw := e.getenv("PARVIS_SMTP_PASSWORD")
		var err error
		if *smtpPassFile != "" {
			if pw, err = mail.ReadPassword(*smtpPassFile); err != nil {
				return err
			}
		}
		if smtp, err = mail.NewSMTPFromURL(*smtpURL, pw); err != nil {
			return usageError{"--smtp-url: " + err.Error()}
		}
	}
	if *digest < 0 {
		return usageError{fmt.Sprintf("--digest-minutes: %d is negative", *digest)}
	} else if *digest > 0 {
		extra = append(extra, commentsvc.WithDigest(time.Duration(*digest)*time.Minute))
	}
	log := slog.New(slog.NewTextHandler(e.stderr, nil))
	tuneRuntime(e.getenv)
	data := dataFolder(*siteDir, *dataFlag)
	if err := keepOutOfGit(*siteDir, data); err != nil {
		return fmt.Errorf("keeping the data folder out of Git: %w", err)
	}
	// Listen first: the address the server really listens on is one the forms may come from,
	// and the site is built for it when parvis.yaml names localhost.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	base := "http://" + displayAddr(ln.Addr())
	cfg, err := site.LoadConfig(os.DirFS(*siteDir))
	if err != nil {
		return err
	}
	siteURL, note, err := siteBase(cfg, *baseFlag, base)
	if err != nil {
		return usageError{"--base-url: " + err.Error()}
	}
	if note != "" {
		log.Warn(note)
	}
	st, err := openStateFor(*siteDir, data, siteURL, log)
	if err != nil {
		return err
	}
	defer st.close()
	if err := publish.attach(ctx, e, st); err != nil {
		return err
	}
	if smtp != nil {
		st.mail.SetBackend(smtp)
	}
	log.Info("mail", "to", st.mail.Describe(), "from", st.site.Config.Service.MailFrom)
	token, err := metricsToken(e.getenv, st.site.Config.Service.MetricsTokenFile, data)
	if err != nil {
		return err
	}
	if token != "" {
		extra = append(extra, commentsvc.WithMetricsToken(token))
	}

	svc, err := st.service(append([]commentsvc.Option{
		commentsvc.WithChallenge(*challenge == "on"),
		commentsvc.WithWorkers(*workers),
		commentsvc.WithAntispam(antispam.Config{
			RatePerIP: rate.Limit(*ratePerIP), BurstPerIP: *burstPerIP,
			RatePerPage: rate.Limit(*ratePerPage), BurstPerPage: *burstPerPage,
			TokenUses: *tokenUses,
		}),
		commentsvc.WithPublicURL(base),
		commentsvc.WithPages(commentsvc.DirPages(st.public)), // refused forms and receipts in the site's pages
	}, extra...)...)
	if err != nil {
		return err
	}
	// This process holds the store's lock: leases in it belong to a process that was stopped
	// mid-work, so their submissions are handed out again now rather than after the lease.
	if n, err := st.queue.Reclaim(ctx); err != nil {
		return err
	} else if n > 0 {
		log.Info("resuming submissions left under way", "count", n)
	}
	if n := len(st.site.Config.Service.Moderators); n == 0 {
		if l, _ := st.store.Moderators(); len(l) == 0 {
			hint := "parvis moderate adduser NAME --site " + *siteDir
			if *dataFlag != "" {
				hint += " --data " + *dataFlag
			}
			log.Warn("no moderator account: nobody can log in at /admin/ yet. Add one, while this server runs, with: " + hint)
		}
	}

	srv := newServer(serveMux(st, svc))
	var msrv *http.Server
	if *metricsAddr != "" {
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", svc.MetricsHandler())
		mux.Handle("GET /healthz", svc.Handler())
		msrv = newServer(mux)
		go func() { _ = msrv.Serve(mln) }()
		log.Info("metrics", "url", "http://"+displayAddr(mln.Addr())+"/metrics")
	}
	if err := st.announce(base); err != nil {
		return err
	}
	log.Info("serving", "url", base+"/", "admin", base+"/admin/", "repository", st.repoDir)

	svcCtx, stopSvc := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	var svcErr error
	wg.Add(1)
	go func() { defer wg.Done(); svcErr = svc.Run(svcCtx) }()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(svc.LimitListener(ln, *maxConns)) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	// Stop taking requests, let those under way finish (each accepted submission is already on
	// disk when it is answered), then let the worker finish its item.
	log.Info("shutting down")
	shut, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if serr := srv.Shutdown(shut); serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		log.Error("shutting down the HTTP server", "err", serr)
	}
	if msrv != nil {
		_ = msrv.Shutdown(shut)
	}
	stopSvc()
	wg.Wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return svcErr
}

// newServer sets the timeouts of a server facing the internet. Headers must come quickly;
// a body is held by the service to a minimum rate rather than to a total time (so that a
// large upload on a slow line goes through), and ReadTimeout only bounds what no handler
// extends. An idle connection is closed soon, since it counts against its address's cap.
func newServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: time.Minute}
}

// metricsToken is the bearer token of /metrics on the public address: PARVIS_METRICS_TOKEN,
// else the content of parvis.yaml's service.metricsTokenFile (relative to the data folder),
// else none.
func metricsToken(getenv func(string) string, file, dataDir string) (string, error) {
	tok, from := getenv("PARVIS_METRICS_TOKEN"), "PARVIS_METRICS_TOKEN"
	if tok == "" && file != "" {
		if !filepath.IsAbs(file) {
			file = filepath.Join(dataDir, file)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("service.metricsTokenFile: %w", err)
		}
		tok, from = strings.TrimSpace(string(b)), "service.metricsTokenFile ("+file+")"
	}
	if tok == "" {
		return "", nil
	}
	if len(tok) < 16 || strings.ContainsFunc(tok, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return "", fmt.Errorf("%s: the metrics token must be at least 16 printable ASCII characters, without spaces", from)
	}
	return tok, nil
}

// tuneRuntime sets the runtime for a server under a rush, where the operator has not chosen.
//
// The collector: the server's live heap is small (the site's index and the idempotency
// keys, which hold no pointer), so its cycles are short, but each one still delays the
// answers of the moment: under a rush, nearly every 100 ms whose p99 passed 10 ms held
// one. A heap goal five times the live heap (GOGC=400) makes them half as frequent; on two
// cores at 10,000 submissions a second, p99 fell from 11 to 9.5 ms (3 pairs, and 4 of 4 at
// GOGC=500), for some 65 MB more at the peak. The memory limit keeps the goal from
// growing without bound.
//
// The processors: the queue's syncs and the worker's Git writes block in system calls,
// each keeping its processor until the runtime takes it back. Twice as many processors as
// cores let the kernel run the other goroutines meanwhile: on two cores at 10,000
// submissions a second, p99 went from 36 to 30 ms. Under a CPU quota, where the runtime
// already sized itself below the cores, more threads would only be throttled.
func tuneRuntime(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(768 << 20)
	}
	if getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) == runtime.NumCPU() {
		runtime.GOMAXPROCS(2 * runtime.NumCPU())
	}
}

// siteBase decides the address the site is built for: --base-url when given; the address
// listened on when parvis.yaml's baseURL is a localhost one on another port (a site made by
// parvis init, tried out elsewhere), as hugo server does, so that its forms and links
// lead back to this server and not to a page its own policy forbids; else parvis.yaml's,
// with a note when it names another address than the one listened on.
func siteBase(cfg *site.Config, flag, listening string) (base, note string, err error) {
	if flag != "" {
		probe := *cfg
		if err := probe.SetBaseURL(flag); err != nil {
			return "", "", err
		}
		return probe.BaseURL, "", nil
	}
	l, err := url.Parse(listening)
	if err != nil {
		return "", "", err
	}
	if cfg.Base == nil || cfg.Base.Host == "" { // baseURL: "/", relative links only
		return listening + "/", "", nil
	}
	if cfg.Base.Host == l.Host {
		return "", "", nil
	}
	if loopbackName(cfg.Base.Hostname()) {
		return l.Scheme + "://" + l.Host + cfg.Base.Path, "", nil
	}
	return "", fmt.Sprintf("the site's pages name %s (baseURL) while this server listens on %s: right behind a proxy that serves that address, wrong otherwise (set --base-url)", cfg.BaseURL, listening), nil
}

func loopbackName(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// serveMux puts the site and the service on one address: the service's routes, and the
// built site for everything else, its forms stamped with fresh anti-spam tokens and its
// files with the headers the build asked for (a citizen's document goes out as a download).
func serveMux(st *state, svc *commentsvc.Service) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", siteHeaders(st.site.Config.Service.URL, svc.Checker().StampHTML(headerFiles(st.public, staticHandler(st.public)))))
	mountSearch(mux, st)
	for _, p := range []string{"/api/", "/v3/", "/admin", "/admin/", "/hooks/", "/healthz", "/readyz", "/metrics"} {
		mux.Handle(p, svc.Handler())
	}
	return mux
}

// siteHeaders adds to the site's pages the headers a static host should send: the pages load
// nothing from elsewhere but the service, so the policy can say so.
func siteHeaders(service string, next http.Handler) http.Handler {
	other := ""
	if u, err := url.Parse(service); err == nil && u.Host != "" {
		other = " " + u.Scheme + "://" + u.Host
	}
	csp := "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; " +
		"worker-src 'self' blob:; connect-src 'self'" + other + "; form-action 'self'" + other +
		"; frame-ancestors 'self'; base-uri 'self'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("Content-Security-Policy", csp)
		next.ServeHTTP(w, r)
	})
}

// state is what parvis serve and parvis moderate work on: the working repository, the
// private store, the queue, and the built site.
type state struct {
	siteDir, dataDir, repoDir, public string
	db                                *bbolt.DB
	queue                             *qbolt.Queue
	store                             *store.Store
	forge                             *gitlocal.Forge
	blobs                             blob.Store
	mail                              *mail.Spool // in front of the outbox, or the SMTP server serve is given
	secret                            []byte
	adminToken                        string
	site                              *site.Site
	buildMu                           sync.Mutex
	log                               *slog.Logger
	baseURL                           string // the site is built for this address, when set
	// deploy, when set (--deploy), publishes the public folder after each build.
	deploy func(context.Context) error
}

// errLocked means another process (a running parvis serve) holds the store.
var errLocked = errors.New("the service's store is in use by another process")

// openState opens (making them on first start) the working repository and the store, and
// builds the site.
func openState(siteDir, dataDir string, log *slog.Logger) (*state, error) {
	return openStateFor(siteDir, dataDir, "", log)
}

// openStateFor is openState for a site built for baseURL rather than parvis.yaml's.
func openStateFor(siteDir, dataDir, baseURL string, log *slog.Logger) (*state, error) {
	st, err := openStore(siteDir, dataDir, log)
	if err != nil {
		return nil, err
	}
	st.baseURL = baseURL
	if _, err := st.build(context.Background()); err != nil {
		st.close()
		return nil, err
	}
	return st, nil
}

// openStore opens everything but does not build the site.
func openStore(siteDir, dataDir string, log *slog.Logger) (*state, error) {
	if _, err := os.Stat(filepath.Join(siteDir, site.ConfigFile)); err != nil {
		return nil, fmt.Errorf("%s is not a Parvis site: no %s", siteDir, site.ConfigFile)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	st := &state{siteDir: siteDir, dataDir: dataDir, public: filepath.Join(dataDir, "public"), log: log}
	var err error
	if st.repoDir, err = workingRepo(siteDir, dataDir, log); err != nil {
		return nil, err
	}
	if st.secret, err = secretFile(filepath.Join(dataDir, "secret"), 32); err != nil {
		return nil, err
	}
	db, err := bbolt.Open(filepath.Join(dataDir, "parvis.db"), 0o600, qbolt.DBOptions(time.Second))
	if err != nil {
		if errors.Is(err, bbolt.ErrTimeout) {
			return nil, errLocked
		}
		return nil, err
	}
	st.db = db
	if st.queue, err = qbolt.New(db); err != nil {
		st.close()
		return nil, err
	}
	if st.store, err = store.New(db); err != nil {
		st.close()
		return nil, err
	}
	cfg, err := site.LoadConfig(os.DirFS(st.repoDir))
	if err != nil {
		st.close()
		return nil, err
	}
	host := "localhost"
	if cfg.Base != nil && cfg.Base.Hostname() != "" {
		host = cfg.Base.Hostname()
	}
	if st.forge, err = gitlocal.Open(st.repoDir, gitlocal.Options{BotName: cfg.Title, BotEmail: "noreply@" + host}); err != nil {
		st.close()
		return nil, err
	}
	if st.blobs, err = localfs.New(filepath.Join(dataDir, "uploads")); err != nil {
		st.close()
		return nil, err
	}
	outbox, err := mail.NewOutbox(filepath.Join(dataDir, "outbox"))
	if err != nil {
		st.close()
		return nil, err
	}
	if st.mail, err = mail.NewSpool(db, outbox, mail.SpoolOptions{Logger: log}); err != nil {
		st.close()
		return nil, err
	}
	tok, err := secretFile(filepath.Join(dataDir, "admin.token"), 24)
	if err != nil {
		st.close()
		return nil, err
	}
	st.adminToken = hex.EncodeToString(tok)
	return st, nil
}

// service makes the submission service on this state.
func (st *state) service(extra ...commentsvc.Option) (*commentsvc.Service, error) {
	opts := []commentsvc.Option{
		commentsvc.WithSite(st.site),
		commentsvc.WithQueue(st.queue),
		commentsvc.WithStore(st.store),
		commentsvc.WithForge(st.forge),
		commentsvc.WithBlobs(st.blobs),
		commentsvc.WithMail(st.mail),
		commentsvc.WithSecret(st.secret),
		commentsvc.WithRebuild(st.build),
		commentsvc.WithLogger(st.log),
		commentsvc.WithAdminToken(st.adminToken),
	}
	return commentsvc.New(append(opts, extra...)...)
}

// build rebuilds the site from the working repository's main branch into the public folder.
func (st *state) build(ctx context.Context) (*site.Site, error) {
	st.buildMu.Lock()
	defer st.buildMu.Unlock()
	out, err := generator.NewDirOutput(st.public)
	if err != nil {
		return nil, err
	}
	res, err := generator.New(generator.WithSiteDir(st.repoDir), generator.WithOutput(out),
		generator.WithCacheDir(filepath.Join(st.dataDir, "cache")), generator.WithBaseURL(st.baseURL)).Build(ctx)
	if err != nil {
		return nil, err
	}
	st.log.Info("site built", "result", res.String())
	st.site = res.Site
	if st.deploy != nil {
		if err := st.deploy(ctx); err != nil {
			return nil, err
		}
	}
	return res.Site, nil
}

func (st *state) close() {
	if st.queue != nil {
		_ = st.queue.Close()
	}
	if st.db != nil {
		_ = st.db.Close()
	}
	_ = os.Remove(filepath.Join(st.dataDir, "serve.json"))
}

// announce writes where the running server listens, for parvis moderate.
func (st *state) announce(base string) error {
	b, _ := json.Marshal(map[string]any{"url": base, "pid": os.Getpid()})
	return os.WriteFile(filepath.Join(st.dataDir, "serve.json"), b, 0o600)
}

// secretFile reads a random secret, making it on first use (readable by the owner only).
func secretFile(path string, n int) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil && len(b) >= n {
		return b[:n], nil
	}
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, err
	}
	return b, nil
}

// workingRepo returns the repository to work in: the site's folder when it is the root of a
// Git repository, otherwise a copy made under dataDir on first start.
func workingRepo(siteDir, dataDir string, log *slog.Logger) (string, error) {
	if fi, err := os.Stat(filepath.Join(siteDir, ".git")); err == nil && fi.IsDir() {
		return siteDir, nil
	}
	dir := filepath.Join(dataDir, "repo")
	stamp := filepath.Join(dir, ".git", "parvis-source")
	if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
		// The working repository lives on; say so when the folder it was made from has
		// changed since, or an editor updating content/ would wonder where the change went.
		if was, err := os.ReadFile(stamp); err == nil {
			if now, err := siteDigest(siteDir); err == nil && now != string(was) {
				log.Warn("the site's folder has changed since the working repository was made from it; "+
					"the site is served from the working repository. Delete it to start afresh (pending submissions are lost with it)",
					"site", siteDir, "repository", dir)
			}
		}
		return dir, nil
	}
	log.Info("making the working repository", "from", siteDir, "in", dir)
	tmp := dir + ".tmp"
	_ = os.RemoveAll(tmp)
	if err := copySite(siteDir, tmp); err != nil {
		return "", err
	}
	repo, err := git.PlainInitWithOptions(tmp, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")}})
	if err != nil {
		return "", err
	}
	wt, err := repo.Worktree()
	if err != nil {
		return "", err
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		return "", err
	}
	cfg, err := site.LoadConfig(os.DirFS(tmp))
	if err != nil {
		return "", err
	}
	sig := &object.Signature{Name: cfg.Title, Email: "noreply@localhost", When: time.Now()}
	if _, err := wt.Commit("Import the site", &git.CommitOptions{Author: sig, Committer: sig}); err != nil {
		return "", err
	}
	if digest, err := siteDigest(siteDir); err == nil {
		_ = os.WriteFile(filepath.Join(tmp, ".git", "parvis-source"), []byte(digest), 0o644)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	return dir, nil
}

// siteDigest sums the files copySite would copy: their paths and contents.
func siteDigest(src string) (string, error) {
	h := sha256.New()
	err := walkSite(src, func(rel string, data []byte) error {
		fmt.Fprintf(h, "%s\x00%d\x00", rel, len(data))
		h.Write(data)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

// copySite copies a site's files, leaving out its built output and dot-files.
func copySite(src, dst string) error {
	return walkSite(src, func(rel string, data []byte) error {
		target := filepath.Join(dst, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}

// walkSite calls fn for each regular file of a site, in order, leaving out its built output
// (public/, var/) and dot-files.
func walkSite(src string, fn func(rel string, data []byte) error) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel != "." && (strings.HasPrefix(d.Name(), ".") || rel == "public" || rel == "var") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return fn(filepath.ToSlash(rel), b)
	})
}

func displayAddr(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok && (t.IP == nil || t.IP.IsUnspecified()) {
		return fmt.Sprintf("localhost:%d", t.Port)
	}
	return a.String()
}

// staticHandler serves the built site, with its 404 page for what does not exist.
func staticHandler(root string) http.Handler {
	files := http.FileServer(http.Dir(root))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := filepath.Join(root, filepath.FromSlash(filepath.Clean("/"+r.URL.Path)))
		if fi, err := os.Stat(p); err != nil || (fi.IsDir() && !exists(filepath.Join(p, "index.html"))) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			if b, err := os.ReadFile(filepath.Join(root, "404.html")); err == nil {
				_, _ = w.Write(b)
			}
			return
		}
		files.ServeHTTP(w, r)
	})
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }
