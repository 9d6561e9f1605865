// Each configured domain's own PBX name and retention period, for the
// admin of no domain when the instance serves several domains (an admin
// of one domain edits that domain's in the general fields above). A domain
// without its own value uses the instance-wide one: the field shows it as
// a placeholder, and "Use the instance's" goes back to it.
import { h, uid, clear, FieldError } from './dom.js';
import { t, tn } from './i18n.js';
import { retentionError, confirmDeletion, maxRetentionDays } from './settings.js';

export class DomainSettingsView {
  constructor(socket, confirm, onSettings) {
    this.socket = socket;
    this.confirm = confirm;
    this.onSettings = onSettings;
    this.list = h('div', { class: 'domain-settings-list' });
    this.edits = new Map(); // domain → {name, ret} typed and not saved yet: kept when the list is drawn again
    this.el = h('section', { class: 'domain-settings', 'aria-labelledby': 'domain-settings-title', hidden: true },
      h('h2', { id: 'domain-settings-title' }, t('admin.domains.title')),
      h('p', { class: 'help' }, t('admin.domains.help')),
      this.list);
  }

  fill(s) {
    const show = !s.domain && (s.domains?.length ?? 0) > 1;
    this.el.hidden = !show;
    if (!show) return;
    clear(this.list).append(...s.domains.map((d) => this.row(d)));
  }

  row(d) {
    const nameID = uid('domain-pbx');
    const retID = uid('domain-retention');
    const edit = this.edits.get(d.domain);
    const remember = () => this.edits.set(d.domain, { name: name.value, ret: ret.value });
    const name = h('input', { id: nameID, maxlength: '128', autocomplete: 'off', spellcheck: 'false',
      value: edit?.name ?? (d.pbx_name_own ? d.pbx_name : ''), placeholder: d.pbx_name_own ? '' : (d.pbx_name || ''),
      oninput: remember });
    const ret = h('input', { id: retID, type: 'number', min: '0', max: String(maxRetentionDays), step: '1', inputmode: 'numeric',
      value: edit?.ret ?? (d.retention_own ? String(d.retention_days ?? '') : ''),
      placeholder: d.retention_own ? '' : String(d.retention_days ?? ''), oninput: () => { err.clear(); remember(); } });
    const err = new FieldError(ret);
    // The list is drawn again from the answer: "Saved." is remembered
    // for the domain's new row.
    const saved = h('span', { class: 'saved', role: 'status' }, this.savedDomain === d.domain ? t('admin.saved') : '');
    const request = async (body) => {
      err.clear();
      saved.textContent = '';
      this.savedDomain = '';
      try {
        const res = await this.socket.request('SetSettings', { domain: d.domain, ...body });
        this.savedDomain = d.domain;
        this.edits.delete(d.domain);
        this.onSettings(res.settings);
      } catch (e) {
        err.show(t('admin.notSaved', { error: e.message }));
      }
    };
    const save = async () => {
      const body = {};
      const n = name.value.trim();
      if (n !== '' || d.pbx_name_own) body.pbx_name = n;
      if (ret.value.trim() !== '') {
        const msg = retentionError(ret.value);
        if (msg) {
          err.show(msg);
          ret.focus();
          return;
        }
        body.retention_days = Number(ret.value.trim());
      }
      if (n === '' && d.pbx_name_own) {
        delete body.pbx_name;
        body.reset = ['pbx_name'];
      }
      if (body.retention_days == null) {
        await request(body);
        return;
      }
      const days = body.retention_days;
      await confirmDeletion(this.confirm,
        () => this.socket.request('PreviewSettings', { domain: d.domain, changes: { retention_days: days } }),
        t('admin.retention.confirmTitle'),
        (k) => tn('admin.retention.confirm', k, { days }),
        () => request(body));
    };
    const reset = h('button', { type: 'button', class: 'reset-domain', disabled: !d.pbx_name_own && !d.retention_own,
      onclick: () => request({ reset: ['pbx_name', 'retention_days'].filter((k) => (k === 'pbx_name' ? d.pbx_name_own : d.retention_own)) }) },
    t('admin.domains.reset'));
    return h('form', { class: 'setting domain-setting', novalidate: true, 'data-domain': d.domain,
      onsubmit: (ev) => { ev.preventDefault(); save(); } },
    h('h3', null, d.domain),
    h('div', { class: 'field' }, h('label', { for: nameID }, t('admin.pbxName.label')), name),
    h('div', { class: 'field' }, h('label', { for: retID }, t('admin.retention.label')), ret),
    h('span', { class: 'inline-edit' }, h('button', { type: 'submit' }, t('admin.save')), reset, saved),
    err.el);
  }
}
