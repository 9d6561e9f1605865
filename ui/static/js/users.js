// The admin's user list and the form to add a user; per user the default
// app object, the device MACs and the licence, with the licence count; per
// account a password reset, disable/enable and delete (each ends the
// account's sessions at once), and handing an owner's recordings to
// another user (also those of a deleted account). An administrator of no
// domain gives a local account one of the served domains or none; an
// administrator of a domain creates accounts in that domain only.
import { adminCall } from './api.js';
import { h, clear, uid, StatusLine, ConfirmDialog, FieldError } from './dom.js';
import { dateTimeText } from './format.js';
import { t, tn } from './i18n.js';
import { PasswordDialog, minPasswordLength } from './password.js';
import { confirmDeletion } from './settings.js';

/** parseList splits a comma/newline/space separated list. */
export function parseList(text) {
  return String(text).split(/[\s,]+/).map((s) => s.trim()).filter((s) => s !== '');
}

/** fromPBX: the PBX manages the account (name, devices, password). */
export function fromPBX(u) {
  return u?.source === 'pbx' && !u.pbx_deleted;
}

/**
 * domainOptions are the options of a domain select: "every domain" (only
 * where anyAllowed) and the domains the admin may give, plus current when
 * it is none of them; current is selected.
 */
export function domainOptions(domains, anyAllowed, current) {
  const cur = current ?? '';
  const list = [...(domains ?? [])];
  if (cur && !list.some((d) => d.toLowerCase() === cur.toLowerCase())) list.push(cur);
  const values = anyAllowed || cur === '' ? ['', ...list] : list;
  return values.map((v) => h('option', { value: v, selected: v.toLowerCase() === cur.toLowerCase() },
    v === '' ? t('admin.users.allDomains') : v));
}

/** licenceText describes the licence situation of GET /api/admin/licences. */
export function licenceText(l) {
  if (!l?.configured) return t('admin.licences.off', { n: l?.assigned ?? 0 });
  const free = Math.max(0, l.count - l.assigned);
  return tn('admin.licences.on', l.count, { used: l.assigned, free });
}

export class UsersView {
  /**
   * me is the signed-in admin's name: their own row has no disable or
   * delete. instance: whether they administer every domain; the licence
   * count is the instance's, so an administrator of a domain (GET /api/me
   * admin_domain) gets no form for it.
   */
  constructor(socket, me, instance = true) {
    this.socket = socket;
    this.me = me ?? '';
    this.instance = instance;
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
    this.role = h('select', { name: 'role' }, h('option', { value: 'user' }, t('admin.role.user')), h('option', { value: 'admin' }, t('admin.role.admin')));
    this.password = h('input', { name: 'password', type: 'password', required: true, minlength: String(minPasswordLength), maxlength: '72', autocomplete: 'new-password' });
    // The domain of the new account: shown once the instance serves
    // configured domains (ListUsers says which the admin may give).
    this.domain = h('select', { name: 'domain' });
    this.domainField = f(t('admin.users.domain'), this.domain);
    this.domainField.classList.add('domain-field');
    this.domainField.hidden = true;
    this.domains = [];
    this.anyDomain = true;
    this.form = h('form', { class: 'create-user', onsubmit: (ev) => { ev.preventDefault(); this.create(); } },
      f(t('admin.users.name'), this.name), f(t('admin.users.display'), this.display), f(t('admin.users.e164'), this.e164),
      f(t('admin.users.role'), this.role), this.domainField, f(t('admin.users.password', { n: minPasswordLength }), this.password),
      h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, t('admin.users.add'))));
    const countID = uid('lic-count');
    const countHelp = uid('lic-help');
    this.licCount = h('input', {
      id: countID, name: 'licence_count', type: 'number', min: '0', step: '1', inputmode: 'numeric',
      'aria-describedby': countHelp, oninput: () => this.licErr.clear(),
    });
    this.licErr = new FieldError(this.licCount);
    this.licSummary = h('p', { class: 'licence-summary', 'aria-live': 'polite' });
    this.purge = h('p', { class: 'banner purge-warning', role: 'alert', hidden: true });
    this.licForm = h('form', { class: 'filters licences', novalidate: true, hidden: !instance, onsubmit: (ev) => { ev.preventDefault(); this.saveCount(); } },
      h('div', { class: 'field' }, h('label', { for: countID }, t('admin.licences.count')), this.licCount,
        h('p', { id: countHelp, class: 'help' }, t('admin.licences.help')), this.licErr.el),
      h('div', { class: 'buttons' }, h('button', { type: 'submit' }, t('admin.licences.save'))));
    this.reassignFrom = h('input', { name: 'from', required: true, maxlength: '256', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off' });
    this.reassignTo = h('select', { name: 'to', required: true });
    this.reassignForm = h('form', { class: 'filters reassign', onsubmit: (ev) => { ev.preventDefault(); this.reassign(); } },
      f(t('admin.reassign.from'), this.reassignFrom), f(t('admin.reassign.to'), this.reassignTo),
      h('div', { class: 'buttons' }, h('button', { type: 'submit' }, t('admin.reassign.submit'))));
    this.appObjects = [];
    this.users = [];
    this.pwDialog = new PasswordDialog(false, t('admin.users.setPassword'));
    this.disableDialog = new ConfirmDialog('disable', t('admin.users.disableAccount'));
    this.deleteDialog = new ConfirmDialog('delete', t('admin.users.deleteAccount'));
    this.reassignDialog = new ConfirmDialog('reassign', t('admin.reassign.submit'));
    this.licDialog = new ConfirmDialog('save', t('admin.save'));
    this.edit = new UserEditDialog(socket, () => this.start());
    this.el = h('section', { class: 'view', 'aria-labelledby': 'users-title' },
      h('h2', { id: 'users-title' }, t('admin.users.title')), this.status.el,
      this.licSummary, this.purge,
      h('div', { class: 'table-wrap' }, h('table', { class: 'users' },
        h('thead', null, h('tr', null, ['name', 'display', 'number', 'role', 'created', 'status', 'account', 'appobject', 'devices', 'licence']
          .map((k) => h('th', { scope: 'col' }, t(`admin.users.col.${k}`))))),
        this.tbody)),
      h('h2', null, t('admin.users.addTitle')), this.form,
      h('h2', null, t('admin.reassign.title')),
      h('p', { class: 'help' }, t('admin.reassign.help')),
      this.reassignForm,
      h('h2', { hidden: !instance }, t('admin.licences.title')), this.licForm,
      this.pwDialog.el, this.disableDialog.el, this.deleteDialog.el, this.reassignDialog.el, this.licDialog.el, this.edit.el);
  }

  async start() {
    let users;
    try {
      const res = await this.socket.request('ListUsers');
      users = res.users ?? [];
      this.domains = res.domains ?? [];
    } catch (err) {
      this.status.error(t('admin.users.loadError', { error: err.message }));
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
      this.status.error(t('admin.users.loadPBXError', { error: err.message }));
    }
    clear(this.tbody);
    this.pbx = pbx;
    for (const u of users) {
      this.tbody.append(this.row(u, pbx.get(u.name)));
    }
    this.users = users;
    // An administrator of a domain gives only that domain; one of no
    // domain also "every domain".
    const meDomain = users.find((u) => u.name === this.me)?.domain ?? '';
    this.anyDomain = meDomain === '';
    this.edit.domains = this.domains;
    this.edit.anyDomain = this.anyDomain;
    this.edit.me = this.me;
    const was = this.domain.value;
    clear(this.domain).append(...domainOptions(this.domains, this.anyDomain, this.anyDomain ? was : meDomain));
    this.domainField.hidden = this.domains.length === 0;
    const chosen = this.reassignTo.value;
    clear(this.reassignTo).append(h('option', { value: '' }, t('admin.reassign.choose')),
      ...users.map((u) => h('option', { value: u.name, selected: u.name === chosen }, u.name)));
  }

  showLicences(l) {
    this.licSummary.textContent = licenceText(l);
    if (document.activeElement !== this.licCount) this.licCount.value = l?.configured ? String(l.count) : '';
    const n = l?.to_purge ?? 0;
    this.purge.hidden = n <= 0;
    this.purge.textContent = n > 0
      ? tn('admin.licences.purge', n)
      : '';
  }

  row(u, p) {
    const cells = [
      h('td', { 'data-label': t('admin.users.col.name'), class: 'user-name' }, u.name,
        u.pbx_deleted ? [' ', h('span', { class: 'badge pbx-deleted', title: t('admin.users.pbxDeletedTitle') }, t('admin.users.pbxDeleted'))]
          : u.source === 'pbx' ? [' ', h('span', { class: 'badge pbx-badge', title: t('admin.users.pbxTitle') }, 'PBX')] : null,
        u.domain ? [' ', h('span', { class: 'badge domain-badge', title: t('admin.users.domainTitle', { domain: u.domain }) }, u.domain)] : null),
      h('td', { 'data-label': t('admin.users.col.display') }, u.display_name ?? ''),
      h('td', { 'data-label': t('admin.users.col.number') }, u.e164 ?? ''),
      h('td', { 'data-label': t('admin.users.col.role') }, t(`admin.role.${u.role}`)),
      h('td', { 'data-label': t('admin.users.col.created') }, dateTimeText(u.created)),
      h('td', { 'data-label': t('admin.users.col.status'), class: 'user-status' }, u.disabled ? t('admin.users.disabled') : t('admin.users.active')),
      h('td', { 'data-label': t('admin.users.col.account'), class: 'actions' }, this.accountActions(u, p)),
    ];
    if (!p) return h('tr', { 'data-name': u.name }, cells);
    const aoID = uid('u-ao');
    const ao = h('select', { id: aoID, class: 'appobject-select', onchange: () => this.setAppObject(u.name, ao) },
      h('option', { value: '', selected: !p.app_object }, t('admin.users.noAppObject')),
      usableObjects(this.appObjects, u.domain).map((n) => h('option', { value: n, selected: n === p.app_object }, n)));
    if (p.app_object && !usableObjects(this.appObjects, u.domain).includes(p.app_object)) {
      ao.append(h('option', { value: p.app_object, selected: true }, p.app_object));
    }
    const macID = uid('u-mac');
    const macs = h('input', {
      id: macID, class: 'macs-input', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off',
      value: (p.macs ?? []).join(', '), placeholder: '00:90:33:aa:bb:cc',
      // The PBX manages the devices of its users.
      readonly: fromPBX(u),
    });
    const saveMACs = h('button', {
      type: 'button', class: 'act save-macs-btn', 'aria-label': t('admin.users.saveDevicesOf', { name: u.name }),
      hidden: fromPBX(u),
      onclick: () => this.setMACs(u.name, macs),
    }, t('admin.save'));
    const licID = uid('u-lic');
    const lic = h('input', {
      id: licID, type: 'checkbox', class: 'licence-check', checked: !!p.licensed,
      onchange: () => this.setLicence(u.name, lic),
    });
    cells.push(
      h('td', { 'data-label': t('admin.users.col.appobject') },
        h('label', { for: aoID, class: 'visually-hidden' }, t('admin.users.appObjectOf', { name: u.name })), ao),
      h('td', { 'data-label': t('admin.users.col.devices') },
        h('span', { class: 'inline-edit' },
          h('label', { for: macID, class: 'visually-hidden' }, t('admin.users.devicesOf', { name: u.name })), macs, saveMACs)),
      h('td', { 'data-label': t('admin.users.col.licence') },
        h('span', { class: 'inline-edit' }, lic, h('label', { for: licID }, t('admin.users.licensed'), h('span', { class: 'visually-hidden' }, ` (${u.name})`)))));
    return h('tr', { 'data-name': u.name }, cells);
  }

  accountActions(u, p) {
    const self = u.name === this.me;
    return [
      h('button', {
        type: 'button', class: 'act edit-btn', 'aria-label': t('admin.users.editOf', { name: u.name }),
        onclick: (ev) => this.edit.open(u, p, ev.currentTarget),
      }, t('admin.users.edit')),
      // A user from the PBX signs in through the PBX: no password here.
      fromPBX(u) ? null : h('button', {
        type: 'button', class: 'act reset-pw-btn', 'aria-label': t('admin.users.setPasswordFor', { name: u.name }),
        onclick: () => this.resetPassword(u.name),
      }, t('admin.users.setPassword')),
      self ? null : h('button', {
        type: 'button', class: 'act disable-btn', 'aria-label': t(u.disabled ? 'admin.users.enableOf' : 'admin.users.disableOf', { name: u.name }),
        onclick: () => this.setDisabled(u.name, !u.disabled),
      }, u.disabled ? t('admin.users.enable') : t('admin.users.disable')),
      self ? null : h('button', {
        type: 'button', class: 'act danger delete-btn', 'aria-label': t('admin.users.deleteOf', { name: u.name }),
        onclick: (ev) => this.remove(u.name, ev.currentTarget),
      }, t('admin.users.delete')),
    ];
  }

  resetPassword(name) {
    this.pwDialog.ask(t('admin.users.pwTitle', { name }), t('admin.users.pwText', { name }),
      async (pw) => {
        await this.socket.request('ResetPassword', { name, password: pw.new });
        this.status.info(t('admin.users.pwDone', { name }));
        await this.start();
      });
  }

  setDisabled(name, disabled) {
    const apply = async () => {
      try {
        await this.socket.request('SetUserDisabled', { name, disabled });
        this.status.info(t(disabled ? 'admin.users.disabledDone' : 'admin.users.enabledDone', { name }));
        await this.start();
      } catch (err) {
        this.status.error(t(disabled ? 'admin.users.notDisabled' : 'admin.users.notEnabled', { error: err.message }));
      }
    };
    if (!disabled) {
      apply();
      return;
    }
    this.disableDialog.ask(t('admin.users.disableTitle', { name }), t('admin.users.disableText', { name }),
      apply, () => {});
  }

  /**
   * remove asks before deleting an account, with what it touches: how many
   * recordings it owns (they stay) and how many the next start-up would
   * delete for want of a licence (PreviewDeleteUser).
   */
  async remove(name, button) {
    let pv;
    try {
      pv = await this.socket.request('PreviewDeleteUser', { name });
    } catch (err) {
      this.status.error(t('admin.users.notDeleted', { error: err.message }));
      return;
    }
    const n = pv.would_delete ?? 0;
    const text = [
      tn('admin.users.deleteOwns', pv.recordings ?? 0, { name, protected: pv.protected ?? 0 }),
      n > 0 ? tn('admin.users.deleteWould', n, { name }) : t('admin.users.deleteKeeps', { name }),
      t('admin.users.deleteHint'),
    ].join(' ');
    this.deleteDialog.ask(t('admin.users.deleteTitle', { name }), text,
      async () => {
        try {
          await this.socket.request('DeleteUser', { name });
          this.status.info(t('admin.users.deletedDone', { name }));
          this.reassignFrom.value = name;
          await this.start();
          this.status.el.tabIndex = -1;
          this.status.el.focus();
        } catch (err) {
          this.status.error(t('admin.users.notDeleted', { error: err.message }));
        }
      }, () => button?.focus(),
      n > 0 ? tn('admin.users.deleteN', n) : t('admin.users.deleteAccount'));
  }

  reassign() {
    if (!this.reassignForm.reportValidity()) return;
    const from = this.reassignFrom.value.trim();
    const to = this.reassignTo.value;
    this.reassignDialog.ask(t('admin.reassign.confirmTitle', { from, to }), t('admin.reassign.confirmText', { from, to }),
      async () => {
        try {
          const res = await this.socket.request('ReassignRecordings', { from, to });
          const n = res.moved ?? 0;
          const text = tn('admin.reassign.done', n, { from, to });
          if (res.warning) this.status.error(`${text} ${res.warning}.`);
          else this.status.info(text);
        } catch (err) {
          this.status.error(t('admin.reassign.notDone', { error: err.message }));
        }
      }, () => {});
  }

  async setAppObject(name, select) {
    try {
      await adminCall('PUT', `/api/admin/users/${encodeURIComponent(name)}/appobject`, { app_object: select.value });
      this.status.info(select.value ? t('admin.users.appObjectSet', { name, ao: select.value }) : t('admin.users.appObjectNone', { name }));
    } catch (err) {
      this.status.error(t('admin.users.appObjectError', { error: err.message }));
      await this.start();
    }
  }

  async setMACs(name, input) {
    try {
      await adminCall('PUT', `/api/admin/users/${encodeURIComponent(name)}`, { macs: parseList(input.value) });
      this.status.info(t('admin.users.devicesSaved', { name }));
      const res = await adminCall('GET', '/api/admin/users');
      const u = (res?.users ?? []).find((x) => x.name === name);
      if (u) input.value = (u.macs ?? []).join(', ');
    } catch (err) {
      this.status.error(t('admin.users.devicesError', { error: err.message }));
    }
  }

  async setLicence(name, box) {
    const on = box.checked;
    try {
      const lic = await adminCall('PUT', `/api/admin/users/${encodeURIComponent(name)}/licence`, { licensed: on });
      this.showLicences(lic);
      this.status.info(t(on ? 'admin.users.licenceOn' : 'admin.users.licenceOff', { name }));
    } catch (err) {
      box.checked = !on;
      this.status.error(t('admin.users.licenceError', { error: err.message }));
    }
  }

  /**
   * saveCount saves the licence count; when the next start-up would then
   * delete recordings of unlicensed users, it says how many and asks.
   */
  async saveCount() {
    const v = this.licCount.value.trim();
    if (v !== '' && !/^\d+$/.test(v)) {
      this.licErr.show(t('admin.licences.whole'));
      this.licCount.focus();
      return;
    }
    const count = v === '' ? null : Number(v);
    try {
      const saved = await confirmDeletion(this.licDialog,
        () => (count === null ? { would_delete: 0 } : this.socket.request('PreviewSettings', { changes: { licence_count: count } })),
        t('admin.licences.confirmTitle'),
        (n) => tn('admin.licences.confirm', n, { count }),
        async () => {
          const lic = await adminCall('PUT', '/api/admin/licences', { count });
          this.showLicences(lic);
        });
      if (saved) this.status.info(v === '' ? t('admin.licences.offDone') : t('admin.licences.saved', { count: v }));
      this.licCount.focus();
    } catch (err) {
      this.licErr.show(t('admin.licences.notSaved', { error: err.message }));
      this.licCount.focus();
    }
  }

  async create() {
    if (!this.form.reportValidity()) return;
    try {
      const req = {
        name: this.name.value.trim(), display_name: this.display.value.trim(), e164: this.e164.value.trim(),
        role: this.role.value, password: this.password.value,
      };
      if (!this.domainField.hidden) req.domain = this.domain.value;
      const res = await this.socket.request('CreateUser', req);
      this.form.reset();
      this.status.info(t('admin.users.added', { name: res.user.name }));
      await this.start();
    } catch (err) {
      this.status.error(t('admin.users.notAdded', { error: err.message }));
    }
  }
}

/**
 * UserEditDialog edits an account: display name, number, role, device
 * MACs and domain (UpdateUser). For a user from the PBX, the PBX keeps the
 * name, number, devices and domain: only the role is editable here. The
 * domain is editable by an administrator of no domain, not on their own
 * account.
 */
export class UserEditDialog {
  constructor(socket, saved) {
    this.socket = socket;
    this.saved = saved;
    const titleID = uid('edit-title');
    const field = (label, input, help) => {
      const id = uid('edit');
      input.id = id;
      return h('div', { class: 'field' }, h('label', { for: id }, label), input, help ?? null);
    };
    this.title = h('h2', { id: titleID });
    this.display = h('input', { name: 'edit_display_name', maxlength: '128', autocomplete: 'off' });
    this.e164 = h('input', { name: 'edit_e164', inputmode: 'tel', maxlength: '21', autocomplete: 'off' });
    this.role = h('select', { name: 'edit_role' }, h('option', { value: 'user' }, t('admin.role.user')), h('option', { value: 'admin' }, t('admin.role.admin')));
    this.macs = h('textarea', { name: 'edit_macs', rows: '2', spellcheck: 'false', autocapitalize: 'off' });
    this.domain = h('select', { name: 'edit_domain' });
    this.domainHelp = h('p', { class: 'help' });
    this.domainField = field(t('admin.users.domain'), this.domain, this.domainHelp);
    this.domains = [];
    this.anyDomain = true;
    this.me = '';
    this.note = h('p', { class: 'help' });
    this.licence = h('p', { class: 'licence-state' });
    this.error = new FieldError(null);
    this.submitButton = h('button', { type: 'submit', class: 'primary' }, t('admin.save'));
    this.form = h('form', { novalidate: true, onsubmit: (ev) => { ev.preventDefault(); this.send(); } },
      this.title, this.note,
      field(t('admin.users.display'), this.display),
      field(t('admin.users.e164'), this.e164),
      field(t('admin.users.role'), this.role),
      field(t('admin.users.col.devices'), this.macs, h('p', { class: 'help' }, t('admin.users.devicesHelp'))),
      this.domainField,
      this.licence, this.error.el,
      h('div', { class: 'buttons' },
        h('button', { type: 'button', onclick: () => this.el.close() }, t('common.cancel')),
        this.submitButton));
    this.el = h('dialog', { class: 'confirm user-edit', 'aria-labelledby': titleID }, this.form);
    this.name = '';
  }

  open(u, p, button) {
    this.name = u.name;
    this.pbxManaged = fromPBX(u);
    this.title.textContent = t('admin.users.editTitle', { name: u.name });
    this.note.textContent = this.pbxManaged ? t('admin.users.editPBX') : '';
    this.note.hidden = !this.pbxManaged;
    this.display.value = u.display_name ?? '';
    this.e164.value = u.e164 ?? '';
    this.role.value = u.role ?? 'user';
    this.macs.value = (p?.macs ?? u.macs ?? []).join(', ');
    for (const el of [this.display, this.e164, this.macs]) el.readOnly = this.pbxManaged;
    this.oldDomain = u.domain ?? '';
    clear(this.domain).append(...domainOptions(this.domains, this.anyDomain, this.oldDomain));
    let why = '';
    if (this.pbxManaged) why = t('admin.users.domainPBX');
    else if (!this.anyDomain) why = t('admin.users.domainAdmin');
    else if (u.name === this.me) why = t('admin.users.domainSelf');
    this.domainEditable = why === '' && this.domains.length > 0;
    this.domain.disabled = !this.domainEditable;
    this.domainHelp.textContent = why || t('admin.users.domainHelp');
    this.domainField.hidden = this.domains.length === 0 && !this.oldDomain;
    this.licence.textContent = p ? (p.licensed ? t('admin.users.holdsLicence') : t('admin.users.noLicence')) : '';
    this.error.clear();
    this.el.addEventListener('close', () => button?.isConnected && button.focus(), { once: true });
    this.el.showModal();
    (this.pbxManaged ? this.role : this.display).focus();
  }

  async send() {
    this.error.clear();
    const e164 = this.e164.value.trim();
    if (e164 && !/^\+?[0-9]{1,20}$/.test(e164)) {
      this.error.control = this.e164;
      this.error.show(t('admin.users.badNumber'));
      this.e164.focus();
      return;
    }
    const req = { name: this.name, role: this.role.value };
    if (!this.pbxManaged) Object.assign(req, { display_name: this.display.value.trim(), e164, macs: parseList(this.macs.value) });
    if (this.domainEditable && this.domain.value !== this.oldDomain) req.domain = this.domain.value;
    this.submitButton.disabled = true;
    try {
      await this.socket.request('UpdateUser', req);
      this.el.close();
      await this.saved();
    } catch (err) {
      this.error.control = null;
      this.error.show(t('admin.notSaved', { error: err.message }));
    } finally {
      this.submitButton.disabled = false;
    }
  }
}

/**
 * usableObjects are the names of the app objects an account of domain may
 * have as its default: those of its domain and of every domain (an account
 * of no domain: all), each name once.
 */
export function usableObjects(objects, domain) {
  const d = (domain ?? '').toLowerCase();
  const seen = new Set();
  const out = [];
  for (const o of objects) {
    const od = (o.domain ?? '').toLowerCase();
    if (d !== '' && od !== '' && od !== d) continue;
    const k = o.name.toLowerCase();
    if (!seen.has(k)) {
      seen.add(k);
      out.push(o.name);
    }
  }
  return out;
}
