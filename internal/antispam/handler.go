package antispam

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// ChallengeHandler answers GET ?form=<name>&lang=<fr|en> with {"token": "...", "difficulty":
// N, "question": {"id": "...", "text": "..."}}, the question being the token's, for pages
// served from static hosting, where no process stamps the forms. It sets no cookie,
// forbids caching, and lets the configured origins read the answer (CORS, no credentials).
// A form missing from Config.Forms is refused when Forms is set.
func (c *Checker) ChallengeHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Add("Vary", "Origin")
		if o := r.Header.Get("Origin"); o != "" && c.origin[o] {
			h.Set("Access-Control-Allow-Origin", o)
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodOptions:
			h.Set("Access-Control-Allow-Methods", "GET")
			h.Set("Access-Control-Max-Age", "86400")
			w.WriteHeader(http.StatusNoContent)
			return
		default:
			h.Set("Allow", "GET, HEAD, OPTIONS")
			jsonError(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		form := r.URL.Query().Get("form")
		if _, known := c.forms[form]; !validFormName(form) || len(c.forms) > 0 && !known {
			jsonError(w, http.StatusNotFound, "unknown form")
			return
		}
		tok, nonce := c.issue(form, c.now())
		q := c.question(nonce, r.URL.Query().Get("lang"))
		text, _ := json.Marshal(q.Text) // escapes <, > and & too
		body := `{"token":"` + tok + `","difficulty":` + strconv.Itoa(c.form(form).difficulty) +
			`,"question":{"id":"` + q.ID + `","text":` + string(text) + "}}\n"
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			w.Write([]byte(body))
		}
	})
}

// validFormName follows the site's rule for form names, which keeps tokens free of escapes.
func validFormName(s string) bool {
	if s == "" || len(s) > 64 || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func jsonError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write([]byte(`{"error":"` + msg + `"}` + "\n"))
}
