package g729

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// readFrameFile parses the frame-file format: records of one length byte
// followed by that many payload bytes.
func readFrameFile(t testing.TB, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	frames, err := parseFrameFile(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return frames
}

func parseFrameFile(data []byte) ([][]byte, error) {
	var frames [][]byte
	for i := 0; i < len(data); {
		n := int(data[i])
		i++
		if i+n > len(data) {
			return nil, fmt.Errorf("record %d: truncated", len(frames))
		}
		frames = append(frames, data[i:i+n])
		i += n
	}
	return frames, nil
}

// decodeFrames decodes a frame file through the codec.Decoder methods:
// Decode for transmitted frames, Conceal for missing ones.
func decodeFrames(t testing.TB, d *Decoder, frames [][]byte) []int16 {
	t.Helper()
	out := make([]int16, 0, len(frames)*FrameSamples)
	buf := make([]int16, FrameSamples)
	for i, f := range frames {
		var n int
		var err error
		if len(f) == 0 {
			n, err = d.Conceal(buf)
		} else {
			n, err = d.Decode(buf, f)
		}
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if n != FrameSamples {
			t.Fatalf("frame %d: %d samples", i, n)
		}
		out = append(out, buf[:n]...)
	}
	return out
}

func TestRTPVectors(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"mix", "mix_vad", "mix_loss"} {
		t.Run(name, func(t *testing.T) {
			frames := readFrameFile(t, filepath.Join("testdata", "rtp", name+".frames"))
			got := decodeFrames(t, NewDecoder(), frames)
			want := readPCM(t, filepath.Join("testdata", "rtp", name+".ref.pcm"))
			compareFrames(t, got, want)
		})
	}
}
