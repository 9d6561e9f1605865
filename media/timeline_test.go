package media

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"recordings/codec"
)

const (
	locSrc, locDst = "192.168.1.10:16386", "192.168.1.20:40000"
	remSrc, remDst = "192.168.1.20:40002", "192.168.1.10:16388"
	ms             = time.Millisecond
)

func newLeg(id int, local bool) *leg {
	if local {
		return &leg{src: locSrc, dst: locDst, ssrc: 0x1000 + uint32(id), pt: 8, seq0: 100, ts0: 5000, id: id}
	}
	return &leg{src: remSrc, dst: remDst, ssrc: 0x2000 + uint32(id), pt: 8, seq0: 4000, ts0: 90000, id: id}
}

func TestTimeline(t *testing.T) {
	type tc struct {
		name  string
		build func(sc *scen)
		opt   Options
		check func(t *testing.T, a *Analysis)
	}
	stat := func(t *testing.T, a *Analysis, i int) StreamStats {
		t.Helper()
		if i >= len(a.Streams) {
			t.Fatalf("want stream %d, have %d", i, len(a.Streams))
		}
		return a.Streams[i]
	}
	cases := []tc{
		{name: "two sides", build: func(sc *scen) {
			l, r := newLeg(1, true), newLeg(2, false)
			for k := range 50 {
				sc.audio(l, k, 0, time.Duration(k)*20*ms, 0, 160*k)
				sc.audio(r, k, 0, time.Duration(k)*20*ms+5*ms, 1, 40+160*k)
			}
		}, check: func(t *testing.T, a *Analysis) {
			if a.Samples != 40+50*160 || a.SampleRate != 8000 || !a.Start.Equal(t0) {
				t.Errorf("Samples %d rate %d start %v", a.Samples, a.SampleRate, a.Start)
			}
			if s := stat(t, a, 0); s.Direction != Local || s.Packets != 50 || s.Lost != 0 || s.Codec != "PCMA" || s.DurationMS != 1000 {
				t.Errorf("local stats %+v", s)
			}
			if s := stat(t, a, 1); s.Direction != Remote || s.ClockRate != 8000 || s.PayloadType != 8 {
				t.Errorf("remote stats %+v", s)
			}
			if len(a.Warnings) != 0 {
				t.Errorf("warnings %q", a.Warnings)
			}
		}},
		{name: "loss", build: func(sc *scen) {
			l := newLeg(1, true)
			for k := range 50 {
				if k == 10 || k == 11 {
					continue
				}
				sc.audio(l, k, 0, time.Duration(k)*20*ms, 0, 160*k)
			}
		}, check: func(t *testing.T, a *Analysis) {
			if s := stat(t, a, 0); s.Lost != 2 || s.GapMS != 40 || s.Packets != 48 {
				t.Errorf("stats %+v", s)
			}
		}},
		{name: "reordering", build: func(sc *scen) {
			l := newLeg(1, true)
			for k := range 50 {
				at := time.Duration(k) * 20 * ms
				switch k {
				case 5:
					at = 6*20*ms + ms
				case 6:
					at = 5 * 20 * ms
				}
				sc.audio(l, k, 0, at, 0, 160*k)
			}
			slices.SortStableFunc(sc.pkts, func(a, b Packet) int { return a.Time.Compare(b.Time) })
		}, check: func(t *testing.T, a *Analysis) {
			if s := stat(t, a, 0); s.Reordered != 1 || s.Lost != 0 || s.Late != 0 || s.GapMS != 0 {
				t.Errorf("stats %+v", s)
			}
		}},
		{name: "duplicates", build: func(sc *scen) {
			l := newLeg(1, true)
			for k := range 50 {
				sc.audio(l, k, 0, time.Duration(k)*20*ms, 0, 160*k)
				if k == 7 || k == 30 {
					sc.audio(l, k, 0, time.Duration(k)*20*ms+ms, 0, -1)
				}
			}
		}, check: func(t *testing.T, a *Analysis) {
			if s := stat(t, a, 0); s.Duplicates != 2 || s.Lost != 0 || s.Packets != 52 {
				t.Errorf("stats %+v", s)
			}
		}},
		{name: "sequence wrap", build: func(sc *scen) {
			l := newLeg(1, true)
			l.seq0 = 65530
			for k := range 30 {
				if k == 8 { // 65538 = seq 2 after the wrap
					continue
				}
				sc.audio(l, k, 0, time.Duration(k)*20*ms, 0, 160*k)
			}
		}, check: func(t *testing.T, a *Analysis) {
			if s := stat(t, a, 0); s.Lost != 1 || s.GapMS != 20 {
				t.Errorf("stats %+v", s)
			}
		}},
		{name: "timestamp wrap", build: func(sc *scen) {
			l := newLeg(1, true)
			l.ts0 = math.MaxUint32 - 800
			for k := range 30 {
				sc.audio(l, k, 0, time.Duration(k)*20*ms, 0, 160*k)
			}
		}, check: func(t *testing.T, a *Analysis) {
			if s := stat(t, a, 0); s.Lost != 0 || s.GapMS != 0 || s.Resyncs != 0 || a.Samples != 30*160 {
				t.Errorf("stats %+v samples %d", s, a.Samples)
			}
		}},
		{name: "SSRC change", build: func(sc *scen) {
			l1, l2, r := newLeg(1, true), newLeg(2, true), newLeg(3, false)
			l2.seq0, l2.ts0 = 5000, 999999
			for k := range 25 {
				sc.audio(l1, k, 0, time.Duration(k)*20*ms, 0, 160*k)
				sc.audio(r, k, 0, time.Duration(k)*20*ms, 1, 160*k)
			}
			// The new SSRC arrives 3 ms after the old one's next packet was
			// due: it continues sample-exact after the old one.
			for k := range 25 {
				sc.audio(l2, k, 0, 503*ms+time.Duration(k)*20*ms, 0, 4000+160*k)
			}
		}, check: func(t *testing.T, a *Analysis) {
			if len(a.Streams) != 3 || a.Streams[2].Direction != Local || a.Streams[2].SSRC != 0x1002 || a.Samples != 8000 {
				t.Errorf("streams %+v samples %d", a.Streams, a.Samples)
			}
		}},
		{name: "SSRC change arriving early continues", build: func(sc *scen) {
			l1, l2 := newLeg(1, true), newLeg(2, true)
			l2.seq0, l2.ts0 = 5000, 999999
			for k := range 25 {
				sc.audio(l1, k, 0, time.Duration(k)*20*ms, 0, 160*k)
			}
			for k := range 25 { // 8 ms early: the old stream's last packet was late
				sc.audio(l2, k, 0, 492*ms+time.Duration(k)*20*ms, 0, 4000+160*k)
			}
		}, check: func(t *testing.T, a *Analysis) {
			if a.Samples != 8000 || a.Streams[1].GapMS != 0 {
				t.Errorf("samples %d streams %+v", a.Samples, a.Streams)
			}
		}},
		{name: "SSRC change one lost packet later continues", build: func(sc *scen) {
			l1, l2 := newLeg(1, true), newLeg(2, true)
			l2.seq0, l2.ts0 = 5000, 999999
			for k := range 25 {
				sc.audio(l1, k, 0, time.Duration(k)*20*ms, 0, 160*k)
			}
			for k := range 25 { // up to a packet time plus jitter after the end
				sc.audio(l2, k, 0, 527*ms+time.Duration(k)*20*ms, 0, 4000+160*k)
			}
		}, check: func(t *testing.T, a *Analysis) {
			if a.Samples != 8000 {
				t.Errorf("samples %d", a.Samples)
			}
		}},
		{name: "SSRC change after a pause is placed by arrival", build: func(sc *scen) {
			l1, l2 := newLeg(1, true), newLeg(2, true)
			l2.seq0, l2.ts0 = 5000, 999999
			for k := range 25 {
				sc.audio(l1, k, 0, time.Duration(k)*20*ms, 0, 160*k)
			}
			for k := range 25 {
				sc.audio(l2, k, 0, 800*ms+time.Duration(k)*20*ms, 0, 6400+160*k)
			}
		}, check: func(t *testing.T, a *Analysis) {
			if a.Samples != 6400+4000 {
				t.Errorf("samples %d", a.Samples)
			}
		}},
		{name: "new SSRC from another address is placed by arrival", build: func(sc *scen) {
			l1 := newLeg(1, true)
			l2 := &leg{src: "192.168.1.11:16386", dst: "192.168.1.21:40000", ssrc: 0x1002, pt: 8, seq0: 5000, ts0: 999999, id: 2}
			for k := range 25 {
				sc.audio(l1, k, 0, time.Duration(k)*20*ms, 0, 160*k)
			}
			for k := range 25 {
				sc.audio(l2, k, 0, 503*ms+time.Duration(k)*20*ms, 0, 4024+160*k)
			}
		}, check: func(t *testing.T, a *Analysis) {
			if a.Samples != 4024+4000 {
				t.Errorf("samples %d", a.Samples)
			}
		}},
		{name: "DTX gap", build: func(sc *scen) {
			l := newLeg(1, true)
			for k := range 20 {
				var off uint32
				at := time.Duration(k) * 20 * ms
				if k >= 10 {
					off, at = 8000, at+time.Second
				}
				sc.audio(l, k, off, at, 0, 160*k+int(off))
			}
		}, check: func(t *testing.T, a *Analysis) {
			if s := stat(t, a, 0); s.Lost != 0 || s.GapMS != 1000 || a.Samples != 20*160+8000 {
				t.Errorf("stats %+v samples %d", s, a.Samples)
			}
		}},
		{name: "comfort noise", build: func(sc *scen) {
			l := newLeg(1, true)
			for k := range 10 {
				sc.audio(l, k, 0, time.Duration(k)*20*ms, 0, 160*k)
			}
			sc.add(200*ms, l.src, l.dst, rtpBytes(sc.tb, l.seq0+10, l.ts0+1600, l.ssrc, 13, false, []byte{60}))
			for k := 11; k < 20; k++ {
				sc.audio(l, k, 4000, time.Duration(k)*20*ms+500*ms, 0, 160*k+4000)
			}
			// noise from the CN packet (1600) to the next audio (11*160+4000)
			sc.noise = append(sc.noise, noiseRegion{ch: 0, from: 1600, to: 160*11 + 4000, amp: 57})
		}, check: func(t *testing.T, a *Analysis) {
			if s := stat(t, a, 0); s.CN != 1 || s.Lost != 0 || s.GapMS != 520 {
				t.Errorf("stats %+v", s)
			}
		}},
		{name: "comfort noise longer than the render buffer", build: func(sc *scen) {
			l, r := newLeg(1, true), newLeg(2, false)
			for k := range 1600 { // remote talks for 32 s
				sc.audio(r, k, 0, time.Duration(k)*20*ms, 1, 160*k)
			}
			for k := range 10 {
				sc.audio(l, k, 0, time.Duration(k)*20*ms, 0, 160*k)
			}
			sc.add(200*ms, l.src, l.dst, rtpBytes(sc.tb, l.seq0+10, l.ts0+1600, l.ssrc, 13, false, []byte{60}))
			const resume = 30 * 8000
			for k := 11; k < 20; k++ {
				sc.audio(l, k, resume, time.Duration(k)*20*ms+30*time.Second, 0, 160*k+resume)
			}
			sc.noise = append(sc.noise, noiseRegion{ch: 0, from: 1600, to: 160*11 + resume, amp: 57})
		}, check: func(t *testing.T, a *Analysis) {
			if s := stat(t, a, 1); s.CN != 1 || s.GapMS != 30020 {
				t.Errorf("stats %+v", s)
			}
		}},
		{name: "telephone-event", build: func(sc *scen) {
			sc.add(0, "192.168.1.10:5060", "192.168.1.20:5060", sip("v=0\r\nm=audio 16386 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"))
			l := newLeg(1, true)
			for k := range 25 {
				at := time.Duration(k)*20*ms + ms
				if k >= 10 && k < 13 {
					sc.add(at, l.src, l.dst, rtpBytes(sc.tb, l.seq0+uint16(k), l.ts0+1600, l.ssrc, 101, k == 10, []byte{5, 0x0a, 0, byte(k)}))
					continue
				}
				sc.audio(l, k, 0, at, 0, 160*k)
			}
		}, check: func(t *testing.T, a *Analysis) {
			if s := stat(t, a, 0); s.Events != 3 || s.Lost != 0 || s.GapMS != 60 || s.Packets != 25 {
				t.Errorf("stats %+v", s)
			}
			if a.SIP != 1 {
				t.Errorf("SIP %d", a.SIP)
			}
		}},
		{name: "SDP dynamic payload type", build: func(sc *scen) {
			sc.add(0, "192.168.1.10:5060", "192.168.1.20:5060", sip("v=0\r\nc=IN IP4 192.168.1.10\r\nm=audio 16386 RTP/AVP 97\r\na=rtpmap:97 PCMA/8000\r\n"))
			l := newLeg(1, true)
			l.pt = 97
			for k := range 20 {
				sc.audio(l, k, 0, time.Duration(k)*20*ms+10*ms, 0, 160*k)
			}
		}, check: func(t *testing.T, a *Analysis) {
			if s := stat(t, a, 0); s.Codec != "PCMA" || s.PayloadType != 97 || !s.Rendered {
				t.Errorf("stats %+v", s)
			}
		}},
		{name: "PCMU", build: func(sc *scen) {
			sc.dec = codec.NewPCMU()
			l := newLeg(1, false)
			l.pt = 0
			for k := range 20 {
				sc.audio(l, k, 0, time.Duration(k)*20*ms, 1, 160*k)
			}
		}, check: func(t *testing.T, a *Analysis) {
			if s := stat(t, a, 0); s.Codec != "PCMU" || s.Direction != Remote {
				t.Errorf("stats %+v", s)
			}
		}},
		{name: "one direction only", build: func(sc *scen) {
			r := newLeg(1, false)
			for k := range 20 {
				sc.audio(r, k, 0, time.Duration(k)*20*ms, 1, 160*k)
			}
		}, check: func(t *testing.T, a *Analysis) {
			if len(a.Warnings) != 1 || !strings.Contains(a.Warnings[0], "only the remote side") {
				t.Errorf("warnings %q", a.Warnings)
			}
		}},
		{name: "fallback direction", build: func(sc *scen) {
			a := &leg{src: "10.0.0.1:5000", dst: "10.0.0.2:6000", ssrc: 7, pt: 8, id: 1}
			b := &leg{src: "10.0.0.2:6000", dst: "10.0.0.1:5000", ssrc: 8, pt: 8, id: 2}
			c := &leg{src: "10.0.0.3:7000", dst: "10.0.0.1:5000", ssrc: 9, pt: 8, id: 3}
			for k := range 20 {
				sc.audio(b, k, 0, time.Duration(k)*20*ms+10*ms, 0, 160*k) // first seen: local
				sc.audio(a, k, 0, time.Duration(k)*20*ms+15*ms, 1, 40+160*k)
			}
			for k := range 10 {
				sc.audio(c, k, 0, time.Duration(k)*20*ms+410*ms, 0, 3200+160*k) // shares b's receiver
			}
		}, check: func(t *testing.T, a *Analysis) {
			got := []string{a.Streams[0].Direction, a.Streams[1].Direction, a.Streams[2].Direction}
			if !slices.Equal(got, []string{Local, Remote, Local}) {
				t.Errorf("directions %v", got)
			}
			if !a.Start.Equal(t0.Add(10 * ms)) {
				t.Errorf("start %v", a.Start)
			}
		}},
		{name: "late packet", build: func(sc *scen) {
			l := newLeg(1, true)
			for k := range 100 {
				at := time.Duration(k) * 20 * ms
				pos := 160 * k
				if k == 5 {
					at, pos = 1500*ms, -1
				}
				sc.audio(l, k, 0, at, 0, pos)
			}
			slices.SortStableFunc(sc.pkts, func(a, b Packet) int { return a.Time.Compare(b.Time) })
		}, check: func(t *testing.T, a *Analysis) {
			if s := stat(t, a, 0); s.Late != 1 || s.Lost != 0 || s.Reordered != 0 || s.GapMS != 20 {
				t.Errorf("stats %+v", s)
			}
		}},
		{name: "absurd timestamp jump resyncs", build: func(sc *scen) {
			l := newLeg(1, true)
			for k := range 20 {
				var off uint32
				if k >= 10 {
					off = 1 << 30 // 37 hours ahead
				}
				sc.audio(l, k, off, time.Duration(k)*20*ms, 0, 160*k)
			}
		}, check: func(t *testing.T, a *Analysis) {
			if s := stat(t, a, 0); s.Resyncs != 1 || a.Samples != 20*160 || s.GapMS != 0 {
				t.Errorf("stats %+v samples %d", s, a.Samples)
			}
			if len(a.Warnings) == 0 || !strings.Contains(strings.Join(a.Warnings, ";"), "re-anchored") {
				t.Errorf("warnings %q", a.Warnings)
			}
		}},
		{name: "timestamp going backwards continues", build: func(sc *scen) {
			l := newLeg(1, true)
			for k := range 20 {
				var off uint32
				if k >= 10 {
					off = math.MaxUint32 - 3199 // 400 ms back, with capture continuing
				}
				sc.audio(l, k, off, time.Duration(k)*20*ms, 0, 160*k)
			}
		}, check: func(t *testing.T, a *Analysis) {
			if s := stat(t, a, 0); s.Resyncs != 0 || s.GapMS != 0 || a.Samples != 20*160 {
				t.Errorf("stats %+v samples %d", s, a.Samples)
			}
		}},
		{name: "sequence restart", build: func(sc *scen) {
			l := newLeg(1, true)
			for k := range 40 {
				at, pos := time.Duration(k)*20*ms, 160*k
				if k == 20 {
					pos = -1 // first packet after the jump is held on probation and dropped
				}
				sc.audio(l, k, 0, at, 0, pos)
				if k == 19 {
					l.seq0 += 30000
				}
			}
		}, check: func(t *testing.T, a *Analysis) {
			if s := stat(t, a, 0); s.Late != 1 || s.Lost != 0 || s.GapMS != 20 {
				t.Errorf("stats %+v", s)
			}
		}},
		{name: "overlapping streams on one side: first write wins", build: func(sc *scen) {
			l1, l2 := newLeg(1, true), newLeg(2, true)
			l2.ts0 = 77
			sc.firstWins = true // expectations are added in capture order
			for k := range 30 {
				sc.audio(l1, k, 0, time.Duration(k)*20*ms, 0, 160*k)
				sc.audio(l2, k, 0, time.Duration(k)*20*ms+ms, 0, 8+160*k)
			}
		}, check: func(t *testing.T, a *Analysis) {
			if len(a.Streams) != 2 || a.Streams[1].Direction != Local || a.Samples != 8+30*160 {
				t.Errorf("streams %+v samples %d", a.Streams, a.Samples)
			}
		}},
		{name: "non-RTP and RTCP ignored", build: func(sc *scen) {
			l := newLeg(1, true)
			for k := range 10 {
				sc.audio(l, k, 0, time.Duration(k)*20*ms, 0, 160*k)
				sc.add(time.Duration(k)*20*ms, "192.168.1.10:16387", "192.168.1.20:40001",
					[]byte{0x80, 200, 0, 6, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
				sc.add(time.Duration(k)*20*ms, "192.168.1.10:9", "192.168.1.20:9", []byte("hello world, not rtp"))
			}
		}, check: func(t *testing.T, a *Analysis) {
			if a.RTCP != 10 || a.NonRTP != 10 || len(a.Streams) != 1 {
				t.Errorf("rtcp %d nonrtp %d streams %d", a.RTCP, a.NonRTP, len(a.Streams))
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc := newScen(t)
			c.build(sc)
			a, err := Analyze(sc.source(), c.opt)
			if err != nil {
				t.Fatalf("Analyze: %v", err)
			}
			c.check(t, a)
			got := render(t, a, sc.source())
			again := render(t, a, sc.source())
			for ch := range 2 {
				if !slices.Equal(got[ch], again[ch]) {
					t.Fatalf("channel %d differs between two renders", ch)
				}
			}
			compare(t, sc, got)
		})
	}
}

// compare checks every sample: expected audio exactly, noise regions within
// their amplitude and not silent, everything else silent.
func compare(t *testing.T, sc *scen, got [2][]int16) {
	t.Helper()
	for ch := range 2 {
		inNoise := func(i int) *noiseRegion {
			for k := range sc.noise {
				if n := &sc.noise[k]; n.ch == ch && i >= n.from && i < n.to {
					return n
				}
			}
			return nil
		}
		for p := range sc.exp[ch] {
			if p >= len(got[ch]) {
				t.Fatalf("channel %d: expected sample at %d beyond the timeline (%d)", ch, p, len(got[ch]))
			}
		}
		nonzero := make(map[*noiseRegion]int)
		for i, v := range got[ch] {
			if n := inNoise(i); n != nil {
				if int(v) > n.amp || int(v) < -n.amp {
					t.Fatalf("channel %d sample %d: noise %d beyond ±%d", ch, i, v, n.amp)
				}
				if v != 0 {
					nonzero[n]++
				}
				continue
			}
			want := sc.exp[ch][i]
			if v != want {
				t.Fatalf("channel %d sample %d: got %d, want %d", ch, i, v, want)
			}
		}
		for k := range sc.noise {
			if n := &sc.noise[k]; n.ch == ch && nonzero[n] < (n.to-n.from)*8/10 {
				t.Errorf("channel %d noise %d..%d: only %d non-zero samples", ch, n.from, n.to, nonzero[n])
			}
		}
	}
}

func TestSync(t *testing.T) {
	// Both sides start a tone at capture time 1 s; the streams start at
	// different times with unrelated timestamps.
	sc := newScen(t)
	l, r := newLeg(1, true), newLeg(2, false)
	l.ts0, r.ts0 = 12345, 3_000_000_000
	tone := func(lg *leg, k int, at time.Duration) []byte {
		p := make([]byte, 160)
		for i := range p {
			tt := at + time.Duration(i)*time.Second/8000
			v := 0.0
			if tt >= time.Second {
				v = 8000 * math.Sin(2*math.Pi*1000*tt.Seconds())
			}
			p[i] = alawEncode(int16(v))
		}
		return p
	}
	for k := range 100 {
		at := time.Duration(k) * 20 * ms
		sc.add(at, l.src, l.dst, rtpBytes(t, l.seq0+uint16(k), l.ts0+uint32(160*k), l.ssrc, 8, false, tone(l, k, at)))
		if at >= 300*ms {
			j := k - 15
			sc.add(at+2*ms, r.src, r.dst, rtpBytes(t, r.seq0+uint16(j), r.ts0+uint32(160*j), r.ssrc, 8, false, tone(r, j, at)))
		}
	}
	a, err := Analyze(sc.source(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := render(t, a, sc.source())
	onset := func(s []int16) int {
		for i, v := range s {
			if v > 1000 || v < -1000 {
				return i
			}
		}
		return -1
	}
	lo, ro := onset(got[0]), onset(got[1])
	if lo < 8000-160 || lo > 8000+160 || ro < lo-160 || ro > lo+160 {
		t.Fatalf("tone onset left %d right %d, want both 8000 ± 160", lo, ro)
	}
}

func TestMixedRates(t *testing.T) {
	// One side with a 16 kHz decoder (8 kHz RTP clock, like G.722), the
	// other G.711: the output is 16 kHz and the G.711 side is interpolated.
	sc := newScen(t)
	sc.add(0, "192.168.1.10:5060", "192.168.1.20:5060", sip("v=0\r\nm=audio 16386 RTP/AVP 96\r\na=rtpmap:96 W16/8000\r\n"))
	l, r := newLeg(1, true), newLeg(2, false)
	dc := alawEncode(4000)
	for k := range 50 {
		at := time.Duration(k) * 20 * ms
		p := make([]byte, 160)
		for i := range p {
			p[i] = byte(k + i)
		}
		sc.add(at, l.src, l.dst, rtpBytes(t, l.seq0+uint16(k), l.ts0+uint32(160*k), l.ssrc, 96, false, p))
		for i := range p {
			p[i] = dc
		}
		sc.add(at, r.src, r.dst, rtpBytes(t, r.seq0+uint16(k), r.ts0+uint32(160*k), r.ssrc, 8, false, p))
	}
	a, err := Analyze(sc.source(), wideOpt())
	if err != nil {
		t.Fatal(err)
	}
	if a.SampleRate != 16000 || a.Samples != 50*320 {
		t.Fatalf("rate %d samples %d", a.SampleRate, a.Samples)
	}
	got := render(t, a, sc.source())
	for k := range 50 {
		for i := range 320 {
			if want := int16(100 * ((k + i/2) & 0xff)); got[0][k*320+i] != want {
				t.Fatalf("left sample %d: got %d want %d", k*320+i, got[0][k*320+i], want)
			}
		}
	}
	var dcv [1]int16
	if _, err := codec.NewPCMA().Decode(dcv[:], []byte{dc}); err != nil {
		t.Fatal(err)
	}
	for i := 100; i < 50*320-100; i++ { // away from the edges the DC level is exact
		if d := int(got[1][i]) - int(dcv[0]); d < -1 || d > 1 {
			t.Fatalf("right sample %d: got %d want %d", i, got[1][i], dcv[0])
		}
	}
}

// wide16 is a fake 16 kHz codec: each byte b decodes to two samples 100*b.
type wide16 struct{}

func (*wide16) Name() string         { return "W16" }
func (*wide16) SampleRate() int      { return 16000 }
func (*wide16) ClockRate() int       { return 8000 }
func (*wide16) FrameSamples() int    { return 320 }
func (*wide16) MaxSamples(n int) int { return 2 * n }
func (*wide16) Reset()               {}
func (*wide16) Decode(dst []int16, p []byte) (int, error) {
	if len(dst) < 2*len(p) {
		return 0, codec.ErrShortBuffer
	}
	for i, b := range p {
		dst[2*i], dst[2*i+1] = int16(100*int(b)), int16(100*int(b))
	}
	return 2 * len(p), nil
}
func (*wide16) Conceal(dst []int16) (int, error) {
	if len(dst) < 320 {
		return 0, codec.ErrShortBuffer
	}
	clear(dst[:320])
	return 320, nil
}

func TestErrors(t *testing.T) {
	l := newLeg(1, true)
	for _, c := range []struct {
		name    string
		build   func(sc *scen)
		is      error
		message string
	}{
		{"no packets", func(sc *scen) {}, ErrNoRTP, "no RTP audio in capture"},
		{"only junk", func(sc *scen) {
			sc.add(0, "1.2.3.4:5", "5.6.7.8:9", []byte("junk"))
			sc.add(0, "1.2.3.4:5", "5.6.7.8:9", sip("v=0\r\n"))
		}, ErrNoRTP, "no RTP audio in capture"},
		{"opus", func(sc *scen) {
			sc.add(0, "1.2.3.4:5060", "5.6.7.8:5060", sip("m=audio 16386 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n"))
			l2 := *l
			l2.pt = 111
			sc.audio(&l2, 0, 0, 0, 0, -1)
		}, ErrUnsupportedCodec, "unsupported codec opus"},
		{"dynamic without rtpmap", func(sc *scen) {
			l2 := *l
			l2.pt = 120
			sc.audio(&l2, 0, 0, 0, 0, -1)
		}, ErrUnsupportedCodec, "unsupported codec payload type 120"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sc := newScen(t)
			c.build(sc)
			_, err := Analyze(sc.source(), Options{})
			if !errors.Is(err, c.is) || err.Error() != c.message {
				t.Fatalf("err = %v, want %q", err, c.message)
			}
			if c.is == ErrUnsupportedCodec && !errors.Is(err, codec.ErrUnsupported) {
				t.Fatalf("err %v does not wrap codec.ErrUnsupported", err)
			}
		})
	}
}

func TestTruncatedCapture(t *testing.T) {
	sc := newScen(t)
	l := newLeg(1, true)
	for k := range 20 {
		sc.audio(l, k, 0, time.Duration(k)*20*ms, 0, 160*k)
	}
	cut := errors.New("unexpected end of pcap")
	src := sc.source()
	src.err = cut
	a, err := Analyze(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(a.Warnings, ";"), "unexpected end of pcap") {
		t.Fatalf("warnings %q", a.Warnings)
	}
	src = sc.source()
	src.err = cut
	got := render(t, a, src)
	compare(t, sc, got)
	// A second pass that fails earlier than the first is an error, after a full-length output.
	src = sc.source()
	src.pkts, src.err = src.pkts[:5], cut
	var k sliceSink
	if err := a.Render(src, &k); !errors.Is(err, cut) || int64(len(k.s)) != 2*a.Samples {
		t.Fatalf("early failure: err %v, %d frames", err, len(k.s)/2)
	}
}

func TestMaxDuration(t *testing.T) {
	sc := newScen(t)
	l := newLeg(1, true)
	for k := range 100 {
		sc.audio(l, k, 0, time.Duration(k)*20*ms, 0, 160*k)
	}
	a, err := Analyze(sc.source(), Options{MaxDuration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if a.Samples != 8000 || a.DurationMS() != 1000 {
		t.Fatalf("samples %d", a.Samples)
	}
	got := render(t, a, sc.source())
	for i := range 8000 {
		if got[0][i] != sc.exp[0][i] {
			t.Fatalf("sample %d", i)
		}
	}
}

func TestDirections(t *testing.T) {
	mk := func(src, dst string) *stream {
		return &stream{key: streamKey{src: ap(src), dst: ap(dst)}, audio: 1}
	}
	for _, c := range []struct {
		name    string
		streams []*stream
		want    []int
	}{
		{"innovaphone ports", []*stream{mk("1.1.1.1:30000", "2.2.2.2:16388"), mk("2.2.2.2:16386", "1.1.1.1:30000")}, []int{1, 0}},
		{"both send from 16386", []*stream{mk("1.1.1.1:16386", "2.2.2.2:16386"), mk("2.2.2.2:16386", "1.1.1.1:16386")}, []int{0, 1}},
		{"new SSRC on the same ports", []*stream{mk("1.1.1.1:5000", "2.2.2.2:6000"), mk("2.2.2.2:6000", "1.1.1.1:5000"), mk("1.1.1.1:5000", "2.2.2.2:6000")}, []int{0, 1, 0}},
		{"unrelated third stream takes the free side", []*stream{mk("1.1.1.1:5000", "2.2.2.2:6000"), mk("3.3.3.3:1", "4.4.4.4:2")}, []int{0, 1}},
		{"non-audio streams get no side", []*stream{{key: streamKey{src: ap("1.1.1.1:16386"), dst: ap("2.2.2.2:1")}}, mk("1.1.1.1:5000", "2.2.2.2:6000")}, []int{-1, 0}},
	} {
		if got := assignDirections(c.streams); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v want %v", c.name, got, c.want)
		}
	}
}

// failingSink fails every write after the first n frames.
type failingSink struct {
	n, frames int
	calls     int
}

var errSinkFull = errors.New("sink full")

func (f *failingSink) WriteFrames(s []int16) error {
	f.calls++
	if f.frames += len(s) / 2; f.frames > f.n {
		return errSinkFull
	}
	return nil
}

// TestEmitStopsAtSinkError: once the sink fails (a range's window is done,
// the client went away), emit sends nothing more and leaves the rest of
// the ring as it is instead of clearing it chunk by chunk up to the end
// of the timeline, which cost a resumed range the clearing of hours of
// audio after its last byte.
func TestEmitStopsAtSinkError(t *testing.T) {
	t.Parallel()
	const size, total = 4 * emitChunk, 1 << 30
	sink := &failingSink{n: emitChunk}
	tl := newTimeline(size, total, sink)
	for pos := int64(0); pos < size; pos += 160 {
		tl.write(0, pos, slices.Repeat([]int16{7}, 160))
	}
	tl.emit(total)
	if !errors.Is(tl.err, errSinkFull) || tl.flushed != total {
		t.Fatalf("after the sink failed: err %v, flushed %d of %d", tl.err, tl.flushed, total)
	}
	if sink.calls != 2 {
		t.Fatalf("%d writes to the sink, want 2 (the second failing)", sink.calls)
	}
	// The chunks after the failing one were neither sent nor cleared.
	for i := 2 * emitChunk; i < size; i++ {
		if tl.buf[2*i] != 7 {
			t.Fatalf("frame %d of the ring cleared after the sink failed", i)
		}
	}
}
