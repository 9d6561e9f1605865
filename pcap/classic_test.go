package pcap_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"recordings/pcap"
	"recordings/pcap/pcaptest"
)

func TestClassicHeaderFields(t *testing.T) {
	frame := pcaptest.EthernetIPv4UDP(v4a, v4b, []byte("abc"))
	for _, o := range []pcaptest.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		t.Run(o.String(), func(t *testing.T) {
			// FCS information in the upper bits of the link-type field.
			b := pcaptest.ClassicFile(o, pcaptest.MagicMicro, 0x14000001, 96,
				pcaptest.Record{Sec: 1_700_000_000, Frac: 999_999, Data: frame[:40], OrigLen: 1514})
			pkts, r, err := readAll(t, b)
			must(t, err)
			if r.LinkType() != pcap.LinkEthernet || len(pkts) != 1 || pkts[0].LinkType != pcap.LinkEthernet {
				t.Fatalf("link type %v", r.LinkType())
			}
			p := pkts[0]
			if !p.Timestamp.Equal(time.Unix(1_700_000_000, 999_999_000)) || p.OrigLen != 1514 ||
				!bytes.Equal(p.Data, frame[:40]) || p.Interface != 0 {
				t.Fatalf("got %+v", p)
			}
			// A snaplen-cut frame is reported as malformed by DecodeUDP, not decoded.
			var u pcap.UDP
			if err := pcap.DecodeUDP(p.LinkType, p.Data, &u); !errors.Is(err, pcap.ErrMalformedPacket) {
				t.Errorf("cut frame: %v", err)
			}
		})
	}
	t.Run("fraction overflow normalised", func(t *testing.T) {
		b := pcaptest.ClassicFile(binary.LittleEndian, pcaptest.MagicNano, 1, 0,
			pcaptest.Record{Sec: 10, Frac: 1_500_000_000, Data: []byte{1}})
		pkts, _, err := readAll(t, b)
		must(t, err)
		if !pkts[0].Timestamp.Equal(time.Unix(11, 500_000_000)) {
			t.Fatalf("got %v", pkts[0].Timestamp)
		}
	})
	t.Run("zero-length record", func(t *testing.T) {
		b := pcaptest.ClassicFile(binary.LittleEndian, pcaptest.MagicMicro, 1, 0,
			pcaptest.Record{Sec: 1}, pcaptest.Record{Sec: 2, Data: frame})
		pkts, _, err := readAll(t, b)
		must(t, err)
		if len(pkts) != 2 || len(pkts[0].Data) != 0 || !bytes.Equal(pkts[1].Data, frame) {
			t.Fatalf("got %+v", pkts)
		}
	})
}

// TestKuznetzov reads the "modified" pcap format (magic a1b2cd34), whose
// record headers carry 8 extra bytes.
func TestKuznetzov(t *testing.T) {
	frame := pcaptest.EthernetIPv4UDP(v4a, v4b, []byte("modified"))
	for _, o := range []pcaptest.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		b := pcaptest.ClassicFile(o, 0xa1b2cd34, 1, 65535)
		for i := range 2 {
			b = o.AppendUint32(b, uint32(100+i))
			b = o.AppendUint32(b, 250_000)
			b = o.AppendUint32(b, uint32(len(frame)))
			b = o.AppendUint32(b, uint32(len(frame)))
			b = append(b, 0, 0, 0, 2, 0x08, 0x00, 0, 0) // ifindex, protocol, pkt_type, pad
			b = append(b, frame...)
		}
		pkts, _, err := readAll(t, b)
		must(t, err)
		if len(pkts) != 2 || !bytes.Equal(pkts[1].Data, frame) || !pkts[1].Timestamp.Equal(time.Unix(101, 250_000_000)) {
			t.Fatalf("%v: got %+v", o, pkts)
		}
	}
}

type failWriter struct{ after int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.after <= 0 {
		return 0, errors.New("disk full")
	}
	w.after--
	return len(p), nil
}

func TestWriterErrors(t *testing.T) {
	if _, err := pcap.NewWriter(&failWriter{}, pcap.LinkEthernet); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("NewWriter on a failing writer: %v", err)
	}
	if _, err := pcap.NewWriter(io.Discard, 0x10000); err == nil {
		t.Error("NewWriter accepted a link type beyond 16 bits")
	}
	w, err := pcap.NewNanoWriter(&failWriter{after: 1}, pcap.LinkEthernet)
	must(t, err)
	if err := w.WritePacket(time.Unix(1, 0), []byte{1}); err == nil {
		t.Error("WritePacket on a failing writer succeeded")
	}
	if err := w.WritePacket(time.Unix(1, 0), []byte{1}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("error not sticky: %v", err)
	}
	w, _ = pcap.NewWriter(io.Discard, pcap.LinkEthernet)
	for _, ts := range []time.Time{time.Unix(-1, 0), time.Date(2107, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if err := w.WritePacket(ts, []byte{1}); err == nil {
			t.Errorf("classic writer accepted timestamp %v", ts)
		}
	}

	if _, err := pcap.NewNGWriter(&failWriter{}, pcap.LinkEthernet); err == nil {
		t.Error("NewNGWriter on a failing writer succeeded")
	}
	if _, err := pcap.NewNGWriter(&failWriter{after: 1}, pcap.LinkEthernet); err == nil {
		t.Error("NewNGWriter succeeded although the IDB write failed")
	}
	nw, err := pcap.NewNGWriter(io.Discard, pcap.LinkEthernet)
	must(t, err)
	for _, tc := range []struct {
		lt  pcap.LinkType
		res int
	}{{pcap.LinkEthernet, -1}, {pcap.LinkEthernet, 10}, {0x10000, 6}} {
		if _, err := nw.AddInterface(tc.lt, tc.res); err == nil {
			t.Errorf("AddInterface(%d, %d) succeeded", tc.lt, tc.res)
		}
	}
	if err := nw.WritePacket(1, time.Unix(1, 0), nil); err == nil {
		t.Error("WritePacket to an undefined interface succeeded")
	}
	if err := nw.WritePacket(-1, time.Unix(1, 0), nil); err == nil {
		t.Error("WritePacket to interface -1 succeeded")
	}
	if err := nw.WritePacket(0, time.Unix(-5, 0), nil); err == nil {
		t.Error("WritePacket before 1970 succeeded")
	}
	id, err := nw.AddInterface(pcap.LinkRaw, 0)
	must(t, err)
	if id != 1 {
		t.Errorf("second interface has index %d", id)
	}
	nw2, err := pcap.NewNGWriter(&failWriter{after: 2}, pcap.LinkEthernet)
	must(t, err)
	if err := nw2.WritePacket(0, time.Unix(1, 0), []byte{1}); err == nil {
		t.Error("WritePacket on a failing writer succeeded")
	}
	if _, err := nw2.AddInterface(pcap.LinkRaw, 6); err == nil {
		t.Error("error not sticky")
	}
}

// TestNGWriterResolutions checks every resolution the writer offers.
func TestNGWriterResolutions(t *testing.T) {
	ts := time.Date(2026, 5, 6, 7, 8, 9, 123_456_789, time.UTC)
	var buf bytes.Buffer
	w, err := pcap.NewNGWriter(&buf, pcap.LinkEthernet)
	must(t, err)
	for res := 0; res <= 9; res++ {
		id, err := w.AddInterface(pcap.LinkRaw, res)
		must(t, err)
		must(t, w.WritePacket(id, ts, []byte{byte(res)}))
	}
	pkts, _, err := readAll(t, buf.Bytes())
	must(t, err)
	if len(pkts) != 10 {
		t.Fatalf("got %d packets", len(pkts))
	}
	for res, p := range pkts {
		unit := time.Duration(1)
		for range 9 - res {
			unit *= 10
		}
		if want := ts.Truncate(unit); !p.Timestamp.Equal(want) || p.Interface != res+1 {
			t.Errorf("10^-%d: %v on interface %d, want %v", res, p.Timestamp, p.Interface, want)
		}
	}
}
