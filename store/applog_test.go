package store

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"recordings/applog"
	"recordings/internal/testutil"
)

// TestAppLogOversized checks the store as applog's sink: a record beyond
// applog's bounds is cut to fit by applog rather than failing the batch it
// is in, so both packages must agree on the bounds.
func TestAppLogOversized(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	out := &testutil.LogBuffer{}
	defer func() { t.Log(out.String()) }()
	l := applog.New(slog.NewTextHandler(out, nil), applog.NewLevels(slog.LevelInfo), db, 0)
	log := l.Slog().With("category", applog.UI)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- l.Run(rctx, 5*time.Millisecond, 100) }()
	log.Info("small before")
	log.Info(strings.Repeat("é", 9000), "user", strings.Repeat("u", 1000), "blob", strings.Repeat("x", 70<<10))
	log.Info("small after")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	if l.Failed() != 0 {
		t.Errorf("%d records refused by the store", l.Failed())
	}
	got, err := db.Logs(ctx, LogFilter{Category: applog.UI})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("stored %d entries, want 3", len(got))
	}
	big := got[1]
	if len(big.Message) > applog.MaxMessage || !strings.HasPrefix(big.Message, "éé") || len(big.User) != applog.MaxField {
		t.Errorf("oversized entry stored as message %d bytes, user %d bytes", len(big.Message), len(big.User))
	}
	if !json.Valid(big.Attrs) {
		t.Errorf("attrs not JSON: %.100s", big.Attrs)
	}
}
