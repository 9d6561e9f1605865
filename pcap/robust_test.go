package pcap_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"recordings/pcap"
	"recordings/pcap/pcaptest"
)

func TestLargeSkippedBlock(t *testing.T) {
	le := binary.LittleEndian
	head := cat(pcaptest.NGSHB(le), pcaptest.NGIDB(le, 1, 0))
	huge := pcaptest.NGBlock(le, pcaptest.BlockCustom, make([]byte, 400_000))
	epb := pcaptest.NGEPB(le, 0, 1, []byte{1, 2, 3}, 0)
	badTrailer := bytes.Clone(huge)
	le.PutUint32(badTrailer[len(badTrailer)-4:], 12)
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"cut inside", cat(head, huge[:200_000]), pcap.ErrTruncated},
		{"cut before trailer", cat(head, huge[:len(huge)-2]), pcap.ErrTruncated},
		{"bad trailer", cat(head, badTrailer, epb), pcap.ErrMalformed},
		{"ok", cat(head, huge, epb), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pkts, _, err := readAll(t, tc.in)
			if !errors.Is(err, tc.want) || (tc.want == nil && len(pkts) != 1) {
				t.Fatalf("%d packets, error %v; want %v", len(pkts), err, tc.want)
			}
		})
	}
	// An EPB whose captured length is too large although the block fits the buffer.
	b := cat(head, pcaptest.NGEPB(le, 0, 0, make([]byte, pcap.MaxCaptureLen+4), 0))
	if _, _, err := readAll(t, b); !errors.Is(err, pcap.ErrTooLarge) {
		t.Errorf("EPB with %d captured bytes: %v", pcap.MaxCaptureLen+4, err)
	}
}

// TestReadErrors: errors of the underlying reader are returned as they are
// (wrapped), not mistaken for truncation or a clean end.
func TestReadErrors(t *testing.T) {
	boom := errors.New("boom")
	frame := pcaptest.EthernetIPv4UDP(v4a, v4b, []byte("x"))
	for _, tc := range []struct {
		name string
		file []byte
	}{
		{"pcap", pcaptest.Capture(t, pcap.LinkEthernet, t0, 0, frame, frame)},
		{"pcapng", pcaptest.CaptureNG(t, pcap.LinkEthernet, t0, 0, frame, frame)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for cut := 0; cut < len(tc.file); cut++ {
				src := io.MultiReader(bytes.NewReader(tc.file[:cut]), iotest.ErrReader(boom))
				r, err := pcap.NewReader(src)
				for err == nil {
					_, err = r.Next()
				}
				if !errors.Is(err, boom) {
					t.Fatalf("cut %d: error %v does not wrap the read error", cut, err)
				}
				if errors.Is(err, pcap.ErrTruncated) || errors.Is(err, pcap.ErrNotCapture) {
					t.Fatalf("cut %d: read error reported as %v", cut, err)
				}
			}
		})
	}
	// One byte at a time still reads everything.
	b := pcaptest.CaptureNG(t, pcap.LinkEthernet, t0, 0, frame, frame, frame)
	r, err := pcap.NewReader(iotest.OneByteReader(bytes.NewReader(b)))
	must(t, err)
	n := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		must(t, err)
		n++
	}
	if n != 3 {
		t.Errorf("read %d packets one byte at a time", n)
	}
}

func TestWarningsBounded(t *testing.T) {
	le := binary.LittleEndian
	parts := [][]byte{pcaptest.NGSHB(le)}
	for range 40 {
		parts = append(parts, pcaptest.NGIDB(le, 1, 0, pcaptest.NGTSResol(le, 99, false)))
	}
	_, r, err := readAll(t, cat(parts...))
	must(t, err)
	w := r.Warnings()
	if len(w) != 17 || !strings.Contains(w[16], "24 more warning(s)") {
		t.Fatalf("%d warnings, last %q", len(w), w[len(w)-1])
	}
	// Reset clears them.
	must(t, r.Reset(bytes.NewReader(pcaptest.CaptureNG(t, pcap.LinkRaw, t0, 0))))
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("after Reset: %v", err)
	}
	if len(r.Warnings()) != 0 || r.LinkType() != pcap.LinkRaw {
		t.Errorf("after Reset: warnings %q, link type %v", r.Warnings(), r.LinkType())
	}
	// A failed Reset leaves a reader that keeps failing.
	if err := r.Reset(strings.NewReader("nope")); !errors.Is(err, pcap.ErrNotCapture) {
		t.Errorf("Reset on garbage: %v", err)
	}
	if _, err := r.Next(); !errors.Is(err, pcap.ErrNotCapture) {
		t.Errorf("Next after a failed Reset: %v", err)
	}
}

func TestReaderLinkType(t *testing.T) {
	le := binary.LittleEndian
	r, err := pcap.NewReader(bytes.NewReader(pcaptest.NGSHB(le)))
	must(t, err)
	if r.LinkType() != pcap.LinkNull {
		t.Errorf("pcapng without interfaces: %v", r.LinkType())
	}
	r, err = pcap.NewReader(bytes.NewReader(pcaptest.Capture(t, pcap.LinkLinuxSLL2, t0, 0)))
	must(t, err)
	if r.LinkType() != pcap.LinkLinuxSLL2 {
		t.Errorf("classic: %v", r.LinkType())
	}
}

func TestOversizedIDB(t *testing.T) {
	le := binary.LittleEndian
	var opts [][]byte
	for range 6 {
		opts = append(opts, pcaptest.NGOption(le, 3, make([]byte, 60000)))
	}
	idb := pcaptest.NGIDB(le, 1, 0, opts...)
	_, _, err := readAll(t, cat(pcaptest.NGSHB(le), idb))
	if !errors.Is(err, pcap.ErrMalformed) || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("IDB of %d bytes: %v", len(idb), err)
	}
}
