package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// foxTab is Firefox's one tab with what the page said on its console. Its
// helpers fail the test t; subtests take their own view with (*foxTab).on.
type foxTab struct {
	t *testing.T
	*foxState
}

type foxState struct {
	ctx     context.Context // the browser's lifetime
	started chan error      // the browser's start: one value
	ff      *firefox        // set before started receives nil
	context string          // the tab's browsing context id
	pageLog
}

// newFirefox starts a fresh headless Firefox whose downloads go to
// downloads; call ready before using it. Without Firefox the test fails
// under CI (CI=true) and is skipped elsewhere, and with -short always.
func newFirefox(t *testing.T, downloads string) *foxTab {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test (Firefox): skipped with -short")
	}
	if _, err := os.Stat(firefoxPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser tests need %s (apt-get install firefox-esr): %v", firefoxPath, err)
		}
		t.Skipf("no %s: skipping Firefox tests (apt-get install firefox-esr)", firefoxPath)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &foxTab{t: t, foxState: &foxState{ctx: ctx, started: make(chan error, 1)}}
	stopped := make(chan struct{})
	// Firefox takes seconds to start: it does so while the test sets up the
	// server; the first action waits for it (ready).
	go func() {
		defer close(stopped)
		sctx, scancel := context.WithTimeout(ctx, 90*time.Second) // slow on a busy machine
		ff, err := startFirefox(sctx, downloads, b.event)
		scancel()
		b.ff = ff
		b.started <- err
		if err != nil {
			return
		}
		<-ctx.Done()
		ff.stop()
	}()
	t.Cleanup(func() {
		cancel()
		<-stopped
	})
	return b
}

// ready waits until the browser has started, then finds its tab, listens to
// the page and sets a desktop viewport.
func (b *foxTab) ready() {
	b.t.Helper()
	if err := <-b.started; err != nil {
		b.t.Fatalf("start firefox: %v", err)
	}
	b.t.Logf("firefox %s ready in %v", b.ff.version, b.ff.startup.Round(time.Millisecond))
	var tree struct {
		Contexts []struct {
			Context string `json:"context"`
		} `json:"contexts"`
	}
	b.call("find the tab", "browsingContext.getTree", map[string]any{"maxDepth": 0}, &tree)
	if len(tree.Contexts) == 0 {
		b.t.Fatal("firefox has no tab")
	}
	b.context = tree.Contexts[0].Context
	b.call("listen to the page", "session.subscribe", map[string]any{
		"events": []string{"log.entryAdded", "browsingContext.userPromptOpened"}}, nil)
	b.setViewport(1280, 900)
}

// event receives the session's events (on the connection's reader).
func (s *foxState) event(method string, params json.RawMessage) {
	switch method {
	case "log.entryAdded":
		var e struct {
			Type   string `json:"type"` // console or javascript (an uncaught error)
			Level  string `json:"level"`
			Text   string `json:"text"`
			Source struct {
				Context string `json:"context"`
			} `json:"source"`
		}
		if err := json.Unmarshal(params, &e); err != nil {
			s.problem(fmt.Sprintf("log entry %.200q: %v", params, err))
			return
		}
		if e.Type == "javascript" {
			s.problem("uncaught: " + e.Text)
		}
		s.logged(e.Type + " " + e.Level + ": " + e.Text)
	case "browsingContext.userPromptOpened":
		var p struct {
			Context string `json:"context"`
			Type    string `json:"type"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(params, &p); err != nil {
			s.problem(fmt.Sprintf("prompt %.200q: %v", params, err))
			return
		}
		s.problem("javascript " + p.Type + " opened: " + p.Message)
		// Close it, or the page stays blocked; not on the reader, which
		// must deliver the answer.
		go func() {
			ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
			defer cancel()
			if err := s.ff.conn.call(ctx, "browsingContext.handleUserPrompt",
				map[string]any{"context": p.Context, "accept": false}, nil); err != nil {
				s.problem("close the prompt: " + err.Error())
			}
		}()
	}
}

// on returns the tab for use in subtest t.
func (b *foxTab) on(t *testing.T) *foxTab { return &foxTab{t: t, foxState: b.foxState} }

// call sends one BiDi command with a deadline, failing the test on error.
func (b *foxTab) call(what, method string, params, result any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if err := b.ff.conn.call(ctx, method, params, result); err != nil {
		b.report()
		b.t.Fatalf("%s: %v", what, err)
	}
}

// navigate loads url and waits for its load event.
func (b *foxTab) navigate(url string) {
	b.t.Helper()
	b.call("open "+url, "browsingContext.navigate", map[string]any{"context": b.context, "url": url, "wait": "complete"}, nil)
}

// setViewport sizes the tab's viewport in CSS pixels.
func (b *foxTab) setViewport(w, h int) {
	b.t.Helper()
	b.call("set the viewport", "browsingContext.setViewport", map[string]any{
		"context": b.context, "viewport": map[string]int{"width": w, "height": h}}, nil)
}

// evaluate runs a JavaScript expression in the page (awaiting a promise)
// and decodes its value, passed through JSON.stringify, into out.
func (s *foxState) evaluate(ctx context.Context, expr string, out any) error {
	wrapped := `(async () => { const v = await (` + expr + `); return v === undefined ? 'null' : JSON.stringify(v); })()`
	var res struct {
		Type   string `json:"type"` // success or exception
		Result struct {
			Type  string          `json:"type"`
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails struct {
			Text       string `json:"text"`
			LineNumber int    `json:"lineNumber"`
		} `json:"exceptionDetails"`
	}
	err := s.ff.conn.call(ctx, "script.evaluate", map[string]any{
		"expression":      wrapped,
		"target":          map[string]string{"context": s.context},
		"awaitPromise":    true,
		"resultOwnership": "none",
		"userActivation":  false,
	}, &res)
	if err != nil {
		return err
	}
	if res.Type == "exception" {
		return fmt.Errorf("script threw: %s", res.ExceptionDetails.Text)
	}
	if res.Type != "success" || res.Result.Type != "string" {
		return fmt.Errorf("script result %s of type %s", res.Type, res.Result.Type)
	}
	var text string
	if err := json.Unmarshal(res.Result.Value, &text); err != nil {
		return fmt.Errorf("script result %.200q: %w", res.Result.Value, err)
	}
	if err := json.Unmarshal([]byte(text), out); err != nil {
		return fmt.Errorf("script result %.200q as %T: %w", text, out, err)
	}
	return nil
}

// foxEval evaluates a JavaScript expression in the page, failing the test
// on error.
func foxEval[T any](b *foxTab, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	var v T
	if err := b.evaluate(ctx, expr, &v); err != nil {
		b.report()
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it holds. Errors count as "not
// yet": a navigation destroys the page a poll ran in.
func (b *foxTab) waitFor(what, cond string) {
	b.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var last error
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		var ok bool
		err := b.evaluate(ctx, `Boolean(`+cond+`)`, &ok)
		cancel()
		if err == nil && ok {
			return
		}
		if err != nil {
			last = err
		}
		if time.Now().After(deadline) || b.ctx.Err() != nil {
			b.report()
			b.t.Fatalf("waiting for %s (%s): last error %v", what, cond, last)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// point is a place in the viewport, in CSS pixels.
type point struct{ X, Y float64 }

// target scrolls the element sel into view and returns the viewport point
// at fraction (fx, fy) of its box, once the element is shown there and not
// covered by another: where a person could click it.
func (b *foxTab) target(sel string, fx, fy float64) point {
	b.t.Helper()
	js := targetJS(sel, fx, fy)
	deadline := time.Now().Add(15 * time.Second)
	var last *clickTarget
	for {
		var r clickTarget
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		err := b.evaluate(ctx, js, &r)
		cancel()
		// Only where the element stayed since the last look (a layout
		// shift between looking and clicking sends the click elsewhere).
		if err == nil && r.Why == "" && last != nil && last.X == r.X && last.Y == r.Y {
			return point{r.X, r.Y}
		}
		if err == nil && r.Why == "" {
			last = &r
		} else {
			last = nil
		}
		if time.Now().After(deadline) {
			b.report()
			b.t.Fatalf("element %s cannot be clicked: %s %v", sel, r.Why, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// click clicks the middle of element sel with the mouse.
func (b *foxTab) click(sel string) {
	b.t.Helper()
	b.clickAt(b.target(sel, 0.5, 0.5))
}

// clickAt moves the mouse to p and presses and releases its main button.
func (b *foxTab) clickAt(p point) {
	b.t.Helper()
	b.actions("click", map[string]any{
		"type": "pointer", "id": "mouse", "parameters": map[string]string{"pointerType": "mouse"},
		"actions": []map[string]any{
			{"type": "pointerMove", "x": int(math.Round(p.X)), "y": int(math.Round(p.Y)), "origin": "viewport"},
			{"type": "pointerDown", "button": 0},
			{"type": "pointerUp", "button": 0},
		}})
}

// shiftClick clicks the middle of element sel with the Shift key held: a
// key source and a pointer source in one action sequence, tick by tick.
func (b *foxTab) shiftClick(sel string) {
	b.t.Helper()
	p := b.target(sel, 0.5, 0.5)
	b.call("shift-click", "input.performActions", map[string]any{"context": b.context, "actions": []any{
		map[string]any{"type": "key", "id": "keyboard", "actions": []map[string]any{
			{"type": "keyDown", "value": keyShift}, {"type": "pause"}, {"type": "pause"}, {"type": "keyUp", "value": keyShift},
		}},
		map[string]any{"type": "pointer", "id": "mouse", "parameters": map[string]string{"pointerType": "mouse"},
			"actions": []map[string]any{
				{"type": "pointerMove", "x": int(math.Round(p.X)), "y": int(math.Round(p.Y)), "origin": "viewport"},
				{"type": "pointerDown", "button": 0},
				{"type": "pointerUp", "button": 0},
				{"type": "pause"},
			}},
	}}, nil)
}

// typeText clicks into field sel, selects what it holds (Ctrl+A) and types
// text key by key, as a person would (or deletes the selection with
// Backspace when text is empty).
func (b *foxTab) typeText(sel, text string) {
	b.t.Helper()
	// Click into the field where it stays, and type only once it has the
	// focus (a late layout shift could have sent the click elsewhere).
	focused := fmt.Sprintf(`document.activeElement === document.querySelector(%q)`, sel)
	for try := 0; ; try++ {
		b.click(sel)
		if foxEval[bool](b, focused) {
			break
		}
		if try == 20 {
			b.report()
			b.t.Fatalf("clicked into %s, but it does not have the focus", sel)
		}
		time.Sleep(25 * time.Millisecond)
	}
	keys := []map[string]any{
		{"type": "keyDown", "value": keyControl}, {"type": "keyDown", "value": "a"},
		{"type": "keyUp", "value": "a"}, {"type": "keyUp", "value": keyControl},
	}
	for _, r := range text {
		keys = append(keys, map[string]any{"type": "keyDown", "value": string(r)}, map[string]any{"type": "keyUp", "value": string(r)})
	}
	if text == "" {
		keys = append(keys, map[string]any{"type": "keyDown", "value": keyBackspace}, map[string]any{"type": "keyUp", "value": keyBackspace})
	}
	b.actions("type into "+sel, map[string]any{"type": "key", "id": "keyboard", "actions": keys})
	if got := foxEval[string](b, fmt.Sprintf(`document.querySelector(%q).value`, sel)); got != text {
		b.t.Fatalf("typed %q into %s, it holds %q", text, sel, got)
	}
}

// press presses and releases keys one after another where the focus is.
func (b *foxTab) press(keys ...string) {
	b.t.Helper()
	var acts []map[string]any
	for _, k := range keys {
		acts = append(acts, map[string]any{"type": "keyDown", "value": k}, map[string]any{"type": "keyUp", "value": k})
	}
	b.actions("press keys", map[string]any{"type": "key", "id": "keyboard", "actions": acts})
}

// actions performs one input source's action sequence.
func (b *foxTab) actions(what string, source map[string]any) {
	b.t.Helper()
	b.call(what, "input.performActions", map[string]any{"context": b.context, "actions": []any{source}}, nil)
}

// set puts a value into a form field as a script would, with input and
// change events (for selects, which typing does not reach).
func (b *foxTab) set(sel, value string) {
	b.t.Helper()
	js := fmt.Sprintf(`(() => { const el = document.querySelector(%q); if (!el) return false;
		el.value = %q; el.dispatchEvent(new Event('input', {bubbles: true})); el.dispatchEvent(new Event('change', {bubbles: true})); return el.value === %q; })()`, sel, value, value)
	if !foxEval[bool](b, js) {
		b.report()
		b.t.Fatalf("cannot set %s to %q", sel, value)
	}
}

// screenshot saves the whole page as dir/firefox-name.png.
func (b *foxTab) screenshot(dir, name string) { b.shot(dir, name, "document") }

func (b *foxTab) viewShot(dir, name string) { b.shot(dir, name, "viewport") }

// shot saves a screenshot of the document or the viewport (origin).
func (b *foxTab) shot(dir, name, origin string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	var res struct {
		Data string `json:"data"`
	}
	if err := b.ff.conn.call(ctx, "browsingContext.captureScreenshot",
		map[string]any{"context": b.context, "origin": origin}, &res); err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	png, err := base64.StdEncoding.DecodeString(res.Data)
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	saveScreenshot(b.t, dir, "firefox-"+name, png)
}

// expectProblem runs a script that makes the page raise a problem (an
// uncaught exception, a dialog) and waits until the tab has seen it; the
// problem is then forgotten. It proves that checkClean would notice.
func (b *foxTab) expectProblem(script, want string) {
	b.t.Helper()
	foxEval[bool](b, `(() => { setTimeout(() => { `+script+` }, 0); return true; })()`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		b.mu.Lock()
		i := slices.IndexFunc(b.problems, func(p string) bool { return strings.Contains(p, want) })
		if i >= 0 {
			b.problems = slices.Delete(b.problems, i, i+1)
		}
		b.mu.Unlock()
		if i >= 0 {
			return
		}
		if time.Now().After(deadline) {
			b.report()
			b.t.Fatalf("the page's problem %q from %s went unnoticed", want, script)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// checkClean fails the test for exceptions or dialogs the page raised.
func (b *foxTab) checkClean() {
	b.t.Helper()
	b.failProblems(b.t)
}

// report logs where the page is, what it said and what Firefox printed, to
// explain a failure.
func (b *foxTab) report() {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	var loc, text string
	_ = b.evaluate(ctx, `location.href`, &loc)
	_ = b.evaluate(ctx, `document.body ? document.body.innerText.slice(0, 2000) : ''`, &text)
	b.t.Logf("page at %s shows:\n%s", loc, text)
	b.logConsole(b.t)
	if out := b.ff.output.String(); strings.TrimSpace(out) != "" {
		b.t.Logf("firefox output (last lines):\n%s", out)
	}
}

// The driver (driver_test.go) of the shared app scenario, in Firefox.

func (b *foxTab) sub(t *testing.T) driver { return b.on(t) }

func (b *foxTab) test() *testing.T { return b.t }

func (b *foxTab) evalInto(expr string, out any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if err := b.evaluate(ctx, expr, out); err != nil {
		b.report()
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
}

func (b *foxTab) clickIn(sel string, fx, fy float64) {
	b.t.Helper()
	b.clickAt(b.target(sel, fx, fy))
}
