package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"recordings/ingest"
	"recordings/settings"
	"recordings/store"
)

func (s *Server) routeFiles(mux *http.ServeMux) {
	mux.HandleFunc("PUT /{domain}/recordings/Files/{name}", s.putCapture)
	mux.Handle("GET /{domain}/recordings/Files/{name}", s.authed(s.getCapture))
}

// putCapture receives a phone's capture upload, streamed (chunked or with
// Content-Length) and persisted as it arrives: 201 for a new file, 204 for
// a cut upload sent again. It needs the upload credentials (or a source in
// an anonymous network); captures are written once (409 for a name that is
// complete or being uploaded). Every refusal is counted in the aggregated
// log of refused uploads.
func (s *Server) putCapture(w http.ResponseWriter, r *http.Request) {
	v := s.set.Values()
	if ok, reason := s.ingressCheck(r, v.UploadUser, v.UploadPassword); !ok {
		s.rejects.uploads.Refused(peerHost(r), "401 "+reason)
		w.Header().Set("WWW-Authenticate", `Basic realm="recordings upload", charset="UTF-8"`)
		httpError(w, http.StatusUnauthorized, "upload credentials required")
		return
	}
	domain, name := r.PathValue("domain"), r.PathValue("name")
	_, replaced, err := s.ing.Upload(r.Context(), domain, name, newIdleBody(w, r, s.opt.UploadIdle), r.ContentLength)
	refuse := func(code int, msg string) {
		s.rejects.uploads.Refused(peerHost(r), strconv.Itoa(code)+" "+msg)
		httpError(w, code, msg)
	}
	switch {
	case err == nil:
	case errors.Is(err, ingest.ErrBadName), errors.Is(err, ingest.ErrNotCapture):
		refuse(http.StatusBadRequest, err.Error())
		return
	case errors.Is(err, ingest.ErrEmpty):
		refuse(http.StatusBadRequest, "empty upload: the body holds no capture")
		return
	case errors.Is(err, ingest.ErrTooLarge):
		refuse(http.StatusRequestEntityTooLarge, err.Error())
		return
	case errors.Is(err, ingest.ErrExists):
		refuse(http.StatusConflict, "a complete recording of this name exists: captures are written once")
		return
	case errors.Is(err, ingest.ErrBusy):
		refuse(http.StatusConflict, "an upload of this name is in progress")
		return
	case store.IsDiskFull(err):
		httpError(w, http.StatusInsufficientStorage, "storage full: upload refused")
		return
	default:
		// Mostly a client that went away midway; what arrived is kept.
		s.recLog.Warn("upload failed", "name", name, "err", err)
		httpError(w, http.StatusBadRequest, fmt.Sprintf("upload failed: %v", err))
		return
	}
	s.used(r.Context(), settings.PendingUpload)
	if replaced {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

// getCapture returns a stored capture byte for byte as it was received.
func (s *Server) getCapture(w http.ResponseWriter, r *http.Request) {
	rec, err := s.db.RecordingByName(r.Context(), r.PathValue("domain"), r.PathValue("name"))
	if err != nil || !canView(userFrom(r.Context()), rec.Domain, rec.Owner) {
		if err == nil || isNotFound(err) {
			httpError(w, http.StatusNotFound, "no such recording")
			return
		}
		s.internalError(w, r, err)
		return
	}
	c, err := s.db.OpenCapture(r.Context(), rec.ID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	defer c.Close()
	w.Header().Set("Content-Type", "application/vnd.tcpdump.pcap")
	w.Header().Set("Content-Length", strconv.FormatInt(c.Size(), 10))
	if rec.SHA256 != "" {
		w.Header().Set("ETag", `"`+rec.SHA256+`"`)
	}
	if _, err := io.Copy(w, c); err != nil {
		s.recLog.Warn("capture download broke off", "user", rec.Owner, "id", rec.ID, "err", err)
	}
}
