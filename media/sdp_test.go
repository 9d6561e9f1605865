package media

import (
	"slices"
	"testing"
)

func TestIsSIP(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"INVITE sip:a@b SIP/2.0\r\n", true},
		{"SIP/2.0 200 OK\r\n", true},
		{"ACK sip:a@b SIP/2.0", true},
		{"invite sip:a@b SIP/2.0\r\n", false},
		{"INVITE sip:a@b SIP/1.0\r\n", false},
		{"\x80\x08\x00\x01", false},
		{"", false},
		{" SIP/2.0\r\n", false},
	} {
		if got := isSIP([]byte(c.in)); got != c.want {
			t.Errorf("isSIP(%q) = %v", c.in, got)
		}
	}
}

func TestParseSDP(t *testing.T) {
	for _, c := range []struct {
		name string
		msg  string
		want []rtpmap
	}{
		{"offer", string(sip("v=0\r\nm=audio 16386 RTP/AVP 8 97 101\r\na=rtpmap:97 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n")),
			[]rtpmap{{97, "PCMA", 8000}, {101, "telephone-event", 8000}}},
		{"video section ignored", "SIP/2.0 200 OK\r\n\r\nm=video 5 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\nm=audio 7 RTP/AVP 96\r\na=rtpmap:96 G722/8000/1\r\n",
			[]rtpmap{{96, "G722", 8000}}},
		{"LF only, compact length", "SIP/2.0 200 OK\nl: 43\n\nm=audio 7 RTP/AVP 98\na=rtpmap:98 PCMU/8000\na=rtpmap:99 PCMA/8000\n",
			[]rtpmap{{98, "PCMU", 8000}}},
		{"malformed lines", "SIP/2.0 200 OK\r\n\r\nm=audio 7 RTP/AVP 96\r\na=rtpmap:300 X/8000\r\na=rtpmap:96 /8000\r\na=rtpmap:96 X/0\r\na=rtpmap:96 X\r\na=rtpmap:96\r\n",
			nil},
		{"no body", "SIP/2.0 100 Trying\r\nVia: x\r\n", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !isSIP([]byte(c.msg)) {
				t.Fatal("not SIP")
			}
			var got []rtpmap
			parseSDP(sipBody([]byte(c.msg)), func(m rtpmap) { got = append(got, m) })
			if !slices.Equal(got, c.want) {
				t.Fatalf("got %+v want %+v", got, c.want)
			}
		})
	}
}

func TestPTTable(t *testing.T) {
	var tab ptTable
	if w := tab.add(rtpmap{97, "PCMA", 8000}); w != "" {
		t.Fatal(w)
	}
	if w := tab.add(rtpmap{97, "pcma", 8000}); w != "" {
		t.Fatalf("same mapping warned: %s", w)
	}
	if w := tab.add(rtpmap{97, "G722", 8000}); w == "" {
		t.Fatal("conflict not reported")
	}
	if w := tab.add(rtpmap{97, "G729", 8000}); w != "" {
		t.Fatal("conflict reported twice")
	}
	if w := tab.add(rtpmap{8, "PCMU", 8000}); w != "" {
		t.Fatal("static type remapped")
	}
	for _, c := range []struct {
		pt    uint8
		name  string
		clock int
		ok    bool
	}{{0, "PCMU", 8000, true}, {8, "PCMA", 8000, true}, {9, "G722", 8000, true}, {13, "CN", 8000, true},
		{18, "G729", 8000, true}, {97, "PCMA", 8000, true}, {98, "", 0, false}, {2, "", 0, false}, {72, "", 0, false}} {
		name, clock, ok := tab.lookup(c.pt)
		if name != c.name || clock != c.clock || ok != c.ok {
			t.Errorf("lookup(%d) = %q %d %v", c.pt, name, clock, ok)
		}
	}
}
