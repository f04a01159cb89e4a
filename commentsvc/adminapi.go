package commentsvc

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/parvis/parvis/internal/store"
)

// The admin API lets the command line moderate through a running server, which holds the
// store's lock. It takes a bearer token that the server keeps in its data folder, readable
// by its owner only; it is not for browsers (no cookies, no CORS).
func (s *Service) apiRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /admin/api/submissions", s.apiAuth(s.apiList))
	m.HandleFunc("GET /admin/api/submissions/{id}", s.apiAuth(s.apiGet))
	m.HandleFunc("POST /admin/api/submissions/{id}/approve", s.apiAuth(s.apiApprove))
	m.HandleFunc("POST /admin/api/submissions/{id}/reject", s.apiAuth(s.apiReject))
	m.HandleFunc("PUT /admin/api/moderators/{name}", s.apiAuth(s.apiPutModerator))
	m.HandleFunc("DELETE /admin/api/moderators/{name}", s.apiAuth(s.apiDeleteModerator))
}

// apiPutModerator adds or replaces an account; the body holds a bcrypt hash, made by the
// command line so that the password never crosses the wire.
func (s *Service) apiPutModerator(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Hash  string `json:"hash"`
		Email string `json:"email"` // for the digest; "" removes it
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "expected {\"hash\": \"$2a$…\"}"})
		return
	}
	if err := CheckEmail(body.Email); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "email: " + err.Error()})
		return
	}
	if err := s.AddModerator(r.PathValue("name"), body.Hash); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	if err := s.SetModeratorEmail(r.PathValue("name"), body.Email); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"name": r.PathValue("name")})
}

func (s *Service) apiDeleteModerator(w http.ResponseWriter, r *http.Request) {
	if err := s.store.DeleteModerator(r.PathValue("name")); err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, store.ErrNotFound) {
			status = http.StatusNotFound
		}
		writeJSON(w, status, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"name": r.PathValue("name")})
}

func (s *Service) apiAuth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if s.adminKey == "" || !ok || subtle.ConstantTimeCompare([]byte(tok), []byte(s.adminKey)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="parvis"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized"})
			return
		}
		next(w, r)
	}
}

func (s *Service) apiList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var statuses []store.Status
	for _, st := range q["status"] {
		statuses = append(statuses, store.Status(st))
	}
	n, _ := strconv.Atoi(q.Get("limit"))
	l, err := s.List(q.Get("before"), n, statuses...)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	if l == nil {
		l = []*store.Record{}
	}
	writeJSON(w, http.StatusOK, l)
}

func (s *Service) apiGet(w http.ResponseWriter, r *http.Request) {
	sub, err := s.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, sub)
}

// apiApprove and apiReject serve the command line: each decision names who made it and is
// logged here, as the moderation pages log theirs, whichever side it came from.
func (s *Service) apiApprove(w http.ResponseWriter, r *http.Request) {
	id, who := r.PathValue("id"), strings.TrimSpace(r.URL.Query().Get("moderator"))
	if who == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "moderator: a decision names who made it"})
		return
	}
	rec, err := s.Approve(r.Context(), id, who)
	s.logDecision("approve", id, who, err)
	if err != nil {
		apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

func (s *Service) logDecision(action, id, who string, err error) {
	if err != nil {
		s.log.Warn("moderation: "+action, "id", id, "moderator", who, "via", "command line", "err", err)
		return
	}
	s.log.Info("moderation: "+action, "id", id, "moderator", who, "via", "command line")
}

func (s *Service) apiReject(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Reason    string `json:"reason"`
		Moderator string `json:"moderator"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "expected {\"reason\": \"…\"}"})
		return
	}
	id, who := r.PathValue("id"), strings.TrimSpace(body.Moderator)
	if who == "" && strings.TrimSpace(body.Reason) != "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "moderator: a decision names who made it"})
		return
	}
	rec, err := s.Reject(r.Context(), id, who, body.Reason)
	s.logDecision("reject", id, who, err)
	if err != nil {
		apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

func apiError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, ErrNotPending), errors.Is(err, ErrConflict), errors.Is(err, ErrOrphan):
		status = http.StatusConflict
	case errors.Is(err, ErrReason):
		status = http.StatusBadRequest
	}
	writeJSON(w, status, map[string]string{"error": err.Error()})
}
