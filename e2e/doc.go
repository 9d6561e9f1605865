// Package e2e holds the browser tests: the real server in-process, driven
// through Chromium with chromedp. It has no code of its own outside tests.
package e2e
