package ui

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMyAppsSignIn runs the myApps sign-in (js/myapps.js) in Node against a
// fake parent frame: the Login the client posts back goes into AppLogin
// unchanged, Logins for other App objects and messages from others than
// the parent are ignored, a refusal and a silent parent are told apart,
// the session becomes the page's cookie, and the client's scheme and
// language reach the page.
func TestMyAppsSignIn(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	mod, err := filepath.Abs(filepath.Join("static", "js", "myapps.js"))
	if err != nil {
		t.Fatal(err)
	}
	script := `
const listeners = new Set();
const posted = [];
const parent = { postMessage: (data, origin) => { posted.push([data, origin]); answer?.(JSON.parse(data)); } };
const stranger = {};
let answer = null;
const cookies = [];
globalThis.window = {
  parent, top: parent,
  addEventListener: (type, fn) => { if (type === 'message') listeners.add(fn); },
  removeEventListener: (type, fn) => { listeners.delete(fn); },
};
window.self = window;
globalThis.location = { search: '?name=rec-team&lang=de', protocol: 'http:', href: 'http://h/example.com/recordings/innovaphone-recordings.htm' };
globalThis.document = { set cookie(c) { cookies.push(c); } };
const deliver = (source, data) => { for (const fn of [...listeners]) fn({ source, data }); };

const m = await import('file://` + filepath.ToSlash(mod) + `');
const out = {};
out.framed = m.framed();
window.top = window;
out.notFramed = m.framed();
window.top = parent;
out.name = m.launchName(false);
location.search = '';
out.nameUser = m.launchName(false);
out.nameAdmin = m.launchName(true);
location.search = '?name=rec-team';

const token = 'A'.repeat(43);
const sent = [];
const send = async (mt, params) => {
  sent.push({ mt, params });
  if (mt === 'AppChallenge') return { challenge: '0123456789' };
  return { ok: true, user: 'alice', role: 'user', app_object: 'rec-team', session: token };
};
const info = { appobj: 'rec-team', cn: 'Alice', apps: [{ name: 'rec-team' }] };
answer = (req) => setTimeout(() => {
  deliver(stranger, JSON.stringify({ mt: 'Login', pbxObj: req.app, digest: 'forged' }));
  deliver(parent, { mt: 'Login' });
  deliver(parent, 'not json');
  deliver(parent, JSON.stringify({ mt: 'Login', pbxObj: 'other', digest: 'other' }));
  deliver(parent, JSON.stringify({ mt: 'Login', app: 'innovaphone-recordings', domain: 'example.com', sip: 'alice',
    guid: 'g1', dn: 'Alice A', info, digest: 'd1', pbxObj: req.app, key: 'k' }));
});
out.signedIn = await m.signIn(send, false);
out.sent = sent;
out.posted = posted;
out.cookieHTTP = cookies.pop();
location.protocol = 'https:';
out.signedIn2 = await m.signIn(send, false);
out.cookieHTTPS = cookies.pop();

answer = (req) => setTimeout(() => deliver(parent, JSON.stringify({ mt: 'Login', pbxObj: req.app, error: 3, errorText: 'no such app' })));
try { await m.signIn(send, false); } catch (e) { out.refused = { name: e.name, msg: e.message, noAnswer: e.noAnswer }; }
answer = (req) => setTimeout(() => deliver(parent, JSON.stringify({ mt: 'Login', pbxObj: req.app, digest: 'x' })));
const refuse = async (mt) => { if (mt === 'AppChallenge') return { challenge: '1' }; throw Object.assign(new Error('x'), { raw: 'wrong digest' }); };
try { await m.signIn(refuse, false); } catch (e) { out.serviceRefused = { msg: e.message, noAnswer: e.noAnswer }; }
answer = null;
try { await m.signIn(send, false, 20); } catch (e) { out.silent = { msg: e.message, noAnswer: e.noAnswer }; }
out.listenersLeft = listeners.size;

const seen = [];
m.follow({ onScheme: (s) => seen.push('scheme ' + s), onLang: (l) => seen.push('lang ' + l) });
deliver(stranger, JSON.stringify({ mt: 'SetScheme', scheme: 'dark' }));
deliver(parent, JSON.stringify({ mt: 'SetScheme', scheme: 'dark' }));
deliver(parent, JSON.stringify({ mt: 'SetLang', lang: 'de' }));
deliver(parent, JSON.stringify({ mt: 'SetLang', lang: 7 }));
out.seen = seen;
console.log(JSON.stringify(out));
`
	out, err := exec.Command(node, "--input-type=module", "-e", script).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	got := strings.TrimSpace(string(out))
	for _, want := range []string{
		`"framed":true,"notFramed":false`,
		`"name":"rec-team"`, `"nameUser":"innovaphone-recordings"`, `"nameAdmin":"innovaphone-recordingsadmin"`,
		`"signedIn":{"user":"alice","role":"user","app_object":"rec-team","session":"AAAA`,
		`"dn":"Alice A"`,
		`{"mt":"AppChallenge","params":{}}`,
		// The Login goes into AppLogin as the client gave it (info as an object, key left out).
		`{"mt":"AppLogin","params":{"app":"innovaphone-recordings","domain":"example.com","sip":"alice","guid":"g1","dn":"Alice A","info":{"appobj":"rec-team","cn":"Alice","apps":[{"name":"rec-team"}]},"digest":"d1","pbxObj":"rec-team"}}`,
		`"posted":[["{\"mt\":\"getLogin\",\"app\":\"rec-team\",\"challenge\":\"0123456789\"}","*"]`,
		`"cookieHTTP":"recordings_session=AAAA`, `; Path=/; SameSite=Strict"`,
		`"cookieHTTPS":"recordings_session=AAAA`, `; Path=/; Secure; SameSite=None; Partitioned"`,
		`"refused":{"name":"MyAppsError","msg":"myApps refused the sign-in: no such app","noAnswer":false}`,
		`"serviceRefused":{"msg":"the service refused the sign-in: wrong digest","noAnswer":false}`,
		`"silent":{"msg":"myApps did not answer the sign-in request","noAnswer":true}`,
		`"listenersLeft":0`,
		`"seen":["scheme dark","lang de"]`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %s\n%s", want, got)
		}
	}
	if strings.Contains(got, "forged") {
		t.Errorf("a Login from another frame was taken:\n%s", got)
	}
}
