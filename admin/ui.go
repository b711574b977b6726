package admin

import "net/http"

// uiRoutes serves the web UI; see ui/.
func (s *Server) uiRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusOK, "dvcwatch admin: the UI is not built yet; the API is at /api/v1\n")
	})
}
