// Package snaptest holds the checks every decoder's state snapshot must
// pass, shared by the codec packages' tests.
package snaptest

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"recordings/codec/snap"
)

// Stater is a decoder whose whole state can be saved and restored.
type Stater interface {
	AppendState(b []byte) []byte
	SetState(b []byte) error
}

// Refused checks that SetState refuses malformed snapshots (empty, of
// another version than version, truncated, with trailing bytes) with an
// error wrapping snap.ErrState, and that a refused snapshot leaves a new
// decoder unchanged.
func Refused(t *testing.T, newDecoder func() Stater, version byte) {
	t.Helper()
	good := newDecoder().AppendState(nil)
	for name, b := range map[string][]byte{
		"empty":     nil,
		"version":   append([]byte{version + 1}, good[1:]...),
		"truncated": good[:len(good)-1],
		"trailing":  append(slices.Clip(good), 0),
	} {
		d := newDecoder()
		before := d.AppendState(nil)
		if err := d.SetState(b); !errors.Is(err, snap.ErrState) {
			t.Errorf("%s: SetState = %v, want ErrState", name, err)
		}
		if !bytes.Equal(d.AppendState(nil), before) {
			t.Errorf("%s: a refused state changed the decoder", name)
		}
	}
}
