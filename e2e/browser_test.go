package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

const chromiumPath = "/usr/bin/chromium"

// tab is one browser tab with what the page said on its console. Its
// helpers fail the test t; subtests take their own view with (*tab).on.
type tab struct {
	t *testing.T
	*tabState
}

type tabState struct {
	ctx     context.Context
	started chan error // the browser's start: one value
	pageLog
}

// newBrowser starts a fresh headless Chromium; call ready before using it.
// Without Chromium the test fails under CI (CI=true) and is skipped
// elsewhere, and with -short always.
func newBrowser(t *testing.T) *tab {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test (Chromium): skipped with -short")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser tests need %s (apt-get install chromium): %v", chromiumPath, err)
		}
		t.Skipf("no %s: skipping browser tests (apt-get install chromium)", chromiumPath)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("mute-audio", true),
		// No UserDataDir: chromedp makes a fresh profile folder per browser
		// and removes it (with retries while Chromium's helpers exit).
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	tb := &tab{t: t, tabState: &tabState{ctx: ctx, started: make(chan error, 1)}}
	// Chromium takes seconds to start: it does so while the test sets up
	// the server; the first action waits for it (ready).
	go func() { tb.started <- chromedp.Do(ctx) }()
	return tb
}

// ready waits until the browser has started, then listens to the page and
// sets the download folder.
func (b *tab) ready(downloads string) {
	b.t.Helper()
	if err := <-b.started; err != nil {
		b.t.Fatalf("start chromium: %v", err)
	}
	ctx, tb, t := b.ctx, b, b.t
	msgs := chromedp.Console(ctx)
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleException {
				tb.problem("uncaught: " + m.Text)
			}
			tb.logged(string(m.Type) + ": " + m.Text)
		}
	}()
	go func() {
		for d, err := range dialogs {
			if err != nil {
				return
			}
			tb.problem("javascript dialog opened: " + d.Message)
		}
	}()
	if downloads != "" {
		_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads})
		if err != nil {
			t.Fatalf("set download folder: %v", err)
		}
	}
}

// on returns the tab for use in subtest t.
func (b *tab) on(t *testing.T) *tab { return &tab{t: t, tabState: b.tabState} }

// set puts a value into a form field as typing would, with input and change
// events.
func (b *tab) set(sel, value string) {
	b.t.Helper()
	js := fmt.Sprintf(`(() => { const el = document.querySelector(%q); if (!el) return false;
		el.value = %q; el.dispatchEvent(new Event('input', {bubbles: true})); el.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`, sel, value)
	if !eval[bool](b, js) {
		b.report()
		b.t.Fatalf("no field %s", sel)
	}
}

// checkClean fails the test for exceptions or dialogs the page raised.
func (b *tab) checkClean() {
	b.t.Helper()
	b.failProblems(b.t)
}

// do runs steps with a deadline.
func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.report()
		b.t.Fatalf("%s: %v", what, err)
	}
}

// report logs where the page is and what it said, to explain a failure.
func (b *tab) report() {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 2000) : ''`))
	b.t.Logf("page at %s shows:\n%s", loc, text)
	b.logConsole(b.t)
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it holds.
func (b *tab) waitFor(what, cond string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(25*time.Millisecond)))
		if err == nil {
			return
		}
		// A navigation destroys the page the poll ran in: poll the new one.
		if ctx.Err() == nil && (strings.Contains(err.Error(), "navigated") || strings.Contains(err.Error(), "context")) {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		b.report()
		b.t.Fatalf("waiting for %s (%s): %v", what, cond, err)
	}
}

func (b *tab) screenshot(dir, name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	saveScreenshot(b.t, dir, name, buf)
}

func (b *tab) viewShot(dir, name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	saveScreenshot(b.t, dir, name, buf)
}

// signIn signs in on the sign-in page and waits for the app's list.
func (b *tab) signIn(base, name string) {
	b.t.Helper()
	signIn(b, base, name)
}

func rowSel(id int64) string {
	return `table.recordings tbody tr[data-id="` + strconv.FormatInt(id, 10) + `"]`
}

// The driver (driver_test.go) of the shared app scenario, in Chromium.

func (b *tab) sub(t *testing.T) driver { return b.on(t) }

func (b *tab) test() *testing.T { return b.t }

func (b *tab) evalInto(expr string, out any) {
	b.t.Helper()
	raw := eval[[]byte](b, expr)
	if len(raw) == 0 {
		raw = []byte("null") // undefined
	}
	if err := json.Unmarshal(raw, out); err != nil {
		b.report()
		b.t.Fatalf("evaluate %s: result %.200q as %T: %v", expr, raw, out, err)
	}
}

func (b *tab) navigate(url string) {
	b.t.Helper()
	b.do("open "+url, chromedp.Navigate(url))
}

// click clicks the middle of element sel with the mouse, once it is shown,
// not covered, and where it was a moment before (see clickIn).
func (b *tab) click(sel string) {
	b.t.Helper()
	b.clickIn(sel, 0.5, 0.5)
}

// clickIn clicks element sel with the mouse at fraction (fx, fy) of its box,
// once it is shown there and not covered by another element.
func (b *tab) clickIn(sel string, fx, fy float64) {
	b.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var last clickTarget
	for {
		r := evalAs[clickTarget](b, targetJS(sel, fx, fy))
		// Click only where the element stayed since the last look: a
		// status line or a pushed update that shifts the layout between
		// finding the element and pressing the button would otherwise
		// send the click to whatever moved under the pointer.
		if r.Why == "" && last.Why == "" && r.X == last.X && r.Y == last.Y && (r.X != 0 || r.Y != 0) {
			b.do("click in "+sel, chromedp.MouseClickXY(r.X, r.Y))
			return
		}
		last = r
		if time.Now().After(deadline) {
			b.report()
			b.t.Fatalf("element %s cannot be clicked: %s", sel, r.Why)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// shiftClick clicks the middle of element sel with Shift held, once it is
// shown and not covered.
func (b *tab) shiftClick(sel string) {
	b.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := evalAs[clickTarget](b, targetJS(sel, 0.5, 0.5))
		if r.Why == "" {
			b.do("shift-click "+sel, chromedp.MouseClickXY(r.X, r.Y, chromedp.ButtonModifiers(chromedp.ModifierShift)))
			return
		}
		if time.Now().After(deadline) {
			b.report()
			b.t.Fatalf("element %s cannot be clicked: %s", sel, r.Why)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// typeText clicks into field sel, selects what it holds (Ctrl+A) and types
// text key by key (or deletes the selection when text is empty).
func (b *tab) typeText(sel, text string) {
	b.t.Helper()
	keys := text
	if keys == "" {
		keys = kb.Backspace
	}
	// Click into the field where it stays, and type only once it has the
	// focus (a late layout shift could have sent the click elsewhere).
	focused := fmt.Sprintf(`document.activeElement === document.querySelector(%q)`, sel)
	for try := 0; ; try++ {
		b.clickIn(sel, 0.5, 0.5)
		if evalAs[bool](b, focused) {
			break
		}
		if try == 20 {
			b.report()
			b.t.Fatalf("clicked into %s, but it does not have the focus", sel)
		}
		time.Sleep(25 * time.Millisecond)
	}
	b.do("type into "+sel,
		chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.KeyEvent(keys))
	if got := evalAs[string](b, fmt.Sprintf(`document.querySelector(%q).value`, sel)); got != text {
		b.t.Fatalf("typed %q into %s, it holds %q", text, sel, got)
	}
}

// chromiumKey maps a WebDriver key value the tests press to chromedp's.
func chromiumKey(k string) (string, bool) {
	switch k {
	case keyBackspace:
		return kb.Backspace, true
	case keyEnter:
		return kb.Enter, true
	case keyControl:
		return kb.Control, true
	case keyHome:
		return kb.Home, true
	case keyArrowLeft:
		return kb.ArrowLeft, true
	case keyArrowRight:
		return kb.ArrowRight, true
	case keyArrowUp:
		return kb.ArrowUp, true
	case keyArrowDown:
		return kb.ArrowDown, true
	case keyEscape:
		return kb.Escape, true
	case keyTab:
		return kb.Tab, true
	}
	return "", false
}

func (b *tab) press(keys ...string) {
	b.t.Helper()
	for _, k := range keys {
		ck, ok := chromiumKey(k)
		if !ok {
			b.t.Fatalf("press: key %q has no Chromium equivalent", k)
		}
		b.do("press a key", chromedp.KeyEvent(ck))
	}
}

func (b *tab) setViewport(w, h int) {
	b.t.Helper()
	b.do("set the viewport", chromedp.EmulateViewport(int64(w), int64(h)))
}
