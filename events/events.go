// Package events is the typed broker of recording changes. Producers
// (ingest, the CDR matcher, retention, the API's own actions) publish what
// happened to a recording; subscribers (websocket pushes, the analysis
// cache, metrics, a future webhook) register once and are told in the
// order the producer published.
//
// Publishing is synchronous: Publish calls every subscriber on the
// publisher's goroutine, so a subscriber must not block (queue the work if
// it has to wait). A subscriber registered during a Publish is first told
// of the next one.
package events

import (
	"fmt"
	"sync"
)

// Kind is what happened to a recording.
type Kind uint8

const (
	// Added: a recording came into being (an upload began).
	Added Kind = iota + 1
	// Replaced: an upload began again under the name of a cut-off one.
	Replaced
	// StateChanged: the recording's state moved (received, analysed,
	// incomplete, failed).
	StateChanged
	// CDRAttached: call data from the PBX changed the recording's owner,
	// parties or call times, or its grace for call data ran out.
	CDRAttached
	// Updated: any other change of what the recording shows (protection).
	Updated
	// Deleted: the recording is gone (by a user, by retention, or an
	// upload that stored nothing).
	Deleted
)

var kindNames = [...]string{Added: "added", Replaced: "replaced", StateChanged: "state_changed",
	CDRAttached: "cdr_attached", Updated: "updated", Deleted: "deleted"}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// Source is who made a change.
type Source uint8

const (
	ByUpload    Source = iota + 1 // the capture upload and its analysis (ingest)
	ByPBX                         // call data from the PBX (the CDR matcher)
	ByUser                        // a person, through the apps or the API
	ByRetention                   // the retention job
)

var sourceNames = [...]string{ByUpload: "upload", ByPBX: "pbx", ByUser: "user", ByRetention: "retention"}

func (s Source) String() string {
	if int(s) < len(sourceNames) && sourceNames[s] != "" {
		return sourceNames[s]
	}
	return fmt.Sprintf("Source(%d)", s)
}

// Recording is one change of one recording. Subscribers that need the
// recording's data load it by ID: an event says what changed, not what the
// recording now is, so that no subscriber acts on a stale copy.
type Recording struct {
	Kind Kind
	ID   int64
	By   Source
}

// Broker hands published events to its subscribers. Its zero value is
// ready to use; it must not be copied after first use.
type Broker struct {
	mu   sync.RWMutex
	next int
	subs map[int]func(Recording)
	// order keeps the subscribers in the order they registered, so that
	// delivery is deterministic.
	order []int
}

// Subscribe registers f to be told of every recording change from now on.
// The returned function unregisters it. On a nil *Broker nothing is ever
// published, and Subscribe registers nothing.
func (b *Broker) Subscribe(f func(Recording)) (unsubscribe func()) {
	if b == nil {
		return func() {}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs == nil {
		b.subs = map[int]func(Recording){}
	}
	id := b.next
	b.next++
	b.subs[id] = f
	b.order = append(b.order, id)
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			delete(b.subs, id)
			for i, o := range b.order {
				if o == id {
					b.order = append(b.order[:i:i], b.order[i+1:]...)
					break
				}
			}
		})
	}
}

// Publish tells every subscriber about ev, in registration order, on the
// caller's goroutine. A nil *Broker drops the event, so that a component
// built without one (a unit test) needs no stand-in.
func (b *Broker) Publish(ev Recording) {
	if b == nil {
		return
	}
	b.mu.RLock()
	fs := make([]func(Recording), 0, len(b.order))
	for _, id := range b.order {
		fs = append(fs, b.subs[id])
	}
	b.mu.RUnlock()
	for _, f := range fs {
		f(ev)
	}
}
