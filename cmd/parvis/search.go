package main

import (
	"net/http"
	"os"
	"path/filepath"

	"github.com/parvis/parvis/internal/search"
)

// mountSearch answers the site search in plain HTML, for readers without JavaScript: GET
// /search?q= (the stable route) and GET /search/?q=, where the site's search forms send
// it. The page is the built site's own search page, filled with the results found in the
// built index, so it has the site's layout and the same results as the script; a rebuild
// is seen by the next request.
func mountSearch(mux *http.ServeMux, st *state) {
	h := siteHeaders(st.site.Config.Service.URL, search.Handler(os.DirFS(filepath.Join(st.public, "search")), st.log))
	mux.Handle("GET /search", h)
	mux.Handle("GET /search/{$}", h)
}
