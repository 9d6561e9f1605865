// Package e2e holds the browser tests: the real server in-process, driven
// through Chromium with chromedp and through Firefox with a small WebDriver
// BiDi client. It has no code of its own outside tests.
//
// It is a module of its own (recordings/e2e, with a replace directive to the
// repository root) so that the browser-driving dependencies stay out of the
// product's go.mod; run its tests from this folder: go test ./...
package e2e
