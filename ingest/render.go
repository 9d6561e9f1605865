package ingest

import "context"

// Acquire waits for a worker of the service's render pool before a
// playback render (see convert.Pool): it fails at once with
// convert.ErrBusy when too many renders wait already, or with ctx's error
// when the client goes away while waiting. The render runs under the
// returned context, which also ends when its time budget is spent; call
// release when it is done.
func (p Prepared) Acquire(ctx context.Context) (rctx context.Context, release func(), err error) {
	if p.pool == nil {
		return ctx, func() {}, nil
	}
	return p.pool.Acquire(ctx)
}
