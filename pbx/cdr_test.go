package pbx

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readCDRs(t testing.TB, name string) []CDR {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "cdr", name))
	if err != nil {
		t.Fatal(err)
	}
	cdrs, err := ParseCDRs(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return cdrs
}

func TestParseCDRsSamplePair(t *testing.T) {
	b, err := os.ReadFile("testdata/cdr/internal.xml")
	if err != nil {
		t.Fatal(err)
	}
	cdrs, err := ParseCDRs(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(cdrs) != 2 {
		t.Fatalf("got %d records, want 2", len(cdrs))
	}
	const conf = "e89277f0e909d31192e80090331032dd"
	want := CDR{
		GUID: "e78cb2b8e909d31188ce0090330602e8", Sys: "PBX", PBX: ".", Node: "root", Device: "a",
		CN: "A", E164: "100", H323: "a", Dir: "from", UTC: 1272551262, Local: 1272558462, User: true,
		Events: []Event{
			{Msg: "setup-from", Time: 0, Conf: conf},
			{Msg: "alert-to", Time: 1, E164: "101", H323: "b"},
			{Msg: "conn-to", Time: 2, E164: "101", H323: "b"},
			{Msg: "rel-to", Time: 4, Cause: "0"},
		},
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	want.Raw = lines[0]
	if !reflect.DeepEqual(cdrs[0], want) {
		t.Errorf("record 1:\n got %+v\nwant %+v", cdrs[0], want)
	}
	if cdrs[1].Raw != lines[1] {
		t.Errorf("record 2 raw:\n got %q\nwant %q", cdrs[1].Raw, lines[1])
	}
	if cdrs[1].Dir != "to" || cdrs[1].H323 != "b" || cdrs[1].Events[0].Msg != "setup-to" ||
		cdrs[1].Events[0].H323 != "a" || cdrs[1].Events[0].Conf != conf {
		t.Errorf("record 2: %+v", cdrs[1])
	}
	for i := range cdrs {
		if !cdrs[i].IsRealUser() {
			t.Errorf("record %d not a real user", i+1)
		}
		if got := cdrs[i].ConfIDs(); !reflect.DeepEqual(got, []string{conf}) {
			t.Errorf("record %d ConfIDs %v", i+1, got)
		}
	}
}

func TestParseCDRsWrappedAndPseudo(t *testing.T) {
	cdrs := readCDRs(t, "trunk-out.xml")
	if len(cdrs) != 2 {
		t.Fatalf("got %d records", len(cdrs))
	}
	tr := cdrs[1]
	if !tr.User || tr.Pseudo != "trunk" || tr.IsRealUser() {
		t.Errorf("trunk record: User %v Pseudo %q", tr.User, tr.Pseudo)
	}
	// conf ids are normalised to lowercase.
	if got := tr.Events[0].Conf; got != "c1c1c1c1e909d31192e80090331032dd" {
		t.Errorf("conf %q", got)
	}
	if !strings.HasPrefix(tr.Raw, "<cdr ") || !strings.HasSuffix(tr.Raw, "</cdr>") || strings.Contains(tr.Raw, "<cdrs>") {
		t.Errorf("raw %q", tr.Raw)
	}
	// The raw record parses back to the same record.
	again, err := ParseCDRs([]byte(tr.Raw))
	if err != nil || len(again) != 1 || !reflect.DeepEqual(again[0], tr) {
		t.Errorf("reparse raw: %v %+v", err, again)
	}
}

func TestCDRConfChange(t *testing.T) {
	cdrs := readCDRs(t, "transfer.xml")
	anna := cdrs[0]
	const x, y = "aaaa0000e909d31192e80090331032dd", "bbbb0000e909d31192e80090331032dd"
	if got := anna.ConfIDs(); !reflect.DeepEqual(got, []string{x, y}) {
		t.Fatalf("ConfIDs %v", got)
	}
	if got := anna.EventConfs(); !reflect.DeepEqual(got, []string{x, x, x, y, y, y}) {
		t.Fatalf("EventConfs %v", got)
	}
	if !anna.HasConf(strings.ToUpper(y)) || anna.HasConf("cccc0000e909d31192e80090331032dd") {
		t.Fatal("HasConf")
	}
	var none CDR
	if none.ConfIDs() != nil || none.HasConf("") {
		t.Fatal("record without events matches")
	}
}

func TestParseCDRsNoConf(t *testing.T) {
	cdrs, err := ParseCDRs([]byte(`<cdr guid="g" dir="from" utc="5"><user/><event msg="setup-from" time="0"/></cdr>`))
	if err != nil {
		t.Fatal(err)
	}
	if len(cdrs[0].ConfIDs()) != 0 || cdrs[0].HasConf("") || cdrs[0].EventConfs()[0] != "" {
		t.Fatalf("record without conf matches something: %+v", cdrs[0])
	}
}

func TestParseCDRsLatin1(t *testing.T) {
	body := []byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<cdr cn=\"J\xfcrgen\" utc=\"1\"><user/></cdr>")
	cdrs, err := ParseCDRs(body)
	if err != nil {
		t.Fatal(err)
	}
	if cdrs[0].CN != "Jürgen" {
		t.Errorf("cn %q", cdrs[0].CN)
	}
	if cdrs[0].Raw != `<cdr cn="Jürgen" utc="1"><user/></cdr>` {
		t.Errorf("raw %q", cdrs[0].Raw)
	}
}

func TestParseCDRsErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, err string }{
		{"empty", "", "no <cdr> element"},
		{"whitespace", " \n", "no <cdr> element"},
		{"other root", "<foo><bar/></foo>", "no <cdr> element"},
		{"unclosed", `<cdr guid="x"><user/>`, "parse CDR XML"},
		{"mismatched", `<cdr><event></cdr>`, "parse CDR XML"},
		{"bad attr", `<cdr guid=x/>`, "parse CDR XML"},
		{"bad utc", `<cdr guid="g1" utc="yesterday"/>`, `utc="yesterday"`},
		{"bad time", `<cdr guid="g2" utc="1"><event msg="conn-to" time="1.5"/></cdr>`, `event 1 ("conn-to")`},
		{"negative utc", `<cdr utc="-1"/>`, "utc=-1 out of range"},
		{"huge time", `<cdr utc="1"><event time="9223372036854775807"/></cdr>`, "out of range"},
		{"second record bad", `<cdr utc="1"/><cdr utc="x"/>`, "record 2"},
		{"unknown charset", `<?xml version="1.0" encoding="EBCDIC"?><cdr/>`, "EBCDIC"},
		{"form prefix left in", `msg=<cdr utc="1"/`, "parse CDR XML"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCDRs([]byte(tc.in))
			if err == nil {
				t.Fatalf("no error, got %+v", got)
			}
			if !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %q does not contain %q", err, tc.err)
			}
		})
	}
}

func FuzzParseCDRs(f *testing.F) {
	for _, name := range []string{"internal.xml", "trunk-out.xml", "transfer.xml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "cdr", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`<cdr utc="1"><user pseudo="waiting"/><event msg="x" time="-3" conf="AB"/></cdr>`))
	f.Add([]byte("<?xml version=\"1.0\" encoding=\"latin1\"?><cdr cn=\"\xe4\"/>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		cdrs, err := ParseCDRs(body)
		if err != nil {
			if cdrs != nil {
				t.Fatal("records returned with an error")
			}
			return
		}
		if len(cdrs) == 0 {
			t.Fatal("no records and no error")
		}
		for i := range cdrs {
			c := &cdrs[i]
			if !strings.HasPrefix(c.Raw, "<") {
				t.Fatalf("record %d raw %q", i, c.Raw)
			}
			for _, e := range c.Events {
				if e.Conf != strings.ToLower(e.Conf) {
					t.Fatalf("conf %q not lowercase", e.Conf)
				}
			}
			_ = c.ConfIDs()
		}
	})
}

func BenchmarkParseCDRs(b *testing.B) {
	body, err := os.ReadFile("testdata/cdr/transfer.xml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := ParseCDRs(body); err != nil {
			b.Fatal(err)
		}
	}
}
