package main

import (
	"runtime/debug"
	"strings"
)

// buildVersion is what `recordings version` prints after the name: the
// version set with -ldflags, or else the module version the go command
// stamped, followed by the VCS revision when the binary was built from a
// checkout.
func buildVersion() string {
	info, _ := debug.ReadBuildInfo()
	return describeVersion(version, info)
}

// describeVersion combines the -ldflags version (ldflags; "dev" when none
// was given) with the build information (nil when there is none), e.g.
// "(devel) rev 3430f86c1e2b (modified) 2026-12-03T10:04:05Z" or
// "1.4.0 rev 3430f86c1e2b 2026-12-03T10:04:05Z".
func describeVersion(ldflags string, info *debug.BuildInfo) string {
	v := ldflags
	if v == "dev" && info != nil && info.Main.Version != "" {
		v = info.Main.Version
	}
	if info == nil {
		return v
	}
	var rev, at string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return v
	}
	const short = 12 // as in Go's pseudo-versions
	if len(rev) > short {
		rev = rev[:short]
	}
	var b strings.Builder
	b.WriteString(v)
	b.WriteString(" rev ")
	b.WriteString(rev)
	if modified {
		b.WriteString(" (modified)")
	}
	if at != "" {
		b.WriteString(" ")
		b.WriteString(at)
	}
	return b.String()
}
