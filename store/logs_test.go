package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestLogs(t *testing.T) {
	t.Parallel()
	db, clk := openTest(t)
	ctx := context.Background()
	levels := []string{"DEBUG", "INFO", "WARN", "ERROR"}
	var in []LogEntry
	for i := range 40 {
		in = append(in, LogEntry{
			Time:        clk.Now().Add(time.Duration(i) * time.Second),
			Level:       levels[i%4],
			Category:    []string{"upload", "auth"}[i%2],
			User:        []string{"alice", "bob", ""}[i%3],
			RecordingID: int64(i % 5),
			Message:     fmt.Sprintf("m%d", i),
			Attrs:       []byte(fmt.Sprintf(`{"i":%d}`, i)),
		})
	}
	if err := db.AddLogs(ctx, in); err != nil {
		t.Fatal(err)
	}
	match := func(f LogFilter, e LogEntry, id int64) bool {
		min := map[string]int{"": -1, "DEBUG": 0, "INFO": 1, "WARN": 2, "ERROR": 3}
		return (f.User == "" || e.User == f.User) && (f.Category == "" || e.Category == f.Category) &&
			(f.RecordingID == 0 || e.RecordingID == f.RecordingID) &&
			slices.Index(levels, e.Level) >= min[f.MinLevel] && (f.Before == 0 || id < f.Before)
	}
	for _, f := range []LogFilter{
		{},
		{User: "alice"},
		{Category: "auth"},
		{MinLevel: "WARN"},
		{MinLevel: "ERROR", User: "bob"},
		{RecordingID: 3},
		{Before: 20},
		{Limit: 5},
		{Category: "upload", Limit: 3, Before: 30},
	} {
		t.Run(fmt.Sprintf("%+v", f), func(t *testing.T) {
			got, err := db.Logs(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var want []int64
			for i := len(in) - 1; i >= 0; i-- {
				if match(f, in[i], int64(i+1)) && (f.Limit == 0 || len(want) < f.Limit) {
					want = append(want, int64(i+1))
				}
			}
			var ids []int64
			for _, e := range got {
				ids = append(ids, e.ID)
				src := in[e.ID-1]
				if e.Message != src.Message || e.Level != src.Level || !e.Time.Equal(src.Time) ||
					string(e.Attrs) != string(src.Attrs) || e.User != src.User || e.RecordingID != src.RecordingID {
					t.Errorf("entry %d = %+v, stored %+v", e.ID, e, src)
				}
			}
			if !slices.Equal(ids, want) {
				t.Errorf("ids %v, want %v", ids, want)
			}
		})
	}
	if err := db.AddLogs(ctx, []LogEntry{{Level: "INFO", Message: "ok"}, {Level: "LOUD", Message: "bad"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("AddLogs with a bad level = %v", err)
	}
	if got, _ := db.Logs(ctx, LogFilter{Limit: 1}); len(got) != 1 || got[0].Message != "m39" {
		t.Errorf("a rejected batch was partly stored: %+v", got)
	}
	if _, err := db.Logs(ctx, LogFilter{MinLevel: "LOUD"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Logs(bad level) = %v", err)
	}
	n, err := db.PruneLogs(ctx, clk.Now().Add(10*time.Second))
	if err != nil || n != 10 {
		t.Errorf("PruneLogs = %d, %v; want 10", n, err)
	}
}
