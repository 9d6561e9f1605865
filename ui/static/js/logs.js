// The log view: the user's own entries, or (admin) everyone's with filters.
import { h, clear, uid, StatusLine } from './dom.js';
import { dateTimeText } from './format.js';

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
      h('option', { value: '' }, 'All'), categories.map((c) => h('option', { value: c }, c)));
    this.level = h('select', { id: lvID, name: 'level' },
      h('option', { value: '' }, 'All'), levels.map((l) => h('option', { value: l }, `${l} and above`)));
    this.user = admin ? h('input', { id: userID, name: 'user', autocomplete: 'off', spellcheck: 'false' }) : null;
    const form = h('form', { class: 'filters', 'aria-label': 'Filter the log', onsubmit: (ev) => { ev.preventDefault(); this.reload(); } },
      h('div', { class: 'field' }, h('label', { for: catID }, 'Category'), this.category),
      h('div', { class: 'field' }, h('label', { for: lvID }, 'Level'), this.level),
      admin ? h('div', { class: 'field' }, h('label', { for: userID }, 'User'), this.user) : null,
      h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Show')));
    this.tbody = h('tbody');
    const heads = ['Time', 'Level', 'Category'];
    if (admin) heads.push('User');
    heads.push('Message');
    this.table = h('table', { class: 'log' },
      h('thead', null, h('tr', null, heads.map((t) => h('th', { scope: 'col' }, t)))), this.tbody);
    this.empty = h('p', { class: 'empty', hidden: true }, 'No log entries.');
    this.more = h('button', { type: 'button', class: 'more', hidden: true, onclick: () => this.load(true) }, 'Load older');
    this.el = h('section', { class: 'view', 'aria-labelledby': 'log-title' },
      h('h2', { id: 'log-title' }, admin ? 'Log' : 'My log'),
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
      this.status.error(`Cannot load the log: ${err.message}`);
    }
  }

  row(e) {
    let msg = e.message ?? '';
    if (e.attrs && typeof e.attrs === 'object') {
      const extra = Object.entries(e.attrs).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
      if (extra.length) msg += ` — ${extra.join(' ')}`;
    }
    const cells = [
      h('td', { 'data-label': 'Time' }, h('time', { datetime: e.time }, dateTimeText(e.time))),
      h('td', { 'data-label': 'Level' }, h('span', { class: `level level-${e.level}` }, e.level ?? '')),
      h('td', { 'data-label': 'Category' }, e.category ?? ''),
    ];
    if (this.admin) cells.push(h('td', { 'data-label': 'User' }, e.user ?? ''));
    cells.push(h('td', { 'data-label': 'Message', class: 'msg' }, msg));
    return h('tr', null, cells);
  }
}
