// The admin's app objects: list, create, edit the access list, delete.
// App objects name the extensions whose recordings the users signing in
// through them may see.
import { adminCall } from './api.js';
import { h, clear, uid, StatusLine, ConfirmDialog } from './dom.js';
import { t } from './i18n.js';

/**
 * objectURL is the admin API URL of app object o (of the PBX API with pbx),
 * naming its domain: the same name may be an object of several domains.
 */
export function objectURL(o, pbx) {
  return `/api/admin/${pbx ? 'pbx/' : ''}appobjects/${encodeURIComponent(o.name)}?domain=${encodeURIComponent(o.domain ?? '')}`;
}

/** parseAccess splits a comma/newline separated access list. */
export function parseAccess(text) {
  return String(text).split(/[,\n\r]+/).map((s) => s.trim()).filter((s) => s !== '');
}

export class AppObjectsView {
  constructor(onChange) {
    this.onChange = onChange ?? (() => {});
    this.status = new StatusLine();
    this.tbody = h('tbody');
    this.empty = h('p', { class: 'empty', hidden: true }, t('admin.ao.empty'));
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
    // The domain of a new object: shown to the administrator of no domain
    // where several domains are configured (the list's "domains").
    this.domain = h('select', { name: 'domain' });
    this.domainField = f(t('admin.ao.domain'), this.domain, t('admin.ao.domainHelp'));
    this.domainField.hidden = true;
    this.showDomain = false;
    this.domainHead = h('th', { scope: 'col', hidden: true }, t('admin.ao.domain'));
    this.pbxNote = h('p', { class: 'help pbx-note', hidden: true });
    this.form = h('form', { class: 'create-user create-appobject', onsubmit: (ev) => { ev.preventDefault(); this.create(); } },
      this.domainField, f(t('admin.ao.name'), this.name), f(t('admin.users.display'), this.display), f(t('admin.ao.type'), this.type),
      f(t('admin.ao.access'), this.access, t('admin.ao.accessHelp')),
      f(t('admin.ao.onPBX'), this.onPBX, t('admin.ao.onPBXHelp')),
      h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, t('admin.ao.add'))));

    this.dialog = new ConfirmDialog('delete', t('admin.users.delete'));

    this.el = h('section', { class: 'view', 'aria-labelledby': 'ao-title' },
      h('h2', { id: 'ao-title' }, t('admin.tab.appobjects')), this.status.el, this.pbxNote,
      h('div', { class: 'table-wrap' }, h('table', { class: 'users appobjects' },
        h('thead', null, h('tr', null, this.domainHead, [t('admin.users.col.name'), t('admin.users.display'), t('admin.ao.type'), t('admin.ao.colPBX'), t('admin.ao.access'), t('admin.ao.actions')].map((c) => h('th', { scope: 'col' }, c)))),
        this.tbody)),
      this.empty,
      h('h2', null, t('admin.ao.addTitle')), this.form, this.dialog.el);
  }

  async start() {
    try {
      const res = await adminCall('GET', '/api/admin/appobjects');
      clear(this.tbody);
      const list = res?.app_objects ?? [];
      this.pbx = res?.pbx ?? { connected: false };
      this.pbxNote.hidden = false;
      this.pbxNote.textContent = this.pbx.connected
        ? (this.pbx.last_error ? t('admin.ao.pbxConnectedError', { error: this.pbx.last_error }) : t('admin.ao.pbxConnected'))
        : t('admin.ao.pbxNotConnected');
      this.onPBX.disabled = !this.pbx.connected;
      const domains = res?.domains ?? [];
      this.showDomain = domains.length > 0;
      this.domainHead.hidden = !this.showDomain;
      this.domainField.hidden = !this.showDomain;
      if (this.showDomain) {
        const had = this.domain.options.length > 0;
        const keep = this.domain.value;
        clear(this.domain);
        this.domain.append(...domains.map((d) => h('option', { value: d }, d)),
          h('option', { value: '' }, t('admin.ao.everyDomain')));
        if (had) this.domain.value = keep;
      }
      for (const o of list) this.tbody.append(this.row(o));
      this.empty.hidden = list.length > 0;
    } catch (err) {
      this.status.error(t('admin.ao.loadError', { error: err.message }));
    }
  }

  row(o) {
    const id = uid('ao-access');
    // Controls are named by the object's name and, where one name may be
    // in several domains, its domain.
    const label = this.showDomain ? `${o.name} (${o.domain || t('admin.ao.everyDomain')})` : o.name;
    const access = h('textarea', {
      id, rows: '2', class: 'access-input', spellcheck: 'false', autocapitalize: 'off',
      value: (o.access ?? []).join(', '),
    });
    const save = h('button', {
      type: 'button', class: 'act save-access-btn', 'aria-label': t('admin.ao.saveAccessOf', { name: label }),
      onclick: () => this.saveAccess(o, access),
    }, t('admin.save'));
    const del = h('button', {
      type: 'button', class: 'act danger delete-btn', 'aria-label': t('admin.ao.deleteOf', { name: label }),
      onclick: () => this.confirmDelete(o, del),
    }, t('admin.users.delete'));
    return h('tr', { 'data-name': o.name, 'data-domain': o.domain ?? '' },
      this.showDomain ? h('td', { 'data-label': t('admin.ao.domain'), class: 'ao-domain' }, o.domain || t('admin.ao.everyDomain')) : null,
      h('td', { 'data-label': t('admin.users.col.name'), class: 'ao-name' }, o.name),
      h('td', { 'data-label': t('admin.users.display') }, o.display_name ?? ''),
      h('td', { 'data-label': t('admin.ao.type') }, o.type ?? ''),
      h('td', { 'data-label': t('admin.ao.colPBX'), class: `pbx-state pbx-${o.pbx?.state || 'local'}` }, pbxState(o.pbx)),
      h('td', { 'data-label': t('admin.ao.access') },
        h('label', { for: id, class: 'visually-hidden' }, t('admin.ao.accessOf', { name: label })), access),
      h('td', { class: 'actions' }, save, del));
  }

  async create() {
    if (!this.form.reportValidity()) return;
    try {
      const body = {
        name: this.name.value.trim(), display_name: this.display.value.trim(),
        type: this.type.value, access: parseAccess(this.access.value),
      };
      if (this.showDomain) body.domain = this.domain.value;
      let res;
      if (this.onPBX.checked && !this.onPBX.disabled) {
        res = await adminCall('POST', '/api/admin/pbx/appobjects', { domain: body.domain, name: body.name, display_name: body.display_name, type: body.type });
        await adminCall('PUT', objectURL({ name: body.name, domain: res?.domain ?? body.domain ?? '' }), body);
      } else {
        res = await adminCall('POST', '/api/admin/appobjects', body);
      }
      this.form.reset();
      this.status.info(t('admin.ao.added', { name: res?.name ?? '' }));
      await this.start();
      this.onChange();
    } catch (err) {
      this.status.error(t('admin.users.notAdded', { error: err.message }));
    }
  }

  async saveAccess(o, input) {
    try {
      await adminCall('PUT', objectURL(o), {
        display_name: o.display_name ?? '', type: o.type, access: parseAccess(input.value),
      });
      this.status.info(t('admin.ao.saved', { name: o.name }));
      await this.start();
      this.tbody.querySelector(`tr[data-name="${CSS.escape(o.name)}"][data-domain="${CSS.escape(o.domain ?? '')}"] .save-access-btn`)?.focus();
    } catch (err) {
      this.status.error(t('admin.notSaved', { error: err.message }));
    }
  }

  confirmDelete(o, opener) {
    this.dialog.ask(t('admin.ao.deleteTitle'),
      t(o.pbx?.state === 'present' && this.pbx?.connected ? 'admin.ao.deleteTextPBX' : 'admin.ao.deleteText', { name: o.name }),
      () => this.deleteObject({ o, opener }), () => opener.focus());
  }

  async deleteObject(d) {
    try {
      const onPBX = d.o.pbx?.state === 'present' && this.pbx?.connected;
      await adminCall('DELETE', objectURL(d.o, onPBX));
      this.status.info(t('admin.ao.deleted', { name: d.o.name }));
      await this.start();
      this.onChange();
      this.name.focus();
    } catch (err) {
      this.status.error(t('admin.users.notDeleted', { error: err.message }));
      d.opener.focus();
    }
  }
}

/** pbxState says what the PBX last said of an app object. */
export function pbxState(p) {
  switch (p?.state) {
    case 'present': return p.connected ? t('admin.ao.pbxYesConnected') : t('admin.ao.pbxYes');
    case 'missing': return t('admin.ao.pbxMissing');
    default: return '—';
  }
}
