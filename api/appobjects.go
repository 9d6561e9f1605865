package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"recordings/store"
)

// appObjectJSON is how the admin API shows and takes an app object.
type appObjectJSON struct {
	Name        string    `json:"name"`
	DisplayName string    `json:"display_name"`
	Type        string    `json:"type"`   // "user" or "admin"
	Access      []string  `json:"access"` // extensions: numbers or user names
	Created     time.Time `json:"created,omitzero"`
}

func appObjectView(o store.AppObject) appObjectJSON {
	acc := o.Access
	if acc == nil {
		acc = []string{}
	}
	return appObjectJSON{Name: o.Name, DisplayName: o.DisplayName, Type: o.Type, Access: acc, Created: o.CreatedAt.UTC()}
}

// decodeJSON reads a small JSON body into v, refusing unknown fields.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 256<<10)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		httpError(w, http.StatusBadRequest, "body: "+err.Error())
		return false
	}
	return true
}

// storeError maps store errors of admin edits to status codes.
func (s *Server) storeError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, store.ErrInvalid):
		httpError(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "store: "))
	case errors.Is(err, store.ErrExists):
		httpError(w, http.StatusConflict, strings.TrimPrefix(err.Error(), "store: "))
	case errors.Is(err, store.ErrNotFound):
		httpError(w, http.StatusNotFound, strings.TrimPrefix(err.Error(), "store: "))
	default:
		s.internalError(w, r, err)
	}
}

func (s *Server) listAppObjects(w http.ResponseWriter, r *http.Request) {
	objs, err := s.db.AppObjects(r.Context())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	out := struct {
		AppObjects []appObjectJSON `json:"app_objects"`
	}{AppObjects: make([]appObjectJSON, 0, len(objs))}
	for _, o := range objs {
		out.AppObjects = append(out.AppObjects, appObjectView(o))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getAppObject(w http.ResponseWriter, r *http.Request) {
	o, err := s.db.AppObjectByName(r.Context(), r.PathValue("name"))
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, appObjectView(o))
}

func (s *Server) createAppObject(w http.ResponseWriter, r *http.Request) {
	var req appObjectJSON
	if !decodeJSON(w, r, &req) {
		return
	}
	o, err := s.db.CreateAppObject(r.Context(), store.AppObject{Name: req.Name, DisplayName: req.DisplayName,
		Type: req.Type, Access: req.Access})
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	s.log.Info("app object created", "category", "UI", "user", userFrom(r.Context()).Name, "app_object", o.Name,
		"type", o.Type, "access", len(o.Access))
	writeJSON(w, http.StatusCreated, appObjectView(o))
}

func (s *Server) updateAppObject(w http.ResponseWriter, r *http.Request) {
	var req appObjectJSON
	if !decodeJSON(w, r, &req) {
		return
	}
	name := r.PathValue("name")
	if req.Name != "" && !strings.EqualFold(req.Name, name) {
		httpError(w, http.StatusBadRequest, "name: app objects cannot be renamed (delete and create)")
		return
	}
	o := store.AppObject{Name: name, DisplayName: req.DisplayName, Type: req.Type, Access: req.Access}
	if err := s.db.UpdateAppObject(r.Context(), o); err != nil {
		s.storeError(w, r, err)
		return
	}
	s.log.Info("app object changed", "category", "UI", "user", userFrom(r.Context()).Name, "app_object", name)
	s.getAppObject(w, r)
}

func (s *Server) deleteAppObject(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := s.db.DeleteAppObject(r.Context(), name); err != nil {
		s.storeError(w, r, err)
		return
	}
	s.log.Info("app object deleted", "category", "UI", "user", userFrom(r.Context()).Name, "app_object", name)
	w.WriteHeader(http.StatusNoContent)
}

// setUserAppObject sets an account's default app object: the one whose
// access list applies to its local sign-ins and to AppLogins naming none.
func (s *Server) setUserAppObject(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AppObject *string `json:"app_object"`
	}
	if !decodeJSON(w, r, &req) {
		return
	}
	if req.AppObject == nil {
		httpError(w, http.StatusBadRequest, `body must be {"app_object": "<name>"|""}`)
		return
	}
	if err := s.db.SetUserAppObject(r.Context(), r.PathValue("name"), *req.AppObject); err != nil {
		s.storeError(w, r, err)
		return
	}
	s.log.Info("default app object set", "category", "UI", "user", userFrom(r.Context()).Name,
		"account", r.PathValue("name"), "app_object", *req.AppObject)
	w.WriteHeader(http.StatusNoContent)
}
