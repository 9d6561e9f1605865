// The user and the admin app: one page, its mode read from the path
// (…/innovaphone-recordings.htm or …/innovaphone-recordingsadmin.htm).
import { me, logout, signInURL, Socket } from './api.js';
import { h, clear } from './dom.js';
import { Player } from './player.js';
import { RecordingsView } from './recordings.js';
import { LogView } from './logs.js';
import { SettingsView } from './settings.js';
import { UsersView } from './users.js';
import { AppObjectsView } from './appobjects.js';
import { PasswordDialog } from './password.js';
import { ActivityView } from './activity.js';
import { AuditView } from './audit.js';
import { TraceView } from './trace.js';
import { PopupMenu } from './menu.js';
import { icon } from './icons.js';
import { load as loadLanguage, t } from './i18n.js';
import * as myApps from './myapps.js';

const wantsAdmin = /innovaphone-recordingsadmin\.htm$/.test(location.pathname);

function userAppPath() {
  return location.pathname.replace(/innovaphone-recordingsadmin\.htm$/, 'innovaphone-recordings.htm');
}

// What myApps passes when it opens the app: ?lang=de and a colour scheme
// (?scheme=dark or ?theme=dark); kept for the session, since the app's own
// links and reloads drop the query.
function launchParam(...names) {
  const q = new URLSearchParams(location.search);
  for (const n of names) {
    const v = q.get(n);
    if (v) {
      try { sessionStorage.setItem(`recordings.${names[0]}`, v); } catch { /* private mode */ }
      return v;
    }
  }
  try { return sessionStorage.getItem(`recordings.${names[0]}`) ?? ''; } catch { return ''; }
}

/** applyScheme follows the scheme myApps passes, else the system's. */
function applyScheme(scheme) {
  const s = String(scheme).toLowerCase();
  if (s.includes('dark')) document.documentElement.dataset.scheme = 'dark';
  else if (s.includes('light')) document.documentElement.dataset.scheme = 'light';
  else delete document.documentElement.dataset.scheme;
}

/** translatePage sets the static texts of app.html in the chosen language. */
function translatePage() {
  document.querySelector('.skip').textContent = t('common.skip');
  document.getElementById('change-password').textContent = t('common.changePassword');
  document.getElementById('signout').textContent = t('common.signOut');
  document.getElementById('tabs').setAttribute('aria-label', t('common.views'));
  const loading = document.querySelector('main .loading');
  if (loading) loading.textContent = t('common.loading');
}

/**
 * OfflineBanner says that the connection is down, counts down to the next
 * try (with a button to try now), names the action that waits for the
 * connection, and afterwards whether it was done or not.
 */
class OfflineBanner {
  constructor(socket) {
    this.socket = socket;
    this.text = h('span', { class: 'offline-text' });
    this.retry = h('button', { type: 'button', class: 'retry', onclick: () => socket.retryNow() }, t('common.offline.retry'));
    this.el = document.getElementById('offline');
    this.el.append(this.text, this.retry);
    this.waiting = '';
    this.timer = 0;
    this.hideTimer = 0;
  }

  state(s) {
    clearInterval(this.timer);
    if (s === 'offline') {
      clearTimeout(this.hideTimer);
      this.el.hidden = false;
      this.el.classList.add('is-offline');
      this.retry.hidden = false;
      this.tick();
      this.timer = setInterval(() => this.tick(), 1000);
    } else if (s === 'online' && !this.el.hidden && this.el.classList.contains('is-offline')) {
      this.el.classList.remove('is-offline');
      this.retry.hidden = true;
      if (!this.waiting) this.say(t('common.offline.back'));
    }
  }

  tick() {
    const secs = Math.max(0, Math.ceil((this.socket.retryAt - Date.now()) / 1000));
    let msg = secs > 0 ? t('common.offline.retryIn', { n: secs }) : t('common.offline.retrying');
    if (this.waiting) msg += ` ${t('common.offline.waiting', { action: this.waiting })}`;
    this.text.textContent = msg;
  }

  say(msg) {
    this.text.textContent = msg;
    clearTimeout(this.hideTimer);
    this.hideTimer = setTimeout(() => { this.el.hidden = true; }, 5000);
  }

  /** waitingFor: label while an action waits; then (null, label, done). */
  waitingFor(label, finished, done) {
    if (label) {
      this.waiting = label;
      this.tick();
      return;
    }
    this.waiting = '';
    if (done) this.say(t('common.offline.replayed', { action: finished }));
    else {
      this.el.hidden = false;
      this.say(t('common.offline.notDone', { action: finished }));
    }
  }
}

async function main() {
  const mainEl = document.getElementById('main');
  applyScheme(launchParam('scheme', 'theme'));
  await loadLanguage(launchParam('lang'));
  translatePage();
  let user;
  let socket = null;
  if (myApps.framed()) {
    // Inside myApps: the client signs the app in (myapps.js).
    myApps.follow({ onScheme: applyScheme, onLang: myApps.relaunch });
    socket = new Socket();
    socket.authenticate = (send) => myApps.signIn(send, wantsAdmin);
    try {
      await socket.connect();
      const s = socket.signedIn;
      user = { name: s.user, display_name: s.dn, role: s.role, has_password: false, app_object: s.app_object };
      if (wantsAdmin && s.role === 'admin') {
        // Which domain the admin administers: the admin app leaves out
        // what is the whole instance's for an administrator of a domain.
        user.admin_domain = (await socket.request('GetMe')).user?.admin_domain ?? '';
      }
      // The client signs in again on the next connection; there is no
      // sign-in page to go to.
      socket.onSignedOut = () => {
        const old = socket.ws;
        socket.connect();
        old?.close();
      };
      document.body.classList.add('in-myapps');
      // The page's HTTP requests must go as the same user. A password
      // session of another account in this browser (an HttpOnly cookie
      // the page cannot overwrite) is ended first.
      const http = await me().catch(() => null);
      if (http && http.name !== user.name) {
        await logout().catch(() => {});
        myApps.useSession(s.session);
      }
    } catch (err) {
      socket.close();
      socket = null;
      if (!(err instanceof myApps.MyAppsError && err.noAnswer)) {
        document.getElementById('signout').hidden = true;
        clear(mainEl).append(h('p', { class: 'status error', role: 'alert' }, t('common.error.myapps', { error: err.message })));
        return;
      }
      // Framed by something that is not myApps: the usual sign-in.
    }
  }
  if (!user) {
    try {
      user = await me();
    } catch (err) {
      clear(mainEl).append(h('p', { class: 'status error', role: 'alert' }, t('common.error.server', { error: err.message })));
      return;
    }
  }
  if (!user) {
    location.replace(signInURL());
    return;
  }
  const admin = wantsAdmin && user.role === 'admin';
  // An administrator of one of several domains: the instance-wide parts
  // (integration, backup, replication, trace levels, the licence count)
  // are the administrators' of every domain and answer them 403.
  const instanceAdmin = admin && !user.admin_domain;
  document.getElementById('who').textContent = user.display_name || user.name;
  // Inside myApps the client signs in and out.
  document.getElementById('signout').hidden = socket !== null;
  document.getElementById('signout').addEventListener('click', async () => {
    try { await logout(); } finally { location.assign('/'); }
  });
  const pwButton = document.getElementById('change-password');
  if (user.has_password) {
    // Changing the password ends every session, this one too: the page
    // then goes to the sign-in page (the socket closes with 4401).
    const dialog = new PasswordDialog(true, t('common.changePassword'));
    document.body.append(dialog.el);
    pwButton.hidden = false;
    pwButton.addEventListener('click', () => {
      dialog.ask(t('common.changePassword.title'), t('common.changePassword.text'),
        async (pw) => {
          if (!socket) throw new Error('not connected yet');
          await socket.request('ChangePassword', { old: pw.old, new: pw.new });
        });
    });
  }
  if (wantsAdmin && !admin) {
    clear(mainEl).append(h('section', { class: 'view' },
      h('h2', null, t('common.adminOnly.title')),
      h('p', null, t('common.adminOnly.text'), ' ', h('a', { href: userAppPath() }, t('common.adminOnly.link')))));
    return;
  }
  const title = admin ? t('common.titleAdmin') : t('common.recordings');
  document.getElementById('app-title').textContent = title;
  document.title = title;

  socket ??= new Socket();
  const offline = new OfflineBanner(socket);
  socket.onState = (s) => offline.state(s);
  socket.onWaiting = (label, finished, done) => offline.waitingFor(label, finished, done);
  const banner = document.getElementById('banner');
  const player = new Player((msg, id) => recordings.rowError(id, msg));
  const recordings = new RecordingsView(socket, player, admin);
  const views = [
    { id: 'recordings', label: t('common.recordings'), view: recordings },
  ];
  if (!admin) views.push({ id: 'activity', label: t('user.tab.activity'), view: new ActivityView(socket, user.name) });
  if (admin) {
    const settings = new SettingsView(socket, (s) => {
      // The server (settings.Service.Problems) lists what is still to
      // configure, e.g. "PBX Name missing"; the page only shows it.
      const problems = s.problems ?? [];
      banner.hidden = problems.length === 0;
      banner.textContent = problems.length ? t('admin.settings.problems', { problems: problems.join('; ') }) : '';
    }, instanceAdmin);
    const users = new UsersView(socket, user.name, instanceAdmin);
    views.push({ id: 'users', label: t('admin.tab.users'), view: users });
    views.push({ id: 'audit', label: t('admin.tab.audit'), view: new AuditView(socket) });
    views.push({ id: 'log', label: t('admin.tab.log'), view: new LogView(socket, admin) });
    // App object changes show in the users' app object choices.
    const appObjects = new AppObjectsView(() => {
      if (started.has(views.findIndex((v) => v.id === 'users'))) users.start();
    });
    views.push({ id: 'appobjects', label: t('admin.tab.appobjects'), view: appObjects });
    // Settings and trace levels open from the menu in the upper right
    // corner (the product description's place for them), not as tabs.
    views.push({ id: 'settings', label: t('admin.menu.settings'), view: settings, menu: true });
    if (instanceAdmin) views.push({ id: 'trace', label: t('admin.menu.trace'), view: new TraceView(socket), menu: true });
  }

  // Tabs: arrow keys move between them (WAI-ARIA tabs pattern).
  const tabs = document.getElementById('tabs');
  const list = h('div', { role: 'tablist', 'aria-label': title });
  tabs.append(list);
  clear(mainEl);
  const started = new Set();
  const tabViews = views.filter((v) => !v.menu);
  const select = (i, focus) => {
    views.forEach((v, j) => {
      const on = i === j;
      if (v.tab) {
        v.tab.setAttribute('aria-selected', on ? 'true' : 'false');
        v.tab.tabIndex = on || (views[i].menu && v === tabViews[0]) ? 0 : -1;
      }
      v.panel.hidden = !on;
    });
    if (views[i].menu) {
      // A page of the menu: its heading takes the focus, so that a screen
      // reader says where it is.
      if (focus) views[i].panel.querySelector('h2')?.focus();
    } else if (focus) views[i].tab.focus();
    if (!started.has(i)) {
      started.add(i);
      views[i].view.start();
    } else if (views[i].view.shown) {
      views[i].view.shown(); // e.g. the activity: what happened since
    }
    history.replaceState(null, '', `#${views[i].id}`);
  };
  views.forEach((v, i) => {
    if (v.menu) {
      v.panel = h('section', { id: `panel-${v.id}`, class: 'menu-page', hidden: true }, v.view.el);
      const heading = v.view.el.querySelector('h2');
      if (heading) heading.tabIndex = -1;
      mainEl.append(v.panel);
      return;
    }
    const k = tabViews.indexOf(v);
    v.tab = h('button', {
      type: 'button', role: 'tab', id: `tab-${v.id}`, 'aria-controls': `panel-${v.id}`,
      onclick: () => select(i, false),
      onkeydown: (ev) => {
        let j = -1;
        if (ev.key === 'ArrowRight') j = (k + 1) % tabViews.length;
        else if (ev.key === 'ArrowLeft') j = (k - 1 + tabViews.length) % tabViews.length;
        else if (ev.key === 'Home') j = 0;
        else if (ev.key === 'End') j = tabViews.length - 1;
        if (j >= 0) { ev.preventDefault(); select(views.indexOf(tabViews[j]), true); }
      },
    }, v.label);
    v.panel = h('div', { role: 'tabpanel', id: `panel-${v.id}`, 'aria-labelledby': `tab-${v.id}`, hidden: true }, v.view.el);
    list.append(v.tab);
    mainEl.append(v.panel);
  });
  if (admin) {
    // The menu in the upper right corner: settings and trace levels.
    const menu = new PopupMenu(t('admin.menu.label'));
    const btn = h('button', {
      type: 'button', id: 'admin-menu-btn', class: 'admin-menu-btn', 'aria-haspopup': 'menu', 'aria-expanded': 'false',
      'aria-label': t('admin.menu.label'),
      onclick: () => menu.open(btn, views.filter((v) => v.menu).map((v) => ({
        label: v.label, cls: `menu-${v.id}`, run: () => select(views.indexOf(v), true),
      }))),
    }, icon('more'));
    document.querySelector('header.top .who').append(btn);
    menu.el.id = 'admin-menu';
    document.querySelector('header.top').append(menu.el); // inside the banner landmark
  }
  document.getElementById('player-slot').append(player.el);

  socket.onReconnect = async () => {
    try { await socket.request('Subscribe'); } catch { /* shown by the next request */ }
    recordings.reload();
  };
  if (!socket.opened) await socket.connect();
  const first = Math.max(0, views.findIndex((v) => `#${v.id}` === location.hash));
  select(first, false);
  if (admin && !started.has(views.findIndex((v) => v.id === 'settings'))) {
    // The settings feed the "PBX Name missing" banner: load them now.
    const i = views.findIndex((v) => v.id === 'settings');
    started.add(i);
    views[i].view.start();
  }
}

main();
