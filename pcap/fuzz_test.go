package pcap_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"

	"recordings/pcap"
	"recordings/pcap/pcaptest"
)

func FuzzReader(f *testing.F) {
	for _, name := range []string{"testdata/golden.pcapng", "testdata/innovaphone-s1.pcap"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	le, be := binary.LittleEndian, binary.BigEndian
	frame := pcaptest.EthernetIPv4UDP(v4a, v4b, []byte("seed"))
	f.Add(pcaptest.ClassicFile(be, pcaptest.MagicNano, 113, 100, pcaptest.Record{Sec: 1, Frac: 2, Data: pcaptest.SLLIPv4UDP(v4a, v4b, nil)}))
	f.Add(pcaptest.ClassicFile(le, 0xa1b2cd34, 1, 100, pcaptest.Record{Data: frame}))
	f.Add(cat(pcaptest.NGSHB(be), pcaptest.NGIDB(be, 1, 64, pcaptest.NGTSResol(be, 10, true)),
		pcaptest.NGSPB(be, 90, frame), pcaptest.NGOPB(be, 0, 5, frame, 0),
		pcaptest.NGSHB(le), pcaptest.NGBlock(le, pcaptest.BlockNRB, nil), pcaptest.NGIDB(le, 101, 0),
		pcaptest.NGEPB(le, 0, 1, pcaptest.RawIPv6UDP(v6a, v6b, []byte("x")), 0)))
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x0d, 0x0d, 0x0a})

	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsBytesReader(t, data)
		r, err := pcap.NewReader(bytes.NewReader(data))
		if err != nil {
			if !isSentinel(err, pcap.ErrNotCapture, pcap.ErrTruncated, pcap.ErrMalformed) {
				t.Fatalf("NewReader: unclassified error %v", err)
			}
			return
		}
		var u pcap.UDP
		for i := 0; ; i++ {
			p, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				if !isSentinel(err, pcap.ErrTruncated, pcap.ErrMalformed, pcap.ErrTooLarge) {
					t.Fatalf("Next: unclassified error %v", err)
				}
				if _, err2 := r.Next(); err2 != err {
					t.Fatalf("error not sticky: %v then %v", err, err2)
				}
				break
			}
			if len(p.Data) > pcap.MaxCaptureLen || len(p.Data) > len(data) {
				t.Fatalf("packet %d: %d bytes from %d bytes of input", i, len(p.Data), len(data))
			}
			checkDecode(t, p.LinkType, p.Data, &u)
		}
		if n := len(r.Warnings()); n > 40 {
			t.Fatalf("%d warnings: list not bounded", n)
		}
	})
}

func FuzzDecodeUDP(f *testing.F) {
	payload := []byte("fuzz")
	for _, lc := range linkCases {
		if lc.v4 != nil {
			f.Add(uint32(lc.lt), lc.v4(v4a, v4b, payload))
		}
		if lc.v6 != nil {
			f.Add(uint32(lc.lt), lc.v6(v6a, v6b, payload))
		}
	}
	udp6 := pcaptest.UDP(v6a, v6b, payload)
	f.Add(uint32(pcap.LinkRaw), pcaptest.IPv6(v6a.Addr(), v6b.Addr(), 0,
		pcaptest.IPv6Ext(44, 16, pcaptest.IPv6FragmentHeader(17, 0, false, udp6))))
	f.Add(uint32(pcap.LinkRaw), pcaptest.IPv4Options(v4a.Addr(), v4b.Addr(), 17, make([]byte, 8), pcaptest.UDP(v4a, v4b, payload)))
	f.Add(uint32(pcap.LinkEthernet), pcaptest.Ethernet(0x0806, make([]byte, 28)))
	f.Fuzz(func(t *testing.T, lt uint32, data []byte) {
		var u pcap.UDP
		checkDecode(t, pcap.LinkType(lt), data, &u)
	})
}

// checkDecode runs DecodeUDP and checks its result against the raw bytes.
func checkDecode(t *testing.T, lt pcap.LinkType, data []byte, u *pcap.UDP) {
	t.Helper()
	*u = pcap.UDP{}
	err := pcap.DecodeUDP(lt, data, u)
	if err != nil {
		if !isSentinel(err, pcap.ErrNotUDP, pcap.ErrUnsupportedLink, pcap.ErrMalformedPacket) {
			t.Fatalf("DecodeUDP: unclassified error %v", err)
		}
		return
	}
	// The payload is a sub-slice of data, right after an 8-byte UDP header
	// whose length field and ports match.
	off := cap(data) - cap(u.Payload)
	if off < 8 || off+len(u.Payload) > len(data) || !bytes.Equal(data[off:off+len(u.Payload)], u.Payload) {
		t.Fatalf("payload (%d bytes) is not inside the packet at offset %d", len(u.Payload), off)
	}
	h := data[off-8 : off]
	if int(binary.BigEndian.Uint16(h[4:])) != len(u.Payload)+8 ||
		binary.BigEndian.Uint16(h[0:]) != u.Src.Port() || binary.BigEndian.Uint16(h[2:]) != u.Dst.Port() {
		t.Fatalf("UDP header % x does not match %v→%v with %d bytes", h, u.Src, u.Dst, len(u.Payload))
	}
	if !u.Src.Addr().IsValid() || u.Src.Addr().Is4() != u.Dst.Addr().Is4() {
		t.Fatalf("addresses %v, %v", u.Src, u.Dst)
	}
}

func isSentinel(err error, sentinels ...error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// sameAsBytesReader checks that NewBytesReader reads data exactly as
// NewReader does (packets, errors, warnings), and that every packet's Data
// is the input at its Offset, kept valid past later calls to Next.
func sameAsBytesReader(t *testing.T, data []byte) {
	t.Helper()
	sr, serr := pcap.NewReader(bytes.NewReader(data))
	br, berr := pcap.NewBytesReader(data)
	if fmt.Sprint(serr) != fmt.Sprint(berr) {
		t.Fatalf("NewReader: %v, NewBytesReader: %v", serr, berr)
	}
	if serr != nil {
		return
	}
	var kept [][]byte
	var offs []int64
	for i := 0; ; i++ {
		sp, serr := sr.Next()
		bp, berr := br.Next()
		if fmt.Sprint(serr) != fmt.Sprint(berr) {
			t.Fatalf("packet %d: Next: %v, bytes reader: %v", i, serr, berr)
		}
		if serr != nil {
			break
		}
		if !sp.Timestamp.Equal(bp.Timestamp) || sp.LinkType != bp.LinkType || sp.Interface != bp.Interface ||
			sp.OrigLen != bp.OrigLen || sp.Offset != bp.Offset || !bytes.Equal(sp.Data, bp.Data) {
			t.Fatalf("packet %d differs:\n%+v\n%+v", i, sp, bp)
		}
		if bp.Offset < 0 || bp.Offset+int64(len(bp.Data)) > int64(len(data)) ||
			!bytes.Equal(data[bp.Offset:bp.Offset+int64(len(bp.Data))], bp.Data) {
			t.Fatalf("packet %d: Data is not the input at offset %d", i, bp.Offset)
		}
		kept, offs = append(kept, bp.Data), append(offs, bp.Offset)
	}
	for i, d := range kept {
		if !bytes.Equal(d, data[offs[i]:offs[i]+int64(len(d))]) {
			t.Fatalf("packet %d: Data changed after later reads", i)
		}
	}
	if sw, bw := sr.Warnings(), br.Warnings(); fmt.Sprint(sw) != fmt.Sprint(bw) {
		t.Fatalf("warnings differ:\n%q\n%q", sw, bw)
	}
}

func TestBytesReaderSameAsReader(t *testing.T) {
	t.Parallel()
	files := []string{"testdata/golden.pcapng", "testdata/innovaphone-s1.pcap", "testdata/innovaphone-s5.pcap"}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sameAsBytesReader(t, b)
			// Every cut of the file: truncation errors and warnings match.
			for cut := 0; cut < len(b); cut += max(1, len(b)/97) {
				sameAsBytesReader(t, b[:cut])
			}
			// A corrupted byte at a few places.
			for i := 3; i < len(b); i += max(1, len(b)/31) {
				c := bytes.Clone(b)
				c[i] ^= 0xff
				sameAsBytesReader(t, c)
			}
		})
	}
}
