package main

import (
	"io"
	"strings"
	"testing"
)

func TestServeMemoryLimitFlag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want int64
		err  string
	}{
		{args: nil, want: 0},
		{args: []string{"-memory-limit", "134217728"}, want: 128 << 20},
		{args: []string{"-memory-limit", "0"}, want: 0},
		{args: []string{"-memory-limit", "-1"}, err: "-memory-limit -1"},
		{args: []string{"-memory-limit", "128MiB"}, err: "invalid value"},
	} {
		c, err := parseServeFlags(tc.args, io.Discard)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want one containing %q", tc.args, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.args, err)
		case tc.err == "" && c.memoryLimit != tc.want:
			t.Errorf("%q: memory limit %d, want %d", tc.args, c.memoryLimit, tc.want)
		}
	}
}

// Not parallel: it sets the environment.
func TestServeMemoryLimitEnv(t *testing.T) {
	t.Setenv("RECORDINGS_MEMORY_LIMIT", "104857600")
	if c, err := parseServeFlags(nil, io.Discard); err != nil || c.memoryLimit != 100<<20 {
		t.Fatalf("memory limit %d, %v; want %d", c.memoryLimit, err, 100<<20)
	}
	if c, err := parseServeFlags([]string{"-memory-limit", "0"}, io.Discard); err != nil || c.memoryLimit != 0 {
		t.Fatalf("-memory-limit 0 over the environment: %d, %v", c.memoryLimit, err)
	}
	t.Setenv("RECORDINGS_MEMORY_LIMIT", "100MB")
	if _, err := parseServeFlags(nil, io.Discard); err == nil || !strings.Contains(err.Error(), "RECORDINGS_MEMORY_LIMIT") {
		t.Fatalf("bad RECORDINGS_MEMORY_LIMIT: %v", err)
	}
}

// Not parallel: it sets the environment.
func TestServeBusyGCPercent(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("RECORDINGS_BUSY_GC_PERCENT", "")
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want int
		err  string
	}{
		{want: defaultBusyGCPercent},
		{args: []string{"-busy-gc-percent", "25"}, want: 25},
		{args: []string{"-busy-gc-percent", "0"}, want: 0},
		{args: []string{"-busy-gc-percent", "-5"}, err: "-busy-gc-percent -5"},
		{args: []string{"-busy-gc-percent", "50%"}, err: "invalid value"},
		{env: map[string]string{"RECORDINGS_BUSY_GC_PERCENT": "70"}, want: 70},
		{env: map[string]string{"RECORDINGS_BUSY_GC_PERCENT": "70"}, args: []string{"-busy-gc-percent", "0"}, want: 0},
		{env: map[string]string{"RECORDINGS_BUSY_GC_PERCENT": "half"}, err: "RECORDINGS_BUSY_GC_PERCENT"},
		// An operator's GOGC stands unless the flag (or its variable) is given.
		{env: map[string]string{"GOGC": "200"}, want: 0},
		{env: map[string]string{"GOGC": "200"}, args: []string{"-busy-gc-percent", "50"}, want: 50},
		{env: map[string]string{"GOGC": "200", "RECORDINGS_BUSY_GC_PERCENT": "40"}, want: 40},
	} {
		for k, v := range tc.env {
			t.Setenv(k, v)
		}
		c, err := parseServeFlags(tc.args, io.Discard)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%v %q: error %v, want one containing %q", tc.env, tc.args, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("%v %q: %v", tc.env, tc.args, err)
		case tc.err == "" && c.busyGCPercent != tc.want:
			t.Errorf("%v %q: busy GC percent %d, want %d", tc.env, tc.args, c.busyGCPercent, tc.want)
		}
		for k := range tc.env {
			t.Setenv(k, "")
		}
	}
}
