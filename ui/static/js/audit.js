// The admin's audit trail: who listened to, downloaded, protected,
// unprotected or deleted which recording, and what retention deleted,
// newest first (GetAudit), filtered by user, action, recording and date.
// The technical log stays in logs.js.
import { h, clear, uid, StatusLine, FieldError } from './dom.js';
import { dateTimeText, localDayStart } from './format.js';
import { t } from './i18n.js';

const pageSize = 100;
export const auditActions = ['listened', 'downloaded', 'protected', 'unprotected', 'deleted', 'deleted_by_retention', 'deleted_unlicensed'];

/** actionText is an audit action in plain words. */
export function actionText(a) {
  return auditActions.includes(a) ? t(`admin.audit.action.${a}`) : String(a ?? '');
}

/**
 * auditFilter reads the filter fields into GetAudit's parameters; error
 * names the field that is wrong ({field, msg}) or is null.
 */
export function auditFilter({ user, action, recording, from, to }) {
  const p = {};
  if (user.trim()) p.user = user.trim();
  if (action) p.action = action;
  const rec = recording.trim().replace(/^#/, '');
  if (rec) {
    if (!/^\d{1,15}$/.test(rec) || Number(rec) < 1) return { error: { field: 'recording', msg: t('admin.audit.badRecording') } };
    p.recording_id = Number(rec);
  }
  if (from) p.from = localDayStart(from);
  if (to) p.to = localDayStart(to, 1);
  if (from && to && to < from) return { error: { field: 'to', msg: t('admin.audit.badRange') } };
  return { params: p };
}

export class AuditView {
  constructor(socket) {
    this.socket = socket;
    this.next = '';
    this.status = new StatusLine();
    const field = (label, input, extra) => {
      const id = uid('audit');
      input.id = id;
      return h('div', { class: 'field' }, h('label', { for: id }, label), input, extra);
    };
    this.user = h('input', { name: 'user', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off', maxlength: '64' });
    this.action = h('select', { name: 'action' },
      h('option', { value: '' }, t('admin.audit.allActions')),
      auditActions.map((a) => h('option', { value: a }, actionText(a))));
    this.recording = h('input', { name: 'recording', inputmode: 'numeric', autocomplete: 'off', maxlength: '16' });
    this.from = h('input', { name: 'from', type: 'date' });
    this.to = h('input', { name: 'to', type: 'date' });
    this.errs = { recording: new FieldError(this.recording), to: new FieldError(this.to) };
    this.form = h('form', {
      class: 'filters audit-filters', 'aria-label': t('admin.audit.filter'), novalidate: true,
      onsubmit: (ev) => { ev.preventDefault(); this.load(false); },
    },
    field(t('admin.audit.user'), this.user),
    field(t('admin.audit.action'), this.action),
    field(t('admin.audit.recording'), this.recording, this.errs.recording.el),
    field(t('admin.audit.from'), this.from),
    field(t('admin.audit.to'), this.to, this.errs.to.el),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, t('admin.audit.show'))));
    this.tbody = h('tbody');
    this.table = h('table', { class: 'audit' },
      h('caption', { class: 'visually-hidden' }, t('admin.audit.title')),
      h('thead', null, h('tr', null,
        [t('admin.audit.col.when'), t('admin.audit.col.who'), t('admin.audit.col.action'), t('admin.audit.col.recording'), t('admin.audit.col.party')]
          .map((c) => h('th', { scope: 'col' }, c)))),
      this.tbody);
    this.empty = h('p', { class: 'empty', hidden: true }, t('admin.audit.empty'));
    this.more = h('button', { type: 'button', class: 'more', hidden: true, onclick: () => this.load(true) }, t('admin.audit.more'));
    this.el = h('section', { class: 'view', 'aria-labelledby': 'audit-title' },
      h('h2', { id: 'audit-title' }, t('admin.audit.title')),
      this.form, this.status.el, h('div', { class: 'table-wrap' }, this.table), this.empty, this.more);
  }

  start() { return this.load(false); }

  async load(older) {
    for (const e of Object.values(this.errs)) e.clear();
    const f = auditFilter({
      user: this.user.value, action: this.action.value, recording: this.recording.value, from: this.from.value, to: this.to.value,
    });
    if (f.error) {
      this.errs[f.error.field].show(f.error.msg);
      (f.error.field === 'to' ? this.to : this.recording).focus();
      return;
    }
    const p = { ...f.params, limit: pageSize };
    if (older && this.next) p.cursor = this.next;
    this.tbody.parentElement.setAttribute('aria-busy', 'true');
    try {
      const res = await this.socket.request('GetAudit', p);
      if (!older) clear(this.tbody);
      for (const e of res.entries ?? []) this.tbody.append(this.row(e));
      this.next = res.next ?? '';
      this.more.hidden = !this.next;
      this.empty.hidden = this.tbody.children.length > 0;
      this.status.clear();
    } catch (err) {
      this.status.error(t('admin.audit.loadError', { error: err.message }));
    } finally {
      this.tbody.parentElement.removeAttribute('aria-busy');
    }
  }

  row(e) {
    const by = { deleted_by_retention: 'admin.audit.byRetention', deleted_unlicensed: 'admin.audit.byLicence' }[e.action];
    const who = by ? t(by) : (e.by_name && e.by_name !== e.by ? `${e.by_name} (${e.by})` : e.by ?? '');
    const party = [String(e.peer_name ?? '').trim(), e.peer_number ?? ''].filter(Boolean).join(' · ');
    return h('tr', { 'data-action': e.action },
      h('td', { 'data-label': t('admin.audit.col.when') }, h('time', { datetime: e.at }, dateTimeText(e.at))),
      h('td', { 'data-label': t('admin.audit.col.who') }, who),
      h('td', { 'data-label': t('admin.audit.col.action') }, actionText(e.action)),
      h('td', { 'data-label': t('admin.audit.col.recording'), class: 'num' }, `#${e.recording_id}`),
      h('td', { 'data-label': t('admin.audit.col.party') }, party || t('common.party.unknown')));
  }
}
