package convert_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"testing"
	"time"

	"recordings/convert"
	"recordings/internal/callgen"
	"recordings/media"
	"recordings/pcap"
	"recordings/pcap/pcaptest"
)

// convertBoth converts data through the streaming Opener (the pcap parsed
// by each pass) and through an Indexed (parsed once), and fails unless the
// analyses, their errors and the WAV files are identical.
func convertBoth(t *testing.T, data []byte) {
	t.Helper()
	open := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	a, err := convert.Analyze(open, media.Options{})
	x, xerr := convert.NewIndexed(data)
	if xerr != nil {
		if err == nil || err.Error() != "analyse capture: "+xerr.Error() && err.Error() != xerr.Error() {
			t.Fatalf("NewIndexed: %v; streaming Analyze: %v", xerr, err)
		}
		return
	}
	b, berr := convert.Analyze(x.Open, media.Options{})
	if fmt.Sprint(err) != fmt.Sprint(berr) {
		t.Fatalf("Analyze: streaming %v, indexed %v", err, berr)
	}
	if a == nil || b == nil {
		if a != b {
			t.Fatalf("analysis: streaming %v, indexed %v", a, b)
		}
		return
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Fatalf("analyses differ:\n%s\n%s", ja, jb)
	}
	if err != nil || a.Samples > 1<<22 {
		return
	}
	var wa, wb bytes.Buffer
	errA := convert.WriteWAV(a, open, &wa)
	errB := convert.WriteWAV(b, x.Open, &wb)
	if fmt.Sprint(errA) != fmt.Sprint(errB) {
		t.Fatalf("WriteWAV: streaming %v, indexed %v", errA, errB)
	}
	if !bytes.Equal(wa.Bytes(), wb.Bytes()) {
		t.Fatalf("WAV files differ (%d and %d bytes)", wa.Len(), wb.Len())
	}
	if n := int64(wa.Len()); n > 100 {
		var ra, rb bytes.Buffer
		errA := convert.WriteWAVRange(a, open, &ra, n/3, n/4)
		errB := convert.WriteWAVRange(b, x.Open, &rb, n/3, n/4)
		if fmt.Sprint(errA) != fmt.Sprint(errB) || !bytes.Equal(ra.Bytes(), rb.Bytes()) {
			t.Fatalf("ranges differ: %v, %v", errA, errB)
		}
		// A fresh Indexed whose first pass stops early (a range), then
		// concurrent whole renders: one builds the index, the other walks
		// the capture; both give the same file.
		y, err := convert.NewIndexed(data)
		if err != nil {
			t.Fatal(err)
		}
		var rc bytes.Buffer
		if err := convert.WriteWAVRange(a, y.Open, &rc, n/3, n/4); err != nil || !bytes.Equal(ra.Bytes(), rc.Bytes()) {
			t.Fatalf("range as the first pass: %v, %d bytes", err, rc.Len())
		}
		var outs [3]bytes.Buffer
		var errs [3]error
		var wg sync.WaitGroup
		for i := range outs {
			wg.Go(func() { errs[i] = convert.WriteWAV(a, y.Open, &outs[i]) })
		}
		wg.Wait()
		for i := range outs {
			if fmt.Sprint(errs[i]) != fmt.Sprint(errA) || !bytes.Equal(outs[i].Bytes(), wa.Bytes()) {
				t.Fatalf("concurrent render %d: %v, %d bytes", i, errs[i], outs[i].Len())
			}
		}
		if y.Datagrams() != int(a.Packets) {
			t.Fatalf("%d datagrams indexed, the analysis read %d", y.Datagrams(), a.Packets)
		}
	}
}

func TestIndexedSameAsStream(t *testing.T) {
	t.Parallel()
	plain := callgen.Default(500)
	g722 := callgen.Default(300)
	g722.LocalPT, g722.RemotePT = 9, 9
	g729 := callgen.Default(300)
	g729.LocalPT, g729.RemotePT = 18, 18
	lossy := callgen.Default(400)
	lossy.Drop = func(dir, n int) bool { return (n*7+dir)%11 == 0 }
	call := plain.Bytes()

	// pcapng with a non-UDP frame and an ARP frame between the calls' packets.
	var ng bytes.Buffer
	w, err := pcap.NewNGWriter(&ng, pcap.LinkEthernet)
	if err != nil {
		t.Fatal(err)
	}
	const eth = 0
	r, err := pcap.NewReader(bytes.NewReader(callgen.Default(200).Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		p, err := r.Next()
		if err != nil {
			break
		}
		if err := w.WritePacket(eth, p.Timestamp, p.Data); err != nil {
			t.Fatal(err)
		}
		if i%50 == 7 {
			w.WritePacket(eth, p.Timestamp, pcaptest.Ethernet(0x0806, make([]byte, 28)))
			w.WritePacket(eth, p.Timestamp, pcaptest.EthernetIPv4UDP(netip.MustParseAddrPort("192.0.2.10:1"), netip.MustParseAddrPort("192.0.2.20:2"), nil)[:20])
		}
	}
	// Empty UDP datagrams (58-byte records, smaller than the first
	// estimate of the index assumes) around the call's packets: the index
	// grows several times while the first pass reads.
	var tiny bytes.Buffer
	tw, err := pcap.NewWriter(&tiny, pcap.LinkEthernet)
	if err != nil {
		t.Fatal(err)
	}
	r, err = pcap.NewReader(bytes.NewReader(callgen.Default(300).Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	empty := pcaptest.EthernetIPv4UDP(netip.MustParseAddrPort("192.0.2.10:1"), netip.MustParseAddrPort("192.0.2.20:2"), nil)
	for {
		p, err := r.Next()
		if err != nil {
			break
		}
		for range 40 {
			if err := tw.WritePacket(p.Timestamp, empty); err != nil {
				t.Fatal(err)
			}
		}
		if err := tw.WritePacket(p.Timestamp, p.Data); err != nil {
			t.Fatal(err)
		}
	}
	corrupt := bytes.Clone(call)
	corrupt[len(call)/2+8] = 0xff // a record length far too large: the capture ends there

	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"g711", call},
		{"g722", g722.Bytes()},
		{"g729", g729.Bytes()},
		{"loss", lossy.Bytes()},
		{"pcapng", ng.Bytes()},
		{"tiny datagrams", tiny.Bytes()},
		{"cut", call[:len(call)*2/3+5]},
		{"corrupt", corrupt},
		{"header only", call[:24]},
		{"not a capture", []byte("hello, world, this is not a pcap")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			convertBoth(t, tc.data)
		})
	}
}

// TestIndexedParsesOnce counts the datagrams an Indexed holds: one per UDP
// packet of the capture, however many passes read it.
func TestIndexedParsesOnce(t *testing.T) {
	t.Parallel()
	call := callgen.Default(100)
	x, err := convert.NewIndexed(call.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if n := x.Datagrams(); n != 0 {
		t.Fatalf("%d datagrams indexed before the first pass", n)
	}
	a, err := convert.Analyze(x.Open, media.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := x.Datagrams(), 2*100+1; got != want { // RTP both ways and the INVITE
		t.Fatalf("%d datagrams indexed, want %d", got, want)
	}
	if err := convert.WriteWAV(a, x.Open, io.Discard); err != nil {
		t.Fatal(err)
	}
	if a.Packets != int64(x.Datagrams()) || time.Duration(a.DurationMS())*time.Millisecond != 2*time.Second {
		t.Fatalf("analysis saw %d packets, %d ms", a.Packets, a.DurationMS())
	}
}
