// The admin's settings form: retention, PBX name, trace levels; the PBX
// integration (pbxsettings.js); and the database backup with its progress
// (backup.js).
import { h, uid, StatusLine } from './dom.js';
import { PBXSettingsView } from './pbxsettings.js';
import { PBXStatusView } from './pbxstatus.js';
import { BackupView } from './backup.js';

export const maxRetentionDays = 11000;

/** retentionError checks the retention field's text; '' when valid. */
export function retentionError(text) {
  const t = String(text).trim();
  if (!/^\d+$/.test(t)) return 'Enter a whole number of days.';
  const n = Number(t);
  if (n > maxRetentionDays) return `At most ${maxRetentionDays} days.`;
  return '';
}

export class SettingsView {
  constructor(socket, onSettings) {
    this.socket = socket;
    this.onSettings = onSettings;
    this.status = new StatusLine();
    const retID = uid('retention');
    const retHelp = uid('retention-help');
    const retErr = uid('retention-err');
    const pbxID = uid('pbx');
    this.retention = h('input', {
      id: retID, name: 'retention_days', type: 'number', min: '0', max: String(maxRetentionDays), step: '1',
      inputmode: 'numeric', required: true, 'aria-describedby': `${retHelp} ${retErr}`,
      oninput: () => this.checkRetention(false),
    });
    this.retentionErr = h('p', { id: retErr, class: 'field-error', 'aria-live': 'polite' });
    this.pbx = h('input', { id: pbxID, name: 'pbx_name', maxlength: '128', autocomplete: 'off', spellcheck: 'false' });
    this.traceFields = h('fieldset', { class: 'trace' }, h('legend', null, 'Trace levels'));
    this.trace = new Map();
    this.form = h('form', { class: 'settings', novalidate: true, onsubmit: (ev) => { ev.preventDefault(); this.save(); } },
      h('div', { class: 'field' },
        h('label', { for: retID }, 'Keep recordings for (days)'),
        this.retention,
        h('p', { id: retHelp, class: 'help' }, `0 to ${maxRetentionDays}; 0 keeps recordings until deleted by hand.`),
        this.retentionErr),
      h('div', { class: 'field' }, h('label', { for: pbxID }, 'PBX name'), this.pbx),
      this.traceFields,
      h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Save settings')));
    this.pbxStatus = new PBXStatusView(socket);
    this.pbxSettings = new PBXSettingsView();
    this.backup = new BackupView();
    this.el = h('section', { class: 'view', 'aria-labelledby': 'settings-title' },
      h('h2', { id: 'settings-title' }, 'Settings'), this.status.el, this.form,
      this.pbxStatus.el,
      this.pbxSettings.el,
      this.backup.el);
  }

  async start() {
    this.pbxStatus.start(); // GetPbxStatus, then the PbxStatus pushes
    this.pbxSettings.start(); // its own API and status line
    this.backup.start(); // its own status line and poller
    try {
      const res = await this.socket.request('GetSettings');
      this.fill(res.settings);
    } catch (err) {
      this.status.error(`Cannot load the settings: ${err.message}`);
    }
  }

  fill(s) {
    this.retention.value = s.retention_days ?? '';
    this.pbx.value = s.pbx_name ?? '';
    if (this.trace.size === 0) {
      for (const cat of s.categories ?? []) {
        const id = uid('trace');
        const sel = h('select', { id, name: `trace-${cat}` }, (s.levels ?? []).map((l) => h('option', { value: l }, l)));
        this.trace.set(cat, sel);
        this.traceFields.append(h('div', { class: 'field' }, h('label', { for: id }, cat), sel));
      }
    }
    for (const [cat, sel] of this.trace) sel.value = s.trace?.[cat] ?? 'info';
    this.onSettings(s);
  }

  checkRetention(focus) {
    const msg = retentionError(this.retention.value);
    this.retentionErr.textContent = msg;
    this.retention.setAttribute('aria-invalid', msg ? 'true' : 'false');
    if (msg && focus) this.retention.focus();
    return msg === '';
  }

  async save() {
    if (!this.checkRetention(true)) {
      this.status.error('Please correct the marked field.');
      return;
    }
    const trace = {};
    for (const [cat, sel] of this.trace) trace[cat] = sel.value;
    try {
      const res = await this.socket.request('SetSettings', {
        retention_days: Number(this.retention.value.trim()), pbx_name: this.pbx.value.trim(), trace,
      });
      this.fill(res.settings);
      this.status.info('Settings saved.');
    } catch (err) {
      this.status.error(`Not saved: ${err.message}`);
    }
  }
}
