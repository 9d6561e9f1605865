// The admin's trace levels, one per log category, opened from the menu in
// the upper right corner. Each level saves on its own when chosen
// (SetSettings with only that category); a refusal shows beside it and
// the choice goes back to the stored level.
import { h, clear, uid, FieldError } from './dom.js';
import { t } from './i18n.js';

/** categoryLabel is a log category in plain words of the page's language. */
export function categoryLabel(cat) {
  const k = `admin.category.${cat}`;
  const s = t(k);
  return s === k ? cat : s;
}

/** levelLabel is a trace level in plain words. */
export function levelLabel(level) {
  const k = `admin.level.${level}`;
  const s = t(k);
  return s === k ? level : s;
}

export class TraceView {
  constructor(socket) {
    this.socket = socket;
    this.list = h('div', { class: 'trace-list' });
    this.el = h('section', { class: 'view trace-view', 'aria-labelledby': 'trace-title' },
      h('h2', { id: 'trace-title' }, t('admin.trace.title')),
      h('p', { class: 'help' }, t('admin.trace.help')),
      this.list);
    this.selects = new Map();
  }

  async start() {
    try {
      const res = await this.socket.request('GetSettings');
      this.fill(res.settings);
    } catch (err) {
      clear(this.list).append(h('p', { class: 'status error', role: 'alert' }, t('admin.trace.loadError', { error: err.message })));
    }
  }

  fill(s) {
    if (this.selects.size === 0) {
      clear(this.list);
      for (const cat of s.categories ?? []) {
        const id = uid('trace');
        const sel = h('select', { id, name: `trace-${cat}`, onchange: () => this.save(cat) },
          (s.levels ?? []).map((l) => h('option', { value: l }, levelLabel(l))));
        const err = new FieldError(sel);
        const saved = h('span', { class: 'saved', role: 'status' });
        this.selects.set(cat, { sel, err, saved, stored: '' });
        this.list.append(h('div', { class: 'field trace-field', 'data-category': cat },
          h('label', { for: id }, categoryLabel(cat)), h('span', { class: 'inline-edit' }, sel, saved), err.el));
      }
    }
    for (const [cat, f] of this.selects) {
      f.stored = s.trace?.[cat] ?? 'info';
      f.sel.value = f.stored;
    }
  }

  async save(cat) {
    const f = this.selects.get(cat);
    f.err.clear();
    f.saved.textContent = '';
    try {
      const res = await this.socket.request('SetSettings', { trace: { [cat]: f.sel.value } });
      f.stored = res.settings?.trace?.[cat] ?? f.sel.value;
      f.saved.textContent = t('admin.saved');
    } catch (err) {
      f.sel.value = f.stored;
      f.err.show(t('admin.notSaved', { error: err.message }));
    }
  }
}
