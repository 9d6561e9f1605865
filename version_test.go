package main

import (
	"runtime/debug"
	"testing"
)

func TestDescribeVersion(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i+1 < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	const rev = "3430f86c1e2b7d9a0f4e5b6c7d8e9f0a1b2c3d4e"
	tests := []struct {
		name    string
		ldflags string
		info    *debug.BuildInfo
		want    string
	}{
		{"no build info", "dev", nil, "dev"},
		{"no build info, -ldflags", "1.4.0", nil, "1.4.0"},
		{"test binary: no module version", "dev", &debug.BuildInfo{}, "dev"},
		{"checkout, no VCS stamp", "dev",
			&debug.BuildInfo{Main: debug.Module{Path: "recordings", Version: "(devel)"}},
			"(devel)"},
		{"checkout, clean", "dev",
			&debug.BuildInfo{Main: debug.Module{Path: "recordings", Version: "(devel)"},
				Settings: vcs("vcs", "git", "vcs.revision", rev, "vcs.time", "2026-12-03T10:04:05Z", "vcs.modified", "false")},
			"(devel) rev 3430f86c1e2b 2026-12-03T10:04:05Z"},
		{"checkout, modified", "dev",
			&debug.BuildInfo{Main: debug.Module{Path: "recordings", Version: "(devel)"},
				Settings: vcs("vcs", "git", "vcs.revision", rev, "vcs.time", "2026-12-03T10:04:05Z", "vcs.modified", "true")},
			"(devel) rev 3430f86c1e2b (modified) 2026-12-03T10:04:05Z"},
		{"version from a tag", "dev",
			&debug.BuildInfo{Main: debug.Module{Path: "recordings", Version: "v1.4.0"},
				Settings: vcs("vcs.revision", rev, "vcs.time", "2026-12-03T10:04:05Z", "vcs.modified", "false")},
			"v1.4.0 rev 3430f86c1e2b 2026-12-03T10:04:05Z"},
		{"pseudo-version of a modified checkout (go build since Go 1.24)", "dev",
			&debug.BuildInfo{Main: debug.Module{Path: "recordings", Version: "v0.0.0-20261203100405-3430f86c1e2b+dirty"},
				Settings: vcs("vcs.revision", rev, "vcs.time", "2026-12-03T10:04:05Z", "vcs.modified", "true")},
			"v0.0.0-20261203100405-3430f86c1e2b+dirty rev 3430f86c1e2b (modified) 2026-12-03T10:04:05Z"},
		{"-ldflags wins over the module version", "1.4.0",
			&debug.BuildInfo{Main: debug.Module{Path: "recordings", Version: "(devel)"},
				Settings: vcs("vcs.revision", rev, "vcs.time", "2026-12-03T10:04:05Z", "vcs.modified", "true")},
			"1.4.0 rev 3430f86c1e2b (modified) 2026-12-03T10:04:05Z"},
		{"-ldflags, no VCS stamp", "1.4.0",
			&debug.BuildInfo{Main: debug.Module{Path: "recordings", Version: "(devel)"}},
			"1.4.0"},
		{"short revision, no time", "dev",
			&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("vcs.revision", "abc123")},
			"(devel) rev abc123"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describeVersion(tt.ldflags, tt.info); got != tt.want {
				t.Errorf("describeVersion(%q, …) = %q, want %q", tt.ldflags, got, tt.want)
			}
		})
	}
}
