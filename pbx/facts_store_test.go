package pbx

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The stored facts decode to the parsed record (without its raw text), and
// the PBX's own records rate best.
func TestFactsRoundTripAndQuality(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"internal.xml", "transfer.xml", "trunk-in.xml", "trunk-out.xml", "waiting.xml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "cdr", name))
		if err != nil {
			t.Fatal(err)
		}
		cdrs, err := ParseCDRs(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cdrs {
			f, err := c.Facts()
			if err != nil {
				t.Fatal(err)
			}
			got, err := CDRFromFacts(f)
			if err != nil {
				t.Fatal(err)
			}
			want := c
			want.Raw = ""
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: facts decode to %+v, want %+v", name, got, want)
			}
			if q := c.Quality(); q != MaxQuality {
				t.Errorf("%s: record %s rates %d, want %d", name, c.GUID, q, MaxQuality)
			}
		}
	}
	junk, err := ParseCDRs([]byte(`<cdr><event msg="x" conf="0123456789abcdef0123456789abcdef"/></cdr>`))
	if err != nil {
		t.Fatal(err)
	}
	if q := junk[0].Quality(); q != 0 {
		t.Errorf("junk rates %d", q)
	}

	b, err := os.ReadFile(filepath.Join("testdata", "gateway", "s1.txt"))
	if err != nil {
		t.Fatal(err)
	}
	gws, err := ParseGatewayCDR(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gws {
		f, err := g.Facts()
		if err != nil {
			t.Fatal(err)
		}
		got, err := GatewayFromFacts(f)
		if err != nil {
			t.Fatal(err)
		}
		want := g
		want.Raw = ""
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("gateway facts decode to %+v, want %+v", got, want)
		}
		if q := g.Quality(); q != MaxQuality {
			t.Errorf("gateway record %s rates %d", g.Event, q)
		}
	}
	gjunk, err := ParseGatewayCDR([]byte("event=x&ref=0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	if q := gjunk[0].Quality(); q != 0 {
		t.Errorf("gateway junk rates %d", q)
	}
}
