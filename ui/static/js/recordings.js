// The call list: one compact row per call, search as you type, date
// presets, newest or oldest first, endless scrolling, a row menu for the
// actions, selection for bulk actions, and live updates pushed by the
// server. Every text goes through i18n.js.
import { h, clear, uid, StatusLine, ConfirmDialog, FieldError } from './dom.js';
import {
  dateTimeText, shortWhen, durationText, durationWords, directionText, direction, stateWords,
  hasAudio, partyText, peerName, localDayStart, presetRange, numberText, timeZone, callTime,
} from './format.js';
import { t, tn } from './i18n.js';
import { icon } from './icons.js';
import { PopupMenu } from './menu.js';
import { DetailsDialog } from './details.js';
import { unsupported } from './api.js';

const pageSize = 50;
const typingDelayMS = 250;

/**
 * whenElement is a row's time. Today's calls say "Today 14:05"; the word
 * "Today" is its own span, which phones leave out for room.
 */
function whenElement(iso) {
  const text = shortWhen(iso);
  const time = h('time', { datetime: iso, title: dateTimeText(iso) });
  const today = t('common.todayAt', { time: '\u0000' }).split('\u0000');
  if (today.length === 2 && text.startsWith(today[0]) && text.endsWith(today[1]) && today[0] + today[1] !== '') {
    time.append(h('span', { class: 'when-day' }, today[0]), text.slice(today[0].length, text.length - today[1].length), today[1]);
  } else {
    time.textContent = text;
  }
  return time;
}

export class RecordingsView {
  constructor(socket, player, admin) {
    this.socket = socket;
    this.player = player;
    this.admin = admin;
    this.rows = new Map(); // id → {rec, tr}
    this.next = '';
    this.total = null; // {n, exact} from the server, when it says
    this.filter = { q: '', from: '', to: '', order: 'newest' };
    this.loading = 0; // generation of the newest list request
    this.selected = new Set();
    this.allMatching = false; // the selection is the whole filter
    this.lastClicked = null; // id of the last checkbox clicked (shift-click range)
    this.typingTimer = 0;
    this.status = new StatusLine();
    this.notice = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });

    const qID = uid('q');
    const presetID = uid('preset');
    const fromID = uid('from');
    const toID = uid('to');
    const orderID = uid('order');
    this.q = h('input', {
      id: qID, name: 'q', type: 'search', autocomplete: 'off', spellcheck: 'false',
      placeholder: t('user.search.placeholder'),
      oninput: () => this.typed(),
    });
    this.preset = h('select', { id: presetID, name: 'preset', onchange: () => this.presetChanged() },
      ['all', 'today', 'yesterday', 'week', 'range'].map((p) => h('option', { value: p }, t(`user.search.preset.${p}`))));
    this.from = h('input', { id: fromID, name: 'from', type: 'date', onchange: () => this.applyFilter() });
    this.to = h('input', { id: toID, name: 'to', type: 'date', onchange: () => this.applyFilter() });
    this.order = h('select', { id: orderID, name: 'order', onchange: () => this.applyFilter() },
      h('option', { value: 'newest' }, t('user.search.newest')),
      h('option', { value: 'oldest' }, t('user.search.oldest')));
    this.qError = new FieldError(this.q);
    this.rangeError = new FieldError(this.from);
    this.range = h('div', { class: 'range', hidden: true },
      h('div', { class: 'field' }, h('label', { for: fromID }, t('user.search.from')), this.from),
      h('div', { class: 'field' }, h('label', { for: toID }, t('user.search.to')), this.to),
      this.rangeError.el);
    this.clearButton = h('button', { type: 'button', class: 'clear-filter', onclick: () => this.clearFilter() }, t('user.search.clear'));
    this.form = h('form', {
      class: 'filters', role: 'search', 'aria-label': t('user.search.label'),
      onsubmit: (ev) => { ev.preventDefault(); this.applyFilter(); },
    },
    h('div', { class: 'field field-q' }, h('label', { for: qID }, t('user.search.label')), this.q, this.qError.el),
    h('div', { class: 'field' }, h('label', { for: presetID }, t('user.search.date')), this.preset),
    this.range,
    h('div', { class: 'field field-order' }, h('label', { for: orderID }, t('user.search.order')), this.order),
    h('div', { class: 'buttons' }, this.clearButton));

    this.count = h('p', { class: 'count', role: 'status', 'aria-live': 'polite' });

    // Bulk actions on the selection.
    this.selCount = h('span', { class: 'sel-count' });
    this.selAll = h('button', { type: 'button', class: 'link select-matching', hidden: true, onclick: () => this.selectMatching() });
    this.zip = h('a', { class: 'button bulk-zip', href: '#', download: '' }, t('user.bulk.download'));
    this.bulkProtect = h('button', { type: 'button', class: 'bulk-protect', onclick: () => this.bulkSetProtected(true) }, t('user.bulk.protect'));
    this.bulkUnprotect = h('button', { type: 'button', class: 'bulk-unprotect', onclick: () => this.bulkSetProtected(false) }, t('user.bulk.unprotect'));
    this.bulkDelete = h('button', { type: 'button', class: 'danger bulk-delete', onclick: () => this.confirmBulkDelete() }, t('user.bulk.delete'));
    this.bulkClear = h('button', { type: 'button', class: 'link bulk-clear', onclick: () => { this.clearSelection(); this.checkAll.focus(); } }, t('user.bulk.clear'));
    this.bulkError = new FieldError(null);
    this.bulk = h('div', { class: 'bulk', role: 'region', 'aria-label': t('user.bulk.label'), hidden: true },
      h('div', { class: 'bulk-line' }, this.selCount, this.selAll, this.bulkClear),
      h('div', { class: 'buttons' }, this.zip, this.bulkProtect, this.bulkUnprotect, this.bulkDelete),
      this.bulkError.el);

    this.checkAll = h('input', {
      type: 'checkbox', class: 'check-all', 'aria-label': t('user.list.selectShown'),
      onclick: () => this.toggleAllShown(this.checkAll.checked),
    });
    const heads = [
      h('th', { scope: 'col', class: 'c-sel' }, this.checkAll),
      h('th', { scope: 'col', class: 'c-dir' }, h('span', { class: 'visually-hidden' }, t('user.list.direction'))),
      h('th', { scope: 'col', class: 'c-party' }, t('user.list.party')),
      admin ? h('th', { scope: 'col', class: 'c-owner' }, t('user.list.owner')) : null,
      h('th', { scope: 'col', class: 'c-when' }, t('user.list.when')),
      h('th', { scope: 'col', class: 'c-dur' }, t('user.list.duration')),
      h('th', { scope: 'col', class: 'c-prot' }, h('span', { class: 'visually-hidden' }, t('user.list.protected'))),
      h('th', { scope: 'col', class: 'c-menu' }, h('span', { class: 'visually-hidden' }, t('user.list.actions'))),
    ];
    this.tbody = h('tbody');
    this.caption = h('caption', { class: 'visually-hidden' }, t('user.list.caption.newest'));
    this.empty = h('p', { class: 'empty', hidden: true }, t('user.list.empty'));
    this.more = h('button', { type: 'button', class: 'more', hidden: true, onclick: () => this.loadMore() }, t('user.list.more'));
    this.sentinel = h('div', { class: 'sentinel', 'aria-hidden': 'true' });
    this.table = h('table', { class: 'recordings', 'aria-busy': 'true' },
      this.caption, h('thead', null, h('tr', null, heads)), this.tbody);

    this.dialog = new ConfirmDialog('delete', t('user.action.delete'));
    this.menu = new PopupMenu(t('user.list.actions'));
    this.details = new DetailsDialog(admin);

    this.el = h('section', { class: 'view recordings-view', 'aria-labelledby': 'rec-title' },
      h('h2', { id: 'rec-title' }, admin ? t('user.title.all') : t('user.title.mine')),
      this.form, h('div', { class: 'list-head' }, this.count, this.status.el), this.bulk,
      h('div', { class: 'table-wrap' }, this.table), this.empty, this.more, this.sentinel,
      this.notice, this.dialog.el, this.details.el, this.menu.el);

    if ('IntersectionObserver' in window) {
      new IntersectionObserver((entries) => {
        if (entries.some((e) => e.isIntersecting) && this.next && !this.moreLoading) this.loadMore();
      }, { rootMargin: '400px' }).observe(this.sentinel);
    }

    player.onClose = (id) => this.focusRow(id);
    socket.on('RecordingAdded', (m) => this.upsert(m.recording, true));
    socket.on('RecordingUpdated', (m) => this.pushed(m.recording));
    socket.on('RecordingDeleted', (m) => this.removeRow(m.id));
  }

  /** start subscribes to pushes and loads the first page. */
  async start() {
    try {
      await this.socket.request('Subscribe');
    } catch (err) {
      this.status.error(t('user.error.live', { error: err.message }));
    }
    await this.reload();
  }

  // ---- filter ----

  typed() {
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.applyFilter(), typingDelayMS);
  }

  presetChanged() {
    this.range.hidden = this.preset.value !== 'range';
    this.applyFilter();
  }

  /** dates gives the local [from, to) dates (YYYY-MM-DD) the date choice means. */
  dates() {
    const p = this.preset.value;
    if (p === 'range') return [this.from.value, this.to.value];
    return presetRange(p);
  }

  applyFilter() {
    clearTimeout(this.typingTimer);
    this.rangeError.clear();
    this.qError.clear();
    const q = this.q.value.trim();
    if (new TextEncoder().encode(q).length > 256) {
      this.qError.show(t('user.error.qLong'));
      return;
    }
    const [from, to] = this.dates();
    if (this.preset.value === 'range' && from && to && from > to) {
      this.rangeError.show(t('user.error.range'));
      return;
    }
    // A range's "to" day is included: the list asks up to the next midnight.
    const toExcl = this.preset.value === 'range' ? (to ? localDayStart(to, 1) : '') : localDayStart(to);
    const next = { q, from: from ? localDayStart(from) : '', to: toExcl, order: this.order.value };
    if (JSON.stringify(next) === JSON.stringify(this.filter) && this.rows.size + (this.next ? 1 : 0) > 0) return;
    this.filter = next;
    this.clearSelection();
    this.reload();
  }

  clearFilter() {
    this.q.value = '';
    this.preset.value = 'all';
    this.from.value = '';
    this.to.value = '';
    this.order.value = 'newest';
    this.range.hidden = true;
    this.applyFilter();
    this.q.focus();
  }

  params(cursor, limit = pageSize) {
    const p = { limit };
    if (this.filter.q) p.q = this.filter.q;
    if (this.filter.from) p.from = this.filter.from;
    if (this.filter.to) p.to = this.filter.to;
    if (this.filter.order === 'oldest') p.order = 'oldest';
    if (cursor) p.cursor = cursor;
    return p;
  }

  async reload() {
    this.loading += 1;
    const gen = this.loading;
    this.table.setAttribute('aria-busy', 'true');
    try {
      const res = await this.socket.request('ListRecordings', this.params(''), t('user.action.search'));
      if (gen !== this.loading) return;
      clear(this.tbody);
      this.rows.clear();
      this.caption.textContent = t(this.filter.order === 'oldest' ? 'user.list.caption.oldest' : 'user.list.caption.newest');
      this.total = typeof res.total === 'number' ? { n: res.total, exact: res.total_exact !== false } : null;
      this.addPage(res);
    } catch (err) {
      if (gen === this.loading) this.qError.show(t('user.error.load', { error: err.message }));
    } finally {
      if (gen === this.loading) this.table.removeAttribute('aria-busy');
    }
  }

  async loadMore() {
    if (!this.next || this.moreLoading) return;
    const gen = this.loading;
    this.moreLoading = true;
    this.more.disabled = true;
    try {
      const res = await this.socket.request('ListRecordings', this.params(this.next), t('user.action.more'));
      if (gen === this.loading) this.addPage(res);
    } catch (err) {
      this.status.error(t('user.error.more', { error: err.message }));
    } finally {
      this.moreLoading = false;
      this.more.disabled = false;
    }
  }

  addPage(res) {
    for (const rec of res.recordings ?? []) {
      if (this.rows.has(rec.id)) continue;
      const tr = this.row(rec);
      this.rows.set(rec.id, { rec, tr });
      this.tbody.appendChild(tr);
    }
    this.next = res.next ?? '';
    this.more.hidden = !this.next;
    this.empty.hidden = this.rows.size > 0;
    this.empty.textContent = this.filter.q || this.filter.from || this.filter.to ? t('user.list.noMatch') : t('user.list.empty');
    this.showCount();
    this.showSelection();
  }

  /** showCount says how many calls the filter finds. */
  showCount() {
    let text;
    if (this.total) {
      text = tn(this.total.exact ? 'user.count.exact' : 'user.count.about', this.total.n);
    } else if (!this.next) {
      text = tn('user.count.exact', this.rows.size);
    } else {
      text = tn('user.count.atLeast', this.rows.size);
    }
    this.count.textContent = text;
  }

  /** matches reports whether rec passes the current filter (for pushes). */
  matches(rec) {
    const f = this.filter;
    if (f.q) {
      const fold = (s) => String(s ?? '').normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
      const q = fold(f.q);
      const hay = [rec.owner, rec.peer_name, rec.peer_number, rec.name].map(fold);
      const digits = f.q.replace(/\D/g, '');
      const numHit = digits.length >= 3 && String(rec.peer_number ?? '').replace(/\D/g, '').includes(digits.replace(/^0+/, ''));
      if (!hay.some((s) => s.includes(q)) && !numHit) return false;
    }
    const time = new Date(callTime(rec)).getTime();
    if (f.from && time < new Date(f.from).getTime()) return false;
    if (f.to && time >= new Date(f.to).getTime()) return false;
    return true;
  }

  /**
   * pushed shows a pushed change. A push can be older than the answer to
   * this page's own request that came just before it (both travel on one
   * connection, but the push may have been read before the request was
   * done): when it contradicts such a recent answer, the server is asked.
   */
  async pushed(rec) {
    const wrote = this.wrote?.get(rec.id) ?? 0;
    const have = this.rows.get(rec.id)?.rec;
    if (have && Date.now() - wrote < 10000 && have.protected !== rec.protected) {
      try {
        const res = await this.socket.request('GetRecording', { id: rec.id });
        const { stats, envelope, ...fresh } = res.recording;
        this.upsert(fresh, false);
      } catch {
        // gone meanwhile: its delete push follows
      }
      return;
    }
    this.upsert(rec, false);
  }

  /** upsert shows a pushed recording: replaced in place, or inserted in order. */
  upsert(rec, added) {
    const have = this.rows.get(rec.id);
    if (have) {
      // The same state twice (a request's result and its push): keep the row.
      if (JSON.stringify(have.rec) === JSON.stringify(rec)) return;
      const tr = this.row(rec);
      const focused = have.tr.contains(document.activeElement) ? document.activeElement.className : '';
      const menuOpen = !this.menu.el.hidden && this.menu.button && have.tr.contains(this.menu.button);
      have.tr.replaceWith(tr);
      if (have.tr.classList.contains('new')) tr.classList.add('new');
      this.rows.set(rec.id, { rec, tr });
      if (focused) tr.querySelector(`.${focused.split(' ')[0]}`)?.focus();
      // A menu open on the row stays open, anchored to the new row.
      if (menuOpen) this.menu.rebind(tr.querySelector('.menu-btn'));
      return;
    }
    if (!this.matches(rec)) return;
    const oldest = this.filter.order === 'oldest';
    const time = new Date(callTime(rec)).getTime();
    const after = (r) => {
      const rt = new Date(callTime(r)).getTime();
      const newer = time > rt || (time === rt && rec.id > r.id);
      return oldest ? !newer : newer;
    };
    let before = null;
    for (const { rec: r, tr } of this.rows.values()) {
      if (after(r)) {
        before = tr;
        break;
      }
    }
    // Past the last loaded row only when there is nothing more to load.
    if (!before && this.next) return;
    const tr = this.row(rec);
    if (added) tr.classList.add('new');
    this.tbody.insertBefore(tr, before);
    this.rows.set(rec.id, { rec, tr });
    this.reorderMap();
    this.empty.hidden = true;
    if (added) {
      if (this.total) this.total.n += 1;
      this.showCount();
      this.notice.textContent = t('user.notice.new', { party: partyText(rec) });
    }
  }

  reorderMap() {
    const order = new Map();
    for (const tr of this.tbody.children) {
      const id = Number(tr.dataset.id);
      const entry = this.rows.get(id);
      if (entry) order.set(id, entry);
    }
    this.rows = order;
  }

  removeRow(id) {
    const have = this.rows.get(id);
    if (have) {
      have.tr.remove();
      this.rows.delete(id);
      if (this.total && this.total.n > 0) this.total.n -= 1;
      this.showCount();
    }
    if (this.selected.delete(id)) this.showSelection();
    if (this.player.showing(id)) this.player.close(false);
    this.empty.hidden = this.rows.size > 0;
  }

  // ---- rows ----

  /** row renders one recording; every field is set as text. */
  row(rec) {
    const audio = hasAudio(rec);
    const name = peerName(rec);
    const number = rec.peer_number ?? '';
    const words = stateWords(rec);
    const dir = direction(rec.direction);
    const label = t('user.row.label', { party: partyText(rec), when: dateTimeText(callTime(rec)) });

    const check = h('input', {
      type: 'checkbox', class: 'row-check', checked: this.allMatching || this.selected.has(rec.id),
      'aria-label': t('user.row.select', { label }),
      onclick: (ev) => this.checkClicked(rec.id, ev),
    });
    const play = h('button', {
      type: 'button', class: 'play-btn', 'aria-label': audio ? t('user.row.play', { label }) : label,
      'aria-disabled': audio ? null : 'true',
      onclick: (ev) => { ev.stopPropagation(); if (audio) this.play(rec.id); },
      onkeydown: (ev) => this.rowKey(ev, rec.id),
    },
    h('span', { class: name || number ? 'peer-name' : 'peer-name peer-none' }, name || number || t('common.party.unknown')),
    h('span', { class: 'peer-line' },
      name && number ? h('span', { class: 'peer-number' }, number) : null,
      words ? h('span', { class: `state state-${rec.state} cdr-${rec.cdr_state ?? 'none'}` }, words) : null));
    const menuBtn = h('button', {
      type: 'button', class: 'menu-btn', 'aria-haspopup': 'menu', 'aria-expanded': 'false',
      'aria-label': t('user.row.menu', { label }),
      onclick: (ev) => { ev.stopPropagation(); this.openMenu(rec.id, menuBtn); },
    }, icon('more'));
    const err = h('p', { class: 'row-error', role: 'alert', hidden: true });

    const cells = [
      h('td', { class: 'c-sel' }, check),
      h('td', { class: `c-dir dir-${dir || 'unknown'}`, title: directionText(rec.direction) },
        icon(dir || 'unknown'), h('span', { class: 'visually-hidden' }, directionText(rec.direction))),
      h('td', { class: 'c-party' }, play, err),
      this.admin ? h('td', { class: 'c-owner' }, rec.owner ?? '',
        rec.owner_deleted ? [' ', h('span', { class: 'badge owner-deleted' }, t('admin.user.pbxDeleted'))] : null) : null,
      h('td', { class: 'c-when' }, whenElement(callTime(rec))),
      h('td', { class: 'c-dur' }, rec.duration_ms > 0
        ? h('span', { 'aria-label': durationWords(rec.duration_ms) }, durationText(rec.duration_ms)) : ''),
      h('td', { class: 'c-prot' }, rec.protected
        ? h('span', { class: 'prot-mark', title: t('user.row.protected') }, icon('lock'), h('span', { class: 'visually-hidden' }, t('user.row.protected')))
        : ''),
      h('td', { class: 'c-menu' }, menuBtn),
    ];
    const classes = [rec.protected ? 'is-protected' : '', audio ? '' : 'no-audio'].filter(Boolean).join(' ');
    return h('tr', {
      'data-id': String(rec.id), class: classes || null,
      onclick: (ev) => {
        if (ev.target.closest('input, button, a')) return;
        if (audio) this.play(rec.id);
      },
    }, cells);
  }

  /** rowKey moves between rows with the arrow keys, like a mail list. */
  rowKey(ev, id) {
    if (ev.key !== 'ArrowDown' && ev.key !== 'ArrowUp') return;
    const tr = this.rows.get(id)?.tr;
    const other = ev.key === 'ArrowDown' ? tr?.nextElementSibling : tr?.previousElementSibling;
    const btn = other?.querySelector('.play-btn');
    if (btn) {
      ev.preventDefault();
      btn.focus();
    }
  }

  /** focusRow puts the focus on a row's main button, or near it when it is gone. */
  focusRow(id, neighbour) {
    const tr = this.rows.get(id)?.tr ?? neighbour;
    const btn = tr?.isConnected ? tr.querySelector('.play-btn') : null;
    if (btn) btn.focus();
    else if (this.tbody.firstElementChild) this.tbody.firstElementChild.querySelector('.play-btn')?.focus();
    else this.q.focus();
  }

  /**
   * refocus puts the focus back on a row's menu button after an action
   * ended, unless the person has gone on meanwhile (the focus is elsewhere
   * than on the page's body or in the row: e.g. in a menu opened since).
   */
  refocus(id) {
    const tr = this.rows.get(id)?.tr;
    const f = document.activeElement;
    if (tr && (!f || f === document.body || tr.contains(f))) tr.querySelector('.menu-btn')?.focus();
  }

  rowError(id, msg) {
    const el = this.rows.get(id)?.tr.querySelector('.row-error');
    if (!el) { this.status.error(msg); return; }
    el.textContent = msg;
    el.hidden = !msg;
  }

  current(id) {
    return this.rows.get(id)?.rec ?? { protected: false };
  }

  downloadURL(rec) {
    const tz = timeZone();
    return `/api/recordings/${rec.id}/audio.wav?download=1${tz ? `&tz=${encodeURIComponent(tz)}` : ''}`;
  }

  openMenu(id, button) {
    const rec = this.current(id);
    const audio = hasAudio(rec);
    const items = [];
    if (audio) items.push({ label: t('user.action.play'), cls: 'mi-play', run: () => this.play(id) });
    if (audio) items.push({ label: t('user.action.download'), cls: 'mi-download', href: this.downloadURL(rec), keepFocus: false });
    items.push({ label: rec.protected ? t('user.action.unprotect') : t('user.action.protect'), cls: 'mi-protect', run: () => this.setProtected(id, !this.current(id).protected) });
    items.push({ label: t('user.action.details'), cls: 'mi-details', run: () => this.showDetails(id, button) });
    if (!rec.protected) items.push({ label: t('user.action.delete'), cls: 'mi-delete', danger: true, run: () => this.confirmDelete(id) });
    this.menu.open(button, items);
  }

  async play(id) {
    this.rowError(id, '');
    try {
      const res = await this.socket.request('GetRecording', { id }, t('user.action.play'));
      this.player.open(res.recording);
    } catch (err) {
      this.rowError(id, t('user.error.play', { error: err.message }));
    }
  }

  async showDetails(id, button) {
    this.rowError(id, '');
    try {
      const res = await this.socket.request('GetRecording', { id }, t('user.action.details'));
      this.details.show(res.recording, () => (button.isConnected ? button.focus() : this.focusRow(id)));
    } catch (err) {
      this.rowError(id, t('user.error.details', { error: err.message }));
      button.focus();
    }
  }

  async setProtected(id, on) {
    this.rowError(id, '');
    try {
      const res = await this.socket.request('SetProtected', { id, protected: on }, on ? t('user.action.protect') : t('user.action.unprotect'));
      if (!this.wrote) this.wrote = new Map();
      this.wrote.set(id, Date.now());
      this.upsert(res.recording, false);
      this.status.info(on ? t('user.done.protected') : t('user.done.unprotected'));
      this.refocus(id);
    } catch (err) {
      this.rowError(id, t('user.error.protect', { error: err.message }));
      this.refocus(id);
    }
  }

  confirmDelete(id) {
    const rec = this.current(id);
    const menuBtn = () => this.rows.get(id)?.tr.querySelector('.menu-btn');
    this.dialog.ask(t('user.confirm.deleteOne.title'),
      t('user.confirm.deleteOne.text', { when: dateTimeText(callTime(rec)), party: partyText(rec) }),
      () => this.deleteRecording(id), () => menuBtn()?.focus(), t('user.action.delete'));
  }

  async deleteRecording(id) {
    const tr = this.rows.get(id)?.tr;
    const neighbour = tr?.nextElementSibling ?? tr?.previousElementSibling ?? null;
    try {
      await this.socket.request('DeleteRecording', { id }, t('user.action.delete'));
      this.removeRow(id);
      this.status.info(t('user.done.deleted'));
      this.focusRow(-1, neighbour);
    } catch (err) {
      this.rowError(id, t('user.error.delete', { error: err.message }));
      this.rows.get(id)?.tr.querySelector('.menu-btn')?.focus();
    }
  }

  // ---- selection and bulk actions ----

  checkClicked(id, ev) {
    const on = ev.target.checked;
    if (this.allMatching) {
      // Leaving "all matching": the selection becomes the loaded rows.
      this.allMatching = false;
      for (const rid of this.rows.keys()) this.selected.add(rid);
    }
    if (ev.shiftKey && this.lastClicked !== null && this.rows.has(this.lastClicked)) {
      const ids = [...this.rows.keys()];
      const a = ids.indexOf(this.lastClicked);
      const b = ids.indexOf(id);
      for (const rid of ids.slice(Math.min(a, b), Math.max(a, b) + 1)) {
        if (on) this.selected.add(rid); else this.selected.delete(rid);
      }
    } else if (on) {
      this.selected.add(id);
    } else {
      this.selected.delete(id);
    }
    this.lastClicked = id;
    this.showSelection();
  }

  toggleAllShown(on) {
    this.allMatching = false;
    if (on) for (const id of this.rows.keys()) this.selected.add(id);
    else this.selected.clear();
    this.showSelection();
  }

  clearSelection() {
    this.selected.clear();
    this.allMatching = false;
    this.lastClicked = null;
    this.bulkError.clear();
    this.showSelection();
  }

  /** selectMatching selects every call the filter finds, loaded or not. */
  selectMatching() {
    this.allMatching = true;
    this.showSelection();
  }

  selectionSize() {
    if (this.allMatching) return this.total ? this.total.n : null;
    return this.selected.size;
  }

  showSelection() {
    for (const [id, { tr }] of this.rows) {
      const c = tr.querySelector('.row-check');
      const on = this.allMatching || this.selected.has(id);
      if (c) c.checked = on;
      tr.classList.toggle('selected', on);
    }
    const shown = this.rows.size;
    const picked = [...this.rows.keys()].filter((id) => this.allMatching || this.selected.has(id)).length;
    this.checkAll.checked = shown > 0 && picked === shown;
    this.checkAll.indeterminate = picked > 0 && picked < shown;
    const n = this.selectionSize();
    const any = this.allMatching || this.selected.size > 0;
    this.bulk.hidden = !any;
    if (!any) return;
    if (this.allMatching) {
      this.selCount.textContent = n === null ? t('user.bulk.allMatching') : t('user.bulk.allMatchingN', { n: numberText(n) });
    } else {
      this.selCount.textContent = tn('user.bulk.selected', this.selected.size);
    }
    const more = this.next || (this.total && this.total.n > shown);
    this.selAll.hidden = this.allMatching || !more || picked < shown;
    this.selAll.textContent = this.total
      ? t('user.bulk.selectMatchingN', { n: numberText(this.total.n) })
      : t('user.bulk.selectMatching');
    this.zip.href = this.zipURL();
    const recs = this.allMatching ? [] : [...this.selected].map((id) => this.rows.get(id)?.rec).filter(Boolean);
    this.bulkUnprotect.hidden = !this.allMatching && !recs.some((r) => r.protected);
    this.bulkProtect.hidden = !this.allMatching && recs.every((r) => r.protected);
    // Protected recordings cannot be deleted: no Delete for a selection of only those.
    this.bulkDelete.hidden = !this.allMatching && recs.length > 0 && recs.every((r) => r.protected);
  }

  zipURL() {
    const p = new URLSearchParams();
    if (this.allMatching) {
      if (this.filter.q) p.set('q', this.filter.q);
      if (this.filter.from) p.set('from', this.filter.from);
      if (this.filter.to) p.set('to', this.filter.to);
    } else {
      p.set('ids', [...this.selected].join(','));
    }
    const tz = timeZone();
    if (tz) p.set('tz', tz);
    return `/api/recordings.zip?${p}`;
  }

  /** selectedIDs lists the selection's ids; for "all matching" it pages through the filter. */
  async selectedIDs() {
    if (!this.allMatching) return [...this.selected];
    const out = [];
    let cursor = '';
    do {
      const res = await this.socket.request('ListRecordings', this.params(cursor, 500), t('user.action.select'));
      for (const r of res.recordings ?? []) out.push(r.id);
      cursor = res.next ?? '';
    } while (cursor);
    return out;
  }

  async bulkSetProtected(on) {
    this.bulkError.clear();
    const button = on ? this.bulkProtect : this.bulkUnprotect;
    button.disabled = true;
    try {
      const ids = await this.selectedIDs();
      let changed = 0;
      try {
        const res = await this.socket.request('SetProtectedMany', { ids, protected: on }, button.textContent);
        changed = res.changed ?? ids.length;
      } catch (err) {
        if (!unsupported(err)) throw err;
        for (const id of ids) {
          const res = await this.socket.request('SetProtected', { id, protected: on }, button.textContent);
          this.upsert(res.recording, false);
          changed += 1;
        }
      }
      this.status.info(tn(on ? 'user.done.bulkProtected' : 'user.done.bulkUnprotected', changed));
      this.showSelection();
    } catch (err) {
      this.bulkError.show(t('user.error.protect', { error: err.message }));
    } finally {
      button.disabled = false;
      button.focus();
    }
  }

  confirmBulkDelete() {
    this.bulkError.clear();
    const n = this.selectionSize();
    const text = n === null ? t('user.confirm.deleteMany.textAll') : tn('user.confirm.deleteMany.text', n);
    const title = n === null ? t('user.confirm.deleteMany.titleAll') : tn('user.confirm.deleteMany.title', n);
    const label = n === null ? t('user.action.delete') : t('user.confirm.deleteMany.button', { n: numberText(n) });
    this.dialog.ask(title, text, () => this.bulkDeleteNow(), () => this.bulkDelete.focus(), label);
  }

  async bulkDeleteNow() {
    this.bulkDelete.disabled = true;
    try {
      const ids = await this.selectedIDs();
      let deleted = 0;
      let refused = [];
      try {
        const res = await this.socket.request('DeleteRecordings', { ids }, t('user.action.delete'));
        deleted = res.deleted ?? 0;
        refused = res.refused ?? [];
        const no = new Set(refused.map((r) => r.id));
        for (const id of ids) if (!no.has(id)) this.removeRow(id);
      } catch (err) {
        if (!unsupported(err)) throw err;
        for (const id of ids) {
          try {
            await this.socket.request('DeleteRecording', { id }, t('user.action.delete'));
            this.removeRow(id);
            deleted += 1;
          } catch (e) {
            refused.push({ id, reason: e.message });
          }
        }
      }
      this.clearSelection();
      for (const r of refused) this.selected.add(r.id);
      this.showSelection();
      if (refused.length) {
        this.bulkError.show(t('user.error.bulkRefused', { deleted: numberText(deleted), refused: numberText(refused.length) }));
        this.bulkDelete.focus();
      } else {
        this.status.info(tn('user.done.bulkDeleted', deleted));
        this.focusRow(-1, this.tbody.firstElementChild);
      }
    } catch (err) {
      this.bulkError.show(t('user.error.delete', { error: err.message }));
      this.bulkDelete.focus();
    } finally {
      this.bulkDelete.disabled = false;
    }
  }
}
