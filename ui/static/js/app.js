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

const wantsAdmin = /innovaphone-recordingsadmin\.htm$/.test(location.pathname);

function userAppPath() {
  return location.pathname.replace(/innovaphone-recordingsadmin\.htm$/, 'innovaphone-recordings.htm');
}

async function main() {
  const mainEl = document.getElementById('main');
  let user;
  try {
    user = await me();
  } catch (err) {
    clear(mainEl).append(h('p', { class: 'status error', role: 'alert' }, `Cannot reach the server: ${err.message}`));
    return;
  }
  if (!user) {
    location.replace(signInURL());
    return;
  }
  const admin = wantsAdmin && user.role === 'admin';
  document.getElementById('who').textContent = user.display_name || user.name;
  document.getElementById('signout').addEventListener('click', async () => {
    try { await logout(); } finally { location.assign('/'); }
  });
  let socket = null;
  const pwButton = document.getElementById('change-password');
  if (user.has_password) {
    // Changing the password ends every session, this one too: the page
    // then goes to the sign-in page (the socket closes with 4401).
    const dialog = new PasswordDialog(true, 'Change password');
    document.body.append(dialog.el);
    pwButton.hidden = false;
    pwButton.addEventListener('click', () => {
      dialog.ask('Change your password', 'You are signed out everywhere afterwards and sign in with the new password.',
        async (pw) => {
          if (!socket) throw new Error('not connected yet');
          await socket.request('ChangePassword', { old: pw.old, new: pw.new });
        });
    });
  }
  if (wantsAdmin && !admin) {
    clear(mainEl).append(h('section', { class: 'view' },
      h('h2', null, 'Administrators only'),
      h('p', null, 'This app is for administrators. ', h('a', { href: userAppPath() }, 'Open your recordings'), '.')));
    return;
  }
  const title = admin ? 'Recordings admin' : 'Recordings';
  document.getElementById('app-title').textContent = title;
  document.title = title;

  const conn = document.getElementById('conn');
  socket = new Socket();
  socket.onState = (s) => {
    conn.textContent = s === 'offline' ? 'Connection lost – reconnecting…' : '';
    conn.classList.toggle('error', s === 'offline');
  };
  const banner = document.getElementById('banner');
  const player = new Player((msg) => recordings.status.error(msg));
  const recordings = new RecordingsView(socket, player, admin);
  const views = [
    { id: 'recordings', label: 'Recordings', view: recordings },
    { id: 'log', label: 'Log', view: new LogView(socket, admin) },
  ];
  if (admin) {
    const settings = new SettingsView(socket, (s) => {
      // The server (settings.Service.Problems) lists what is still to
      // configure, e.g. "PBX Name missing"; the page only shows it.
      const problems = s.problems ?? [];
      banner.hidden = problems.length === 0;
      banner.textContent = problems.length ? `${problems.join('; ')}: see Settings.` : '';
    });
    views.push({ id: 'settings', label: 'Settings', view: settings });
    const users = new UsersView(socket, user.name);
    views.push({ id: 'users', label: 'Users', view: users });
    // App object changes show in the users' app object choices.
    const appObjects = new AppObjectsView(() => {
      if (started.has(views.findIndex((v) => v.id === 'users'))) users.start();
    });
    views.push({ id: 'appobjects', label: 'App objects', view: appObjects });
  }

  // Tabs: arrow keys move between them (WAI-ARIA tabs pattern).
  const tabs = document.getElementById('tabs');
  const list = h('div', { role: 'tablist', 'aria-label': title });
  tabs.append(list);
  clear(mainEl);
  const started = new Set();
  const select = (i, focus) => {
    views.forEach((v, j) => {
      const on = i === j;
      v.tab.setAttribute('aria-selected', on ? 'true' : 'false');
      v.tab.tabIndex = on ? 0 : -1;
      v.panel.hidden = !on;
    });
    if (focus) views[i].tab.focus();
    if (!started.has(i)) {
      started.add(i);
      views[i].view.start();
    }
    history.replaceState(null, '', `#${views[i].id}`);
  };
  views.forEach((v, i) => {
    v.tab = h('button', {
      type: 'button', role: 'tab', id: `tab-${v.id}`, 'aria-controls': `panel-${v.id}`,
      onclick: () => select(i, false),
      onkeydown: (ev) => {
        let j = -1;
        if (ev.key === 'ArrowRight') j = (i + 1) % views.length;
        else if (ev.key === 'ArrowLeft') j = (i - 1 + views.length) % views.length;
        else if (ev.key === 'Home') j = 0;
        else if (ev.key === 'End') j = views.length - 1;
        if (j >= 0) { ev.preventDefault(); select(j, true); }
      },
    }, v.label);
    v.panel = h('div', { role: 'tabpanel', id: `panel-${v.id}`, 'aria-labelledby': `tab-${v.id}`, hidden: true }, v.view.el);
    list.append(v.tab);
    mainEl.append(v.panel);
  });
  document.getElementById('player-slot').append(player.el);

  socket.onReconnect = async () => {
    try { await socket.request('Subscribe'); } catch { /* shown by the next request */ }
    recordings.reload();
  };
  await socket.connect();
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
