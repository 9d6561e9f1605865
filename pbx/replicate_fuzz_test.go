package pbx

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzReplicationMessage feeds arbitrary messages to a replicator in each
// state: it never panics, every refusal wraps ErrMalformedRow, and every
// row it passes on is a valid user.
func FuzzReplicationMessage(f *testing.F) {
	for _, s := range []string{
		`{"columns":{"guid":"a","h323":"alice","devices":[{"hw":"009033aabbcc"}]}}`,
		`{"columns":[{"guid":"a"},{"h323":"b"}]}`,
		`{"columns":[{"name":"guid","value":"a"},"h323"]}`,
		`{"columns":{}}`, `{}`, `{"columns":null}`, `[]`, `{"columns":{"guid":"a","devices":[[{"hw":1}]]}}`,
	} {
		f.Add(MTReplicateNextResult, s)
		f.Add(MTReplicateUpdate, s)
		f.Add(MTReplicateDel, s)
	}
	f.Fuzz(func(t *testing.T, mt, raw string) {
		for _, state := range []ReplicaState{ReplicaStarting, ReplicaLoading, ReplicaLive} {
			r := UserReplicator{state: state}
			st, err := r.Handle(mt, json.RawMessage(raw))
			if err != nil {
				continue
			}
			for _, e := range st.Refused {
				if !errors.Is(e, ErrMalformedRow) {
					t.Fatalf("refusal %v does not wrap ErrMalformedRow", e)
				}
			}
			for _, u := range st.Upserts {
				if u.GUID == "" || u.H323 == "" || !u.IsUser() {
					t.Fatalf("passed on %+v", u)
				}
				for _, m := range u.MACs {
					if n, err := NormalizeMAC(m); err != nil || n != m {
						t.Fatalf("MAC %q not normalised", m)
					}
				}
			}
			for _, g := range st.Deletes {
				if g == "" {
					t.Fatal("empty guid deleted")
				}
			}
		}
	})
}
