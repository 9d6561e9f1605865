package calls

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"recordings/events"
	"recordings/pbx"
	"recordings/settings"
	"recordings/store"
)

func openDB(t testing.TB, now func() time.Time) *store.DB {
	t.Helper()
	db, err := store.OpenOptions(context.Background(), filepath.Join(t.TempDir(), "rec.db"),
		slog.New(slog.DiscardHandler), store.Options{BcryptCost: 4, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func testXML(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "pbx", "testdata", "cdr", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func begin(t testing.TB, db *store.DB, name string) int64 {
	t.Helper()
	fn, err := pbx.ParseFileName(name)
	if err != nil {
		t.Fatal(err)
	}
	id, _, err := db.BeginUpload(context.Background(), "d", name,
		store.FileName{ConfID: fn.ConfID, MAC: fn.MAC, Serial: fn.Serial, RegName: fn.RegName}, fn.RegName)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// A CDR and an upload of the same call racing each other always end with
// the CDR attached, whichever wins.
func TestConcurrentCDRAndUpload(t *testing.T) {
	t.Parallel()
	xml := testXML(t, "trunk-in.xml")
	for i := range 20 {
		t.Run(fmt.Sprint("round ", i), func(t *testing.T) {
			t.Parallel()
			cdrAndUploadRound(t, xml, i)
		})
	}
}

// cdrAndUploadRound races one CDR against the upload it belongs to, on a
// fresh database.
func cdrAndUploadRound(t *testing.T, xml []byte, i int) {
	db := openDB(t, nil)
	if _, err := db.CreateUser(context.Background(), store.User{Name: "carla"}, ""); err != nil {
		t.Fatal(err)
	}
	var changes sync.Map
	var broker events.Broker
	broker.Subscribe(func(ev events.Recording) {
		if ev.Kind == events.CDRAttached {
			changes.Store(ev.ID, true)
		}
	})
	m := New(db, nil, Options{Events: &broker})
	var wg sync.WaitGroup
	var id int64
	wg.Add(2)
	go func() {
		defer wg.Done()
		id = begin(t, db, fmt.Sprintf("c2c2c2c2e909d31192e80090331032dd-009033060014-%d--TRUNK.pcap", i))
		m.Attach(context.Background(), id)
	}()
	go func() {
		defer wg.Done()
		if _, err := m.AddPBX(context.Background(), "d", xml); err != nil {
			t.Error(err)
		}
	}()
	wg.Wait()
	r, err := db.Recording(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Owner != "carla" || !r.CDR || r.OwnerSource != string(pbx.OwnerTrunkIn) {
		t.Fatalf("round %d: %+v", i, r)
	}
	if _, ok := changes.Load(id); !ok {
		t.Fatalf("round %d: no change notification", i)
	}
}

func TestDecideOwner(t *testing.T) {
	trunkIn, err := pbx.ParseCDRs(testXML(t, "trunk-in.xml"))
	if err != nil {
		t.Fatal(err)
	}
	const conf = "c2c2c2c2e909d31192e80090331032dd"
	for _, tc := range []struct {
		name                 string
		reg, owner, source   string
		info                 pbx.CallInfo
		cdrs                 []pbx.CDR
		wantOwner, wantSouce string
	}{
		{"rule result wins", "TRUNK", "TRUNK", "", pbx.CallInfo{ConfID: conf, Owner: "carla", OwnerSource: pbx.OwnerTrunkIn}, trunkIn, "carla", "trunk-in"},
		{"no CDR: the upload's owner stays", "zoe", "zoe", "", pbx.CallInfo{ConfID: conf}, nil, "zoe", ""},
		{"owner given otherwise stays", "", "ben", "", pbx.CallInfo{ConfID: conf}, nil, "ben", ""},
		{"rule no longer applies: registration name", "zoe", "carla", "mac", pbx.CallInfo{ConfID: conf}, nil, "zoe", ""},
		{"rule no longer applies, no registration name: nobody", "", "carla", "mac", pbx.CallInfo{ConfID: conf}, nil, "", ""},
		{"trunk without answering user: nobody", "trunk", "trunk", "", pbx.CallInfo{ConfID: conf, Matched: true}, trunkIn, "", ""},
		{"no registration name, nobody", "", "", "", pbx.CallInfo{ConfID: conf, Matched: true}, trunkIn, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := store.Recording{FileName: store.FileName{ConfID: conf, RegName: tc.reg}, Owner: tc.owner, OwnerSource: tc.source}
			o, s := decideOwner(rec, tc.info, tc.cdrs)
			if o != tc.wantOwner || s != tc.wantSouce {
				t.Fatalf("got %q/%q, want %q/%q", o, s, tc.wantOwner, tc.wantSouce)
			}
		})
	}
}

func TestMalformedAndClip(t *testing.T) {
	t.Parallel()
	m := New(openDB(t, nil), nil, Options{})
	for _, body := range []string{"", "<cdr", "<x/>", `<cdr utc="zz"/>`} {
		if _, err := m.AddPBX(context.Background(), "d", []byte(body)); err == nil {
			t.Errorf("AddPBX(%q) accepted", body)
		}
	}
	if _, err := m.AddGateway(context.Background(), "d", []byte("time=1")); err == nil {
		t.Error("gateway record without event accepted")
	}
	long := string(make([]byte, 300))
	if got := clip(long); len(got) != 256 {
		t.Fatalf("clip: %d", len(got))
	}
	multi := "aé" + string(make([]byte, 0))
	for len(multi) < 300 {
		multi += "é"
	}
	if got := clip(multi); len(got) > 256 || !validUTF8(got) {
		t.Fatalf("clip cut a UTF-8 sequence: %q", got[len(got)-3:])
	}
}

func validUTF8(s string) bool {
	for _, r := range s {
		if r == '\uFFFD' {
			return false
		}
	}
	return true
}

func TestGraceSetting(t *testing.T) {
	t.Parallel()
	db := openDB(t, nil)
	m := New(db, nil, Options{Grace: time.Hour})
	ctx := context.Background()
	if g := m.Grace(ctx); g != time.Hour {
		t.Fatalf("default %v", g)
	}
	for v, want := range map[string]time.Duration{"60": time.Minute, "0": 0, "junk": time.Hour, "-5": time.Hour} {
		if err := db.SetSetting(ctx, settings.KeyNoCDRGrace, v); err != nil {
			t.Fatal(err)
		}
		if g := m.Grace(ctx); g != want {
			t.Errorf("setting %q: %v, want %v", v, g, want)
		}
	}
}

func BenchmarkAddPBXAndResolve(b *testing.B) {
	db := openDB(b, nil)
	m := New(db, nil, Options{})
	xml := testXML(b, "transfer.xml")
	begin(b, db, "bbbb0000e909d31192e80090331032dd-009033000001-1--anna.pcap")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		// A fresh conference each round, like a stream of calls; every
		// tenth is the recorded one's (marked, so no round repeats one).
		x := bytes.ReplaceAll(xml, []byte("<cdr "), []byte(fmt.Sprintf(`<cdr round="%d" `, i)))
		if i%10 != 0 {
			x = bytes.ReplaceAll(x, []byte("bbbb0000"), []byte(fmt.Sprintf("%08x", i)))
		}
		i++
		if _, err := m.AddPBX(context.Background(), "d", x); err != nil {
			b.Fatal(err)
		}
	}
}

func TestPruneCDRs(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	db := openDB(t, clock)
	m := New(db, nil, Options{Now: clock, KeepCDRs: 24 * time.Hour})
	ctx := context.Background()
	if _, err := m.AddPBX(ctx, "d", testXML(t, "internal.xml")); err != nil {
		t.Fatal(err)
	}
	now = now.Add(23 * time.Hour)
	if n, err := m.PruneCDRs(ctx); err != nil || n != 0 {
		t.Fatalf("prune within the keep time: %d %v", n, err)
	}
	now = now.Add(2 * time.Hour)
	if n, err := m.PruneCDRs(ctx); err != nil || n != 2 {
		t.Fatalf("prune after the keep time: %d %v", n, err)
	}
}
