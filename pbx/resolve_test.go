package pbx

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// Device MACs of the test PBX. The gateway's MAC is the srv_id of the gateway samples.
const (
	macA       = "009033000a0a"
	macB       = "009033000b0b"
	macAnna    = "009033000001"
	macCarla   = "009033000003"
	macGateway = "009033060014"
)

func testDirectory() *StaticDirectory {
	return NewStaticDirectory([]User{
		{Name: "a", Number: "100"}, {Name: "b", Number: "101"},
		{Name: "anna", Number: "100", DisplayName: "Anna Alt"},
		{Name: "Ben", Number: "101"}, // directory spelling differs in case from the PBX's "ben"
		{Name: "carla", Number: "102"}, {Name: "dave", Number: "104"}, {Name: "erik", Number: "105"},
	}, map[string]string{
		"00:90:33:00:0a:0a": "a", "00-90-33-00-0B-0B": "b", macAnna: "anna", macCarla: "carla",
	})
}

func recording(t testing.TB, conf, mac, reg string) FileName {
	t.Helper()
	name := conf + "-" + mac + "-7"
	if reg != "" {
		name += "--" + reg
	}
	f, err := ParseFileName(name + ".pcap")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func readGateway(t testing.TB, name string) []GatewayCDR {
	t.Helper()
	b, err := os.ReadFile("testdata/gateway/" + name)
	if err != nil {
		t.Fatal(err)
	}
	g, err := ParseGatewayCDR(b)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// only keeps the records of cdrs whose h323 is listed (a partial CDR delivery).
func only(cdrs []CDR, h323 ...string) []CDR {
	var out []CDR
	for _, c := range cdrs {
		for _, h := range h323 {
			if c.H323 == h {
				out = append(out, c)
			}
		}
	}
	return out
}

// withDir returns copies of cdrs with the dir attribute replaced.
func withDir(cdrs []CDR, dir string) []CDR {
	out := append([]CDR(nil), cdrs...)
	for i := range out {
		out[i].Dir = dir
	}
	return out
}

func unix(s int64) time.Time { return time.Unix(s, 0).UTC() }

func TestResolve(t *testing.T) {
	const (
		confInternal = "e89277f0e909d31192e80090331032dd"
		confOut      = "c1c1c1c1e909d31192e80090331032dd"
		confIn       = "c2c2c2c2e909d31192e80090331032dd"
		confQueue    = "c3c3c3c3e909d31192e80090331032dd"
		confX        = "aaaa0000e909d31192e80090331032dd"
		confY        = "bbbb0000e909d31192e80090331032dd"
		confS1       = "453b6335e909d311b89e009033060014"
	)
	internal := readCDRs(t, "internal.xml")
	trunkOut := readCDRs(t, "trunk-out.xml")
	trunkIn := readCDRs(t, "trunk-in.xml")
	waiting := readCDRs(t, "waiting.xml")
	transfer := readCDRs(t, "transfer.xml")
	all := append(append(append(append(append([]CDR{}, internal...), trunkOut...), trunkIn...), waiting...), transfer...)

	for _, tc := range []struct {
		name string
		rec  FileName
		cdrs []CDR
		gw   []GatewayCDR
		dir  Directory
		want CallInfo
	}{
		{
			name: "phone by reg name, outgoing internal",
			rec:  recording(t, confInternal, macA, "a"), cdrs: internal, dir: testDirectory(),
			want: CallInfo{Matched: true, MatchedCDRs: 2, Owner: "a", OwnerKnown: true, OwnerSource: OwnerByRegName,
				Direction: DirOut, PeerName: "b", PeerNumber: "101",
				StartedAt: unix(1272551262), ConnectedAt: unix(1272551264), CallDuration: 2 * time.Second},
		},
		{
			name: "phone by MAC, incoming internal",
			rec:  recording(t, strings.ToUpper(confInternal), strings.ToUpper(macB), ""), cdrs: internal, dir: testDirectory(),
			want: CallInfo{Matched: true, MatchedCDRs: 2, Owner: "b", OwnerKnown: true, OwnerSource: OwnerByMAC,
				Direction: DirIn, PeerName: "a", PeerNumber: "100",
				StartedAt: unix(1272551262), ConnectedAt: unix(1272551264), CallDuration: 2 * time.Second},
		},
		{
			name: "reg name beats MAC",
			rec:  recording(t, confInternal, macB, "a"), cdrs: internal, dir: testDirectory(),
			want: CallInfo{Matched: true, MatchedCDRs: 2, Owner: "a", OwnerKnown: true, OwnerSource: OwnerByRegName,
				Direction: DirOut, PeerName: "b", PeerNumber: "101",
				StartedAt: unix(1272551262), ConnectedAt: unix(1272551264), CallDuration: 2 * time.Second},
		},
		{
			name: "unknown reg name falls back to MAC",
			rec:  recording(t, confInternal, macB, "guest"), cdrs: internal, dir: testDirectory(),
			want: CallInfo{Matched: true, MatchedCDRs: 2, Owner: "b", OwnerKnown: true, OwnerSource: OwnerByMAC,
				Direction: DirIn, PeerName: "a", PeerNumber: "100",
				StartedAt: unix(1272551262), ConnectedAt: unix(1272551264), CallDuration: 2 * time.Second},
		},
		{
			name: "no directory: reg name is a user object of the call",
			rec:  recording(t, confInternal, macB, "b"), cdrs: internal, dir: nil,
			want: CallInfo{Matched: true, MatchedCDRs: 2, Owner: "b", OwnerSource: OwnerByCDR,
				Direction: DirIn, PeerName: "a", PeerNumber: "100",
				StartedAt: unix(1272551262), ConnectedAt: unix(1272551264), CallDuration: 2 * time.Second},
		},
		{
			name: "trunk recording, outgoing: initiating user",
			rec:  recording(t, confOut, macGateway, "TRUNK"), cdrs: all, dir: testDirectory(),
			want: CallInfo{Matched: true, MatchedCDRs: 2, Owner: "anna", OwnerKnown: true, OwnerSource: OwnerTrunkOut,
				Direction: DirOut, PeerName: "Kunde GmbH", PeerNumber: "007031123456",
				StartedAt: unix(1700000000), ConnectedAt: unix(1700000009), CallDuration: 60 * time.Second},
		},
		{
			name: "trunk recording, outgoing, only the trunk's CDR",
			rec:  recording(t, confOut, macGateway, ""), cdrs: only(trunkOut, "TRUNK"), dir: testDirectory(),
			want: CallInfo{Matched: true, MatchedCDRs: 1, Owner: "anna", OwnerKnown: true, OwnerSource: OwnerTrunkOut,
				Direction: DirOut,
				StartedAt: unix(1700000000), ConnectedAt: unix(1700000009), CallDuration: 60 * time.Second},
		},
		{
			name: "trunk record with dir=cf starting with setup-to counts as outgoing",
			rec:  recording(t, confOut, macGateway, ""), cdrs: withDir(only(trunkOut, "TRUNK"), "cf"), dir: testDirectory(),
			want: CallInfo{Matched: true, MatchedCDRs: 1, Owner: "anna", OwnerKnown: true, OwnerSource: OwnerTrunkOut,
				Direction: DirOut,
				StartedAt: unix(1700000000), ConnectedAt: unix(1700000009), CallDuration: 60 * time.Second},
		},
		{
			name: "trunk recording, incoming: first user who answered, not the later transfer target",
			rec:  recording(t, confIn, macGateway, "TRUNK"), cdrs: all, dir: testDirectory(),
			want: CallInfo{Matched: true, MatchedCDRs: 4, Owner: "carla", OwnerKnown: true, OwnerSource: OwnerTrunkIn,
				Direction: DirIn, PeerName: "Caller", PeerNumber: "07031999888",
				StartedAt: unix(1700001000), ConnectedAt: unix(1700001005), CallDuration: 25 * time.Second},
		},
		{
			name: "trunk recording, incoming, only the trunk's CDR",
			rec:  recording(t, confIn, macGateway, ""), cdrs: only(trunkIn, "TRUNK"), dir: nil,
			want: CallInfo{Matched: true, MatchedCDRs: 1, Owner: "carla", OwnerSource: OwnerTrunkIn,
				Direction: DirIn,
				StartedAt: unix(1700001000), ConnectedAt: unix(1700001005), CallDuration: 95 * time.Second},
		},
		{
			name: "trunk recording, incoming, ringing user only",
			rec:  recording(t, confIn, macGateway, ""), cdrs: only(trunkIn, "ben"), dir: testDirectory(),
			want: CallInfo{Matched: true, MatchedCDRs: 1, StartedAt: unix(1700001000)},
		},
		{
			name: "waiting queue recording: agent who answered",
			rec:  recording(t, confQueue, macGateway, "sales"), cdrs: all, dir: testDirectory(),
			want: CallInfo{Matched: true, MatchedCDRs: 3, Owner: "erik", OwnerKnown: true, OwnerSource: OwnerWaiting,
				Direction: DirIn, PeerName: "Interessent", PeerNumber: "07031555666",
				StartedAt: unix(1700002015), ConnectedAt: unix(1700002020), CallDuration: 60 * time.Second},
		},
		{
			name: "trunk recording of a queued call: the agent, not the queue",
			rec:  recording(t, confQueue, macGateway, "TRUNK"), cdrs: waiting, dir: testDirectory(),
			want: CallInfo{Matched: true, MatchedCDRs: 3, Owner: "erik", OwnerKnown: true, OwnerSource: OwnerTrunkIn,
				Direction: DirIn, PeerName: "Interessent", PeerNumber: "07031555666",
				StartedAt: unix(1700002015), ConnectedAt: unix(1700002020), CallDuration: 60 * time.Second},
		},
		{
			name: "queued call, agent's CDR missing: trunk's connect after the queue",
			rec:  recording(t, confQueue, macGateway, "TRUNK"), cdrs: only(waiting, "TRUNK", "sales"), dir: testDirectory(),
			want: CallInfo{Matched: true, MatchedCDRs: 2, Owner: "erik", OwnerKnown: true, OwnerSource: OwnerTrunkIn,
				Direction: DirIn,
				StartedAt: unix(1700002000), ConnectedAt: unix(1700002000), CallDuration: 80 * time.Second},
		},
		{
			name: "transfer: transferred party before the transfer",
			rec:  recording(t, confX, macAnna, "anna"), cdrs: transfer, dir: testDirectory(),
			want: CallInfo{Matched: true, MatchedCDRs: 2, Owner: "anna", OwnerKnown: true, OwnerSource: OwnerByRegName,
				Direction: DirOut, PeerName: "Ben Berg", PeerNumber: "101",
				StartedAt: unix(1700003000), ConnectedAt: unix(1700003003), CallDuration: 17 * time.Second},
		},
		{
			name: "transfer: conf id change, new conference matches a later event",
			rec:  recording(t, confY, macAnna, "anna"), cdrs: transfer, dir: testDirectory(),
			want: CallInfo{Matched: true, MatchedCDRs: 3, Owner: "anna", OwnerKnown: true, OwnerSource: OwnerByRegName,
				Direction: DirOut, PeerName: "Carla Cruz", PeerNumber: "102",
				StartedAt: unix(1700003020), ConnectedAt: unix(1700003020), CallDuration: 30 * time.Second},
		},
		{
			name: "transfer: transferring user's consultation call",
			rec:  recording(t, confY, macB, "ben"), cdrs: transfer, dir: testDirectory(),
			want: CallInfo{Matched: true, MatchedCDRs: 3, Owner: "Ben", OwnerKnown: true, OwnerSource: OwnerByRegName,
				Direction: DirOut, PeerName: "Carla Cruz", PeerNumber: "102",
				StartedAt: unix(1700003010), ConnectedAt: unix(1700003014), CallDuration: 6 * time.Second},
		},
		{
			name: "transfer: transferring user's first call",
			rec:  recording(t, confX, macB, "ben"), cdrs: transfer, dir: testDirectory(),
			want: CallInfo{Matched: true, MatchedCDRs: 2, Owner: "Ben", OwnerKnown: true, OwnerSource: OwnerByRegName,
				Direction: DirIn, PeerName: "Anna Alt", PeerNumber: "100",
				StartedAt: unix(1700003000), ConnectedAt: unix(1700003003), CallDuration: 17 * time.Second},
		},
		{
			name: "transfer: transfer target",
			rec:  recording(t, confY, macCarla, ""), cdrs: transfer, dir: testDirectory(),
			want: CallInfo{Matched: true, MatchedCDRs: 3, Owner: "carla", OwnerKnown: true, OwnerSource: OwnerByMAC,
				Direction: DirIn, PeerName: "Ben Berg", PeerNumber: "101",
				StartedAt: unix(1700003010), ConnectedAt: unix(1700003014), CallDuration: 36 * time.Second},
		},
		{
			name: "no matching CDR: owner from the file name only",
			rec:  recording(t, "0123456789abcdef0123456789abcdef", macAnna, "anna"), cdrs: all, dir: testDirectory(),
			want: CallInfo{Owner: "anna", OwnerKnown: true, OwnerSource: OwnerByRegName},
		},
		{
			name: "no matching CDR, unknown device",
			rec:  recording(t, "0123456789abcdef0123456789abcdef", "0090330fffff", ""), cdrs: all, dir: testDirectory(),
			want: CallInfo{},
		},
		{
			name: "gateway CDRs only (sample s1): incoming TEL1 to GW1",
			rec:  recording(t, confS1, macGateway, ""), gw: readGateway(t, "s1.txt"), dir: testDirectory(),
			want: CallInfo{Matched: true, MatchedGateway: 8, Direction: DirIn, PeerNumber: "070317300932",
				StartedAt:   time.Date(1970, 1, 1, 0, 14, 36, 0, time.UTC),
				ConnectedAt: time.Date(1970, 1, 1, 0, 14, 39, 0, time.UTC), CallDuration: 4 * time.Second},
		},
		{
			name: "gateway CDRs only (sample s5): two calls share the ref, the first is described",
			rec:  recording(t, "d8fe8305e909d311b89e009033060014", macGateway, ""), gw: readGateway(t, "s5.txt"), dir: nil,
			want: CallInfo{Matched: true, MatchedGateway: 17, Direction: DirIn, PeerNumber: "070317300932",
				StartedAt:   time.Date(1970, 1, 1, 0, 31, 5, 0, time.UTC),
				ConnectedAt: time.Date(1970, 1, 1, 0, 31, 25, 0, time.UTC), CallDuration: 4 * time.Second},
		},
		{
			name: "gateway CDRs only (sample s12): transferred call, disc_time wins",
			rec:  recording(t, "8767257ce909d311b89e009033060014", macGateway, ""), gw: readGateway(t, "s12.txt"), dir: nil,
			want: CallInfo{Matched: true, MatchedGateway: 9, Direction: DirIn, PeerNumber: "070317300932",
				StartedAt:   time.Date(1970, 1, 1, 15, 16, 39, 0, time.UTC),
				ConnectedAt: time.Date(1970, 1, 1, 15, 16, 45, 0, time.UTC), CallDuration: 6 * time.Second},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Resolve(tc.rec, tc.cdrs, tc.gw, tc.dir)
			if err != nil {
				t.Fatal(err)
			}
			tc.want.ConfID = tc.rec.ConfID
			if got != tc.want {
				t.Fatalf("\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// Newer firmware reports the call after a transfer with msg="connected" and the new party in
// a <to> child; a conference change on the transfer event starts the new conference there.
func TestResolveConnectedAfterTransfer(t *testing.T) {
	const x, y = "dddd0000e909d31192e80090331032dd", "eeee0000e909d31192e80090331032dd"
	cdrs, err := ParseCDRs([]byte(`<cdr id="df052c5c1ee56701d7240090334209f2" guid="782104b809e56701904d0090334209f2" seq="17" sys="example.com" pbx="master" node="root" device="a" cn="A" e164="201" h323="a" dir="from" utc="1743068764" local="1743072364">
<user/>
<event msg="setup-from" time="130" e164="202" conf="` + x + `"/>
<event msg="alert-to" time="130" e164="202" dn="B" h323="b"/>
<event msg="conn-to" time="135" e164="202" dn="B" h323="b"/>
<event msg="transfer-to" time="160" e164="202" dn="B" h323="b" conf="` + y + `"><to e164="203" dn="C" h323="c"/></event>
<event msg="connected" time="161" e164="203" dn="C" h323="c"/>
<event msg="rel-to" time="170" e164="203" dn="C" h323="c"/>
</cdr>`))
	if err != nil {
		t.Fatal(err)
	}
	if cdrs[0].ID != "df052c5c1ee56701d7240090334209f2" {
		t.Errorf("id %q", cdrs[0].ID)
	}
	got, err := Resolve(recording(t, y, macA, "a"), cdrs, nil, testDirectory())
	if err != nil {
		t.Fatal(err)
	}
	want := CallInfo{ConfID: y, Matched: true, MatchedCDRs: 1, Owner: "a", OwnerKnown: true, OwnerSource: OwnerByRegName,
		Direction: DirOut, PeerName: "C", PeerNumber: "203",
		StartedAt: unix(1743068764 + 160), ConnectedAt: unix(1743068764 + 161), CallDuration: 9 * time.Second}
	if got != want {
		t.Fatalf("\n got %+v\nwant %+v", got, want)
	}
	got, err = Resolve(recording(t, x, macA, "a"), cdrs, nil, testDirectory())
	if err != nil {
		t.Fatal(err)
	}
	if got.PeerName != "B" || got.CallDuration != 25*time.Second || got.ConnectedAt != unix(1743068764+135) {
		t.Fatalf("first conference: %+v", got)
	}
}

func TestResolveRecordWithoutConf(t *testing.T) {
	cdrs, err := ParseCDRs([]byte(`<cdr h323="a" dir="from" utc="5"><user/><event msg="setup-from" time="0"/><event msg="conn-to" time="1" h323="b"/></cdr>`))
	if err != nil {
		t.Fatal(err)
	}
	// Even a recording with an all-zero conference id must not match a record without conf.
	for _, conf := range []string{"00000000000000000000000000000000", "e89277f0e909d31192e80090331032dd"} {
		got, err := Resolve(recording(t, conf, macA, "a"), cdrs, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got.Matched || got.MatchedCDRs != 0 || !got.ConnectedAt.IsZero() {
			t.Fatalf("%s: %+v", conf, got)
		}
	}
	got, err := Resolve(FileName{}, cdrs, []GatewayCDR{{Event: "A:Call"}}, nil)
	if err != nil || got.Matched {
		t.Fatalf("empty conf id matched: %+v %v", got, err)
	}
}

type failingDirectory struct{ err error }

func (d failingDirectory) UserByName(string) (User, bool, error) { return User{}, false, d.err }
func (d failingDirectory) UserByMAC(string) (User, bool, error)  { return User{}, false, d.err }

func TestResolveDirectoryError(t *testing.T) {
	boom := errors.New("database is locked")
	for _, reg := range []string{"a", ""} {
		_, err := Resolve(recording(t, "e89277f0e909d31192e80090331032dd", macA, reg), readCDRs(t, "internal.xml"), nil, failingDirectory{boom})
		if !errors.Is(err, boom) {
			t.Fatalf("reg %q: error %v, want wrapped %v", reg, err, boom)
		}
	}
}

func TestStaticDirectory(t *testing.T) {
	d := testDirectory()
	for _, mac := range []string{"009033000a0a", "00:90:33:00:0A:0A", "00-90-33-00-0a-0a"} {
		if u, ok, _ := d.UserByMAC(mac); !ok || u.Name != "a" {
			t.Errorf("UserByMAC(%q) = %v %v", mac, u, ok)
		}
	}
	if u, ok, _ := d.UserByName("BEN"); !ok || u.Name != "Ben" {
		t.Errorf("UserByName(BEN) = %v %v", u, ok)
	}
	if _, ok, _ := d.UserByName(""); ok {
		t.Error("empty name found")
	}
	if _, ok, _ := NewStaticDirectory(nil, map[string]string{macA: "ghost"}).UserByMAC(macA); ok {
		t.Error("MAC of an unknown user found")
	}
}

func BenchmarkResolve(b *testing.B) {
	var cdrs []CDR
	for _, n := range []string{"internal.xml", "trunk-out.xml", "trunk-in.xml", "waiting.xml", "transfer.xml"} {
		cdrs = append(cdrs, readCDRs(b, n)...)
	}
	rec := recording(b, "c2c2c2c2e909d31192e80090331032dd", macGateway, "TRUNK")
	dir := testDirectory()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Resolve(rec, cdrs, nil, dir); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzResolve feeds arbitrary CDR XML (and a gateway record) through Resolve: it must never
// panic and must only report matches for records that name the conference.
func FuzzResolve(f *testing.F) {
	for _, n := range []string{"trunk-in.xml", "waiting.xml", "transfer.xml"} {
		b, err := os.ReadFile("testdata/cdr/" + n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "c2c2c2c2e909d31192e80090331032dd", "TRUNK", "event=B:Connect&ref=c2c2c2c2e909d31192e80090331032dd&connect_time=3&src_if=TEL1")
	}
	f.Add([]byte(`<cdr dir="ct" utc="9"><user pseudo="waiting"/><event msg="conn-to" time="-5" conf="bbbb0000e909d31192e80090331032dd"/><event msg="rel-to" time="-99"/></cdr>`),
		"bbbb0000e909d31192e80090331032dd", "", "event=A:Call")
	f.Fuzz(func(t *testing.T, body []byte, conf, reg, gwq string) {
		cdrs, err := ParseCDRs(body)
		if err != nil {
			return
		}
		gw, _ := ParseGatewayCDR([]byte(gwq))
		rec := FileName{ConfID: strings.ToLower(conf), MAC: macA, Serial: "1", RegName: reg}
		info, err := Resolve(rec, cdrs, gw, testDirectory())
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for i := range cdrs {
			if rec.ConfID != "" && cdrs[i].HasConf(rec.ConfID) {
				n++
			}
		}
		if info.MatchedCDRs != n {
			t.Fatalf("MatchedCDRs %d, want %d", info.MatchedCDRs, n)
		}
		if info.CallDuration < 0 {
			t.Fatalf("negative duration %v", info.CallDuration)
		}
		if info.Owner == "" && info.OwnerSource != OwnerNone {
			t.Fatalf("source %q without owner", info.OwnerSource)
		}
	})
}
