package g722

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"testing"

	"recordings/codec/snap"
	"recordings/codec/snap/snaptest"
)

// TestStateResume decodes the mix vector in 20 ms payloads with a lost
// payload now and then (concealed), snapshots the decoder before every
// 41st payload, restores it into a fresh decoder and checks that decoding
// on gives exactly the samples of the uninterrupted decode, in every mode.
func TestStateResume(t *testing.T) {
	t.Parallel()
	in, err := os.ReadFile("testdata/mix.g722")
	if err != nil {
		t.Fatal(err)
	}
	const pay = 160 // octets of a 20 ms payload
	var payloads [][]byte
	for i := 0; i+pay <= len(in); i += pay {
		p := in[i : i+pay]
		if len(payloads)%23 == 7 {
			p = nil // lost: two frames concealed
		}
		payloads = append(payloads, p)
	}
	run := func(d *Decoder, ps [][]byte) []int16 {
		var out []int16
		buf := make([]int16, 2*pay)
		for _, p := range ps {
			if p == nil {
				d.Conceal(buf[:frameSamples])
				d.Conceal(buf[frameSamples:])
			} else {
				d.Decode(buf, p)
			}
			out = append(out, buf...)
		}
		return out
	}
	for _, rate := range []int{64000, 56000, 48000} {
		whole, _ := NewDecoderMode(rate)
		want := run(whole, payloads)
		d, _ := NewDecoderMode(rate)
		for i := range payloads {
			if i%41 == 3 || i%23 == 8 {
				st := d.AppendState(nil)
				r, _ := NewDecoderMode(rate)
				if err := r.SetState(st); err != nil {
					t.Fatalf("rate %d payload %d: SetState: %v", rate, i, err)
				}
				if !bytes.Equal(r.AppendState(nil), st) {
					t.Fatalf("rate %d payload %d: restored state encodes differently", rate, i)
				}
				end := min(len(payloads), i+30)
				if got := run(r, payloads[i:end]); !slices.Equal(got, want[i*2*pay:end*2*pay]) {
					t.Fatalf("rate %d payload %d: output after restore differs", rate, i)
				}
			}
			run(d, payloads[i:i+1])
		}
	}
}

func TestStateRefused(t *testing.T) {
	t.Parallel()
	snaptest.Refused(t, func() snaptest.Stater { return NewDecoder() }, stateVersion)
}

// FuzzSetState restores arbitrary bytes: a refused snapshot leaves an
// error wrapping snap.ErrState, an accepted one re-encodes to a snapshot
// that restores to the same state, and decoding and concealment after it
// never panic.
func FuzzSetState(f *testing.F) {
	d := NewDecoder()
	f.Add(d.AppendState(nil))
	if in, err := os.ReadFile("testdata/mix.g722"); err == nil {
		buf := make([]int16, 2*len(in))
		for i := 0; i < 5; i++ {
			d.Decode(buf, in[i*4000:i*4000+4000])
			f.Add(d.AppendState(nil))
		}
		d.Conceal(buf)
		f.Add(d.AppendState(nil))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDecoder()
		if err := d.SetState(b); err != nil {
			if !errors.Is(err, snap.ErrState) {
				t.Fatalf("error %v does not wrap ErrState", err)
			}
			return
		}
		st := d.AppendState(nil)
		r := NewDecoder()
		if err := r.SetState(st); err != nil {
			t.Fatalf("re-encoded state refused: %v", err)
		}
		if !bytes.Equal(r.AppendState(nil), st) {
			t.Fatal("re-encoded state does not round-trip")
		}
		buf := make([]int16, 640)
		d.Conceal(buf)
		d.Conceal(buf)
		d.Conceal(buf)
		payload := make([]byte, 320)
		for i := range payload {
			payload[i] = byte(i * 37)
		}
		if _, err := d.Decode(buf, payload); err != nil {
			t.Fatal(err)
		}
	})
}
