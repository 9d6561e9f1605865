// The admin's user list and the form to add a user; per user the default
// app object, the device MACs and the licence, with the licence count; per
// account a password reset, disable/enable and delete (each ends the
// account's sessions at once), and handing an owner's recordings to
// another user (also those of a deleted account).
import { adminCall } from './api.js';
import { h, clear, uid, StatusLine, ConfirmDialog } from './dom.js';
import { dateTimeText } from './format.js';
import { PasswordDialog, minPasswordLength } from './password.js';

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
  /** me is the signed-in admin's name: their own row has no disable or delete. */
  constructor(socket, me) {
    this.socket = socket;
    this.me = me ?? '';
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
    this.password = h('input', { name: 'password', type: 'password', required: true, minlength: String(minPasswordLength), maxlength: '72', autocomplete: 'new-password' });
    this.form = h('form', { class: 'create-user', onsubmit: (ev) => { ev.preventDefault(); this.create(); } },
      f('User name', this.name), f('Display name', this.display), f('Number (E.164)', this.e164),
      f('Role', this.role), f(`Password (${minPasswordLength} or more characters)`, this.password),
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
    this.reassignFrom = h('input', { name: 'from', required: true, maxlength: '256', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off' });
    this.reassignTo = h('select', { name: 'to', required: true });
    this.reassignForm = h('form', { class: 'filters reassign', onsubmit: (ev) => { ev.preventDefault(); this.reassign(); } },
      f('Recordings of (a user, also a deleted one)', this.reassignFrom), f('Give them to', this.reassignTo),
      h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Reassign recordings')));
    this.appObjects = [];
    this.users = [];
    this.pwDialog = new PasswordDialog(false, 'Set password');
    this.disableDialog = new ConfirmDialog('disable', 'Disable account');
    this.deleteDialog = new ConfirmDialog('delete', 'Delete account');
    this.reassignDialog = new ConfirmDialog('reassign', 'Reassign recordings');
    this.el = h('section', { class: 'view', 'aria-labelledby': 'users-title' },
      h('h2', { id: 'users-title' }, 'Users'), this.status.el,
      this.licSummary, this.purge,
      h('div', { class: 'table-wrap' }, h('table', { class: 'users' },
        h('thead', null, h('tr', null, ['Name', 'Display name', 'Number', 'Role', 'Created', 'Status', 'Account', 'App object', 'Devices (MACs)', 'Licence'].map((t) => h('th', { scope: 'col' }, t)))),
        this.tbody)),
      h('h2', null, 'Add a user'), this.form,
      h('h2', null, 'Give recordings to another user'),
      h('p', { class: 'help' }, 'Recordings stay when their user is deleted; here they get a new owner.'),
      this.reassignForm,
      h('h2', null, 'Licences'), this.licForm,
      this.pwDialog.el, this.disableDialog.el, this.deleteDialog.el, this.reassignDialog.el);
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
    this.users = users;
    const chosen = this.reassignTo.value;
    clear(this.reassignTo).append(h('option', { value: '' }, '(choose a user)'),
      ...users.map((u) => h('option', { value: u.name, selected: u.name === chosen }, u.name)));
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
      h('td', { 'data-label': 'Name', class: 'user-name' }, u.name,
        u.pbx_deleted ? [' ', h('span', { class: 'badge pbx-deleted', title: 'Deleted on the PBX: its recordings stay' }, 'deleted on PBX')]
          : u.source === 'pbx' ? [' ', h('span', { class: 'badge pbx-badge', title: 'Replicated from the PBX' }, 'PBX')] : null),
      h('td', { 'data-label': 'Display name' }, u.display_name ?? ''),
      h('td', { 'data-label': 'Number' }, u.e164 ?? ''),
      h('td', { 'data-label': 'Role' }, u.role),
      h('td', { 'data-label': 'Created' }, dateTimeText(u.created)),
      h('td', { 'data-label': 'Status', class: 'user-status' }, u.disabled ? 'disabled' : 'active'),
      h('td', { 'data-label': 'Account', class: 'actions' }, this.accountActions(u)),
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
      // The PBX manages the devices of its users.
      readonly: u.source === 'pbx' && !u.pbx_deleted,
    });
    const saveMACs = h('button', {
      type: 'button', class: 'act save-macs-btn', 'aria-label': `Save devices of ${u.name}`,
      hidden: u.source === 'pbx' && !u.pbx_deleted,
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

  accountActions(u) {
    const self = u.name === this.me;
    return [
      h('button', {
        type: 'button', class: 'act reset-pw-btn', 'aria-label': `Set a new password for ${u.name}`,
        onclick: () => this.resetPassword(u.name),
      }, 'Set password'),
      self ? null : h('button', {
        type: 'button', class: 'act disable-btn', 'aria-label': `${u.disabled ? 'Enable' : 'Disable'} ${u.name}`,
        onclick: () => this.setDisabled(u.name, !u.disabled),
      }, u.disabled ? 'Enable' : 'Disable'),
      self ? null : h('button', {
        type: 'button', class: 'act danger delete-btn', 'aria-label': `Delete ${u.name}`,
        onclick: () => this.remove(u.name),
      }, 'Delete'),
    ];
  }

  resetPassword(name) {
    this.pwDialog.ask(`New password for ${name}`,
      `${name} is signed out everywhere and signs in with the new password from now on.`,
      async (pw) => {
        await this.socket.request('ResetPassword', { name, password: pw.new });
        this.status.info(`${name} has a new password and was signed out everywhere.`);
        await this.start();
      });
  }

  setDisabled(name, disabled) {
    const apply = async () => {
      try {
        await this.socket.request('SetUserDisabled', { name, disabled });
        this.status.info(disabled ? `${name} is disabled and was signed out everywhere.` : `${name} is enabled.`);
        await this.start();
      } catch (err) {
        this.status.error(`${disabled ? 'Not disabled' : 'Not enabled'}: ${err.message}`);
      }
    };
    if (!disabled) {
      apply();
      return;
    }
    this.disableDialog.ask(`Disable ${name}?`,
      `${name} is signed out everywhere at once and cannot sign in (neither here nor through the PBX) until enabled again. Their recordings stay.`,
      apply, () => {});
  }

  remove(name) {
    this.deleteDialog.ask(`Delete ${name}?`,
      `The account goes and ${name} is signed out everywhere. Their recordings stay under the name ${name}; give them to another user below. To keep someone out, disable the account instead: a sign-in through the PBX creates a deleted account anew.`,
      async () => {
        try {
          await this.socket.request('DeleteUser', { name });
          this.status.info(`${name} deleted. Their recordings stay; give them to another user below.`);
          this.reassignFrom.value = name;
          await this.start();
        } catch (err) {
          this.status.error(`Not deleted: ${err.message}`);
        }
      }, () => {});
  }

  reassign() {
    if (!this.reassignForm.reportValidity()) return;
    const from = this.reassignFrom.value.trim();
    const to = this.reassignTo.value;
    this.reassignDialog.ask(`Give the recordings of ${from} to ${to}?`,
      `Every recording of ${from} then belongs to ${to}; call data arriving later does not change that.`,
      async () => {
        try {
          const res = await this.socket.request('ReassignRecordings', { from, to });
          const n = res.moved ?? 0;
          const text = `${n} ${n === 1 ? 'recording' : 'recordings'} of ${from} now ${n === 1 ? 'belongs' : 'belong'} to ${to}.`;
          if (res.warning) this.status.error(`${text} ${res.warning}.`);
          else this.status.info(text);
        } catch (err) {
          this.status.error(`Not reassigned: ${err.message}`);
        }
      }, () => {});
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
