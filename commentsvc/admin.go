package commentsvc

import "net/http"

// adminRoutes mounts the moderation surface: the JSON API for the command line.
func (s *Service) adminRoutes(m *http.ServeMux) {
	s.apiRoutes(m)
}
