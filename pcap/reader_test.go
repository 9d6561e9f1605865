package pcap_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"recordings/pcap"
	"recordings/pcap/pcaptest"
)

var (
	v4a = netip.MustParseAddrPort("192.0.2.10:16386")
	v4b = netip.MustParseAddrPort("198.51.100.20:40000")
	v6a = netip.MustParseAddrPort("[2001:db8::10]:16388")
	v6b = netip.MustParseAddrPort("[2001:db8:1::20]:5004")
	t0  = time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
)

type builder func(src, dst netip.AddrPort, payload []byte) []byte

// linkCases lists every link type with a v4 and a v6 frame builder.
var linkCases = []struct {
	name string
	lt   pcap.LinkType
	v4   builder
	v6   builder
}{
	{"ethernet", pcap.LinkEthernet, pcaptest.EthernetIPv4UDP, pcaptest.EthernetIPv6UDP},
	{"ethernet-vlan", pcap.LinkEthernet,
		func(s, d netip.AddrPort, p []byte) []byte {
			return pcaptest.VLAN(pcaptest.EthernetIPv4UDP(s, d, p), 100)
		},
		func(s, d netip.AddrPort, p []byte) []byte {
			return pcaptest.VLAN(pcaptest.EthernetIPv6UDP(s, d, p), 4095)
		}},
	{"ethernet-qinq", pcap.LinkEthernet,
		func(s, d netip.AddrPort, p []byte) []byte {
			return pcaptest.VLAN(pcaptest.EthernetIPv4UDP(s, d, p), 10, 20)
		},
		func(s, d netip.AddrPort, p []byte) []byte {
			return pcaptest.VLAN(pcaptest.EthernetIPv6UDP(s, d, p), 10, 20, 30)
		}},
	{"sll", pcap.LinkLinuxSLL, pcaptest.SLLIPv4UDP, pcaptest.SLLIPv6UDP},
	{"sll2", pcap.LinkLinuxSLL2, pcaptest.SLL2IPv4UDP, pcaptest.SLL2IPv6UDP},
	{"raw101", pcap.LinkRaw, pcaptest.RawIPv4UDP, pcaptest.RawIPv6UDP},
	{"raw12", pcap.LinkRaw12, pcaptest.RawIPv4UDP, pcaptest.RawIPv6UDP},
	{"raw14", pcap.LinkRaw14, pcaptest.RawIPv4UDP, pcaptest.RawIPv6UDP},
	{"ipv4", pcap.LinkIPv4, pcaptest.RawIPv4UDP, nil},
	{"ipv6", pcap.LinkIPv6, nil, pcaptest.RawIPv6UDP},
	{"null", pcap.LinkNull, pcaptest.NullIPv4UDP, pcaptest.NullIPv6UDP},
	{"null-bigendian-host", pcap.LinkNull,
		func(s, d netip.AddrPort, p []byte) []byte {
			return pcaptest.Loopback(binary.BigEndian, 2, pcaptest.RawIPv4UDP(s, d, p))
		},
		func(s, d netip.AddrPort, p []byte) []byte {
			return pcaptest.Loopback(binary.BigEndian, 28, pcaptest.RawIPv6UDP(s, d, p))
		}},
	{"loop", pcap.LinkLoop, pcaptest.LoopIPv4UDP, pcaptest.LoopIPv6UDP},
}

type record struct {
	ts   time.Time
	data []byte
}

// fileFormat writes records of one link type as a complete capture file.
type fileFormat struct {
	name       string
	resolution time.Duration
	write      func(t *testing.T, lt pcap.LinkType, recs []record) []byte
}

var fileFormats = []fileFormat{
	{"pcap-le-us", time.Microsecond, func(t *testing.T, lt pcap.LinkType, recs []record) []byte {
		var buf bytes.Buffer
		w, err := pcap.NewWriter(&buf, lt)
		must(t, err)
		for _, r := range recs {
			must(t, w.WritePacket(r.ts, r.data))
		}
		return buf.Bytes()
	}},
	{"pcap-le-ns", time.Nanosecond, func(t *testing.T, lt pcap.LinkType, recs []record) []byte {
		var buf bytes.Buffer
		w, err := pcap.NewNanoWriter(&buf, lt)
		must(t, err)
		for _, r := range recs {
			must(t, w.WritePacket(r.ts, r.data))
		}
		return buf.Bytes()
	}},
	{"pcap-be-us", time.Microsecond, func(t *testing.T, lt pcap.LinkType, recs []record) []byte {
		return classicBytes(binary.BigEndian, pcaptest.MagicMicro, lt, recs)
	}},
	{"pcap-be-ns", time.Nanosecond, func(t *testing.T, lt pcap.LinkType, recs []record) []byte {
		return classicBytes(binary.BigEndian, pcaptest.MagicNano, lt, recs)
	}},
	{"pcapng-le", time.Nanosecond, func(t *testing.T, lt pcap.LinkType, recs []record) []byte {
		var buf bytes.Buffer
		w, err := pcap.NewNGWriter(&buf, lt)
		must(t, err)
		for _, r := range recs {
			must(t, w.WritePacket(0, r.ts, r.data))
		}
		return buf.Bytes()
	}},
	{"pcapng-be", time.Nanosecond, func(t *testing.T, lt pcap.LinkType, recs []record) []byte {
		o := binary.BigEndian
		b := pcaptest.NGSHB(o)
		b = append(b, pcaptest.NGIDB(o, uint16(lt), 0, pcaptest.NGTSResol(o, 9, false), pcaptest.NGEndOfOpt())...)
		for _, r := range recs {
			b = append(b, pcaptest.NGEPB(o, 0, uint64(r.ts.UnixNano()), r.data, 0)...)
		}
		return b
	}},
	{"pcapng-le-us-default", time.Microsecond, func(t *testing.T, lt pcap.LinkType, recs []record) []byte {
		var buf bytes.Buffer
		w, err := pcap.NewNGWriter(&buf, pcap.LinkEthernet) // interface 0 unused
		must(t, err)
		id, err := w.AddInterface(lt, 6)
		must(t, err)
		for _, r := range recs {
			must(t, w.WritePacket(id, r.ts, r.data))
		}
		return buf.Bytes()
	}},
}

func classicBytes(o pcaptest.ByteOrder, magic uint32, lt pcap.LinkType, recs []record) []byte {
	var rs []pcaptest.Record
	for _, r := range recs {
		frac := uint32(r.ts.Nanosecond())
		if magic == pcaptest.MagicMicro {
			frac /= 1000
		}
		rs = append(rs, pcaptest.Record{Sec: uint32(r.ts.Unix()), Frac: frac, Data: r.data})
	}
	return pcaptest.ClassicFile(o, magic, uint32(lt), 65535, rs...)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// readAll reads every packet, copying the data.
func readAll(t testing.TB, b []byte) ([]pcap.Packet, *pcap.Reader, error) {
	t.Helper()
	r, err := pcap.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, nil, err
	}
	var out []pcap.Packet
	for {
		p, err := r.Next()
		if err == io.EOF {
			return out, r, nil
		}
		if err != nil {
			return out, r, err
		}
		p.Data = bytes.Clone(p.Data)
		out = append(out, p)
	}
}

func TestRoundTrip(t *testing.T) {
	start := time.Date(2026, 11, 25, 13, 45, 7, 123456789, time.UTC)
	for _, lc := range linkCases {
		for _, ff := range fileFormats {
			t.Run(lc.name+"/"+ff.name, func(t *testing.T) {
				type want struct {
					src, dst netip.AddrPort
					payload  []byte
				}
				var recs []record
				var wants []want
				for i := range 6 {
					src, dst, b := v4a, v4b, lc.v4
					if i%2 == 1 || b == nil {
						src, dst, b = v6a, v6b, lc.v6
					}
					if b == nil {
						src, dst, b = v4a, v4b, lc.v4
					}
					payload := bytes.Repeat([]byte{byte(i + 1)}, 12+i*37)
					ts := start.Add(time.Duration(i) * 20 * time.Millisecond).Add(time.Duration(i) * 333 * time.Nanosecond)
					recs = append(recs, record{ts, b(src, dst, payload)})
					wants = append(wants, want{src, dst, payload})
				}
				pkts, _, err := readAll(t, ff.write(t, lc.lt, recs))
				must(t, err)
				if len(pkts) != len(recs) {
					t.Fatalf("read %d packets, wrote %d", len(pkts), len(recs))
				}
				for i, p := range pkts {
					if wantTS := recs[i].ts.Truncate(ff.resolution); !p.Timestamp.Equal(wantTS) {
						t.Errorf("packet %d: timestamp %v, want %v", i, p.Timestamp, wantTS)
					}
					if p.Timestamp.Location() != time.UTC {
						t.Errorf("packet %d: timestamp not in UTC", i)
					}
					if p.LinkType != lc.lt {
						t.Errorf("packet %d: link type %v, want %v", i, p.LinkType, lc.lt)
					}
					if !bytes.Equal(p.Data, recs[i].data) || p.OrigLen != len(recs[i].data) {
						t.Errorf("packet %d: data/origlen differ (%d bytes, orig %d)", i, len(p.Data), p.OrigLen)
					}
					var u pcap.UDP
					if err := pcap.DecodeUDP(p.LinkType, p.Data, &u); err != nil {
						t.Fatalf("packet %d: DecodeUDP: %v", i, err)
					}
					w := wants[i]
					if u.Src != w.src || u.Dst != w.dst || !bytes.Equal(u.Payload, w.payload) {
						t.Errorf("packet %d: decoded %v→%v %d bytes, want %v→%v %d bytes",
							i, u.Src, u.Dst, len(u.Payload), w.src, w.dst, len(w.payload))
					}
				}
			})
		}
	}
}

func TestNotCapture(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, pcap.ErrNotCapture},
		{"three bytes", []byte{0xd4, 0xc3, 0xb2}, pcap.ErrNotCapture},
		{"text", []byte("GET / HTTP/1.1\r\nHost: example\r\n\r\n"), pcap.ErrNotCapture},
		{"zeros", make([]byte, 64), pcap.ErrNotCapture},
		{"wav", []byte("RIFF\x24\x00\x00\x00WAVEfmt "), pcap.ErrNotCapture},
		{"pcap magic only", []byte{0xd4, 0xc3, 0xb2, 0xa1}, pcap.ErrTruncated},
		{"pcap header cut", []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0}, pcap.ErrTruncated},
		{"pcapng bad byte-order magic", append([]byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0}, 1, 2, 3, 4), pcap.ErrNotCapture},
		{"pcapng SHB cut", pcaptest.NGSHB(binary.LittleEndian)[:20], pcap.ErrTruncated},
		{"pcapng SHB bad trailer", append(pcaptest.NGSHB(binary.LittleEndian)[:24], 1, 0, 0, 0), pcap.ErrMalformed},
		{"pcapng SHB short length", shbWithLength(16), pcap.ErrMalformed},
		{"pcapng SHB odd length", shbWithLength(30), pcap.ErrMalformed},
		{"pcapng version 2", shbVersion(2), pcap.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := pcap.NewReader(bytes.NewReader(tc.in))
			if !errors.Is(err, tc.want) {
				t.Fatalf("NewReader error %v, want %v", err, tc.want)
			}
			if r != nil {
				t.Fatal("reader returned together with an error")
			}
		})
	}
	t.Run("pcap version 3", func(t *testing.T) {
		b := pcaptest.ClassicFile(binary.LittleEndian, pcaptest.MagicMicro, 1, 0)
		b[4] = 3
		if _, err := pcap.NewReader(bytes.NewReader(b)); !errors.Is(err, pcap.ErrMalformed) {
			t.Fatalf("got %v, want ErrMalformed", err)
		}
	})
}

func shbWithLength(n uint32) []byte {
	b := pcaptest.NGSHB(binary.LittleEndian)
	binary.LittleEndian.PutUint32(b[4:], n)
	return b
}

func shbVersion(major uint16) []byte {
	b := pcaptest.NGSHB(binary.LittleEndian)
	binary.LittleEndian.PutUint16(b[12:], major)
	return b
}

func TestEmptyCaptures(t *testing.T) {
	for _, ff := range fileFormats {
		t.Run(ff.name, func(t *testing.T) {
			pkts, r, err := readAll(t, ff.write(t, pcap.LinkEthernet, nil))
			must(t, err)
			if len(pkts) != 0 {
				t.Fatalf("got %d packets from an empty capture", len(pkts))
			}
			if len(r.Warnings()) != 0 {
				t.Errorf("warnings on a clean empty capture: %q", r.Warnings())
			}
		})
	}
}

// TestTruncated cuts every file format at every byte inside its last record:
// all earlier records come back, then an error wrapping ErrTruncated.
func TestTruncated(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var recs []record
	for i := range 3 {
		recs = append(recs, record{start.Add(time.Duration(i) * time.Second),
			pcaptest.EthernetIPv4UDP(v4a, v4b, bytes.Repeat([]byte{byte(i)}, 30+i))})
	}
	for _, ff := range fileFormats {
		t.Run(ff.name, func(t *testing.T) {
			full := ff.write(t, pcap.LinkEthernet, recs)
			two := ff.write(t, pcap.LinkEthernet, recs[:2])
			if !bytes.HasPrefix(full, two) {
				t.Fatal("file with two records is not a prefix of the file with three")
			}
			for cut := len(two) + 1; cut < len(full); cut++ {
				pkts, r, err := readAll(t, full[:cut])
				if !errors.Is(err, pcap.ErrTruncated) {
					t.Fatalf("cut at %d of %d: error %v, want ErrTruncated", cut, len(full), err)
				}
				if len(pkts) != 2 {
					t.Fatalf("cut at %d: got %d packets before the error, want 2", cut, len(pkts))
				}
				if w := strings.Join(r.Warnings(), "\n"); !strings.Contains(w, "truncated last record") {
					t.Fatalf("cut at %d: warnings %q do not mention the truncation", cut, w)
				}
				if _, err2 := r.Next(); !errors.Is(err2, pcap.ErrTruncated) {
					t.Fatalf("error is not sticky: second Next gave %v", err2)
				}
			}
			// Cut exactly at a record boundary: a clean end.
			pkts, _, err := readAll(t, two)
			if err != nil || len(pkts) != 2 {
				t.Fatalf("boundary cut: %d packets, error %v", len(pkts), err)
			}
		})
	}
}

func TestHugeCaptureLength(t *testing.T) {
	ok := pcaptest.Record{Sec: 1, Data: []byte{1, 2, 3}}
	for _, o := range []pcaptest.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		b := pcaptest.ClassicFile(o, pcaptest.MagicMicro, 1, 65535, ok)
		rec := o.AppendUint32(nil, 2)
		rec = o.AppendUint32(rec, 0)
		rec = o.AppendUint32(rec, 0x7fffffff) // caplen: 2 GiB
		rec = o.AppendUint32(rec, 0x7fffffff)
		b = append(b, rec...)
		pkts, _, err := readAll(t, b)
		if !errors.Is(err, pcap.ErrTooLarge) || len(pkts) != 1 {
			t.Errorf("%v: %d packets, error %v; want 1 and ErrTooLarge", o, len(pkts), err)
		}
	}
	// Exactly MaxCaptureLen is accepted.
	big := make([]byte, pcap.MaxCaptureLen)
	big[0] = 0x42
	for _, ff := range fileFormats[:5] {
		pkts, _, err := readAll(t, ff.write(t, pcap.LinkEthernet, []record{{time.Unix(5, 0), big}}))
		if err != nil || len(pkts) != 1 || !bytes.Equal(pkts[0].Data, big) {
			t.Errorf("%s: MaxCaptureLen record: %d packets, error %v", ff.name, len(pkts), err)
		}
	}
	// A pcapng packet block beyond the limit.
	o := binary.LittleEndian
	b := append(pcaptest.NGSHB(o), pcaptest.NGIDB(o, 1, 0)...)
	b = append(b, pcaptest.NGEPB(o, 0, 0, make([]byte, pcap.MaxCaptureLen+70000), 0)...)
	if _, _, err := readAll(t, b); !errors.Is(err, pcap.ErrTooLarge) {
		t.Errorf("oversized EPB: error %v, want ErrTooLarge", err)
	}
	// Writers refuse what the reader would refuse.
	w, _ := pcap.NewWriter(io.Discard, pcap.LinkEthernet)
	if err := w.WritePacket(time.Unix(1, 0), make([]byte, pcap.MaxCaptureLen+1)); !errors.Is(err, pcap.ErrTooLarge) {
		t.Errorf("Writer accepted an oversized packet: %v", err)
	}
	nw, _ := pcap.NewNGWriter(io.Discard, pcap.LinkEthernet)
	if err := nw.WritePacket(0, time.Unix(1, 0), make([]byte, pcap.MaxCaptureLen+1)); !errors.Is(err, pcap.ErrTooLarge) {
		t.Errorf("NGWriter accepted an oversized packet: %v", err)
	}
}

// TestRealSamples reads real captures of HTTP traffic (TCP) from an
// innovaphone gateway.
func TestRealSamples(t *testing.T) {
	files, err := filepath.Glob("testdata/innovaphone-*.pcap")
	must(t, err)
	if len(files) == 0 {
		t.Fatal("no real sample captures in testdata")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			must(t, err)
			pkts, r, err := readAll(t, b)
			must(t, err)
			if len(pkts) == 0 {
				t.Fatal("no packets")
			}
			if len(r.Warnings()) != 0 {
				t.Errorf("warnings: %q", r.Warnings())
			}
			for i, p := range pkts {
				if p.LinkType != pcap.LinkEthernet {
					t.Fatalf("packet %d: link type %v", i, p.LinkType)
				}
				if p.Timestamp.Before(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) {
					t.Errorf("packet %d: implausible timestamp %v", i, p.Timestamp)
				}
				var u pcap.UDP
				err := pcap.DecodeUDP(p.LinkType, p.Data, &u)
				if !errors.Is(err, pcap.ErrNotUDP) || !strings.Contains(err.Error(), "TCP") {
					t.Errorf("packet %d: DecodeUDP error %v, want ErrNotUDP for TCP", i, err)
				}
			}
		})
	}
}

func ExampleReader() {
	var buf bytes.Buffer
	w, _ := pcap.NewWriter(&buf, pcap.LinkEthernet)
	_ = w.WritePacket(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC),
		pcaptest.EthernetIPv4UDP(v4a, v4b, []byte("hello")))

	r, err := pcap.NewReader(&buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	var u pcap.UDP
	for {
		p, err := r.Next()
		if err != nil {
			break // io.EOF, or a truncation/corruption error
		}
		if pcap.DecodeUDP(p.LinkType, p.Data, &u) == nil {
			fmt.Println(p.Timestamp.Format(time.RFC3339), u.Src, "→", u.Dst, string(u.Payload))
		}
	}
	// Output: 2026-01-01T12:00:00Z 192.0.2.10:16386 → 198.51.100.20:40000 hello
}
