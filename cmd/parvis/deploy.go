package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/parvis/parvis/generator"
	"github.com/parvis/parvis/internal/blob/s3"
	"github.com/parvis/parvis/internal/deploy"
	"github.com/parvis/parvis/internal/site"
)

func runDeploy(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "deploy", "[--site DIR] [--out DIR] [flags] s3://bucket/prefix",
		"Build the site in --site (or take the build already in --out) and put it in an\n"+
			"S3-compatible bucket, uploading only what changed since the last deploy and deleting\n"+
			"what the build no longer has. Keys come from the standard AWS chain: AWS_ACCESS_KEY_ID\n"+
			"and AWS_SECRET_ACCESS_KEY, or the shared config and credentials files (AWS_PROFILE).")
	siteDir := fs.String("site", ".", "the site's folder (the one holding parvis.yaml)")
	out := fs.String("out", "", "a folder already built by parvis build, to deploy as it is (default: build --site now)")
	now := fs.String("now", "", "the build's clock, RFC 3339 (default: now, or SOURCE_DATE_EPOCH)")
	baseURL := fs.String("base-url", "", "the address readers reach the site at (default: parvis.yaml's baseURL)")
	cache := fs.String("cache", defaultCache(), "a folder for work kept between builds (resized images); empty for none")
	conn := addS3Flags(fs)
	dry := fs.Bool("dry-run", false, "list what would be uploaded and deleted, and change nothing")
	noDelete := fs.Bool("no-delete", false, "keep the objects the build no longer has")
	verbose := fs.Bool("verbose", false, "print one line per upload and deletion")
	jobs := fs.Int("concurrency", 8, "requests to the bucket at once")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"want one s3://bucket/prefix address"}
	}
	if *jobs < 1 || *jobs > 64 {
		return usageError{fmt.Sprintf("--concurrency: %d is not between 1 and 64", *jobs)}
	}
	store, err := conn.open(ctx, e, fs.Arg(0), "the deploy address")
	if err != nil {
		return err
	}

	dir, basePath := *out, ""
	if dir == "" {
		clock, err := buildClock(*now, e.getenv("SOURCE_DATE_EPOCH"))
		if err != nil {
			return err
		}
		if _, err := os.Stat(filepath.Join(*siteDir, site.ConfigFile)); err != nil {
			return fmt.Errorf("%s is not a Parvis site: no %s (or give --out, a folder already built)", *siteDir, site.ConfigFile)
		}
		tmp, err := os.MkdirTemp("", "parvis-deploy-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = filepath.Join(tmp, "public")
		o, err := generator.NewDirOutput(dir)
		if err != nil {
			return err
		}
		res, err := generator.New(generator.WithSiteDir(*siteDir), generator.WithOutput(o), generator.WithNow(clock),
			generator.WithCacheDir(*cache), generator.WithBaseURL(*baseURL)).Build(ctx)
		if err != nil {
			return err
		}
		basePath = basePathOf(res.Site.Config)
		fmt.Fprintf(e.stdout, "Built %s\n", res)
	} else {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return usageError{fmt.Sprintf("--out %s is not a folder", dir)}
		}
		// The _headers file names site paths, which start with the base URL's path.
		cfg := &site.Config{}
		if exists(filepath.Join(*siteDir, site.ConfigFile)) {
			if cfg, err = site.LoadConfig(os.DirFS(*siteDir)); err != nil {
				return err
			}
		}
		if *baseURL != "" {
			if err := cfg.SetBaseURL(*baseURL); err != nil {
				return usageError{"--base-url: " + err.Error()}
			}
		}
		basePath = basePathOf(cfg)
	}

	o := deploy.Options{BasePath: basePath, Concurrency: *jobs, DryRun: *dry, NoDelete: *noDelete}
	if *verbose || *dry {
		o.Log = e.stdout
	} else if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		o.Progress = f
	}
	if *dry {
		fmt.Fprintf(e.stdout, "Dry run: nothing is written to %s\n", store.Location())
	}
	rep, err := deploy.Deploy(ctx, dir, store, o)
	if rep != nil {
		for _, w := range rep.Warnings {
			fmt.Fprintf(e.stderr, "parvis deploy: warning: %s\n", w)
		}
	}
	if err != nil {
		return err
	}
	if *dry {
		for _, a := range rep.Actions {
			fmt.Fprintln(o.Log, "would", a)
		}
	}
	if *dry {
		fmt.Fprintf(e.stdout, "Would deploy to %s: %s\n", store.Location(), rep)
		return nil
	}
	fmt.Fprintf(e.stdout, "Deployed to %s: %s\n", store.Location(), rep)
	return nil
}

// basePathOf is the path of the site under its host, with no slash at the end.
func basePathOf(cfg *site.Config) string {
	if cfg == nil || cfg.Base == nil {
		return ""
	}
	return strings.TrimSuffix(cfg.Base.Path, "/")
}

// s3Flags say how to reach an S3-compatible provider; deploy and serve share them.
type s3Flags struct {
	endpoint, region *string
	pathStyle        *bool
}

func addS3Flags(fs *flag.FlagSet) *s3Flags {
	return &s3Flags{
		endpoint:  fs.String("endpoint", "", "the S3-compatible provider's address, such as https://s3.fr-par.scw.cloud (default: AWS_ENDPOINT_URL_S3, else AWS)"),
		region:    fs.String("region", "", "the bucket's region (default: AWS_REGION, else us-east-1)"),
		pathStyle: fs.Bool("path-style", false, "address the bucket as ENDPOINT/BUCKET rather than BUCKET.ENDPOINT (MinIO, Garage)"),
	}
}

// open makes the store at the s3:// address u, with the keys of the command's environment
// when it has them (else the rest of the AWS chain), and checks the bucket answers.
func (f *s3Flags) open(ctx context.Context, e *env, u, what string) (*s3.Store, error) {
	loc, err := s3.ParseURL(u)
	if err != nil {
		return nil, usageError{what + ": " + err.Error()}
	}
	region := *f.region
	if region == "" {
		region = e.getenv("AWS_REGION")
	}
	endpoint := *f.endpoint
	if endpoint == "" {
		endpoint = e.getenv("AWS_ENDPOINT_URL_S3")
	}
	store, err := s3.New(ctx, loc, s3.Options{
		Endpoint: endpoint, Region: region, PathStyle: *f.pathStyle,
		AccessKeyID: e.getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: e.getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken: e.getenv("AWS_SESSION_TOKEN"),
	})
	if err != nil {
		if strings.Contains(err.Error(), "endpoint") {
			return nil, usageError{"--endpoint: " + err.Error()}
		}
		return nil, err
	}
	if err := store.Check(ctx); err != nil {
		return nil, err
	}
	return store, nil
}

// publishFlags are parvis serve's: where the site goes after each rebuild, and where
// citizens' uploads wait.
type publishFlags struct {
	deploy, uploads *string
	conn            *s3Flags
}

func addPublishFlags(fs *flag.FlagSet) *publishFlags {
	return &publishFlags{
		deploy:  fs.String("deploy", "", "an s3://bucket/prefix to deploy the site to after each rebuild (the bucket behind a CDN then has the live site)"),
		uploads: fs.String("uploads", "", "an s3://bucket/prefix where citizens' uploads wait for moderation (default: the data folder); not a public one"),
		conn:    addS3Flags(fs),
	}
}

// attach sets up the state for the flags given: the uploads' store, and a deploy after each
// build, run once now for the build made at start.
func (p *publishFlags) attach(ctx context.Context, e *env, st *state) error {
	if *p.uploads != "" {
		store, err := p.conn.open(ctx, e, *p.uploads, "--uploads")
		if err != nil {
			return err
		}
		if *p.deploy != "" {
			if dl, _ := s3.ParseURL(*p.deploy); overlaps(dl, store.Location()) {
				return usageError{"--uploads must not be inside --deploy, nor the other way round: the uploads would be published, or deleted by the deploy"}
			}
		}
		st.blobs = store
	}
	if *p.deploy == "" {
		return nil
	}
	store, err := p.conn.open(ctx, e, *p.deploy, "--deploy")
	if err != nil {
		return err
	}
	st.deploy = func(ctx context.Context) error {
		rep, err := deploy.Deploy(ctx, st.public, store, deploy.Options{BasePath: basePathOf(st.site.Config)})
		if rep != nil {
			for _, w := range rep.Warnings {
				st.log.Warn("deploy", "warning", w)
			}
		}
		if err != nil {
			return fmt.Errorf("deploying to %s: %w", store.Location(), err)
		}
		st.log.Info("site deployed", "to", store.Location().String(), "result", rep.String())
		return nil
	}
	return st.deploy(ctx)
}

// overlaps reports whether one location is inside the other.
func overlaps(a, b s3.Location) bool {
	if a.Bucket != b.Bucket {
		return false
	}
	inside := func(x, y string) bool { return y == "" || x == y || strings.HasPrefix(x, y+"/") }
	return inside(a.Prefix, b.Prefix) || inside(b.Prefix, a.Prefix)
}
