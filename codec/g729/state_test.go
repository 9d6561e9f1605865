package g729

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"recordings/codec/snap"
	"recordings/codec/snap/snaptest"
)

// TestStateResume snapshots the decoder before every 37th frame of the RTP
// vectors (speech, DTX with SID frames, loss), restores the snapshot into a
// fresh decoder and checks that decoding on from there gives exactly the
// samples of the uninterrupted decode.
func TestStateResume(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"mix", "mix_vad", "mix_loss"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			frames := readFrameFile(t, filepath.Join("testdata", "rtp", name+".frames"))
			want := decodeFrames(t, NewDecoder(), frames)
			d := NewDecoder()
			buf := make([]int16, FrameSamples)
			checked := 0
			for i, f := range frames {
				if i%37 == 5 {
					st := d.AppendState(nil)
					r := NewDecoder()
					if err := r.SetState(st); err != nil {
						t.Fatalf("frame %d: SetState: %v", i, err)
					}
					if again := r.AppendState(nil); !bytes.Equal(again, st) {
						t.Fatalf("frame %d: restored state encodes differently", i)
					}
					end := min(len(frames), i+60)
					got := decodeFrames(t, r, frames[i:end])
					if !slices.Equal(got, want[i*FrameSamples:end*FrameSamples]) {
						t.Fatalf("frame %d: output after restore differs", i)
					}
					checked++
				}
				if len(f) == 0 {
					d.Conceal(buf)
				} else {
					d.Decode(buf, f)
				}
			}
			if checked == 0 {
				t.Fatal("no frame checked")
			}
		})
	}
}

func TestStateRefused(t *testing.T) {
	t.Parallel()
	snaptest.Refused(t, func() snaptest.Stater { return NewDecoder() }, stateVersion)
}

// FuzzSetState restores arbitrary bytes: a refused snapshot leaves the
// decoder as it was, an accepted one re-encodes to a snapshot that restores
// to the same state, and decoding, concealing and comfort noise after it
// never panic.
func FuzzSetState(f *testing.F) {
	d := NewDecoder()
	f.Add(d.AppendState(nil))
	frames, err := parseFrameFileFromDisk(filepath.Join("testdata", "rtp", "mix_vad.frames"))
	if err == nil {
		buf := make([]int16, FrameSamples)
		for i, fr := range frames[:min(len(frames), 300)] {
			if len(fr) > 0 {
				d.Decode(buf, fr)
			} else {
				d.Conceal(buf)
			}
			if i%50 == 49 {
				f.Add(d.AppendState(nil))
			}
		}
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
		buf := make([]int16, 3*FrameSamples)
		speech := []byte{0x78, 0x52, 0x80, 0xa0, 0x00, 0xfa, 0xc2, 0x00, 0x07, 0xd6}
		for _, p := range [][]byte{speech, {0x12, 0x34}, nil, append(slices.Clip(speech), speech...)} {
			if p == nil {
				d.Conceal(buf)
				d.Conceal(buf)
				continue
			}
			if _, err := d.Decode(buf, p); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func parseFrameFileFromDisk(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseFrameFile(data)
}
