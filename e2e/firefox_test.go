package e2e

import "testing"

// TestFirefox drives the user and the admin app in Firefox (WebDriver BiDi,
// real key presses and mouse clicks) against the real service: the shared
// scenario of scenario_test.go, which TestApps runs in Chromium. First it
// proves that the harness notices what the page's checkClean is for.
func TestFirefox(t *testing.T) {
	shots := artifacts(t)
	downloads := t.TempDir()
	b := newFirefox(t, downloads)
	e := startEnv(t)
	a1, a2, a3, b1 := e.appsFixture()

	b.ready()
	// The harness sees what checkClean is for: an uncaught exception, and
	// a dialog (which it also closes, or the next evaluation would hang).
	b.navigate(e.url + "/")
	b.expectProblem(`throw new Error('e2e probe exception')`, "uncaught: Error: e2e probe exception")
	b.expectProblem(`alert('e2e probe dialog')`, "javascript alert opened: e2e probe dialog")
	if foxEval[int](b, `1 + 1`) != 2 {
		t.Fatal("the page does not evaluate after its dialog")
	}

	appsRun{e: e, shots: shots, downloads: downloads, a1: a1, a2: a2, a3: a3, b1: b1}.run(t, b)
}
