package api

import (
	"net/http"

	"recordings/replica"
	"recordings/settings"
)

// Replication: where the database is replicated continuously and how that
// goes (GET/PUT /api/admin/replica). The URL is the replica_url setting,
// written through the settings service; the S3 endpoint and keys come from
// the environment only.

func (s *Server) routeReplica(apiMux *http.ServeMux) {
	apiMux.Handle("GET /api/admin/replica", s.instanceAdmin(s.getReplica))
	apiMux.Handle("PUT /api/admin/replica", s.instanceAdmin(s.setReplica))
}

// replicaJSON is the replication as the admin API shows it.
type replicaJSON struct {
	// URL is the configured replica ("" = off); Fixed names the flag or
	// environment variable that set it at start-up (then it cannot be
	// changed here).
	URL    string         `json:"url"`
	Fixed  string         `json:"fixed,omitempty"`
	Status replica.Status `json:"status"`
}

func (s *Server) replicaStatus() replica.Status {
	if s.rep == nil {
		return replica.Status{State: "off"}
	}
	return s.rep.Status()
}

func (s *Server) replicaView() replicaJSON {
	return replicaJSON{URL: s.set.Values().ReplicaURL, Fixed: s.set.FixedBy(settings.KeyReplicaURL), Status: s.replicaStatus()}
}

func (s *Server) getReplica(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.replicaView())
}

// setReplica changes the replica URL ("" turns replication off). A refused
// URL is a 400 naming replica_url; the status follows within a second.
func (s *Server) setReplica(w http.ResponseWriter, r *http.Request) {
	var req struct {
		URL *string `json:"url"`
	}
	if !decodeJSON(w, r, &req) {
		return
	}
	if req.URL == nil {
		httpError(w, http.StatusBadRequest, `body: "url" is required ("" turns replication off)`)
		return
	}
	if err := s.set.Set(r.Context(), userFrom(r.Context()).Name, map[string]string{settings.KeyReplicaURL: *req.URL}); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.replicaView())
}
