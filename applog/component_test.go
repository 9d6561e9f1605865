package applog

import (
	"errors"
	"strings"
	"testing"
)

// TestComponentLoggers: a category set once with With (the component
// logger convention) is stored with every record, survives groups, is
// matched without regard to case, decides the trace level that applies,
// and a call's own "category" overrides it; loggers derived from the same
// base do not share their attributes.
func TestComponentLoggers(t *testing.T) {
	sink := &memSink{}
	l, base, out := newTest(t, sink)
	stop := run(t, l)
	rec := base.With("category", Recording)
	conv := base.With("category", "converting", "user", "carol")
	rec.Info("r1", "user", "alice")
	conv.Info("c1")
	rec.Info("r2 as converting", "category", Converting)
	rec.WithGroup("req").Info("r3 in a group", "remote", "10.0.0.1")
	rec.With("id", int64(7)).Info("r4 with id")
	base.Info("s1")
	if err := l.Levels().Set(Recording, LevelOff); err != nil {
		t.Fatal(err)
	}
	rec.Info("r5 off")
	conv.Info("c2")
	rec.Debug("r6 debug")
	stop()

	type want struct{ msg, category, user string }
	var got []want
	for _, e := range sink.all() {
		got = append(got, want{e.Message, e.Category, e.User})
	}
	exp := []want{
		{"r1", Recording, "alice"},
		{"c1", Converting, "carol"},
		{"r2 as converting", Converting, ""},
		{"r3 in a group", Recording, ""},
		{"r4 with id", Recording, ""},
		{"s1", System, ""},
		{"c2", Converting, "carol"},
	}
	if len(got) != len(exp) {
		t.Fatalf("stored %+v\nwant %+v", got, exp)
	}
	for i := range exp {
		if got[i] != exp[i] {
			t.Errorf("record %d = %+v, want %+v", i, got[i], exp[i])
		}
	}
	if id := sink.all()[4].RecordingID; id != 7 {
		t.Errorf("id set with With stored as %d", id)
	}
	if s := out.String(); !strings.Contains(s, "category=Recording user=alice") {
		t.Errorf("process log lacks the component's category:\n%s", s)
	}
}

// TestOwnReportCategory: applog's own report (the sink failed) is System.
func TestOwnReportCategory(t *testing.T) {
	sink := &memSink{err: errors.New("disk full")}
	l, log, out := newTest(t, sink)
	stop := run(t, l)
	log.Info("x", "category", UI)
	stop()
	if s := out.String(); !strings.Contains(s, `msg="storing logs failed" category=System`) {
		t.Errorf("report lacks category System:\n%s", s)
	}
}
