// Talking to the server: a few HTTP calls (sign-in, sign-out, who am I)
// and the websocket API for everything else.

/** ApiError is a failed call, with the server's message. */
export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
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
    throw new ApiError(data?.error ?? `${res.status} ${res.statusText}`, res.status);
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

/**
 * Socket is the websocket API: request(mt, params) answers with the
 * "<mt>Result" message (or rejects with its error); on(mt, fn) receives
 * pushed events. It reconnects by itself and then calls onReconnect.
 */
export class Socket {
  constructor() {
    this.ws = null;
    this.seq = 0;
    this.pending = new Map();
    this.handlers = new Map();
    this.backoff = 500;
    this.onState = () => {};
    this.onReconnect = () => {};
    this.onSignedOut = () => { location.assign(signInURL()); };
    this.opened = false;
    this.ready = null;
  }

  url() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${proto}//${location.host}/api/ws`;
  }

  /** connect opens the connection; the promise settles on the first open. */
  connect() {
    this.ready = new Promise((resolve) => {
      const ws = new WebSocket(this.url());
      this.ws = ws;
      ws.addEventListener('open', () => {
        this.backoff = 500;
        this.onState('online');
        const again = this.opened;
        this.opened = true;
        resolve();
        if (again) this.onReconnect();
      });
      ws.addEventListener('message', (ev) => this.receive(ev.data));
      ws.addEventListener('close', (ev) => {
        for (const p of this.pending.values()) {
          clearTimeout(p.timer);
          p.reject(new ApiError('connection to the server lost', 0));
        }
        this.pending.clear();
        if (ev.code === closeSignIn) {
          this.onState('signed-out');
          this.onSignedOut();
          return;
        }
        this.onState('offline');
        const wait = this.backoff;
        this.backoff = Math.min(this.backoff * 2, 10000);
        setTimeout(() => { this.connect(); }, wait);
      });
    });
    return this.ready;
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
        p.reject(new ApiError(msg.error, 0));
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

  /** request sends {mt, src, ...params} and waits for its result. */
  async request(mt, params = {}) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) await this.ready;
    this.seq += 1;
    const src = `r${this.seq}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(src);
        reject(new ApiError(`${mt}: no answer from the server`, 0));
      }, requestTimeoutMS);
      this.pending.set(src, { resolve, reject, timer });
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
