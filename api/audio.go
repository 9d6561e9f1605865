package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"recordings/convert"
	"recordings/internal/httprange"
	"recordings/internal/translit"
	"recordings/media"
	"recordings/store"
)

// audio serves the recording as a stereo WAV rendered from the stored
// capture, with single-range support so that players can seek.
func (s *Server) audio(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.restRecording(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	download := q.Get("download") == "1" || q.Get("download") == "true"
	loc, err := parseZone(q.Get("tz"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if rec.State == store.StateReceiving && rec.Size == 0 {
		httpError(w, http.StatusConflict, "recording has no audio yet")
		return
	}
	p, err := s.ing.Prepare(r.Context(), rec)
	if err != nil {
		if errors.Is(err, media.ErrUnsupportedCodec) || errors.Is(err, media.ErrNoRTP) {
			httpError(w, http.StatusUnprocessableEntity, "cannot render audio: "+err.Error())
			return
		}
		s.internalError(w, r, err)
		return
	}
	ctx := r.Context()
	if r.Method != http.MethodHead {
		rctx, release, err := p.Acquire(ctx)
		if errors.Is(err, convert.ErrBusy) {
			w.Header().Set("Retry-After", "1")
			httpError(w, http.StatusServiceUnavailable, "too many audio renders; try again")
			return
		}
		if err != nil {
			return // the client went away while waiting
		}
		defer release()
		ctx = rctx
	}
	size := p.Size()
	h := w.Header()
	h.Set("Content-Type", "audio/wav")
	h.Set("Accept-Ranges", "bytes")
	disposition := "inline"
	if download {
		disposition = "attachment"
	}
	h.Set("Content-Disposition", contentDisposition(disposition, downloadName(rec, loc)+".wav"))
	if rec.SHA256 != "" {
		h.Set("ETag", `"`+rec.SHA256+`-wav"`)
	}
	off, length, status := int64(0), size, http.StatusOK
	if rg := r.Header.Get("Range"); rg != "" {
		var ok bool
		off, length, ok = httprange.Parse(rg, size)
		if !ok {
			h.Set("Content-Range", fmt.Sprintf("bytes */%d", size))
			httpError(w, http.StatusRequestedRangeNotSatisfiable, "range not satisfiable")
			return
		}
		status = http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+length-1, size))
	}
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	// Listening is noted when the audio is fetched from its start (a
	// player seeking asks for later ranges); a download whatever its range.
	switch u := userFrom(r.Context()); {
	case download:
		s.audits.note(auditOf(u, rec, store.AuditDownloaded))
	case off == 0:
		s.audits.note(auditOf(u, rec, store.AuditListened))
	}
	if err := convert.WriteWAVRangeContext(ctx, p.Analysis, p.Open, w, off, length); err != nil {
		s.cnvLog.Warn("wav stream broke off", "user", rec.Owner, "id", rec.ID, "err", err)
	}
}

// downloadName is a recording's file name without extension, as people
// read it: "2026-03-01 09-05 Jose Garcia", the call's local time in loc
// (minutes), then the other party's name transliterated (translit.Name),
// else its number, else the owner.
func downloadName(r store.Recording, loc *time.Location) string {
	at := r.ConnectedAt
	if at.IsZero() {
		at = r.CreatedAt
	}
	party := ""
	for _, p := range []string{r.PeerName, r.PeerNumber, r.Owner} {
		if party = translit.Name(p, 60); party != "" {
			break
		}
	}
	if party == "" {
		party = "call"
	}
	return at.In(loc).Format("2006-01-02 15-04") + " " + party
}

// contentDisposition is the header value for a file name: plain when it is
// ASCII without quotes or backslashes (translit.Name's names are), else
// with an RFC 5987 filename* and an ASCII fallback.
func contentDisposition(kind, name string) string {
	if !strings.ContainsAny(name, "\"\\") && isPrintableASCII(name) {
		return kind + `; filename="` + name + `"`
	}
	fallback := translit.Name(name, 100)
	return kind + `; filename="` + fallback + `"; filename*=UTF-8''` + url.PathEscape(name)
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// parseZone reads the tz parameter: an IANA time zone name such as
// Europe/Berlin; "" is UTC.
func parseZone(tz string) (*time.Location, error) {
	if tz == "" {
		return time.UTC, nil
	}
	if len(tz) > 64 {
		return nil, badRequest("tz: at most 64 bytes")
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, badRequest("tz: unknown time zone %.64q (want an IANA name such as Europe/Berlin)", tz)
	}
	return loc, nil
}
