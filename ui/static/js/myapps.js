// myApps launches the apps. Inside the myApps client (the app page in the
// client's frame) the user and the admin app sign in without a password
// page, as apps built on innovaphone's SDK do:
//
//   1. the app asks the service for a challenge on its websocket
//      (AppChallenge → AppChallengeResult{challenge});
//   2. it asks its parent frame, the myApps client, for a login:
//      postMessage('{"mt":"getLogin","app":<name>,"challenge":…}', '*');
//      the client forwards it to the PBX (AppGetLogin) and posts the
//      answer back as '{"mt":"Login","app","domain","sip","guid","dn",
//      "info","digest","pbxObj",…}' (or with error/errorText);
//   3. it sends AppLogin with those fields to the service, which checks
//      the digest with the instance password and answers AppLoginResult
//      with the user, the role (the app's) and a session token.
//
// The client also passes its language and colour scheme: ?lang= and
// ?scheme= in the page URL at launch, SetLang and SetScheme messages later.
// Opened directly in a browser (no parent frame) none of this runs and the
// app keeps its sign-in page. docs/pbx.md ("myApps") lists the choices made
// where innovaphone's documents are silent.

export const appUser = 'innovaphone-recordings';
export const appAdmin = 'innovaphone-recordingsadmin';

// How long the parent frame gets to answer getLogin. A frame that is not
// the myApps client never answers; the app then falls back to its own
// sign-in.
export const loginTimeoutMS = 8000;

/** MyAppsError is a sign-in that myApps or the service refused. */
export class MyAppsError extends Error {
  constructor(message, noAnswer = false) {
    super(message);
    this.name = 'MyAppsError';
    this.noAnswer = noAnswer; // the parent never answered: not myApps
  }
}

/** framed tells whether the page runs inside another page's frame. */
export function framed() {
  try {
    return window.self !== window.top;
  } catch {
    return true; // a cross-origin top may refuse the comparison
  }
}

/**
 * launchName is the App object's name that myApps passes as ?name= (the
 * SIP name getLogin must ask for); without it the app's own name.
 */
export function launchName(admin) {
  const n = new URLSearchParams(location.search).get('name');
  return n && n.length <= 128 ? n : (admin ? appAdmin : appUser);
}

// fromParent decodes a message posted by the parent frame: a JSON string
// holding an object, as the SDK's client library posts them.
function fromParent(ev) {
  if (ev.source !== window.parent || typeof ev.data !== 'string') return null;
  try {
    const o = JSON.parse(ev.data);
    return o && typeof o === 'object' && typeof o.mt === 'string' ? o : null;
  } catch {
    return null;
  }
}

/**
 * getLogin asks the parent frame for the login of app name against
 * challenge and resolves with the Login message. It rejects with a
 * MyAppsError when the client reports an error, or (noAnswer) when nothing
 * answers within timeoutMS.
 */
export function getLogin(name, challenge, timeoutMS = loginTimeoutMS) {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      window.removeEventListener('message', onMessage);
    };
    const onMessage = (ev) => {
      const o = fromParent(ev);
      // The SDK's rule: a Login is for the app whose name is its pbxObj.
      if (!o || o.mt !== 'Login' || (o.pbxObj && o.pbxObj !== name)) return;
      done();
      if (o.error || !o.digest) {
        reject(new MyAppsError(`myApps refused the sign-in: ${o.errorText || o.error || 'no digest'}`));
        return;
      }
      resolve(o);
    };
    const timer = setTimeout(() => {
      done();
      reject(new MyAppsError('myApps did not answer the sign-in request', true));
    }, timeoutMS);
    window.addEventListener('message', onMessage);
    window.parent.postMessage(JSON.stringify({ mt: 'getLogin', app: name, challenge }), '*');
  });
}

/**
 * signIn is the Socket's authenticate hook (api.js): on a freshly opened
 * connection, send(mt, params) the AppChallenge, get the login from
 * myApps, send AppLogin. It resolves with {user, role, app_object,
 * session, dn}; a refusal rejects with a MyAppsError.
 */
export async function signIn(send, admin, timeoutMS = loginTimeoutMS) {
  const name = launchName(admin);
  const ch = await send('AppChallenge', {});
  const login = await getLogin(name, ch.challenge, timeoutMS);
  let res;
  try {
    res = await send('AppLogin', {
      app: login.app, domain: login.domain ?? '', sip: login.sip ?? '', guid: login.guid ?? '',
      dn: login.dn ?? '', info: login.info, digest: login.digest, pbxObj: login.pbxObj ?? name,
    });
  } catch (err) {
    // AppLoginResult with ok false carries the reason as its error.
    throw new MyAppsError(`the service refused the sign-in: ${err.raw ?? err.message}`);
  }
  if (!res.ok) throw new MyAppsError(`the service refused the sign-in: ${res.error ?? 'unknown reason'}`);
  useSession(res.session);
  return { user: res.user, role: res.role, app_object: res.app_object, session: res.session, dn: login.dn ?? '' };
}

/**
 * useSession lets the page's HTTP requests (playback, downloads, admin
 * calls) carry the session the AppLogin made, as the cookie a password
 * sign-in sets would. Over HTTPS the cookie may be sent inside the myApps
 * frame of another site (SameSite=None, partitioned by that site); over
 * plain HTTP it is a same-site cookie.
 */
export function useSession(token) {
  if (!/^[A-Za-z0-9_-]{16,256}$/.test(token ?? '')) return;
  const attrs = location.protocol === 'https:' ? 'Secure; SameSite=None; Partitioned' : 'SameSite=Strict';
  document.cookie = `recordings_session=${token}; Path=/; ${attrs}`;
}

/**
 * follow calls onScheme(scheme) for each SetScheme and onLang(lang) for
 * each SetLang message of the myApps client.
 */
export function follow({ onLang, onScheme }) {
  window.addEventListener('message', (ev) => {
    const o = fromParent(ev);
    if (!o) return;
    if (o.mt === 'SetScheme' && typeof o.scheme === 'string') onScheme?.(o.scheme);
    else if (o.mt === 'SetLang' && typeof o.lang === 'string') onLang?.(o.lang);
  });
}

/**
 * relaunch reloads the page in language lang (the texts are set once, at
 * start): the page URL's ?lang= is replaced, so that the reload and the
 * session keep it.
 */
export function relaunch(lang) {
  const u = new URL(location.href);
  if (u.searchParams.get('lang') === lang) return;
  u.searchParams.set('lang', lang);
  try { sessionStorage.setItem('recordings.lang', lang); } catch { /* private mode */ }
  location.replace(u.href);
}
