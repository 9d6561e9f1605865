// The recordings list: filter, page, play, download, protect, delete, and
// live updates pushed by the server.
import { h, clear, uid, StatusLine, ConfirmDialog } from './dom.js';
import {
  dateTimeText, durationText, directionText, stateText, hasAudio, partyText, localDayStart,
} from './format.js';

const pageSize = 50;

export class RecordingsView {
  constructor(socket, player, admin) {
    this.socket = socket;
    this.player = player;
    this.admin = admin;
    this.rows = new Map(); // id → {rec, tr}
    this.next = '';
    this.filter = { q: '', from: '', to: '' };
    this.loading = 0; // generation of the newest list request
    this.status = new StatusLine();

    const qID = uid('q');
    const fromID = uid('from');
    const toID = uid('to');
    this.q = h('input', { id: qID, name: 'q', type: 'search', autocomplete: 'off', placeholder: 'name or number' });
    this.from = h('input', { id: fromID, name: 'from', type: 'date' });
    this.to = h('input', { id: toID, name: 'to', type: 'date' });
    this.form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter recordings', onsubmit: (ev) => { ev.preventDefault(); this.applyFilter(); } },
      h('div', { class: 'field' }, h('label', { for: qID }, 'Name or number'), this.q),
      h('div', { class: 'field' }, h('label', { for: fromID }, 'From'), this.from),
      h('div', { class: 'field' }, h('label', { for: toID }, 'To'), this.to),
      h('div', { class: 'buttons' },
        h('button', { type: 'submit', class: 'primary' }, 'Filter'),
        h('button', { type: 'button', onclick: () => this.clearFilter() }, 'Clear')));

    const heads = ['Date and time', 'Duration', 'Other party', 'Direction', 'Codec', 'State', 'Protected'];
    if (admin) heads.splice(2, 0, 'User');
    heads.push('Actions');
    this.tbody = h('tbody');
    this.empty = h('p', { class: 'empty', hidden: true }, 'No recordings.');
    this.more = h('button', { type: 'button', class: 'more', hidden: true, onclick: () => this.loadMore() }, 'Load more');
    this.table = h('table', { class: 'recordings', 'aria-busy': 'true' },
      h('caption', { class: 'visually-hidden' }, 'Recordings, newest first'),
      h('thead', null, h('tr', null, heads.map((t) => h('th', { scope: 'col' }, t)))),
      this.tbody);

    this.dialog = new ConfirmDialog('delete', 'Delete');

    this.el = h('section', { class: 'view', 'aria-labelledby': 'rec-title' },
      h('h2', { id: 'rec-title' }, admin ? 'All recordings' : 'My recordings'),
      this.form, this.status.el, h('div', { class: 'table-wrap' }, this.table), this.empty, this.more, this.dialog.el);

    socket.on('RecordingAdded', (m) => this.upsert(m.recording, true));
    socket.on('RecordingUpdated', (m) => this.upsert(m.recording, false));
    socket.on('RecordingDeleted', (m) => this.removeRow(m.id));
  }

  /** start subscribes to pushes and loads the first page. */
  async start() {
    try {
      await this.socket.request('Subscribe');
    } catch (err) {
      this.status.error(`Live updates are off: ${err.message}`);
    }
    await this.reload();
  }

  applyFilter() {
    if (this.from.value && this.to.value && this.from.value > this.to.value) {
      this.status.error('The “From” date is after the “To” date.');
      this.from.focus();
      return;
    }
    this.filter = { q: this.q.value.trim(), from: this.from.value, to: this.to.value };
    this.reload();
  }

  clearFilter() {
    this.q.value = '';
    this.from.value = '';
    this.to.value = '';
    this.applyFilter();
  }

  params(cursor) {
    const p = { limit: pageSize };
    if (this.filter.q) p.q = this.filter.q;
    if (this.filter.from) p.from = localDayStart(this.filter.from);
    if (this.filter.to) p.to = localDayStart(this.filter.to, 1);
    if (cursor) p.cursor = cursor;
    return p;
  }

  async reload() {
    this.loading += 1;
    const gen = this.loading;
    this.table.setAttribute('aria-busy', 'true');
    try {
      const res = await this.socket.request('ListRecordings', this.params(''));
      if (gen !== this.loading) return;
      clear(this.tbody);
      this.rows.clear();
      this.addPage(res);
    } catch (err) {
      if (gen === this.loading) this.status.error(`Cannot load recordings: ${err.message}`);
    } finally {
      if (gen === this.loading) this.table.removeAttribute('aria-busy');
    }
  }

  async loadMore() {
    if (!this.next) return;
    const gen = this.loading;
    this.more.disabled = true;
    try {
      const res = await this.socket.request('ListRecordings', this.params(this.next));
      if (gen === this.loading) this.addPage(res);
    } catch (err) {
      this.status.error(`Cannot load more: ${err.message}`);
    } finally {
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
  }

  /** matches reports whether rec passes the current filter. */
  matches(rec) {
    const f = this.filter;
    if (f.q) {
      const q = f.q.toLowerCase();
      const hay = [rec.owner, rec.peer_name, rec.peer_number, rec.name].map((s) => String(s ?? '').toLowerCase());
      if (!hay.some((s) => s.includes(q))) return false;
    }
    const t = new Date(rec.created).getTime();
    if (f.from && t < new Date(localDayStart(f.from)).getTime()) return false;
    if (f.to && t >= new Date(localDayStart(f.to, 1)).getTime()) return false;
    return true;
  }

  /** upsert shows a pushed recording: replaced in place, or inserted by date. */
  upsert(rec, added) {
    const have = this.rows.get(rec.id);
    if (have) {
      const tr = this.row(rec);
      have.tr.replaceWith(tr);
      this.rows.set(rec.id, { rec, tr });
      return;
    }
    if (!this.matches(rec)) return;
    // Insert before the first row that is older; past the last loaded row
    // only when there is nothing more to load.
    const t = new Date(rec.created).getTime();
    let before = null;
    for (const { rec: r, tr } of this.rows.values()) {
      if (new Date(r.created).getTime() < t || (new Date(r.created).getTime() === t && r.id < rec.id)) {
        before = tr;
        break;
      }
    }
    if (!before && this.next) return;
    const tr = this.row(rec);
    if (added) tr.classList.add('new');
    this.tbody.insertBefore(tr, before);
    this.rows.set(rec.id, { rec, tr });
    this.reorderMap();
    this.empty.hidden = true;
    if (added) this.status.info(`New recording: ${partyText(rec)}`);
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
    }
    if (this.player.showing(id)) this.player.close();
    this.empty.hidden = this.rows.size > 0;
  }

  /** row renders one recording; every field is set as text. */
  row(rec) {
    const audio = hasAudio(rec);
    const when = h('time', { datetime: rec.created }, dateTimeText(rec.created));
    const party = h('span', { class: 'party' },
      rec.peer_name ? h('span', { class: 'peer-name' }, rec.peer_name) : null,
      rec.peer_number ? h('span', { class: 'peer-number' }, rec.peer_number) : null,
      !rec.peer_name && !rec.peer_number ? h('span', { class: 'muted' }, 'unknown') : null);
    const state = h('span', { class: `state state-${rec.state}`, title: rec.reason || null }, stateText(rec.state));
    if (rec.reason) state.append(h('span', { class: 'reason' }, ` (${rec.reason})`));
    // Call details: NoCDR (none arrived in time) or still pending.
    const cdr = rec.cdr_state === 'NoCDR' || rec.cdr_state === 'pending'
      ? h('span', { class: `cdr-state cdr-${rec.cdr_state}` }, rec.cdr_state === 'NoCDR' ? 'NoCDR' : 'CDR pending')
      : null;
    const label = `${dateTimeText(rec.created)}, ${partyText(rec)}`;

    const play = h('button', {
      type: 'button', class: 'act play-btn', disabled: !audio, 'aria-label': `Play ${label}`,
      onclick: () => this.play(rec.id),
    }, 'Play');
    const download = audio
      ? h('a', { class: 'act button', href: `/api/recordings/${rec.id}/audio.wav`, download: '', 'aria-label': `Download ${label} as WAV` }, 'Download')
      : h('span', { class: 'act muted' }, '—');
    const protect = h('button', {
      type: 'button', class: 'act protect-btn',
      'aria-label': `${rec.protected ? 'Unprotect' : 'Protect'} ${label}`,
      onclick: () => this.setProtected(rec.id, !this.current(rec.id).protected),
    }, rec.protected ? 'Unprotect' : 'Protect');
    const del = h('button', {
      type: 'button', class: 'act danger delete-btn', 'aria-label': `Delete ${label}`,
      onclick: () => this.confirmDelete(rec.id),
    }, 'Delete');

    const cells = [
      h('td', { 'data-label': 'Date' }, when),
      h('td', { 'data-label': 'Duration', class: 'num' }, durationText(rec.duration_ms)),
      h('td', { 'data-label': 'Other party' }, party),
      h('td', { 'data-label': 'Direction' }, directionText(rec.direction)),
      h('td', { 'data-label': 'Codec' }, rec.codec ?? ''),
      h('td', { 'data-label': 'State' }, h('span', { class: 'state-cell' }, state, cdr)),
      h('td', { 'data-label': 'Protected', class: 'prot' }, rec.protected ? h('span', { class: 'badge' }, 'protected') : ''),
      h('td', { class: 'actions' }, play, download, protect, del),
    ];
    if (this.admin) {
      cells.splice(2, 0, h('td', { 'data-label': 'User' }, rec.owner ?? '',
        rec.owner_deleted ? [' ', h('span', { class: 'badge owner-deleted' }, 'deleted on the PBX')] : null));
    }
    return h('tr', { 'data-id': String(rec.id), class: rec.protected ? 'is-protected' : null }, cells);
  }

  current(id) {
    return this.rows.get(id)?.rec ?? { protected: false };
  }

  async play(id) {
    try {
      const res = await this.socket.request('GetRecording', { id });
      this.player.open(res.recording);
    } catch (err) {
      this.status.error(`Cannot play: ${err.message}`);
    }
  }

  async setProtected(id, on) {
    try {
      const res = await this.socket.request('SetProtected', { id, protected: on });
      this.upsert(res.recording, false);
      this.status.info(on ? 'Recording protected.' : 'Recording no longer protected.');
      this.rows.get(id)?.tr.querySelector('.protect-btn')?.focus();
    } catch (err) {
      this.status.error(`Cannot change protection: ${err.message}`);
    }
  }

  confirmDelete(id) {
    const rec = this.current(id);
    const opener = () => this.rows.get(id)?.tr.querySelector('.delete-btn');
    this.dialog.ask('Delete recording?',
      `The recording of ${dateTimeText(rec.created)} with ${partyText(rec)} will be deleted for good.`,
      () => this.deleteRecording(id, opener), () => opener()?.focus());
  }

  async deleteRecording(id, opener) {
    try {
      await this.socket.request('DeleteRecording', { id });
      this.removeRow(id);
      this.status.info('Recording deleted.');
    } catch (err) {
      this.status.error(`Not deleted: ${err.message}`);
      opener()?.focus();
    }
  }
}
