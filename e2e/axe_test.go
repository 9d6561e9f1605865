package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// axe-core, the npm package at a pinned version, vendored in testdata (see
// testdata/axe-core/README.md): the browser tests run it on every page
// state they show and allow no violation.
const (
	axeVersion = "4.10.3"
	axeSHA256  = "880970c081707360e64f34cea25ff91892f5bc95675b0776925b9709dd8a68bb"
	axePath    = "testdata/axe-core/axe.min.js"
)

var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(axePath)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", axePath, err)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != axeSHA256 {
		return "", fmt.Errorf("%s has SHA-256 %s, want %s (axe-core %s)", axePath, got, axeSHA256, axeVersion)
	}
	return string(b), nil
})

// axeViolation is the part of an axe result a failure report needs.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// checkAxe runs axe-core on the page as it is now (WCAG 2.0–2.2 A and AA
// rules and axe's best practices) and fails the test for each violation.
func checkAxe(d driver, state string) {
	t := d.test()
	t.Helper()
	src, err := axeSource()
	if err != nil {
		t.Fatal(err)
	}
	if !evalAs[bool](d, `typeof window.axe === 'object'`) {
		// The source defines window.axe; run as the body of a function,
		// since the drivers evaluate expressions (CSP does not apply to
		// what they evaluate).
		d.evalInto("(() => {\n"+src+"\n;return true; })()", new(bool))
	}
	// Started here, awaited by polling: the Chromium driver does not await
	// promises.
	d.evalInto(`(() => { window.__axeDone = null;
		axe.run(document, { resultTypes: ['violations'],
			runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } })
		.then((r) => { window.__axeDone = r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
			targets: v.nodes.slice(0, 4).map((n) => String(n.target) + ' ' + (n.failureSummary || '').split('\n').slice(1, 2).join(' ')) })); },
			(e) => { window.__axeDone = [{ id: 'axe-error', help: String(e) }]; });
		return true; })()`, new(bool))
	d.waitFor("axe's result", `window.__axeDone !== null`)
	var vs []axeViolation
	d.evalInto(`window.__axeDone`, &vs)
	for _, v := range vs {
		t.Errorf("axe (%s): %s [%s, %s] at %s", state, v.Help, v.ID, v.Impact, strings.Join(v.Targets, "; "))
	}
}

// TestAxeVendored checks the vendored axe-core without a browser.
func TestAxeVendored(t *testing.T) {
	t.Parallel()
	src, err := axeSource()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(src, "/*! axe v"+axeVersion) {
		t.Errorf("%s does not start with axe's banner for %s", axePath, axeVersion)
	}
}
