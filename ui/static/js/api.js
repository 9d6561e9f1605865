// Talking to the server: a few HTTP calls (sign-in, sign-out, who am I)
// and the websocket API for everything else.
import { t } from './i18n.js';

// Server messages the user app meets often, in the chosen language; any
// other message shows as the server wrote it.
const known = [
  [/^recording is protected/, 'common.error.protected'],
  [/^(recording )?not found/, 'common.error.notFound'],
  [/^wrong user name or password$/, 'common.signin.wrong'],
];

function localText(msg) {
  for (const [re, key] of known) if (re.test(msg)) return t(key);
  return msg;
}

/** ApiError is a failed call, with the server's message. */
export class ApiError extends Error {
  constructor(message, status, raw) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.raw = raw ?? message; // the server's own words
  }
}

async function call(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw new ApiError(`cannot reach the server (${err.message})`, 0);
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    throw new ApiError(localText(data?.error ?? `${res.status} ${res.statusText}`), res.status);
  }
  return data;
}

/**
 * me returns the signed-in user, or null when nobody is signed in. It asks
 * /api/session, which never answers 401 (a 401 with a Basic challenge would
 * make the browser ask for a password itself).
 */
export async function me() {
  const s = await call('GET', '/api/session');
  return s?.signed_in ? s.user : null;
}

/** login signs in and returns the user. */
export function login(name, password) {
  return call('POST', '/api/login', { name, password });
}

/** adminCall is a JSON call to the admin REST API (/api/admin/…). */
export function adminCall(method, path, body) {
  return call(method, path, body);
}

/** logout ends the session. */
export function logout() {
  return call('POST', '/api/logout');
}

/** signInURL is the sign-in page that returns to the current page. */
export function signInURL() {
  return `/?next=${encodeURIComponent(location.pathname)}`;
}

const requestTimeoutMS = 20000;
const closeSignIn = 4401;
// How long an action made while offline waits for the connection before
// it is given up (and the page says it did not happen).
const offlineWaitMS = 60000;
// Requests that only read: asked again after a reconnect when the
// connection broke while they were under way.
const readOnly = new Set(['ListRecordings', 'GetRecording', 'GetActivity', 'GetLogs', 'Subscribe', 'GetMe', 'GetSettings', 'ListUsers']);

/**
 * Socket is the websocket API: request(mt, params) answers with the
 * "<mt>Result" message (or rejects with its error); on(mt, fn) receives
 * pushed events. It reconnects by itself and then calls onReconnect.
 *
 * While the connection is down, a request waits for it (up to a minute)
 * and is sent once it is back; onWaiting(label) tells the page which
 * action waits (label null: none any more), so that it can say so.
 */
export class Socket {
  constructor({ offlineWait = offlineWaitMS } = {}) {
    this.offlineWait = offlineWait;
    this.ws = null;
    this.seq = 0;
    this.pending = new Map();
    this.handlers = new Map();
    this.backoff = 500;
    this.retryAt = 0; // when the next connection attempt starts (ms since epoch)
    this.retryTimer = 0;
    this.onState = () => {};
    this.onReconnect = () => {};
    this.onWaiting = () => {};
    this.onSignedOut = () => { location.assign(signInURL()); };
    this.opened = false;
    this.online = false;
    this.waiters = []; // {resolve, reject, label, timer} of requests made while offline
    this.ready = null;
  }

  url() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${proto}//${location.host}/api/ws`;
  }

  /** connect opens the connection; the promise settles on the first open. */
  connect() {
    clearTimeout(this.retryTimer);
    this.retryTimer = 0;
    this.ready = new Promise((resolve) => {
      const ws = new WebSocket(this.url());
      this.ws = ws;
      ws.addEventListener('open', () => {
        this.backoff = 500;
        this.online = true;
        this.onState('online');
        const again = this.opened;
        this.opened = true;
        resolve();
        const waiting = this.waiters;
        this.waiters = [];
        for (const w of waiting) {
          clearTimeout(w.timer);
          w.resolve();
        }
        if (waiting.length) this.onWaiting(null, waiting[waiting.length - 1].label, true);
        if (again) this.onReconnect();
      });
      ws.addEventListener('message', (ev) => this.receive(ev.data));
      ws.addEventListener('close', (ev) => {
        if (ws !== this.ws) return;
        this.online = false;
        const lost = [...this.pending.values()];
        this.pending.clear();
        for (const p of lost) {
          clearTimeout(p.timer);
          if (readOnly.has(p.mt) && ev.code !== closeSignIn) {
            // Asked again once the connection is back.
            this.request(p.mt, p.params, p.label).then(p.resolve, p.reject);
          } else {
            p.reject(new ApiError(t('common.error.lost'), 0));
          }
        }
        if (ev.code === closeSignIn) {
          this.onState('signed-out');
          this.onSignedOut();
          return;
        }
        const wait = this.backoff;
        this.backoff = Math.min(this.backoff * 2, 10000);
        this.retryAt = Date.now() + wait;
        this.onState('offline');
        this.retryTimer = setTimeout(() => { this.connect(); }, wait);
      });
    });
    return this.ready;
  }

  /** retryNow tries to connect at once instead of at the next retry. */
  retryNow() {
    if (this.online || !this.retryTimer) return;
    this.connect();
  }

  receive(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg.src !== undefined && this.pending.has(msg.src)) {
      const p = this.pending.get(msg.src);
      this.pending.delete(msg.src);
      clearTimeout(p.timer);
      if (msg.error === 'sign-in required') {
        // The session expired between page load and connecting.
        p.reject(new ApiError(msg.error, 401));
        this.onSignedOut();
      } else if (msg.error) {
        p.reject(new ApiError(localText(msg.error), 0, msg.error));
      } else {
        p.resolve(msg);
      }
      return;
    }
    for (const fn of this.handlers.get(msg.mt) ?? []) {
      try {
        fn(msg);
      } catch (err) {
        console.error(err);
      }
    }
  }

  /** waitOnline resolves once the connection is open again. */
  waitOnline(label) {
    return new Promise((resolve, reject) => {
      const w = { resolve, reject, label };
      w.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        this.onWaiting(null, label, false);
        reject(new ApiError(t('common.error.offline'), 0));
      }, this.offlineWait);
      this.waiters.push(w);
      this.onWaiting(label);
    });
  }

  /**
   * request sends {mt, src, ...params} and waits for its result. label
   * names the action for the offline banner.
   */
  async request(mt, params = {}, label = '') {
    if (!this.opened) await this.ready;
    if (!this.online || !this.ws || this.ws.readyState !== WebSocket.OPEN) await this.waitOnline(label || mt);
    this.seq += 1;
    const src = `r${this.seq}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(src);
        reject(new ApiError(t('common.error.noAnswer'), 0));
      }, requestTimeoutMS);
      this.pending.set(src, { resolve, reject, timer, mt, params, label });
      try {
        this.ws.send(JSON.stringify({ ...params, mt, src }));
      } catch (err) {
        this.pending.delete(src);
        clearTimeout(timer);
        reject(new ApiError(`${mt}: ${err.message}`, 0));
      }
    });
  }

  /** on registers fn for pushed messages of type mt. */
  on(mt, fn) {
    if (!this.handlers.has(mt)) this.handlers.set(mt, []);
    this.handlers.get(mt).push(fn);
  }
}

/** unsupported tells whether err says the server does not know the request. */
export function unsupported(err) {
  return /unknown message type/i.test(err?.raw ?? err?.message ?? '');
}
