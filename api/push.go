package api

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"recordings/events"
	"recordings/store"
)

// Pushes: every recording change published on the event broker reaches the
// subscribed websocket clients that may see the recording (canView), as
//
//	{"mt":"RecordingAdded","recording":{…}}    a recording new to the client
//	{"mt":"RecordingUpdated","recording":{…}}  one the client was shown before
//	{"mt":"RecordingDeleted","id":n}           one the client was shown, now gone or out of its sight
//
// Whether a change is "added" is decided per client from what it was shown
// (listed, fetched or pushed), not from the order producers publish in: a
// client hears RecordingAdded before any RecordingUpdated of a recording,
// even when a CDR attaches before the upload's own event is out, and a
// recording that comes into a user's sight (a CDR made it theirs) arrives
// as added. An update can never precede the add.
//
// Each push goes to a client's current rights (pushUser): a client whose
// session ended gets nothing (its connection was closed when the session
// ended here, or is when the push finds it ended).

// push is the server's subscriber on the event broker. It never blocks on a
// client.
func (s *Server) push(ev events.Recording) {
	subs := s.ws.subscribers()
	if len(subs) == 0 {
		return
	}
	if ev.Kind == events.Deleted {
		s.pushDeleted(subs, ev.ID)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rec, err := s.db.Recording(ctx, ev.ID)
	if err != nil {
		if isNotFound(err) { // deleted meanwhile
			s.pushDeleted(subs, ev.ID)
			return
		}
		s.log.Warn("websocket push: load recording", "id", ev.ID, "err", err)
		return
	}
	s.pushRecording(subs, rec)
}

func (s *Server) pushRecording(subs []*wsClient, rec store.Recording) {
	var added, updated, gone []byte
	encode := func(mt string) []byte {
		msg, err := json.Marshal(struct {
			MT        string        `json:"mt"`
			Recording recordingJSON `json:"recording"`
		}{mt, s.recordingView(rec, false)})
		if err != nil {
			s.log.Error("websocket push: encode", "err", err)
		}
		return msg
	}
	for _, c := range subs {
		u, ok := s.pushUser(c)
		if !ok {
			continue // its rights ended (or could not be checked): nothing goes out
		}
		if !canView(u, rec.Domain, rec.Owner) {
			// No longer visible to this client (e.g. owner changed): it goes.
			if c.forgot(rec.ID) {
				if gone == nil {
					gone = deletedMsg(rec.ID)
				}
				c.enqueue(gone)
			}
			continue
		}
		var msg []byte
		if c.saw(rec.ID) {
			if updated == nil {
				updated = encode("RecordingUpdated")
			}
			msg = updated
		} else {
			if added == nil {
				added = encode("RecordingAdded")
			}
			msg = added
		}
		if msg != nil {
			c.enqueue(msg)
		}
	}
}

func (s *Server) pushDeleted(subs []*wsClient, id int64) {
	msg := deletedMsg(id)
	for _, c := range subs {
		if _, ok := s.pushUser(c); ok && c.forgot(id) {
			c.enqueue(msg)
		}
	}
}

func deletedMsg(id int64) []byte {
	return fmt.Appendf(nil, `{"mt":"RecordingDeleted","id":%d}`, id)
}

func (s *Server) wsSubscribe(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	c.setSubscribed(true)
	return nil, nil
}

func (s *Server) wsUnsubscribe(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	c.setSubscribed(false)
	return nil, nil
}
