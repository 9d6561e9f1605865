// The admin's app objects: list, create, edit the access list, delete.
// App objects name the extensions whose recordings the users signing in
// through them may see.
import { adminCall } from './api.js';
import { h, clear, uid, StatusLine, ConfirmDialog } from './dom.js';

/** parseAccess splits a comma/newline separated access list. */
export function parseAccess(text) {
  return String(text).split(/[,\n\r]+/).map((s) => s.trim()).filter((s) => s !== '');
}

export class AppObjectsView {
  constructor(onChange) {
    this.onChange = onChange ?? (() => {});
    this.status = new StatusLine();
    this.tbody = h('tbody');
    this.empty = h('p', { class: 'empty', hidden: true }, 'No app objects yet.');
    const f = (label, input, help) => {
      const id = uid('ao');
      input.id = id;
      let helpEl = null;
      if (help) {
        helpEl = h('p', { class: 'help', id: `${id}-help` }, help);
        input.setAttribute('aria-describedby', helpEl.id);
      }
      return h('div', { class: 'field' }, h('label', { for: id }, label), input, helpEl);
    };
    this.name = h('input', { name: 'name', required: true, maxlength: '64', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off' });
    this.display = h('input', { name: 'display_name', maxlength: '128', autocomplete: 'off' });
    this.type = h('select', { name: 'type' }, h('option', { value: 'user' }, 'user'), h('option', { value: 'admin' }, 'admin'));
    this.access = h('textarea', { name: 'access', rows: '3', spellcheck: 'false', autocapitalize: 'off' });
    this.onPBX = h('input', { type: 'checkbox', name: 'on_pbx' });
    this.pbxNote = h('p', { class: 'help pbx-note', hidden: true });
    this.form = h('form', { class: 'create-user create-appobject', onsubmit: (ev) => { ev.preventDefault(); this.create(); } },
      f('Name (as the PBX app object)', this.name), f('Display name', this.display), f('Type', this.type),
      f('Access list', this.access, 'Extensions whose recordings its users may see: numbers or user names, separated by commas or new lines.'),
      f('Create it on the PBX too', this.onPBX, 'With the PBX connected: the App object is created on the PBX (URL of the app, websocket and Admin API for the user object, the instance password).'),
      h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Add app object')));

    this.dialog = new ConfirmDialog('delete', 'Delete');

    this.el = h('section', { class: 'view', 'aria-labelledby': 'ao-title' },
      h('h2', { id: 'ao-title' }, 'App objects'), this.status.el, this.pbxNote,
      h('div', { class: 'table-wrap' }, h('table', { class: 'users appobjects' },
        h('thead', null, h('tr', null, ['Name', 'Display name', 'Type', 'On the PBX', 'Access list', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
        this.tbody)),
      this.empty,
      h('h2', null, 'Add an app object'), this.form, this.dialog.el);
  }

  async start() {
    try {
      const res = await adminCall('GET', '/api/admin/appobjects');
      clear(this.tbody);
      const list = res?.app_objects ?? [];
      this.pbx = res?.pbx ?? { connected: false };
      this.pbxNote.hidden = false;
      this.pbxNote.textContent = this.pbx.connected
        ? `PBX connected: the list is what it holds${this.pbx.last_error ? ` (last read failed: ${this.pbx.last_error})` : ''}.`
        : 'PBX not connected: the last list read from it is shown; changes on the PBX are not possible now.';
      this.onPBX.disabled = !this.pbx.connected;
      for (const o of list) this.tbody.append(this.row(o));
      this.empty.hidden = list.length > 0;
    } catch (err) {
      this.status.error(`Cannot load app objects: ${err.message}`);
    }
  }

  row(o) {
    const id = uid('ao-access');
    const access = h('textarea', {
      id, rows: '2', class: 'access-input', spellcheck: 'false', autocapitalize: 'off',
      value: (o.access ?? []).join(', '),
    });
    const save = h('button', {
      type: 'button', class: 'act save-access-btn', 'aria-label': `Save access list of ${o.name}`,
      onclick: () => this.saveAccess(o, access),
    }, 'Save');
    const del = h('button', {
      type: 'button', class: 'act danger delete-btn', 'aria-label': `Delete app object ${o.name}`,
      onclick: () => this.confirmDelete(o, del),
    }, 'Delete');
    return h('tr', { 'data-name': o.name },
      h('td', { 'data-label': 'Name', class: 'ao-name' }, o.name),
      h('td', { 'data-label': 'Display name' }, o.display_name ?? ''),
      h('td', { 'data-label': 'Type' }, o.type ?? ''),
      h('td', { 'data-label': 'On the PBX', class: `pbx-state pbx-${o.pbx?.state || 'local'}` }, pbxState(o.pbx)),
      h('td', { 'data-label': 'Access list' },
        h('label', { for: id, class: 'visually-hidden' }, `Access list of ${o.name}`), access),
      h('td', { class: 'actions' }, save, del));
  }

  async create() {
    if (!this.form.reportValidity()) return;
    try {
      const body = {
        name: this.name.value.trim(), display_name: this.display.value.trim(),
        type: this.type.value, access: parseAccess(this.access.value),
      };
      let res;
      if (this.onPBX.checked && !this.onPBX.disabled) {
        res = await adminCall('POST', '/api/admin/pbx/appobjects', { name: body.name, display_name: body.display_name, type: body.type });
        await adminCall('PUT', `/api/admin/appobjects/${encodeURIComponent(body.name)}`, body);
      } else {
        res = await adminCall('POST', '/api/admin/appobjects', body);
      }
      this.form.reset();
      this.status.info(`App object ${res?.name ?? ''} added.`);
      await this.start();
      this.onChange();
    } catch (err) {
      this.status.error(`Not added: ${err.message}`);
    }
  }

  async saveAccess(o, input) {
    try {
      await adminCall('PUT', `/api/admin/appobjects/${encodeURIComponent(o.name)}`, {
        display_name: o.display_name ?? '', type: o.type, access: parseAccess(input.value),
      });
      this.status.info(`Access list of ${o.name} saved.`);
      await this.start();
      this.tbody.querySelector(`tr[data-name="${CSS.escape(o.name)}"] .save-access-btn`)?.focus();
    } catch (err) {
      this.status.error(`Not saved: ${err.message}`);
    }
  }

  confirmDelete(o, opener) {
    this.dialog.ask('Delete app object?',
      `App object ${o.name} will be deleted${o.pbx?.state === 'present' && this.pbx?.connected ? ' on the PBX and here' : ''}. Users signing in through it will see only their own recordings.`,
      () => this.deleteObject({ o, opener }), () => opener.focus());
  }

  async deleteObject(d) {
    try {
      const onPBX = d.o.pbx?.state === 'present' && this.pbx?.connected;
      await adminCall('DELETE', `/api/admin/${onPBX ? 'pbx/' : ''}appobjects/${encodeURIComponent(d.o.name)}`);
      this.status.info(`App object ${d.o.name} deleted.`);
      await this.start();
      this.onChange();
      this.name.focus();
    } catch (err) {
      this.status.error(`Not deleted: ${err.message}`);
      d.opener.focus();
    }
  }
}

/** pbxState says what the PBX last said of an app object. */
export function pbxState(p) {
  switch (p?.state) {
    case 'present': return p.connected ? 'yes (connected)' : 'yes';
    case 'missing': return 'missing on the PBX';
    default: return '—';
  }
}
