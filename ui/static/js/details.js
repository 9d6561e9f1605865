// A recording's details: what the row leaves out (codec, size, the quality
// of each RTP stream: loss, late packets, gaps, jitter) and a link to the
// original capture, which opens in Wireshark.
import { h, clear, uid } from './dom.js';
import {
  dateTimeText, durationWords, directionText, stateWords, partyText, bytesText, numberText, callTime,
} from './format.js';
import { t } from './i18n.js';

export class DetailsDialog {
  constructor(admin) {
    this.admin = admin;
    const titleID = uid('details-title');
    this.title = h('h2', { id: titleID });
    this.body = h('div', { class: 'details-body' });
    this.closeButton = h('button', { value: 'close', class: 'primary' }, t('common.close'));
    this.el = h('dialog', { class: 'details', 'aria-labelledby': titleID },
      h('form', { method: 'dialog' }, this.title, this.body, h('div', { class: 'buttons' }, this.closeButton)));
    this.onClosed = null;
    this.el.addEventListener('close', () => {
      const fn = this.onClosed;
      this.onClosed = null;
      if (fn) fn();
    });
  }

  /** show opens the details of rec (with stats); closed() runs when it closes. */
  show(rec, closed) {
    this.title.textContent = t('user.details.title', { party: partyText(rec) });
    clear(this.body);
    const rows = [
      [t('user.details.when'), dateTimeText(callTime(rec))],
      [t('user.details.duration'), durationWords(rec.duration_ms)],
      [t('user.details.direction'), directionText(rec.direction)],
      [t('user.details.name'), rec.peer_name ?? ''],
      [t('user.details.number'), rec.peer_number ?? ''],
      this.admin ? [t('user.list.owner'), rec.owner ?? ''] : null,
      [t('user.details.state'), stateWords(rec) || t('user.details.ok')],
      [t('user.details.protected'), rec.protected ? t('common.yes') : t('common.no')],
      [t('user.details.codec'), rec.codec ?? ''],
      [t('user.details.size'), bytesText(rec.size)],
    ].filter((r) => r && r[1]);
    this.body.append(h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', null, k), h('dd', null, v)])));
    this.body.append(this.quality(rec.stats));
    if (rec.name && rec.domain) {
      const href = `/${encodeURIComponent(rec.domain)}/recordings/Files/${encodeURIComponent(rec.name)}`;
      this.body.append(h('p', { class: 'capture' },
        h('a', { class: 'capture-link', href, download: '' }, t('user.details.capture')),
        ' ', h('span', { class: 'help' }, t('user.details.captureHelp'))));
    }
    this.onClosed = closed;
    this.el.returnValue = '';
    this.el.showModal();
    this.closeButton.focus();
  }

  /** quality is the table of per-stream figures from the analysis. */
  quality(stats) {
    const streams = (stats?.streams ?? []).filter((s) => s.direction);
    if (!streams.length) return h('p', { class: 'help' }, t('user.details.noStats'));
    const n = (v) => (typeof v === 'number' ? numberText(v) : '–');
    const pct = (s) => {
      const expected = (s.packets ?? 0) - (s.duplicates ?? 0) + (s.lost ?? 0);
      return expected > 0 ? numberText((s.lost ?? 0) / expected, { style: 'percent', maximumFractionDigits: 1 }) : '–';
    };
    const ms = (v) => (typeof v === 'number' ? numberText(v, { style: 'unit', unit: 'millisecond', maximumFractionDigits: 1 }) : '–');
    const jitter = (s) => {
      const v = s.jitter_ms ?? s.jitter;
      return typeof v === 'number' ? ms(v) : '–';
    };
    const heads = ['stream', 'codec', 'packets', 'lost', 'late', 'gaps', 'jitter'].map((k) => h('th', { scope: 'col' }, t(`user.details.q.${k}`)));
    const body = streams.map((s) => h('tr', null,
      h('th', { scope: 'row' }, t(s.direction === 'local' ? 'user.details.q.local' : 'user.details.q.remote')),
      h('td', null, s.codec ?? ''),
      h('td', { class: 'num' }, n(s.packets)),
      h('td', { class: 'num' }, `${n(s.lost)} (${pct(s)})`),
      h('td', { class: 'num' }, n(s.late)),
      h('td', { class: 'num' }, ms(s.gap_ms)),
      h('td', { class: 'num' }, jitter(s))));
    const warnings = stats?.warnings ?? [];
    return h('div', { class: 'quality' },
      h('h3', null, t('user.details.quality')),
      h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('user.details.quality') }, h('table', { class: 'streams' }, h('thead', null, h('tr', null, heads)), h('tbody', null, body))),
      warnings.length ? h('ul', { class: 'warnings' }, warnings.map((w) => h('li', null, w))) : null);
  }
}
