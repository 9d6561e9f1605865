package api

import (
	"net/http"

	"recordings/store"
)

type licencesJSON struct {
	Configured bool     `json:"configured"` // false: licences are not enforced, every recording is kept
	Count      int      `json:"count"`
	Assigned   int      `json:"assigned"`
	ToPurge    int64    `json:"to_purge"`       // recordings the next start-up deletes
	Protected  int64    `json:"kept_protected"` // unlicensed but protected: kept
	Licensed   []string `json:"licensed"`       // accounts holding a licence
	// FromPBX: the licences come from the PBX (a PBX is expected, see
	// docs/pbx.md); the typed-in count and assignments do not apply.
	FromPBX bool `json:"from_pbx"`
}

// errLicencesFromPBX refuses typing in licences where the PBX decides.
var errLicencesFromPBX = &clientError{status: http.StatusConflict,
	msg: "licences come from the PBX (App(innovaphone-recorder) licences assigned to users there): the licence count " +
		"and assignments here apply only to installations without a PBX"}

// getLicences reports the licence situation, including how many
// recordings of users without a licence the next start-up will delete.
func (s *Server) getLicences(w http.ResponseWriter, r *http.Request) {
	// An administrator of a domain sees their domain's accounts and
	// recordings (the licence count is the instance's).
	d := s.managedDomain(userFrom(r.Context()))
	st, err := s.db.LicencesIn(r.Context(), d)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	users, err := s.db.Users(r.Context())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	out := licencesJSON{Configured: st.Configured, Count: st.Count, Assigned: st.Assigned, ToPurge: st.ToPurge,
		Protected: st.Protected, Licensed: []string{}, FromPBX: s.set.PBXExpected()}
	for _, u := range users {
		if u.Licensed && store.InDomain(d, u.Domain) {
			out.Licensed = append(out.Licensed, u.Name)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// setLicences sets the licence count ({"count": n}) or stops enforcing
// licences ({"count": null}).
func (s *Server) setLicences(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Count *int `json:"count"`
	}
	if !decodeJSON(w, r, &req) {
		return
	}
	if s.set.PBXExpected() {
		s.fail(w, r, errLicencesFromPBX)
		return
	}
	by := userFrom(r.Context()).Name
	var err error
	if req.Count == nil {
		err = s.set.ClearLicenceCount(r.Context(), by)
	} else {
		err = s.set.SetLicenceCount(r.Context(), by, *req.Count)
	}
	if err != nil {
		s.fail(w, r, err) // the settings service logged the change; a refusal is an invalid.Error
		return
	}
	s.getLicences(w, r)
}

func (s *Server) restSetUserLicence(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Licensed *bool `json:"licensed"`
	}
	if !decodeJSON(w, r, &req) {
		return
	}
	if req.Licensed == nil {
		httpError(w, http.StatusBadRequest, `body must be {"licensed": true|false}`)
		return
	}
	if _, err := s.managedAccount(r.Context(), userFrom(r.Context()), r.PathValue("name")); err != nil {
		s.fail(w, r, err)
		return
	}
	if s.set.PBXExpected() {
		s.fail(w, r, errLicencesFromPBX)
		return
	}
	if err := s.db.SetUserLicensed(r.Context(), r.PathValue("name"), *req.Licensed); err != nil {
		s.fail(w, r, notFoundAs(err, "no such user"))
		return
	}
	s.licLog.Info("licence assignment changed", "user", userFrom(r.Context()).Name,
		"account", r.PathValue("name"), "licensed", *req.Licensed)
	s.getLicences(w, r)
}
