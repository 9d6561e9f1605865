package pbx

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// httpRequestTargets returns the request target of every HTTP GET found in a classic
// libpcap file with Ethernet/IPv4/TCP frames (enough for the gateway samples).
func httpRequestTargets(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 24 {
		t.Fatalf("%s: short pcap", path)
	}
	var bo binary.ByteOrder
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4:
		bo = binary.LittleEndian
	case 0xd4c3b2a1:
		bo = binary.BigEndian
	default:
		t.Fatalf("%s: not a libpcap file", path)
	}
	if lt := bo.Uint32(b[20:]); lt != 1 {
		t.Fatalf("%s: link type %d, want Ethernet", path, lt)
	}
	var targets []string
	for off := 24; off+16 <= len(b); {
		n := int(bo.Uint32(b[off+8:]))
		off += 16
		if off+n > len(b) {
			t.Fatalf("%s: truncated packet", path)
		}
		pkt := b[off : off+n]
		off += n
		if len(pkt) < 14+20 || binary.BigEndian.Uint16(pkt[12:]) != 0x0800 {
			continue
		}
		ip := pkt[14:]
		ihl := int(ip[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(ip[2:]))
		if ip[9] != 6 || ihl < 20 || total > len(ip) || total < ihl+20 {
			continue
		}
		tcp := ip[ihl:total]
		doff := int(tcp[12]>>4) * 4
		if doff < 20 || doff > len(tcp) {
			continue
		}
		payload := tcp[doff:]
		if !bytes.HasPrefix(payload, []byte("GET ")) {
			continue
		}
		line, _, ok := bytes.Cut(payload, []byte("\r\n"))
		if !ok {
			t.Fatalf("%s: request line split over segments", path)
		}
		f := strings.Fields(string(line))
		if len(f) != 3 {
			t.Fatalf("%s: request line %q", path, line)
		}
		targets = append(targets, f[1])
	}
	return targets
}

// TestGatewayWireMatchesText parses every GET of the captured gateway traffic the way the HTTP
// layer will (the raw query of each request) and checks it against the text dump.
func TestGatewayWireMatchesText(t *testing.T) {
	for _, s := range []string{"s1", "s3", "s5", "s12"} {
		t.Run(s, func(t *testing.T) {
			txt, err := os.ReadFile(filepath.Join("testdata", "gateway", s+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := ParseGatewayCDR(txt)
			if err != nil {
				t.Fatalf("text form: %v", err)
			}
			targets := httpRequestTargets(t, filepath.Join("testdata", "gateway", s+".pcap"))
			if len(targets) != len(want) {
				t.Fatalf("%d requests, %d text records", len(targets), len(want))
			}
			for i, target := range targets {
				path, query, ok := strings.Cut(target, "?")
				if !ok || path != "/cdr/cdrwrite.asp" {
					t.Fatalf("request %d: target %q", i, target)
				}
				got, err := ParseGatewayCDR([]byte(query))
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				if len(got) != 1 {
					t.Fatalf("request %d: %d records", i, len(got))
				}
				g, w := got[0], want[i]
				// Field order differs between the two forms; compare as sets.
				gf, wf := fieldMap(g.Fields), fieldMap(w.Fields)
				if !reflect.DeepEqual(gf, wf) {
					t.Fatalf("request %d fields:\n wire %v\n text %v", i, gf, wf)
				}
				if g.Raw != query {
					t.Fatalf("request %d: raw %q, want %q", i, g.Raw, query)
				}
				for _, r := range []GatewayCDR{g, w} {
					again, err := ParseGatewayCDR([]byte(r.Raw))
					if err != nil || len(again) != 1 || !reflect.DeepEqual(again[0], r) {
						t.Fatalf("request %d: raw %q does not reparse: %v", i, r.Raw, err)
					}
				}
				g.Fields, w.Fields = nil, nil
				g.Raw, w.Raw = "", ""
				if !reflect.DeepEqual(g, w) {
					t.Fatalf("request %d:\n wire %+v\n text %+v", i, g, w)
				}
			}
		})
	}
}

func fieldMap(fs []Field) map[string]string {
	m := make(map[string]string, len(fs))
	for _, f := range fs {
		m[f.Key] = f.Value
	}
	return m
}

func TestParseGatewayCDRFields(t *testing.T) {
	txt, err := os.ReadFile("testdata/gateway/s1.txt")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := ParseGatewayCDR(txt)
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, r := range recs {
		events = append(events, r.Event)
		if r.Ref != "453b6335e909d311b89e009033060014" {
			t.Errorf("%s: ref %q", r.Event, r.Ref)
		}
	}
	if want := []string{"A:Call", "B:Call", "B:Alert", "Media", "B:Connect", "B:Disc", "A:Rel", "B:Rel"}; !reflect.DeepEqual(events, want) {
		t.Fatalf("events %v", events)
	}
	rel := recs[7]
	want := GatewayCDR{
		Event: "B:Rel", Time: 885, Date: time.Date(1970, 1, 1, 0, 14, 45, 0, time.UTC),
		Ref: "453b6335e909d311b89e009033060014", Dir: "out", SrcIf: "TEL1", DstIf: "GW1",
		SrcCGPN: "070317300932", SrcCDPN: "44", DstCGPN: "070317300932", DstCDPN: "44",
		AlertTime: 876, ConnectTime: 879, DiscTime: 883, SrvID: "00-90-33-06-00-14",
	}
	rel.Fields, rel.Raw = nil, ""
	if !reflect.DeepEqual(rel, want) {
		t.Fatalf("B:Rel\n got %+v\nwant %+v", rel, want)
	}
	if v, ok := recs[3].Get("xstats"); !ok || v != "0 0 0 0 0" {
		t.Errorf("Media xstats %q %v", v, ok)
	}
	if _, ok := recs[0].Get("connect_time"); ok {
		t.Error("A:Call has connect_time")
	}

	s12, err := os.ReadFile("testdata/gateway/s12.txt")
	if err != nil {
		t.Fatal(err)
	}
	recs, err = ParseGatewayCDR(s12)
	if err != nil {
		t.Fatal(err)
	}
	if recs[3].Event != "B:X" || recs[3].XRef != "8767257ce909d311b89e009033060014" || recs[3].XLeg != "A" {
		t.Errorf("B:X record %+v", recs[3])
	}
}

func TestParseGatewayCDRForms(t *testing.T) {
	const ref = "453b6335e909d311b89e009033060014"
	for _, tc := range []struct {
		name, in string
		want     []GatewayCDR
	}{
		{"query", "event=A:Call&time=876&ref=" + ref + "&src_name=M%C3%BCller+GmbH",
			[]GatewayCDR{{Event: "A:Call", Time: 876, Ref: ref, SrcName: "Müller GmbH"}}},
		{"query with ?", "?event=B:Rel&ref=" + strings.ToUpper(ref),
			[]GatewayCDR{{Event: "B:Rel", Ref: ref}}},
		{"latin1 escape", "event=A:Call&src_name=M%FCller",
			[]GatewayCDR{{Event: "A:Call", SrcName: "Müller"}}},
		{"two query lines", "event=A:Call&ref=" + ref + "\r\nevent=B:Call&ref=" + ref + "\n",
			[]GatewayCDR{{Event: "A:Call", Ref: ref}, {Event: "B:Call", Ref: ref}}},
		{"no ref", "event=A:Call&time=1",
			[]GatewayCDR{{Event: "A:Call", Time: 1}}},
		{"text", "    event A:Rel\n    time 5\n    cause 02_80_90\nend\n",
			[]GatewayCDR{{Event: "A:Rel", Time: 5, Cause: "02_80_90"}}},
		{"text crlf", "event A:Rel\r\nsrc_name Anna Lena\r\nend\r\n",
			[]GatewayCDR{{Event: "A:Rel", SrcName: "Anna Lena"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseGatewayCDR([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				got[i].Fields, got[i].Raw = nil, ""
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseGatewayCDRErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, err string }{
		{"empty", "", "empty body"},
		{"blank", " \r\n", "empty body"},
		{"no event", "time=5&ref=453b6335e909d311b89e009033060014", "no event"},
		{"bad escape", "event=A:Call&src_name=%zz", `value of "src_name"`},
		{"no equals", "event=A:Call&bogus", `"bogus" has no '='`},
		{"bad time", "event=A:Call&time=soon", `time "soon"`},
		{"negative time", "event=A:Call&connect_time=-1", "connect_time \"-1\""},
		{"huge time", "event=A:Call&time=9223372036854775807", "time"},
		{"bad date", "event=A:Call&date=1970-01-01", "date"},
		{"bad ref", "event=A:Call&ref=xyz", "ref \"xyz\""},
		{"bad xref", "event=A:Call&xref=1234", "xref"},
		{"duplicate", "event=A:Call&time=1&time=2", `duplicate key "time"`},
		{"bad key", "event=A:Call&a%20b=1", "invalid key"},
		{"long value", "event=A:Call&src_name=" + strings.Repeat("x", 2000), "longer than"},
		{"text missing end", "event A:Call\ntime 3\n", `missing "end"`},
		{"text stray end", "end\n", `"end" without a record`},
		{"text second bad", "event A:Call\nend\ntime 3\nend\n", "record 2"},
		{"text with = in first line", "a=b c\nevent A:Call\nend", "invalid key"},
		{"too many fields", "event=A:Call" + strings.Repeat("&k=v", 300), "more than 256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseGatewayCDR([]byte(tc.in))
			if err == nil {
				t.Fatalf("no error, got %+v", got)
			}
			if !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %q does not contain %q", err, tc.err)
			}
		})
	}
}

func FuzzParseGatewayCDR(f *testing.F) {
	for _, name := range []string{"s1.txt", "s12.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", "gateway", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("event=Media&time=879&date=19700101-001439&ref=453b6335e909d311b89e009033060014&xcoder=G711u,20(0,0)&xstats=0+0+0+0+0"))
	f.Add([]byte("?event=A:Call&src_name=%FC\nevent=B:Call"))
	f.Fuzz(func(t *testing.T, body []byte) {
		recs, err := ParseGatewayCDR(body)
		if err != nil {
			if recs != nil {
				t.Fatal("records returned with an error")
			}
			return
		}
		if len(recs) == 0 {
			t.Fatal("no records and no error")
		}
		for _, r := range recs {
			if r.Event == "" {
				t.Fatal("record without event")
			}
			again, err := ParseGatewayCDR([]byte(r.Raw))
			if err != nil || len(again) != 1 || !reflect.DeepEqual(again[0], r) {
				t.Fatalf("raw %q does not reparse to the record: %v %+v", r.Raw, err, again)
			}
			if r.Ref != "" && (!IsConfID(r.Ref) || r.Ref != strings.ToLower(r.Ref)) {
				t.Fatalf("ref %q", r.Ref)
			}
			for _, fl := range r.Fields {
				if !validGatewayKey(fl.Key) {
					t.Fatalf("key %q", fl.Key)
				}
			}
		}
	})
}

func BenchmarkParseGatewayCDRQuery(b *testing.B) {
	q := []byte("event=B:Disc&time=883&date=19700101-001443&ref=453b6335e909d311b89e009033060014&dir=out&src_if=TEL1&dst_if=GW1&src_cgpn=070317300932&src_cdpn=44&dst_cgpn=070317300932&dst_cdpn=44&bcaps=03_80_90_a3&xcoder=G711u,20(0,0)&rcoder=G711u,0(0,0)&xstats=0+0+0+0+0&rstats=0+0+0+0+0&alert_time=876&connect_time=879&srv_id=00-90-33-06-00-14")
	b.ReportAllocs()
	b.SetBytes(int64(len(q)))
	for b.Loop() {
		if _, err := ParseGatewayCDR(q); err != nil {
			b.Fatal(err)
		}
	}
}
