package g729

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// ituFrame is one record of the ITU-T serial bitstream format.
type ituFrame struct {
	prm    [11]int16
	erased bool
	ftyp   int
}

const (
	ituSync   = 0x6b21
	ituBit0   = 0x007f
	ituBit1   = 0x0081
	ituSpeech = 80
)

// parseITU reads an ITU-T serial bitstream (sync word, size word, size bit
// words per 10 ms frame).
func parseITU(data []byte) ([]ituFrame, error) {
	var frames []ituFrame
	word := func(i int) uint16 { return binary.LittleEndian.Uint16(data[2*i:]) }
	n := len(data) / 2
	for i := 0; i < n; {
		if i+2 > n {
			return nil, fmt.Errorf("frame %d: truncated header", len(frames))
		}
		sync, size := word(i), int(word(i+1))
		i += 2
		if i+size > n {
			return nil, fmt.Errorf("frame %d: truncated body (size %d)", len(frames), size)
		}
		var f ituFrame
		var widths []uint
		switch size {
		case 0:
			f.ftyp = 0
			f.erased = sync != ituSync
		case ituSpeech:
			f.ftyp = 1
			widths = speechBits[:]
		case 15, 16:
			f.ftyp = 2
			widths = sidBits[:]
		default:
			return nil, fmt.Errorf("frame %d: bad size %d", len(frames), size)
		}
		for k := 0; k < size; k++ {
			if word(i+k) == 0 {
				f.erased = true
			}
		}
		b := i
		for p, w := range widths {
			var v int16
			for k := uint(0); k < w; k++ {
				v <<= 1
				if word(b) == ituBit1 {
					v |= 1
				}
				b++
			}
			f.prm[p] = v
		}
		i += size
		frames = append(frames, f)
	}
	return frames, nil
}

func readPCM(t testing.TB, path string) []int16 {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, len(raw)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
	}
	return pcm
}

// compareFrames reports the first differing sample and its frame.
func compareFrames(t *testing.T, got, want []int16) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("length: got %d samples, want %d", len(got), len(want))
	}
	n := min(len(got), len(want))
	bad := 0
	first := -1
	for i := 0; i < n; i++ {
		if got[i] != want[i] {
			if first < 0 {
				first = i
			}
			bad++
		}
	}
	if first >= 0 {
		t.Errorf("first difference at sample %d (frame %d): got %d, want %d; %d samples differ",
			first, first/FrameSamples, got[first], want[first], bad)
	}
}

func decodeITUFile(t *testing.T, bitPath string) []int16 {
	t.Helper()
	data, err := os.ReadFile(bitPath)
	if err != nil {
		t.Fatal(err)
	}
	frames, err := parseITU(data)
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder()
	out := make([]int16, len(frames)*FrameSamples)
	for i := range frames {
		f := &frames[i]
		if _, err := d.DecodeParams(out[i*FrameSamples:], &f.prm, f.erased, f.ftyp); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	return out
}

func TestAnnexAVectors(t *testing.T) {
	t.Parallel()
	names := []string{"algthm", "erasure", "fixed", "lsp", "overflow", "parity", "pitch", "speech", "tame", "test"}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			got := decodeITUFile(t, filepath.Join("testdata", "g729a", name+".bit"))
			want := readPCM(t, filepath.Join("testdata", "g729a", name+".pst"))
			compareFrames(t, got, want)
		})
	}
}

func TestAnnexBVectors(t *testing.T) {
	t.Parallel()
	cases := []struct{ bit, out string }{
		{"tstseq1a.bit", "tstseq1a.out"},
		{"tstseq2a.bit", "tstseq2a.out"},
		{"tstseq3a.bit", "tstseq3a.out"},
		{"tstseq4a.bit", "tstseq4a.out"},
		{"tstseq5.bit", "tstseq5a.out"},
		{"tstseq6.bit", "tstseq6a.out"},
	}
	for _, c := range cases {
		t.Run(c.bit, func(t *testing.T) {
			got := decodeITUFile(t, filepath.Join("testdata", "g729b", c.bit))
			want := readPCM(t, filepath.Join("testdata", "g729b", c.out))
			compareFrames(t, got, want)
		})
	}
}
