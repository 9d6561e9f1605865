package api

import (
	"encoding/json"
	"testing"
	"time"

	"recordings/store"
)

func TestWSReply(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mt   string
		src  string
		res  any
		want string
	}{
		{"GetMe", `"a"`, nil, `{"mt":"GetMeResult","src":"a"}`},
		{"Subscribe", ``, struct{}{}, `{"mt":"SubscribeResult"}`},
		{"DeleteRecording", `7`, struct {
			ID int64 `json:"id"`
		}{3}, `{"mt":"DeleteRecordingResult","src":7,"id":3}`},
	} {
		var src json.RawMessage
		if tc.src != "" {
			src = json.RawMessage(tc.src)
		}
		got, err := wsReply(tc.mt, src, tc.res)
		if err != nil || string(got) != tc.want {
			t.Errorf("wsReply(%s): %s %v, want %s", tc.mt, got, err, tc.want)
		}
	}
	if _, err := wsReply("X", nil, []int{1}); err == nil {
		t.Error("a non-object result was accepted")
	}
}

// BenchmarkPush measures fanning one recording change out to 50 subscribers.
func BenchmarkPush(b *testing.B) {
	now := time.Now()
	s := Server{opt: Options{Now: func() time.Time { return now }}}
	for range 50 {
		c := &wsClient{send: make(chan []byte, 1<<20), cancel: func(error) {}, subscribed: true,
			user: store.User{Name: "root", Role: store.RoleAdmin}, checked: now}
		s.ws.add(c)
	}
	rec := store.Recording{ID: 7, Owner: "alice", State: "ready", PeerName: "Bob", PeerNumber: "+4970311"}
	subs := s.ws.subscribers()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		s.pushRecording(subs, rec)
		if i%1000 == 999 {
			for _, c := range subs {
				for len(c.send) > 0 {
					<-c.send
				}
			}
		}
	}
}
