package events

import (
	"slices"
	"sync"
	"testing"
)

func TestBrokerOrderAndUnsubscribe(t *testing.T) {
	var b Broker
	var got []string
	unA := b.Subscribe(func(ev Recording) { got = append(got, "a:"+ev.Kind.String()) })
	b.Subscribe(func(ev Recording) { got = append(got, "b:"+ev.Kind.String()) })
	b.Publish(Recording{Kind: Added, ID: 1})
	b.Publish(Recording{Kind: CDRAttached, ID: 1})
	unA()
	unA() // a second call is harmless
	b.Publish(Recording{Kind: Deleted, ID: 1})
	want := []string{"a:added", "b:added", "a:cdr_attached", "b:cdr_attached", "b:deleted"}
	if !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
}

func TestNilBrokerDrops(t *testing.T) {
	var b *Broker
	b.Publish(Recording{Kind: Added, ID: 1}) // must not panic
}

func TestSubscribeDuringPublish(t *testing.T) {
	var b Broker
	var late int
	b.Subscribe(func(Recording) {
		b.Subscribe(func(Recording) { late++ })
	})
	b.Publish(Recording{Kind: Added, ID: 1})
	if late != 0 {
		t.Fatalf("a subscriber registered during Publish was told of that event")
	}
	b.Publish(Recording{Kind: Updated, ID: 1})
	if late != 1 {
		t.Fatalf("late subscriber told %d times of the next event, want 1", late)
	}
}

func TestConcurrentPublish(t *testing.T) {
	var b Broker
	var mu sync.Mutex
	n := 0
	b.Subscribe(func(Recording) { mu.Lock(); n++; mu.Unlock() })
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 100 {
				b.Publish(Recording{Kind: Updated, ID: int64(i*100 + j)})
			}
		})
	}
	wg.Wait()
	if n != 800 {
		t.Fatalf("delivered %d events, want 800", n)
	}
}

func TestSourceString(t *testing.T) {
	for s, want := range map[Source]string{ByUpload: "upload", ByRetention: "retention", Source(0): "Source(0)"} {
		if s.String() != want {
			t.Errorf("%d.String() = %q, want %q", s, s.String(), want)
		}
	}
}

func TestKindString(t *testing.T) {
	for k, s := range map[Kind]string{Added: "added", Deleted: "deleted", Kind(0): "Kind(0)", Kind(200): "Kind(200)"} {
		if k.String() != s {
			t.Errorf("%d.String() = %q, want %q", k, k.String(), s)
		}
	}
}
