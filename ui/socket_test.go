package ui

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSocketOffline runs the websocket client (js/api.js) in Node against
// a fake WebSocket: an action asked for while the connection is down waits
// and the page is told which; it is sent once the connection is back (here
// at once, as the banner's "Try now" asks) and the page is told it was done; one that waits longer than its limit is
// refused and the page is told it did not happen.
func TestSocketOffline(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	dir := t.TempDir()
	for _, f := range []string{"js/api.js", "js/i18n.js", "js/lang/en.js"} {
		b, err := fs.ReadFile(Files(), f)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"type":"module"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	script := `
globalThis.location = { protocol: 'http:', host: 'test' };
globalThis.navigator = { languages: ['en'] };
const sockets = [];
class FakeWS extends EventTarget {
  static OPEN = 1;
  constructor(url) { super(); this.url = url; this.readyState = 0; this.sent = []; sockets.push(this); }
  open() { this.readyState = 1; this.dispatchEvent(new Event('open')); }
  drop() { this.readyState = 3; const e = new Event('close'); e.code = 1006; this.dispatchEvent(e); }
  send(text) { this.sent.push(JSON.parse(text)); }
  reply(msg) { const e = new Event('message'); e.data = JSON.stringify(msg); this.dispatchEvent(e); }
}
globalThis.WebSocket = FakeWS;
const { Socket } = await import('./js/api.js');
const log = [];
const fail = (m) => { console.log('FAIL ' + m); process.exit(0); };
const until = async (what, cond) => { for (let i = 0; i < 400; i++) { if (cond()) return; await new Promise((r) => setTimeout(r, 5)); } fail('timed out waiting for ' + what); };
const s = new Socket({ offlineWait: 150 });
s.onState = (st) => log.push('state ' + st);
s.onWaiting = (label, finished, done) => log.push(label ? 'waiting ' + label : (done ? 'done ' : 'not done ') + finished);
s.onReconnect = () => log.push('reconnected');
const first = s.connect();
sockets[0].open();
await first;
sockets[0].drop();
// Given up after its limit: the page hears that it did not happen.
let refused = '';
await s.request('SetProtected', { id: 1, protected: true }, 'Protect').catch((e) => { refused = e.message; });
if (!refused) fail('the request made offline was not refused after its limit');
// Asked again while offline: sent once the connection is back.
const p = s.request('SetProtected', { id: 1, protected: true }, 'Protect');
s.retryNow(); // the banner's "Try now"
await until('a new connection attempt', () => sockets.length === 2);
sockets[1].open();
await until('the request to be sent', () => sockets[1].sent.length === 1);
const sent = sockets[1].sent[0];
if (sent.mt !== 'SetProtected' || sent.id !== 1) fail('sent ' + JSON.stringify(sent));
sockets[1].reply({ mt: 'SetProtectedResult', src: sent.src, recording: { id: 1, protected: true } });
const res = await p;
if (!res.recording?.protected) fail('result ' + JSON.stringify(res));
console.log('OK ' + refused + ' | ' + log.join(', '));
`
	if err := os.WriteFile(filepath.Join(dir, "run.mjs"), []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "run.mjs")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	got := strings.TrimSpace(string(out))
	want := "OK not done: no connection to the server | state online, state offline, waiting Protect, not done Protect, waiting Protect, state online, done Protect, reconnected"
	if got != want {
		t.Errorf("node said\n%s\nwant\n%s", got, want)
	}
}
