// The technical log for admins (everyone's entries, with filters), in the
// plain categories of the trace levels. Users see their activity in
// sentences instead (activity.js); the audit trail is audit.js.
import { h, clear, uid, StatusLine } from './dom.js';
import { dateTimeText } from './format.js';
import { t } from './i18n.js';
import { categoryLabel, levelLabel } from './trace.js';

export const categories = ['Recording', 'Call Information', 'Converting', 'License', 'UI'];
const levels = ['debug', 'info', 'warn', 'error'];
const pageSize = 100;

export class LogView {
  constructor(socket, admin) {
    this.socket = socket;
    this.admin = admin;
    this.before = 0;
    this.status = new StatusLine();
    const catID = uid('cat');
    const lvID = uid('level');
    const userID = uid('user');
    this.category = h('select', { id: catID, name: 'category' },
      h('option', { value: '' }, t('admin.log.all')), categories.map((c) => h('option', { value: c }, categoryLabel(c))));
    this.level = h('select', { id: lvID, name: 'level' },
      h('option', { value: '' }, t('admin.log.all')), levels.map((l) => h('option', { value: l }, t('admin.log.andAbove', { level: levelLabel(l) }))));
    this.user = admin ? h('input', { id: userID, name: 'user', autocomplete: 'off', spellcheck: 'false' }) : null;
    const form = h('form', { class: 'filters', 'aria-label': t('admin.log.filter'), onsubmit: (ev) => { ev.preventDefault(); this.reload(); } },
      h('div', { class: 'field' }, h('label', { for: catID }, t('admin.log.category')), this.category),
      h('div', { class: 'field' }, h('label', { for: lvID }, t('admin.log.level')), this.level),
      admin ? h('div', { class: 'field' }, h('label', { for: userID }, t('admin.log.user')), this.user) : null,
      h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, t('admin.audit.show'))));
    this.tbody = h('tbody');
    this.heads = ['time', 'level', 'category'];
    if (admin) this.heads.push('user');
    this.heads.push('message');
    this.table = h('table', { class: 'log' },
      h('thead', null, h('tr', null, this.heads.map((k) => h('th', { scope: 'col' }, t(`admin.log.col.${k}`))))), this.tbody);
    this.empty = h('p', { class: 'empty', hidden: true }, t('admin.log.empty'));
    this.more = h('button', { type: 'button', class: 'more', hidden: true, onclick: () => this.load(true) }, t('admin.log.more'));
    this.el = h('section', { class: 'view', 'aria-labelledby': 'log-title' },
      h('h2', { id: 'log-title' }, t('admin.log.title')),
      form, this.status.el, h('div', { class: 'table-wrap' }, this.table), this.empty, this.more);
  }

  start() { return this.reload(); }

  reload() {
    this.before = 0;
    return this.load(false);
  }

  async load(older) {
    const p = { limit: pageSize };
    if (this.category.value) p.category = this.category.value;
    if (this.level.value) p.level = this.level.value;
    if (this.user?.value.trim()) p.user = this.user.value.trim();
    if (older && this.before) p.before = this.before;
    try {
      const res = await this.socket.request('GetLogs', p);
      if (!older) clear(this.tbody);
      for (const e of res.logs ?? []) this.tbody.appendChild(this.row(e));
      this.before = res.before ?? 0;
      this.more.hidden = !this.before;
      this.empty.hidden = this.tbody.children.length > 0;
    } catch (err) {
      this.status.error(t('admin.log.loadError', { error: err.message }));
    }
  }

  row(e) {
    let msg = e.message ?? '';
    if (e.attrs && typeof e.attrs === 'object') {
      const extra = Object.entries(e.attrs).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
      if (extra.length) msg += ` — ${extra.join(' ')}`;
    }
    const cells = [
      h('td', { 'data-label': t('admin.log.col.time') }, h('time', { datetime: e.time }, dateTimeText(e.time))),
      h('td', { 'data-label': t('admin.log.col.level') }, h('span', { class: `level level-${e.level}`, 'data-level': e.level ?? '' }, levelLabel(e.level ?? ''))),
      h('td', { 'data-label': t('admin.log.col.category') }, categoryLabel(e.category ?? '')),
    ];
    if (this.admin) cells.push(h('td', { 'data-label': t('admin.log.col.user') }, e.user ?? ''));
    cells.push(h('td', { 'data-label': t('admin.log.col.message'), class: 'msg' }, msg));
    return h('tr', null, cells);
  }
}
