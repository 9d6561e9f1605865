package pcap_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"recordings/pcap"
	"recordings/pcap/pcaptest"
)

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// TestPcapngSections: byte order changes at each SHB and interfaces are
// per section.
func TestPcapngSections(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	f1 := pcaptest.EthernetIPv4UDP(v4a, v4b, []byte("first"))
	f2 := pcaptest.RawIPv6UDP(v6a, v6b, []byte("second"))
	f3 := pcaptest.SLLIPv4UDP(v4b, v4a, []byte("third"))
	f4 := pcaptest.EthernetIPv4UDP(v4a, v4b, []byte("fourth"))
	file := cat(
		pcaptest.NGSHB(le),
		pcaptest.NGIDB(le, 1, 0),
		pcaptest.NGIDB(le, 101, 0, pcaptest.NGTSResol(le, 3, false), pcaptest.NGEndOfOpt()),
		pcaptest.NGEPB(le, 0, 1_700_000_000_000_001, f1, 0), // µs default
		pcaptest.NGEPB(le, 1, 1_700_000_000_002, f2, 0),     // ms
		pcaptest.NGSHB(be),
		pcaptest.NGIDB(be, 113, 0, pcaptest.NGTSResol(be, 9, false)),
		pcaptest.NGEPB(be, 0, 1_700_000_000_000_000_003, f3, 100),
		pcaptest.NGSHB(le, pcaptest.NGOption(le, 4, []byte("test app")), pcaptest.NGEndOfOpt()),
		pcaptest.NGIDB(le, 1, 0),
		pcaptest.NGEPB(le, 0, 1, f4, 0),
	)
	pkts, r, err := readAll(t, file)
	must(t, err)
	want := []struct {
		ts    time.Time
		lt    pcap.LinkType
		iface int
		data  []byte
		orig  int
	}{
		{time.Unix(1_700_000_000, 1000), pcap.LinkEthernet, 0, f1, len(f1)},
		{time.Unix(1_700_000_000, 2_000_000), pcap.LinkRaw, 1, f2, len(f2)},
		{time.Unix(1_700_000_000, 3), pcap.LinkLinuxSLL, 0, f3, 100},
		{time.Unix(0, 1000), pcap.LinkEthernet, 0, f4, len(f4)},
	}
	if len(pkts) != len(want) {
		t.Fatalf("got %d packets, want %d", len(pkts), len(want))
	}
	for i, w := range want {
		p := pkts[i]
		if !p.Timestamp.Equal(w.ts) || p.LinkType != w.lt || p.Interface != w.iface ||
			!bytes.Equal(p.Data, w.data) || p.OrigLen != w.orig {
			t.Errorf("packet %d: got %v %v iface %d orig %d, want %v %v iface %d orig %d",
				i, p.Timestamp, p.LinkType, p.Interface, p.OrigLen, w.ts, w.lt, w.iface, w.orig)
		}
	}
	if len(r.Warnings()) != 0 {
		t.Errorf("unexpected warnings %q", r.Warnings())
	}

	// An EPB referring to an interface of a previous section is an error.
	bad := cat(pcaptest.NGSHB(le), pcaptest.NGIDB(le, 1, 0), pcaptest.NGIDB(le, 1, 0),
		pcaptest.NGSHB(be), pcaptest.NGIDB(be, 1, 0), pcaptest.NGEPB(be, 1, 0, f1, 0))
	if _, _, err := readAll(t, bad); !errors.Is(err, pcap.ErrMalformed) || !strings.Contains(err.Error(), "interface 1") {
		t.Errorf("EPB for an interface of a previous section: %v", err)
	}
}

func TestPcapngTimestamps(t *testing.T) {
	le := binary.LittleEndian
	for _, tc := range []struct {
		name string
		opts [][]byte
		ts   uint64
		want time.Time
	}{
		{"default µs", nil, 1_600_000_000_123_456, time.Unix(1_600_000_000, 123_456_000)},
		{"10^-0", [][]byte{pcaptest.NGTSResol(le, 0, false)}, 1_600_000_000, time.Unix(1_600_000_000, 0)},
		{"10^-9", [][]byte{pcaptest.NGTSResol(le, 9, false)}, 1_600_000_000_987_654_321, time.Unix(1_600_000_000, 987_654_321)},
		{"10^-12", [][]byte{pcaptest.NGTSResol(le, 12, false)}, 1_600_000_000_987_654_321, time.Unix(1_600_000, 987_654)},
		{"10^-19", [][]byte{pcaptest.NGTSResol(le, 19, false)}, 18_000_000_000_500_000_000, time.Unix(1, 800_000_000)},
		{"2^-0", [][]byte{pcaptest.NGTSResol(le, 0, true)}, 77, time.Unix(77, 0)},
		{"2^-1", [][]byte{pcaptest.NGTSResol(le, 1, true)}, 3, time.Unix(1, 500_000_000)},
		{"2^-10", [][]byte{pcaptest.NGTSResol(le, 10, true)}, 1_600_000_000<<10 | 256, time.Unix(1_600_000_000, 250_000_000)},
		{"2^-30", [][]byte{pcaptest.NGTSResol(le, 30, true)}, 1_500_000_000<<30 | 1<<29, time.Unix(1_500_000_000, 500_000_000)},
		{"2^-63", [][]byte{pcaptest.NGTSResol(le, 63, true)}, 1 << 61, time.Unix(0, 250_000_000)},
		{"offset", [][]byte{pcaptest.NGTSOffset(le, 1_000_000_000)}, 2_000_000, time.Unix(1_000_000_002, 0)},
		{"negative offset", [][]byte{pcaptest.NGTSOffset(le, -10), pcaptest.NGTSResol(le, 9, false)}, 20_000_000_001, time.Unix(10, 1)},
		{"tsresol wrong length ignored", [][]byte{pcaptest.NGOption(le, 9, []byte{9, 9})}, 5_000_000, time.Unix(5, 0)},
		{"tsresol 10^-20 ignored", [][]byte{pcaptest.NGTSResol(le, 20, false)}, 5_000_000, time.Unix(5, 0)},
		{"tsresol 2^-64 ignored", [][]byte{pcaptest.NGTSResol(le, 64, true)}, 5_000_000, time.Unix(5, 0)},
		{"unknown options skipped", [][]byte{pcaptest.NGOption(le, 2, []byte("eth0")), pcaptest.NGOption(le, 3, []byte("x")),
			pcaptest.NGTSResol(le, 9, false), pcaptest.NGEndOfOpt(), pcaptest.NGTSResol(le, 3, false)}, 5, time.Unix(0, 5)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := cat(pcaptest.NGSHB(le), pcaptest.NGIDB(le, 1, 0, tc.opts...), pcaptest.NGEPB(le, 0, tc.ts, []byte{1, 2, 3}, 0))
			pkts, r, err := readAll(t, b)
			must(t, err)
			if len(pkts) != 1 || !pkts[0].Timestamp.Equal(tc.want) {
				t.Fatalf("got %v, want %v", pkts, tc.want)
			}
			ignored := strings.HasSuffix(tc.name, "ignored")
			if hasWarn := len(r.Warnings()) > 0; hasWarn != ignored {
				t.Errorf("warnings %q (option ignored: %v)", r.Warnings(), ignored)
			}
		})
	}
}

func TestPcapngPacketBlocks(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	frame := pcaptest.EthernetIPv4UDP(v4a, v4b, []byte("0123456789abcdef"))
	t.Run("SPB", func(t *testing.T) {
		for _, o := range []pcaptest.ByteOrder{le, be} {
			b := cat(pcaptest.NGSHB(o), pcaptest.NGIDB(o, 1, 0), pcaptest.NGSPB(o, uint32(len(frame)), frame))
			pkts, _, err := readAll(t, b)
			must(t, err)
			if len(pkts) != 1 || !bytes.Equal(pkts[0].Data, frame) || !pkts[0].Timestamp.IsZero() ||
				pkts[0].OrigLen != len(frame) || pkts[0].LinkType != pcap.LinkEthernet {
				t.Fatalf("%v: got %+v", o, pkts)
			}
		}
	})
	t.Run("SPB cut by snaplen", func(t *testing.T) {
		// The block holds 40 bytes (padded to 40) of a 200-byte packet; snaplen 40.
		b := cat(pcaptest.NGSHB(le), pcaptest.NGIDB(le, 1, 40), pcaptest.NGSPB(le, 200, frame[:40]))
		pkts, _, err := readAll(t, b)
		must(t, err)
		if len(pkts) != 1 || !bytes.Equal(pkts[0].Data, frame[:40]) || pkts[0].OrigLen != 200 {
			t.Fatalf("got %d bytes orig %d", len(pkts[0].Data), pkts[0].OrigLen)
		}
	})
	t.Run("SPB original length below padded block", func(t *testing.T) {
		// 5-byte packet padded to 8: the padding must not be returned.
		b := cat(pcaptest.NGSHB(le), pcaptest.NGIDB(le, 1, 0), pcaptest.NGSPB(le, 5, []byte{1, 2, 3, 4, 5}))
		pkts, _, err := readAll(t, b)
		must(t, err)
		if len(pkts) != 1 || !bytes.Equal(pkts[0].Data, []byte{1, 2, 3, 4, 5}) {
			t.Fatalf("got %v", pkts)
		}
	})
	t.Run("SPB without interface", func(t *testing.T) {
		b := cat(pcaptest.NGSHB(le), pcaptest.NGSPB(le, 5, []byte{1, 2, 3, 4, 5}))
		if _, _, err := readAll(t, b); !errors.Is(err, pcap.ErrMalformed) {
			t.Fatalf("error %v, want ErrMalformed", err)
		}
	})
	t.Run("OPB", func(t *testing.T) {
		for _, o := range []pcaptest.ByteOrder{le, be} {
			b := cat(pcaptest.NGSHB(o), pcaptest.NGIDB(o, 101, 0), pcaptest.NGIDB(o, 1, 0),
				pcaptest.NGOPB(o, 1, 1_000_000_500_000, frame, 1500))
			pkts, _, err := readAll(t, b)
			must(t, err)
			if len(pkts) != 1 || !bytes.Equal(pkts[0].Data, frame) || pkts[0].Interface != 1 ||
				pkts[0].LinkType != pcap.LinkEthernet || pkts[0].OrigLen != 1500 ||
				!pkts[0].Timestamp.Equal(time.Unix(1_000_000, 500_000_000)) {
				t.Fatalf("%v: got %+v", o, pkts)
			}
		}
	})
	t.Run("EPB with options", func(t *testing.T) {
		b := cat(pcaptest.NGSHB(le), pcaptest.NGIDB(le, 1, 0),
			pcaptest.NGEPB(le, 0, 7, frame[:13], 0, pcaptest.NGOption(le, 1, []byte("comment")), pcaptest.NGEndOfOpt()))
		pkts, _, err := readAll(t, b)
		must(t, err)
		if len(pkts) != 1 || !bytes.Equal(pkts[0].Data, frame[:13]) {
			t.Fatalf("got %v", pkts)
		}
	})
}

func TestPcapngSkippedBlocks(t *testing.T) {
	le := binary.LittleEndian
	frame := pcaptest.EthernetIPv4UDP(v4a, v4b, []byte("x"))
	huge := make([]byte, pcap.MaxCaptureLen+100_000) // larger than any buffered block
	b := cat(pcaptest.NGSHB(le),
		pcaptest.NGBlock(le, pcaptest.BlockNRB, []byte{0, 0, 0, 0}),
		pcaptest.NGIDB(le, 1, 0),
		pcaptest.NGEPB(le, 0, 1, frame, 0),
		pcaptest.NGBlock(le, pcaptest.BlockCustom, []byte{0, 0, 0x7e, 0x57, 1, 2, 3}),
		pcaptest.NGBlock(le, pcaptest.BlockDSB, nil),
		pcaptest.NGBlock(le, 0x12345678, huge),
		pcaptest.NGEPB(le, 0, 2, frame, 0),
		pcaptest.NGBlock(le, pcaptest.BlockISB, make([]byte, 12)),
		pcaptest.NGBlock(le, pcaptest.BlockISB, make([]byte, 12)),
	)
	pkts, r, err := readAll(t, b)
	must(t, err)
	if len(pkts) != 2 {
		t.Fatalf("got %d packets, want 2", len(pkts))
	}
	w := strings.Join(r.Warnings(), "\n")
	for _, s := range []string{"skipped 1 pcapng block(s): name resolution block", "skipped 2 pcapng block(s): interface statistics block",
		"custom", "decryption secrets", "0x12345678"} {
		if !strings.Contains(w, s) {
			t.Errorf("warnings %q lack %q", w, s)
		}
	}
	// Warnings stay bounded however many block types are skipped.
	var many [][]byte
	many = append(many, pcaptest.NGSHB(le))
	for i := range 100 {
		many = append(many, pcaptest.NGBlock(le, uint32(0x1000+i), nil))
	}
	_, r, err = readAll(t, cat(many...))
	must(t, err)
	if n := len(r.Warnings()); n > 20 {
		t.Errorf("%d warnings for 100 skipped block types", n)
	}
}

func TestPcapngMalformed(t *testing.T) {
	le := binary.LittleEndian
	frame := pcaptest.EthernetIPv4UDP(v4a, v4b, []byte("payload"))
	head := cat(pcaptest.NGSHB(le), pcaptest.NGIDB(le, 1, 0))
	epb := pcaptest.NGEPB(le, 0, 1, frame, 0)
	patch := func(b []byte, off int, v uint32) []byte {
		b = bytes.Clone(b)
		le.PutUint32(b[off:], v)
		return b
	}
	for _, tc := range []struct {
		name  string
		block []byte
		want  error
	}{
		{"trailer mismatch", patch(epb, len(epb)-4, 8), pcap.ErrMalformed},
		{"length not multiple of 4", patch(epb, 4, uint32(len(epb)-2)), pcap.ErrMalformed},
		{"length below 12", patch(epb, 4, 8), pcap.ErrMalformed},
		{"length beyond input", patch(epb, 4, uint32(len(epb)+400)), pcap.ErrTruncated},
		{"captured length beyond block", patch(epb, 20, uint32(len(frame)+8)), pcap.ErrMalformed},
		{"captured length huge", patch(epb, 20, 0xffffffff), pcap.ErrMalformed},
		{"undefined interface", patch(epb, 8, 3), pcap.ErrMalformed},
		{"EPB body too short", pcaptest.NGBlock(le, pcaptest.BlockEPB, make([]byte, 16)), pcap.ErrMalformed},
		{"OPB body too short", pcaptest.NGBlock(le, pcaptest.BlockOPB, make([]byte, 8)), pcap.ErrMalformed},
		{"SPB body empty", pcaptest.NGBlock(le, pcaptest.BlockSPB, nil), pcap.ErrMalformed},
		{"IDB body too short", pcaptest.NGBlock(le, pcaptest.BlockIDB, make([]byte, 4)), pcap.ErrMalformed},
		{"second SHB bad magic", patch(pcaptest.NGSHB(le), 8, 0x01020304), pcap.ErrMalformed},
		{"second SHB cut", pcaptest.NGSHB(le)[:10], pcap.ErrTruncated},
		{"block header cut", epb[:6], pcap.ErrTruncated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := cat(head, epb, tc.block)
			if !errors.Is(tc.want, pcap.ErrTruncated) {
				in = append(in, epb...) // never reached
			}
			pkts, _, err := readAll(t, in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if len(pkts) != 1 {
				t.Errorf("got %d packets before the error, want 1", len(pkts))
			}
		})
	}
	t.Run("option overruns IDB", func(t *testing.T) {
		idb := pcaptest.NGIDB(le, 1, 0, pcaptest.NGOption(le, 2, []byte("eth0")))
		le.PutUint16(idb[18:], 200) // option length beyond the block
		pkts, r, err := readAll(t, cat(pcaptest.NGSHB(le), idb, epb))
		must(t, err)
		if len(pkts) != 1 || !strings.Contains(strings.Join(r.Warnings(), ""), "overruns") {
			t.Fatalf("%d packets, warnings %q", len(pkts), r.Warnings())
		}
	})
}
