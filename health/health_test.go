package health

import (
	"context"
	"errors"
	"runtime"
	"testing"
)

func TestCheck(t *testing.T) {
	okPing := func(context.Context) error { return nil }
	badPing := func(context.Context) error { return errors.New("database is locked") }
	disk := func(free uint64) func(string) (uint64, uint64, error) {
		return func(string) (uint64, uint64, error) { return free, 10 << 30, nil }
	}
	for _, tc := range []struct {
		name     string
		c        Checker
		ok       bool
		problems int
	}{
		{"all well", Checker{Ping: okPing, Dir: "/x", Disk: disk(1 << 30)}, true, 0},
		{"database down", Checker{Ping: badPing, Dir: "/x", Disk: disk(1 << 30)}, false, 0},
		{"disk low", Checker{Ping: okPing, Dir: "/x", Disk: disk(100 << 20)}, false, 0},
		{"disk low custom", Checker{Ping: okPing, Dir: "/x", MinFree: 50 << 20, Disk: disk(100 << 20)}, true, 0},
		{"statfs fails", Checker{Ping: okPing, Dir: "/x", Disk: func(string) (uint64, uint64, error) {
			return 0, 0, errors.New("no such file")
		}}, false, 0},
		{"pbx name missing is no failure", Checker{Ping: okPing, Problems: func() []string { return []string{"PBX Name missing"} }}, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.c.Check(context.Background())
			if r.OK() != tc.ok || len(r.Problems) != tc.problems {
				t.Errorf("%+v", r)
			}
		})
	}
}

func TestDiskSpace(t *testing.T) {
	free, total, err := DiskSpace(t.TempDir())
	if runtime.GOOS != "linux" {
		if err == nil {
			t.Error("expected unsupported")
		}
		return
	}
	if err != nil || total == 0 || free > total {
		t.Fatalf("free %d total %d err %v", free, total, err)
	}
	if _, _, err := DiskSpace("/nonexistent/dir"); err == nil {
		t.Error("missing directory accepted")
	}
}
