package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// driver is what the shared app scenario (scenario_test.go) needs of a
// browser tab: Chromium's (*tab, chromedp) and Firefox's (*foxTab, WebDriver
// BiDi) both implement it. Every method fails the driver's test on error.
type driver interface {
	// sub returns the driver for use in subtest t.
	sub(t *testing.T) driver
	// test is the test the driver fails.
	test() *testing.T
	// evalInto evaluates a JavaScript expression in the page and decodes
	// its JSON value into out.
	evalInto(expr string, out any)
	// navigate loads url.
	navigate(url string)
	// click clicks the middle of element sel with the mouse.
	click(sel string)
	// shiftClick clicks the middle of element sel with the Shift key held.
	shiftClick(sel string)
	// clickIn clicks element sel with the mouse at fraction (fx, fy) of its
	// box.
	clickIn(sel string, fx, fy float64)
	// typeText clicks into field sel, selects what it holds and types text
	// key by key (or deletes the selection with Backspace when text is
	// empty).
	typeText(sel, text string)
	// press presses and releases keys (the key* constants) where the focus
	// is.
	press(keys ...string)
	// set puts a value into a form field by script, with input and change
	// events: for selects and date fields, which key presses do not reach
	// in every browser.
	set(sel, value string)
	// waitFor polls a JavaScript condition until it holds.
	waitFor(what, cond string)
	// setViewport sizes the viewport in CSS pixels.
	setViewport(w, h int)
	// screenshot saves the whole page as a PNG in dir.
	screenshot(dir, name string)
	// viewShot saves what the viewport shows as a PNG in dir.
	viewShot(dir, name string)
	// report logs where the page is and what it said, to explain a failure.
	report()
	// checkClean fails the test for exceptions or dialogs the page raised.
	checkClean()
	// forget drops the problems seen so far that contain text (errors a
	// test caused on purpose, such as failed connections while offline).
	forget(text string)
}

// WebDriver key values of the keys the tests press (WebDriver's table of
// normalised key values); Chromium's driver maps them to its own.
const (
	keyTab        = "\uE004"
	keyBackspace  = "\uE003"
	keyEnter      = "\uE007"
	keyShift      = "\uE008"
	keyControl    = "\uE009"
	keyEscape     = "\uE00C"
	keyHome       = "\uE011"
	keyArrowLeft  = "\uE012"
	keyArrowUp    = "\uE013"
	keyArrowRight = "\uE014"
	keyArrowDown  = "\uE015"
)

// evalAs evaluates a JavaScript expression in d's page into a T.
func evalAs[T any](d driver, expr string) T {
	d.test().Helper()
	var v T
	d.evalInto(expr, &v)
	return v
}

// waitRows waits until the list has loaded and shows exactly the rows want,
// top to bottom.
func waitRows(d driver, what string, want []string) {
	t := d.test()
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := rowIDs(d)
		if slices.Equal(got, want) && evalAs[bool](d, listLoaded) {
			return
		}
		if time.Now().After(deadline) {
			d.report()
			t.Fatalf("%s: rows %v, want %v", what, got, want)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// clickTarget is where targetJS found an element: a viewport point in CSS
// pixels, or why it cannot be clicked yet.
type clickTarget struct {
	X, Y float64
	Why  string
}

// targetJS is a script that scrolls element sel into view and gives the
// clickTarget at fraction (fx, fy) of its box, once the element is shown
// there and not covered by another: where a person could click it.
func targetJS(sel string, fx, fy float64) string {
	return fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		if (!el) return {why: 'no such element'};
		el.scrollIntoView({block: 'center', inline: 'center'});
		const r = el.getBoundingClientRect();
		if (r.width === 0 || r.height === 0) return {why: 'not shown'};
		const x = Math.round(r.left + r.width * %g), y = Math.round(r.top + r.height * %g);
		const hit = document.elementFromPoint(x, y);
		if (!hit || !(hit === el || el.contains(hit))) return {why: 'covered by ' + (hit ? hit.outerHTML.slice(0, 80) : 'nothing')};
		return {x, y};
	})()`, sel, fx, fy)
}

// signIn signs in on the sign-in page by typing and clicking, and waits for
// the app's list.
func signIn(d driver, base, name string) {
	d.test().Helper()
	d.navigate(base + "/")
	d.waitFor("the sign-in form", `!document.getElementById('signin').hidden`)
	d.typeText("#name", name)
	d.typeText("#password", password)
	d.click("#signin button[type=submit]")
	d.waitFor("the recordings list", `document.querySelector('table.recordings') !== null && document.querySelector('table.recordings').getAttribute('aria-busy') === null && location.pathname.includes('/recordings/innovaphone-recordings')`)
}

// rowIDs lists the ids of the shown recording rows, top to bottom.
func rowIDs(d driver) []string {
	d.test().Helper()
	return evalAs[[]string](d, `[...document.querySelectorAll('table.recordings tbody tr')].map(r => r.dataset.id)`)
}

// pageLog is what a tab's page said: the problems checkClean fails a test
// for, and every console line for failure reports. Events arrive on the
// browser connection's goroutines, hence the lock.
type pageLog struct {
	mu       sync.Mutex
	problems []string // uncaught exceptions and JavaScript dialogs
	console  []string // everything the page logged, for failure reports
}

func (l *pageLog) problem(p string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.problems = append(l.problems, p)
}

func (l *pageLog) logged(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.console = append(l.console, line)
}

// failProblems fails t for each problem seen so far and forgets them.
func (l *pageLog) failProblems(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range l.problems {
		t.Errorf("page: %s", p)
	}
	l.problems = nil
}

// forget drops the problems that contain text.
func (l *pageLog) forget(text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.problems = slices.DeleteFunc(l.problems, func(p string) bool { return strings.Contains(p, text) })
}

// logConsole logs to t everything the page logged.
func (l *pageLog) logConsole(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.console {
		t.Logf("console %s", m)
	}
}

// saveScreenshot writes png as dir/file.png, failing t (not fatally) when
// it is not a PNG or cannot be written.
func saveScreenshot(t *testing.T, dir, file string, png []byte) {
	t.Helper()
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Errorf("screenshot %s is not a PNG", file)
		return
	}
	p := filepath.Join(dir, safeFile(file)+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Errorf("save screenshot: %v", err)
		return
	}
	t.Logf("screenshot: %s", p)
}

// checkSettingsOnPhone shows the page on a 390 px wide phone screen, fails
// the test if the page is wider than the screen, saves a screenshot with
// element sel scrolled into view, and returns to the desktop size.
func checkSettingsOnPhone(d driver, sel, dir, shot string) {
	t := d.test()
	t.Helper()
	d.setViewport(390, 844)
	if w := evalAs[float64](d, `document.documentElement.scrollWidth`); w > 400 {
		t.Errorf("settings are %.0f px wide on a 390 px screen", w)
	}
	d.evalInto(fmt.Sprintf(`document.querySelector(%q).scrollIntoView(), true`, sel), new(bool))
	d.screenshot(dir, shot)
	d.setViewport(1280, 900)
}
