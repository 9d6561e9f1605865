package convert_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"recordings/convert"
	"recordings/internal/callgen"
	"recordings/media"
)

// FuzzConvert runs the whole conversion a stored upload goes through —
// pcap/pcapng reader, link/IP/UDP layers, RTP timeline, SDP, decoders, WAV —
// on arbitrary bytes: it must fail cleanly or produce exactly the WAV
// length it announced.
func FuzzConvert(f *testing.F) {
	call := callgen.Default(10).Bytes()
	f.Add(call)
	f.Add(call[:len(call)/2])
	f.Add(call[:24])
	g722 := callgen.Default(5)
	g722.LocalPT, g722.RemotePT = 9, 9
	f.Add(g722.Bytes())
	g729 := callgen.Default(5)
	g729.LocalPT, g729.RemotePT = 18, 13
	f.Add(g729.Bytes())
	f.Add([]byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a})
	f.Fuzz(func(t *testing.T, data []byte) {
		// A hang never returns to fail the test: crash the worker instead,
		// so that the fuzzer keeps the input.
		watchdog := time.AfterFunc(5*time.Second, func() { panic(fmt.Sprintf("conversion of %d bytes hangs", len(data))) })
		defer watchdog.Stop()
		open := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
		a, err := convert.Analyze(open, media.Options{})
		if err != nil {
			return
		}
		if a.Samples > 1<<14 {
			return // over 2 s of (mostly silent) timeline: slow to render for each input, and nothing new
		}
		// The capture parsed once (the convert command's path) converts the same.
		convertBoth(t, data)
		var out bytes.Buffer
		if err := convert.WriteWAV(a, open, &out); err != nil {
			if errors.Is(err, io.ErrShortWrite) {
				t.Fatal(err)
			}
			return
		}
		if int64(out.Len()) != convert.WAVSize(a) {
			t.Fatalf("WAV is %d bytes, WAVSize says %d", out.Len(), convert.WAVSize(a))
		}
	})
}
