package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"recordings/convert"
	"recordings/internal/httprange"
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
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename=%q`, wavName(rec)))
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
	if err := convert.WriteWAVRangeCheckpoints(ctx, p.Analysis, p.Checkpoints, p.Open, w, off, length); err != nil {
		s.cnvLog.Warn("wav stream broke off", "user", rec.Owner, "id", rec.ID, "err", err)
	}
}

// wavName is a download name people can read: date, time and parties.
func wavName(r store.Recording) string {
	parts := []string{r.CreatedAt.UTC().Format("2006-01-02_150405")}
	for _, p := range []string{r.Owner, r.PeerName, r.PeerNumber} {
		if p = safeName(p); p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "_") + ".wav"
}

func safeName(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '+', c == '.':
			b.WriteRune(c)
		case c == ' ' || c == '_':
			b.WriteByte('-')
		}
		if b.Len() >= 40 {
			break
		}
	}
	return strings.Trim(b.String(), ".-")
}
