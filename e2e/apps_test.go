package e2e

import "testing"

// TestApps drives the user and the admin app in Chromium (chromedp) against
// the real service: the shared scenario of scenario_test.go, which
// TestFirefox runs in Firefox.
func TestApps(t *testing.T) {
	shots := artifacts(t)
	downloads := t.TempDir()
	b := newBrowser(t)
	e := startEnv(t)
	a1, a2, a3, b1 := e.appsFixture()

	b.ready(downloads)
	appsRun{e: e, shots: shots, downloads: downloads, a1: a1, a2: a2, a3: a3, b1: b1}.run(t, b)
}
