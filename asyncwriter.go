package main

import (
	"errors"
	"io"
)

// asyncWriter writes to w on a goroutine of its own through two buffers,
// so that the convert command renders the next stretch of audio while the
// kernel copies the last one into the output file (on another core when
// there is one). Close writes what is buffered, waits, and returns the
// first error; a failed write fails the Writes after it.
type asyncWriter struct {
	cur    []byte
	full   chan []byte
	free   chan []byte
	done   chan struct{} // closed when the goroutine has ended
	failed chan struct{} // closed after the first failed write, werr set
	werr   error
}

// asyncBufSize is the size of each of the two buffers.
const asyncBufSize = 1 << 18

func newAsyncWriter(w io.Writer) *asyncWriter {
	a := &asyncWriter{cur: make([]byte, 0, asyncBufSize), full: make(chan []byte, 1),
		free: make(chan []byte, 2), done: make(chan struct{}), failed: make(chan struct{})}
	a.free <- make([]byte, 0, asyncBufSize)
	full := a.full // Close sets the field to nil
	go func() {
		defer close(a.done)
		for b := range full {
			if a.werr == nil {
				n, err := w.Write(b)
				if err == nil && n < len(b) {
					err = io.ErrShortWrite
				}
				if err != nil {
					a.werr = err
					close(a.failed)
				}
			}
			a.free <- b[:0]
		}
	}()
	return a
}

func (a *asyncWriter) Write(p []byte) (int, error) {
	select {
	case <-a.failed:
		return 0, a.werr
	default:
	}
	if a.full == nil {
		return 0, errors.New("write after close")
	}
	n := len(p)
	if n > 0 && len(a.cur) < cap(a.cur) && n <= cap(a.cur)-len(a.cur) && &p[0] == &a.cur[:len(a.cur)+1][len(a.cur)] {
		// p is what AvailableBuffer lent, filled in place: no copy.
		a.cur = a.cur[:len(a.cur)+n]
		if len(a.cur) == cap(a.cur) {
			a.full <- a.cur
			a.cur = <-a.free
		}
		return n, nil
	}
	for len(p) > 0 {
		c := copy(a.cur[len(a.cur):cap(a.cur)], p)
		a.cur, p = a.cur[:len(a.cur)+c], p[c:]
		if len(a.cur) == cap(a.cur) {
			a.full <- a.cur
			a.cur = <-a.free
		}
	}
	return n, nil
}

// AvailableBuffer returns an empty buffer over the free space of the
// current buffer (as bufio.Writer's does): a caller that appends to it and
// passes the result to the next Write saves that Write its copy.
func (a *asyncWriter) AvailableBuffer() []byte {
	return a.cur[len(a.cur):len(a.cur)]
}

// Close writes what is buffered, waits for the writes, and returns the
// first error.
func (a *asyncWriter) Close() error {
	if a.full != nil {
		if len(a.cur) > 0 {
			a.full <- a.cur
		}
		close(a.full)
		a.full = nil
	}
	<-a.done
	return a.werr
}
