// A stand-in for the myApps client, for the browser tests: it frames an
// app page and answers the app's login requests as the client does with
// the PBX's help. The app posts '{"mt":"getLogin","app":<object name>,
// "challenge":…}'; the client asks the PBX (AppGetLogin), and the PBX
// computes the digest with the App object's password (the service's
// instance password): SHA-256 hex of app:domain:sip:guid:dn:info:challenge:password,
// info as compact JSON. The answer goes back as '{"mt":"Login",…}'.
//
// Query: obj (the App object's name), app (innovaphone-recordings[admin]),
// user (sip), dn, lang, scheme, bad=1 (digest with a wrong password), base
// (the service's origin, when the client runs on another site).
// The test serves config.json: {domain, password, guid}.
const q = new URLSearchParams(location.search);
const cfg = await (await fetch('/__myapps/config.json')).json();
const frame = document.getElementById('app');
const obj = q.get('obj');
const app = q.get('app');
const user = { sip: q.get('user'), dn: q.get('dn') ?? '', guid: cfg.guid };
document.getElementById('who').textContent = user.dn || user.sip;

window.__getLogins = 0;
window.__logins = [];

async function sha256hex(text) {
  const sum = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(sum)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function post(o) { frame.contentWindow.postMessage(JSON.stringify(o), '*'); }

window.addEventListener('message', async (ev) => {
  if (ev.source !== frame.contentWindow || typeof ev.data !== 'string') return;
  let m;
  try { m = JSON.parse(ev.data); } catch { return; }
  if (m.mt !== 'getLogin') return;
  window.__getLogins += 1;
  if (m.app !== obj) {
    post({ mt: 'Login', pbxObj: m.app, error: 1, errorText: `no App object ${m.app} for this user` });
    return;
  }
  const info = { appobj: obj, appdn: `Recordings (${obj})`, appurl: frame.src.split('?')[0].replace(/\.htm$/, ''), cn: user.dn, apps: [{ name: obj }] };
  const password = q.get('bad') ? `${cfg.password}-wrong` : cfg.password;
  const digest = await sha256hex([app, cfg.domain, user.sip, user.guid, user.dn, JSON.stringify(info), m.challenge, password].join(':'));
  window.__logins.push(m.challenge);
  post({ mt: 'Login', app, domain: cfg.domain, sip: user.sip, guid: user.guid, dn: user.dn, info, digest, pbxObj: obj, salt: '', key: '' });
});

// What the client sends when its user changes the colour scheme or language.
window.setScheme = (scheme) => post({ mt: 'SetScheme', scheme });
window.setLang = (lang) => post({ mt: 'SetLang', lang });

const params = new URLSearchParams({ name: obj });
if (q.get('lang')) params.set('lang', q.get('lang'));
if (q.get('scheme')) params.set('scheme', q.get('scheme'));
// base: the service's origin when the client runs on another site.
frame.src = `${q.get('base') ?? ''}/${cfg.domain}/recordings/${app}.htm?${params}`;
