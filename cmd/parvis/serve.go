package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/parvis/parvis/generator"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "[--site DIR] [--addr :8080]",
		"Build the site and serve it, with the submission service and the moderation pages,\n"+
			"in one process.")
	siteDir := fs.String("site", ".", "the site's folder (the one holding parvis.yaml)")
	addr := fs.String("addr", ":8080", "the address to listen on")
	data := fs.String("data", "var", "the folder for the service's state and the built site")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, nil))
	out := filepath.Join(*data, "public")
	o, err := generator.NewDirOutput(out)
	if err != nil {
		return err
	}
	res, err := generator.New(generator.WithSiteDir(*siteDir), generator.WithOutput(o)).Build(ctx)
	if err != nil {
		return err
	}
	log.Info("site built", "result", res.String(), "out", out)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: staticHandler(out), ReadHeaderTimeout: 10 * time.Second}
	log.Info("serving", "url", fmt.Sprintf("http://%s/", displayAddr(ln.Addr())))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shut, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
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
