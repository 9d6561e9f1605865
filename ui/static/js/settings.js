// The admin's settings page, opened from the menu in the upper right
// corner: how long recordings are kept and the PBX name, each saved on its
// own (a setting that deletes recordings says how many and asks first);
// the PBX connection (pbxstatus.js) and integration (pbxsettings.js); the
// database backup (backup.js) and the continuous replication (replica.js).
// The trace levels have their own page (trace.js). An administrator of one
// of several domains (GET /api/me admin_domain) sets that domain's values
// only: the instance-wide sections (integration, backup, replication) are
// left out, not loaded and refused.
import { h, uid, FieldError, ConfirmDialog } from './dom.js';
import { t, tn } from './i18n.js';
import { PBXSettingsView } from './pbxsettings.js';
import { PBXStatusView } from './pbxstatus.js';
import { DomainSettingsView } from './domainsettings.js';
import { BackupView } from './backup.js';
import { ReplicaView } from './replica.js';

export const maxRetentionDays = 11000;

/** retentionError checks the retention field's text; '' when valid. */
export function retentionError(text) {
  const s = String(text).trim();
  if (!/^\d+$/.test(s)) return t('admin.retention.whole');
  const n = Number(s);
  if (n > maxRetentionDays) return t('admin.retention.max', { n: maxRetentionDays });
  return '';
}

/**
 * confirmDeletion asks before saving a change that deletes recordings:
 * preview() answers {would_delete}; with none, save() runs at once, else
 * after the admin confirmed the question that names the count. It returns
 * whether save ran.
 */
export async function confirmDeletion(dialog, preview, title, question, save) {
  const p = await preview();
  const n = p?.would_delete ?? 0;
  if (n <= 0) {
    await save();
    return true;
  }
  return new Promise((resolve, reject) => {
    dialog.ask(title, question(n), async () => {
      try { await save(); resolve(true); } catch (err) { reject(err); }
    }, () => resolve(false), tn('admin.confirm.deleteN', n));
  });
}

export class SettingsView {
  /** instance: whether the admin administers every domain (see above). */
  constructor(socket, onSettings, instance = true) {
    this.socket = socket;
    this.onSettings = onSettings;
    this.instance = instance;
    const retID = uid('retention');
    const retHelp = uid('retention-help');
    const pbxID = uid('pbx');
    this.retention = h('input', {
      id: retID, name: 'retention_days', type: 'number', min: '0', max: String(maxRetentionDays), step: '1',
      inputmode: 'numeric', required: true, 'aria-describedby': retHelp,
      oninput: () => this.retentionErr.clear(),
    });
    this.retentionErr = new FieldError(this.retention);
    this.retentionSaved = h('span', { class: 'saved', role: 'status' });
    this.retentionForm = h('form', { class: 'setting retention-form', novalidate: true, onsubmit: (ev) => { ev.preventDefault(); this.saveRetention(); } },
      h('div', { class: 'field' },
        h('label', { for: retID }, t('admin.retention.label')),
        h('span', { class: 'inline-edit' }, this.retention,
          h('button', { type: 'submit', class: 'save-retention' }, t('admin.save')), this.retentionSaved),
        h('p', { id: retHelp, class: 'help' }, t('admin.retention.help', { n: maxRetentionDays })),
        this.retentionErr.el));
    this.pbx = h('input', { id: pbxID, name: 'pbx_name', maxlength: '128', autocomplete: 'off', spellcheck: 'false', oninput: () => this.pbxErr.clear() });
    this.pbxErr = new FieldError(this.pbx);
    this.pbxSaved = h('span', { class: 'saved', role: 'status' });
    this.pbxForm = h('form', { class: 'setting pbx-name-form', novalidate: true, onsubmit: (ev) => { ev.preventDefault(); this.savePBXName(); } },
      h('div', { class: 'field' },
        h('label', { for: pbxID }, t('admin.pbxName.label')),
        h('span', { class: 'inline-edit' }, this.pbx,
          h('button', { type: 'submit', class: 'save-pbx-name' }, t('admin.save')), this.pbxSaved),
        this.pbxErr.el));
    this.confirm = new ConfirmDialog('save', t('admin.save'));
    this.scope = h('p', { class: 'help settings-scope', hidden: true });
    this.domains = new DomainSettingsView(socket, this.confirm, (st) => this.fill(st));
    this.pbxStatus = new PBXStatusView(socket);
    this.pbxSettings = new PBXSettingsView();
    this.backup = new BackupView();
    this.replica = new ReplicaView();
    this.el = h('section', { class: 'view settings-view', 'aria-labelledby': 'settings-title' },
      h('h2', { id: 'settings-title' }, t('admin.settings.title')),
      this.scope,
      h('div', { class: 'settings' }, this.retentionForm, this.pbxForm),
      this.domains.el,
      this.pbxStatus.el,
      instance ? [this.pbxSettings.el, this.backup.el, this.replica.el] : null,
      this.confirm.el);
  }

  async start() {
    this.pbxStatus.start(); // GetPbxStatus (of the admin's domain), then the PbxStatus pushes
    if (this.instance) {
      this.pbxSettings.start(); // its own API and status line
      this.backup.start(); // its own status line and poller
      this.replica.start(); // its own form, state line and poller
    }
    try {
      const res = await this.socket.request('GetSettings');
      this.fill(res.settings);
    } catch (err) {
      this.retentionErr.show(t('admin.settings.loadError', { error: err.message }));
    }
  }

  fill(s) {
    this.stored = s;
    this.retention.value = s.retention_days ?? '';
    this.pbx.value = s.pbx_name ?? '';
    // An admin of one of several domains edits that domain's values; the
    // admin of no domain the instance's, and each domain's below.
    this.scope.hidden = !s.domain && !(s.domains?.length > 1);
    this.scope.textContent = s.domain ? t('admin.domains.own', { domain: s.domain }) : t('admin.domains.instance');
    this.domains.fill(s);
    this.onSettings(s);
  }

  async saveRetention() {
    this.retentionSaved.textContent = '';
    const msg = retentionError(this.retention.value);
    if (msg) {
      this.retentionErr.show(msg);
      this.retention.focus();
      return;
    }
    const days = Number(this.retention.value.trim());
    try {
      const saved = await confirmDeletion(this.confirm,
        () => this.socket.request('PreviewSettings', { changes: { retention_days: days } }),
        t('admin.retention.confirmTitle'),
        (n) => tn('admin.retention.confirm', n, { days }),
        async () => {
          const res = await this.socket.request('SetSettings', { retention_days: days });
          this.fill(res.settings);
        });
      if (saved) this.retentionSaved.textContent = t('admin.saved');
      else this.retention.value = this.stored?.retention_days ?? '';
      this.retention.focus();
    } catch (err) {
      this.retentionErr.show(t('admin.notSaved', { error: err.message }));
      this.retention.focus();
    }
  }

  async savePBXName() {
    this.pbxSaved.textContent = '';
    try {
      const res = await this.socket.request('SetSettings', { pbx_name: this.pbx.value.trim() });
      this.fill(res.settings);
      this.pbxSaved.textContent = t('admin.saved');
    } catch (err) {
      this.pbxErr.show(t('admin.notSaved', { error: err.message }));
      this.pbx.focus();
    }
  }
}
