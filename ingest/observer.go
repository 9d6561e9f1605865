package ingest

import (
	"context"
	"fmt"
	"time"
)

// Observer is told about uploads and conversions (metrics.Metrics is one).
// Its methods must be cheap and never block.
type Observer interface {
	UploadStarted()
	UploadDone(ok bool)
	UploadRefused()
	Converted(d time.Duration, state string)
}

type nopObserver struct{}

func (nopObserver) UploadStarted()                  {}
func (nopObserver) UploadDone(bool)                 {}
func (nopObserver) UploadRefused()                  {}
func (nopObserver) Converted(time.Duration, string) {}

// Uploads is how many uploads are being received now.
func (s *Service) Uploads() int64 { return s.inflight.Load() }

// WaitUploads waits until no upload is being received (after the HTTP
// server stopped accepting new ones), or until ctx ends.
func (s *Service) WaitUploads(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for s.inflight.Load() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d uploads still running: %w", s.inflight.Load(), ctx.Err())
		case <-t.C:
		}
	}
	return nil
}
