package commentsvc

import (
	"errors"
	"net/http"

	"github.com/parvis/parvis/internal/store"
)

// receipt is what a citizen sees of a submission: its status and, once decided, the link
// or the moderator's reason. Nothing else: not the content, not who moderated it.
type receipt struct {
	ID     string `json:"id"`
	Status string `json:"status"` // pending, published or rejected
	URL    string `json:"url,omitempty"`
	Reason string `json:"reason,omitempty"`
}

func (s *Service) receiptOf(id string) (receipt, error) {
	rc := receipt{ID: id, Status: "pending"}
	rec, err := s.store.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		// Accepted and still in the queue: a valid token proves the service issued it.
		return rc, nil
	}
	if err != nil {
		return rc, err
	}
	switch rec.Status {
	case store.Published:
		rc.Status, rc.URL = "published", rec.URL
	case store.Rejected:
		rc.Status, rc.Reason = "rejected", rec.Reason
	}
	return rc, nil
}

// handleReceipt answers GET /api/v1/submissions/{id}?token=…
func (s *Service) handleReceipt(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	lang := s.cfg.Language
	if !s.validReceipt(id, r.URL.Query().Get("token")) {
		if wantsJSON(r) {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found", "message": msg(lang, "not_found")})
			return
		}
		s.page(w, http.StatusNotFound, "receipt.html", map[string]any{"Lang": lang, "Site": s.cfg.Title, "Title": msg(lang, "receipt_title"), "Missing": true})
		return
	}
	rc, err := s.receiptOf(id)
	if err != nil {
		s.log.Error("reading a receipt", "id", id, "err", err)
		http.Error(w, msg(lang, "unavailable"), http.StatusServiceUnavailable)
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, rc)
		return
	}
	s.page(w, http.StatusOK, "receipt.html", map[string]any{
		"Lang": lang, "Site": s.cfg.Title, "Title": msg(lang, "receipt_title"),
		"Status": rc.Status, "URL": rc.URL, "Reason": rc.Reason,
	})
}

// ReceiptToken returns the secret that a submission's receipt address carries, for callers
// that give the address out again (the moderation pages, the command line).
func (s *Service) ReceiptToken(id string) string { return s.receiptToken(id) }
