package api

import (
	"errors"
	"fmt"
	"net/http"

	"recordings/internal/invalid"
	"recordings/store"
)

// clientError is a refusal said to the client as is: its HTTP status for
// the REST routes, its message for both transports.
type clientError struct {
	status int
	msg    string
}

func (e *clientError) Error() string { return e.msg }

func refuse(status int, format string, args ...any) error {
	return &clientError{status: status, msg: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) error {
	return refuse(http.StatusBadRequest, format, args...)
}

// errNoSuchRecording answers for a recording that does not exist and for
// one the user may not see alike, so that ids reveal nothing.
var errNoSuchRecording = &clientError{status: http.StatusNotFound, msg: "no such recording"}

// clientFacing tells what a client may learn of err: the status and text
// of a clientError or a refused input (invalid.Error); ok is false for
// everything else, which is internal.
func clientFacing(err error) (status int, msg string, ok bool) {
	var ce *clientError
	if errors.As(err, &ce) {
		return ce.status, ce.msg, true
	}
	var th *errThrottled
	if errors.As(err, &th) {
		return http.StatusTooManyRequests, th.Error(), true
	}
	if ie, isInvalid := invalid.As(err); isInvalid {
		return http.StatusBadRequest, ie.Error(), true
	}
	if store.IsDiskFull(err) {
		return http.StatusInsufficientStorage, "storage full: nothing was changed", true
	}
	return 0, "", false
}

// fail answers a REST request with err: what clientFacing allows, else a
// logged 500 that leaks nothing.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if s.refuseSignIn(w, err) { // with its Retry-After
		return
	}
	if status, msg, ok := clientFacing(err); ok {
		httpError(w, status, msg)
		return
	}
	s.internalError(w, r, err)
}

// internalError logs err and answers 500 without leaking details.
func (s *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrUnreadable) {
		// Encryption at rest with a missing or wrong key file: the
		// recording is kept, and plays again once the key is back.
		s.log.Warn("recording unreadable with the configured key", "method", r.Method, "path", r.URL.Path, "err", err)
		httpError(w, http.StatusServiceUnavailable, "the recording is encrypted and the configured key cannot read it")
		return
	}
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	httpError(w, http.StatusInternalServerError, "internal error")
}

// notFoundAs turns the store's ErrNotFound into a 404 with msg and passes
// other errors on.
func notFoundAs(err error, msg string) error {
	if errors.Is(err, store.ErrNotFound) {
		return refuse(http.StatusNotFound, "%s", msg)
	}
	return err
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

func isProtected(err error) bool { return errors.Is(err, store.ErrProtected) }
