package pbx

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeUserRow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    PbxUser
		wantErr bool
		errGUID string
	}{
		{name: "object form", in: `{"guid":"g1","h323":"alice","cn":"Alice A","dn":"Alice","e164":"201",
			"devices":[{"hw":"00-90-33-AA-BB-CC","text":"phone"},{"hw":"Swphone_alice"},{"hw":"009033aabbcc"}]}`,
			want: PbxUser{GUID: "g1", H323: "alice", CN: "Alice A", DN: "Alice", E164: "201",
				MACs: []string{"009033aabbcc"}, HasDevices: true}},
		{name: "array of single entries", in: `[{"guid":"g2"},{"h323":"bob"},{"devices":[[{"hw":"0090.33aa.bbcd"}]]}]`,
			want: PbxUser{GUID: "g2", H323: "bob", MACs: []string{"009033aabbcd"}, HasDevices: true}},
		{name: "array of name/value", in: `[{"name":"guid","value":"g3"},{"name":"h323","value":"carol"},{"name":"cn","value":null}]`,
			want: PbxUser{GUID: "g3", H323: "carol"}},
		{name: "no devices column", in: `{"guid":"g4","h323":"dave","devices":null}`,
			want: PbxUser{GUID: "g4", H323: "dave", MACs: []string{}, HasDevices: true}},
		{name: "pseudo object", in: `{"guid":"g5","h323":"trunk","pseudo":"trunk"}`,
			want: PbxUser{GUID: "g5", H323: "trunk", Pseudo: "trunk"}},
		{name: "no guid", in: `{"h323":"x"}`, wantErr: true},
		{name: "guid not a string", in: `{"guid":5,"h323":"x"}`, wantErr: true},
		{name: "no h323", in: `{"guid":"g6"}`, wantErr: true, errGUID: "g6"},
		{name: "h323 too long", in: `{"guid":"g7","h323":"` + strings.Repeat("a", 65) + `"}`, wantErr: true, errGUID: "g7"},
		{name: "control character", in: `{"guid":"g8","h323":"a\u0001"}`, wantErr: true, errGUID: "g8"},
		{name: "devices not an array", in: `{"guid":"g9","h323":"x","devices":"00:90:33:aa:bb:cc"}`, wantErr: true, errGUID: "g9"},
		{name: "cn a number", in: `{"guid":"g10","h323":"x","cn":1}`, wantErr: true, errGUID: "g10"},
		{name: "not json", in: `{"guid":`, wantErr: true},
		{name: "a string", in: `"guid"`, wantErr: true},
		{name: "empty", in: ``, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeUserRow(json.RawMessage(tt.in))
			if tt.wantErr {
				if err == nil || !errors.Is(err, ErrMalformedRow) {
					t.Fatalf("DecodeUserRow = %+v, %v; want an ErrMalformedRow", got, err)
				}
				if got.GUID != tt.errGUID {
					t.Errorf("guid with the error = %q, want %q", got.GUID, tt.errGUID)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DecodeUserRow = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeColumnsDescription(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`{"guid":{},"h323":{"update":true}}`,
		`["guid",{"name":"h323","update":true}]`,
		`[{"name":"guid"},"h323"]`,
	} {
		m, err := DecodeColumns(json.RawMessage(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if _, ok := m["guid"]; !ok {
			t.Errorf("%s: no guid in %v", in, m)
		}
		if _, ok := m["h323"]; !ok {
			t.Errorf("%s: no h323 in %v", in, m)
		}
	}
}

func msg(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestUserReplicatorLoad(t *testing.T) {
	t.Parallel()
	r := UserReplicator{Src: "users"}
	start := r.Start()
	if start.MT != MTReplicateStart || start.API != ReplicationAPI || start.Src != "users" {
		t.Fatalf("start = %+v", start)
	}
	b := msg(t, start)
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	cols := back["columns"].(map[string]any)
	for _, c := range []string{"guid", "h323", "cn", "dn", "e164", "devices"} {
		if _, ok := cols[c]; !ok {
			t.Errorf("ReplicateStart asks no %s: %s", c, b)
		}
	}

	// Rows before the start result are out of order.
	if _, err := r.Handle(MTReplicateNextResult, json.RawMessage(`{"columns":{"guid":"g","h323":"x"}}`)); err == nil {
		t.Error("ReplicateNextResult before ReplicateStartResult accepted")
	}
	st, err := r.Handle(MTReplicateStartResult, json.RawMessage(`{"mt":"ReplicateStartResult","columns":["guid","h323","cn"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := st.Send.(ReplicateNext); !ok || n.MT != MTReplicateNext {
		t.Fatalf("after start result send %#v", st.Send)
	}
	steps := []struct {
		mt, raw                      string
		upserts, deletes, touched    int
		refused                      int
		live, done, skipSweep, sends bool
	}{
		{mt: MTReplicateNextResult, raw: `{"columns":{"guid":"a","h323":"alice"}}`, upserts: 1, sends: true},
		{mt: MTReplicateNextResult, raw: `{"columns":{"guid":"b"}}`, touched: 1, refused: 1, sends: true},
		{mt: MTReplicateUpdate, raw: `{"columns":{"guid":"a","h323":"alice2"}}`, upserts: 1, live: true},
		{mt: MTReplicateNextResult, raw: `{"columns":{"guid":"t","h323":"trunk","pseudo":"trunk"}}`, deletes: 1, sends: true},
		{mt: MTReplicateNextResult, raw: `{"columns":{}}`, done: true},
		{mt: MTReplicateDel, raw: `{"columns":{"guid":"a"}}`, deletes: 1, live: true},
		{mt: MTReplicateDel, raw: `{"columns":{}}`, refused: 1, live: true},
		{mt: MTReplicateAdd, raw: `{"columns":{"guid":"c","h323":"carol"}}`, upserts: 1, live: true},
	}
	for i, s := range steps {
		st, err := r.Handle(s.mt, json.RawMessage(s.raw))
		if err != nil {
			t.Fatalf("step %d %s: %v", i, s.mt, err)
		}
		if len(st.Upserts) != s.upserts || len(st.Deletes) != s.deletes || len(st.Touched) != s.touched ||
			len(st.Refused) != s.refused || st.Live != s.live || st.LoadDone != s.done || st.SkipSweep != s.skipSweep ||
			(st.Send != nil) != s.sends {
			t.Errorf("step %d %s: %+v", i, s.mt, st)
		}
	}
	if r.State() != ReplicaLive || r.Rows() != 3 {
		t.Errorf("state %v rows %d", r.State(), r.Rows())
	}
}

func TestUserReplicatorSkipSweep(t *testing.T) {
	t.Parallel()
	r := UserReplicator{}
	r.Start()
	if _, err := r.Handle(MTReplicateStartResult, json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Handle(MTReplicateNextResult, json.RawMessage(`{"columns":{"h323":"noguid"}}`)); err != nil {
		t.Fatal(err)
	}
	st, err := r.Handle(MTReplicateNextResult, json.RawMessage(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if !st.LoadDone || !st.SkipSweep {
		t.Errorf("end of a load with a guid-less row: %+v", st)
	}
	// A restart forgets it.
	r.Start()
	_, _ = r.Handle(MTReplicateStartResult, json.RawMessage(`{}`))
	st, _ = r.Handle(MTReplicateNextResult, json.RawMessage(`{}`))
	if !st.LoadDone || st.SkipSweep {
		t.Errorf("end of a clean load: %+v", st)
	}
}

func TestUserReplicatorStartRefused(t *testing.T) {
	t.Parallel()
	r := UserReplicator{}
	r.Start()
	if _, err := r.Handle(MTReplicateStartResult, json.RawMessage(`{"columns":{"guid":{}}}`)); err == nil {
		t.Fatal("a publisher without h323 accepted")
	}
	if r.State() != ReplicaIdle {
		t.Errorf("state %v", r.State())
	}
	if _, err := r.Handle("Bogus", json.RawMessage(`{}`)); err == nil {
		t.Error("unknown message accepted")
	}
}
