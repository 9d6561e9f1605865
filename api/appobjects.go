package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"recordings/store"
)

// listRefreshTimeout bounds the PBX's answer when the list is shown.
const listRefreshTimeout = 5 * time.Second

// appObjectJSON is how the admin API shows and takes an app object.
type appObjectJSON struct {
	Name        string    `json:"name"`
	DisplayName string    `json:"display_name"`
	Type        string    `json:"type"`   // "user" or "admin"
	Access      []string  `json:"access"` // extensions: numbers or user names
	Created     time.Time `json:"created,omitzero"`
	// PBX is what the PBX last said of it (pbxappobjects.go); read-only.
	PBX *appObjectPBXJSON `json:"pbx,omitempty"`
}

func appObjectView(o store.AppObject) appObjectJSON {
	acc := o.Access
	if acc == nil {
		acc = []string{}
	}
	return appObjectJSON{Name: o.Name, DisplayName: o.DisplayName, Type: o.Type, Access: acc, Created: o.CreatedAt.UTC()}
}

func (s *Server) listAppObjects(w http.ResponseWriter, r *http.Request) {
	// With a PBX connected the list is what it holds now: re-read (the
	// PBX Manager plugin changes App objects on the PBX directly).
	if s.appObjs != nil && s.appObjs.State().Connected {
		ctx, cancel := context.WithTimeout(r.Context(), listRefreshTimeout)
		if err := s.appObjs.Refresh(ctx); err != nil {
			s.log.Warn("app objects: re-read the PBX's list", "err", err) // the cache is shown, with last_error
		}
		cancel()
	}
	objs, err := s.db.AppObjects(r.Context())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	onPBX, err := s.db.AppObjectsPBX(r.Context())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	out := struct {
		AppObjects []appObjectJSON   `json:"app_objects"`
		PBX        pbxAppObjectsJSON `json:"pbx"` // the PBX's App-object client
	}{AppObjects: make([]appObjectJSON, 0, len(objs)), PBX: s.pbxAppObjectsState()}
	for _, o := range objs {
		v := appObjectView(o)
		v.PBX = pbxView(onPBX[strings.ToLower(o.Name)])
		out.AppObjects = append(out.AppObjects, v)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getAppObject(w http.ResponseWriter, r *http.Request) {
	o, err := s.db.AppObjectByName(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, notFoundAs(err, "no such app object"))
		return
	}
	onPBX, err := s.db.AppObjectsPBX(r.Context())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	v := appObjectView(o)
	v.PBX = pbxView(onPBX[strings.ToLower(o.Name)])
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) createAppObject(w http.ResponseWriter, r *http.Request) {
	var req appObjectJSON
	if !decodeJSON(w, r, &req) {
		return
	}
	o, err := s.db.CreateAppObject(r.Context(), store.AppObject{Name: req.Name, DisplayName: req.DisplayName,
		Type: req.Type, Access: req.Access})
	if err != nil {
		if errors.Is(err, store.ErrExists) {
			httpError(w, http.StatusConflict, fmt.Sprintf("an app object named %q exists already", req.Name))
			return
		}
		s.fail(w, r, err)
		return
	}
	s.rightsChanged()
	s.log.Info("app object created", "user", userFrom(r.Context()).Name, "app_object", o.Name,
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
		s.fail(w, r, notFoundAs(err, "no such app object"))
		return
	}
	s.rightsChanged()
	s.log.Info("app object changed", "user", userFrom(r.Context()).Name, "app_object", name)
	s.getAppObject(w, r)
}

func (s *Server) deleteAppObject(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := s.db.DeleteAppObject(r.Context(), name); err != nil {
		s.fail(w, r, notFoundAs(err, "no such app object"))
		return
	}
	s.rightsChanged()
	s.log.Info("app object deleted", "user", userFrom(r.Context()).Name, "app_object", name)
	w.WriteHeader(http.StatusNoContent)
}
