// The admin's user list and the form to add a user; per user the default
// app object, the device MACs and the licence, with the licence count.
import { adminCall } from './api.js';
import { h, clear, uid, StatusLine } from './dom.js';
import { dateTimeText } from './format.js';

/** parseList splits a comma/newline/space separated list. */
export function parseList(text) {
  return String(text).split(/[\s,]+/).map((s) => s.trim()).filter((s) => s !== '');
}

/** licenceText describes the licence situation of GET /api/admin/licences. */
export function licenceText(l) {
  if (!l?.configured) return `Licences are not enforced; ${l?.assigned ?? 0} assigned.`;
  const free = Math.max(0, l.count - l.assigned);
  return `${l.count} licences: ${l.assigned} used, ${free} free.`;
}

export class UsersView {
  constructor(socket) {
    this.socket = socket;
    this.status = new StatusLine();
    this.tbody = h('tbody');
    const f = (label, input) => {
      const id = uid('u');
      input.id = id;
      return h('div', { class: 'field' }, h('label', { for: id }, label), input);
    };
    this.name = h('input', { name: 'name', required: true, maxlength: '64', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off' });
    this.display = h('input', { name: 'display_name', maxlength: '128', autocomplete: 'off' });
    this.e164 = h('input', { name: 'e164', inputmode: 'tel', pattern: '\\+?[0-9]{1,20}', autocomplete: 'off' });
    this.role = h('select', { name: 'role' }, h('option', { value: 'user' }, 'user'), h('option', { value: 'admin' }, 'admin'));
    this.password = h('input', { name: 'password', type: 'password', required: true, minlength: '8', maxlength: '72', autocomplete: 'new-password' });
    this.form = h('form', { class: 'create-user', onsubmit: (ev) => { ev.preventDefault(); this.create(); } },
      f('User name', this.name), f('Display name', this.display), f('Number (E.164)', this.e164),
      f('Role', this.role), f('Password (8 or more characters)', this.password),
      h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Add user')));
    const countID = uid('lic-count');
    const countHelp = uid('lic-help');
    this.licCount = h('input', {
      id: countID, name: 'licence_count', type: 'number', min: '0', step: '1', inputmode: 'numeric',
      'aria-describedby': countHelp,
    });
    this.licSummary = h('p', { class: 'licence-summary', 'aria-live': 'polite' });
    this.purge = h('p', { class: 'banner purge-warning', role: 'alert', hidden: true });
    this.licForm = h('form', { class: 'filters licences', novalidate: true, onsubmit: (ev) => { ev.preventDefault(); this.saveCount(); } },
      h('div', { class: 'field' }, h('label', { for: countID }, 'Licence count'), this.licCount,
        h('p', { id: countHelp, class: 'help' }, 'Empty: licences are not enforced and every recording is kept.')),
      h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Save licence count')));
    this.appObjects = [];
    this.el = h('section', { class: 'view', 'aria-labelledby': 'users-title' },
      h('h2', { id: 'users-title' }, 'Users'), this.status.el,
      this.licSummary, this.purge,
      h('div', { class: 'table-wrap' }, h('table', { class: 'users' },
        h('thead', null, h('tr', null, ['Name', 'Display name', 'Number', 'Role', 'Created', 'App object', 'Devices (MACs)', 'Licence'].map((t) => h('th', { scope: 'col' }, t)))),
        this.tbody)),
      h('h2', null, 'Add a user'), this.form,
      h('h2', null, 'Licences'), this.licForm);
  }

  async start() {
    let users;
    try {
      const res = await this.socket.request('ListUsers');
      users = res.users ?? [];
    } catch (err) {
      this.status.error(`Cannot load users: ${err.message}`);
      return;
    }
    // The PBX side (app objects, MACs, licences) comes from the admin API.
    const pbx = new Map();
    try {
      const [au, ao, lic] = await Promise.all([
        adminCall('GET', '/api/admin/users'),
        adminCall('GET', '/api/admin/appobjects'),
        adminCall('GET', '/api/admin/licences'),
      ]);
      for (const u of au?.users ?? []) pbx.set(u.name, u);
      this.appObjects = ao?.app_objects ?? [];
      this.showLicences(lic);
    } catch (err) {
      this.status.error(`Cannot load app objects and licences: ${err.message}`);
    }
    clear(this.tbody);
    for (const u of users) {
      this.tbody.append(this.row(u, pbx.get(u.name)));
    }
  }

  showLicences(l) {
    this.licSummary.textContent = licenceText(l);
    if (document.activeElement !== this.licCount) this.licCount.value = l?.configured ? String(l.count) : '';
    const n = l?.to_purge ?? 0;
    this.purge.hidden = n <= 0;
    this.purge.textContent = n > 0
      ? `${n} ${n === 1 ? 'recording' : 'recordings'} of unlicensed users will be deleted at the next restart.`
      : '';
  }

  row(u, p) {
    const cells = [
      h('td', { 'data-label': 'Name', class: 'user-name' }, u.name),
      h('td', { 'data-label': 'Display name' }, u.display_name ?? ''),
      h('td', { 'data-label': 'Number' }, u.e164 ?? ''),
      h('td', { 'data-label': 'Role' }, u.role),
      h('td', { 'data-label': 'Created' }, dateTimeText(u.created)),
    ];
    if (!p) return h('tr', { 'data-name': u.name }, cells);
    const aoID = uid('u-ao');
    const ao = h('select', { id: aoID, class: 'appobject-select', onchange: () => this.setAppObject(u.name, ao) },
      h('option', { value: '', selected: !p.app_object }, '(none)'),
      this.appObjects.map((o) => h('option', { value: o.name, selected: o.name === p.app_object }, o.name)));
    if (p.app_object && !this.appObjects.some((o) => o.name === p.app_object)) {
      ao.append(h('option', { value: p.app_object, selected: true }, p.app_object));
    }
    const macID = uid('u-mac');
    const macs = h('input', {
      id: macID, class: 'macs-input', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off',
      value: (p.macs ?? []).join(', '), placeholder: '00:90:33:aa:bb:cc',
    });
    const saveMACs = h('button', {
      type: 'button', class: 'act save-macs-btn', 'aria-label': `Save devices of ${u.name}`,
      onclick: () => this.setMACs(u.name, macs),
    }, 'Save');
    const licID = uid('u-lic');
    const lic = h('input', {
      id: licID, type: 'checkbox', class: 'licence-check', checked: !!p.licensed,
      onchange: () => this.setLicence(u.name, lic),
    });
    cells.push(
      h('td', { 'data-label': 'App object' },
        h('label', { for: aoID, class: 'visually-hidden' }, `Default app object of ${u.name}`), ao),
      h('td', { 'data-label': 'Devices (MACs)' },
        h('span', { class: 'inline-edit' },
          h('label', { for: macID, class: 'visually-hidden' }, `Device MACs of ${u.name}, separated by commas`), macs, saveMACs)),
      h('td', { 'data-label': 'Licence' },
        h('span', { class: 'inline-edit' }, lic, h('label', { for: licID }, 'licensed', h('span', { class: 'visually-hidden' }, ` (${u.name})`)))));
    return h('tr', { 'data-name': u.name }, cells);
  }

  async setAppObject(name, select) {
    try {
      await adminCall('PUT', `/api/admin/users/${encodeURIComponent(name)}/appobject`, { app_object: select.value });
      this.status.info(select.value ? `${name} now uses app object ${select.value}.` : `${name} has no default app object.`);
    } catch (err) {
      this.status.error(`App object not changed: ${err.message}`);
      await this.start();
    }
  }

  async setMACs(name, input) {
    try {
      await adminCall('PUT', `/api/admin/users/${encodeURIComponent(name)}`, { macs: parseList(input.value) });
      this.status.info(`Devices of ${name} saved.`);
      const res = await adminCall('GET', '/api/admin/users');
      const u = (res?.users ?? []).find((x) => x.name === name);
      if (u) input.value = (u.macs ?? []).join(', ');
    } catch (err) {
      this.status.error(`Devices not saved: ${err.message}`);
    }
  }

  async setLicence(name, box) {
    const on = box.checked;
    try {
      const lic = await adminCall('PUT', `/api/admin/users/${encodeURIComponent(name)}/licence`, { licensed: on });
      this.showLicences(lic);
      this.status.info(on ? `${name} holds a licence.` : `${name} no longer holds a licence.`);
    } catch (err) {
      box.checked = !on;
      this.status.error(`Licence not changed: ${err.message}`);
    }
  }

  async saveCount() {
    const t = this.licCount.value.trim();
    if (t !== '' && !/^\d+$/.test(t)) {
      this.status.error('Enter a whole number of licences, or leave the field empty.');
      this.licCount.focus();
      return;
    }
    try {
      const lic = await adminCall('PUT', '/api/admin/licences', { count: t === '' ? null : Number(t) });
      this.showLicences(lic);
      this.status.info(t === '' ? 'Licences are no longer enforced.' : `Licence count set to ${t}.`);
    } catch (err) {
      this.status.error(`Licence count not saved: ${err.message}`);
    }
  }

  async create() {
    if (!this.form.reportValidity()) return;
    try {
      const res = await this.socket.request('CreateUser', {
        name: this.name.value.trim(), display_name: this.display.value.trim(), e164: this.e164.value.trim(),
        role: this.role.value, password: this.password.value,
      });
      this.form.reset();
      this.status.info(`User ${res.user.name} added.`);
      await this.start();
    } catch (err) {
      this.status.error(`Not added: ${err.message}`);
    }
  }
}
