// Formatting of times, durations, numbers and recording fields for display,
// in the language i18n.js chose (Intl does the locale's work).
import { lang, t } from './i18n.js';

const cache = new Map();
function dtf(key, opts) {
  const k = `${lang()}|${key}`;
  if (!cache.has(k)) cache.set(k, new Intl.DateTimeFormat(lang(), opts));
  return cache.get(k);
}

function valid(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** dateTimeText shows an ISO time in the browser's time zone, in full. */
export function dateTimeText(iso) {
  const d = valid(iso);
  return d ? dtf('full', { dateStyle: 'medium', timeStyle: 'medium' }).format(d) : '';
}

function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/**
 * shortWhen is a list row's time: "14:05" today, "Yesterday 14:05", a short
 * date and time this year, a date with the year before.
 */
export function shortWhen(iso, now = new Date()) {
  const d = valid(iso);
  if (!d) return '';
  const time = dtf('time', { timeStyle: 'short' }).format(d);
  if (sameDay(d, now)) return t('common.todayAt', { time });
  const y = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
  if (sameDay(d, y)) return t('common.yesterdayAt', { time });
  if (d.getFullYear() === now.getFullYear()) {
    return dtf('dm', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }).format(d);
  }
  return dtf('dmy', { dateStyle: 'medium' }).format(d);
}

/** clock formats seconds as m:ss or h:mm:ss. */
export function clock(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) seconds = 0;
  const s = Math.floor(seconds);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** durationText formats a recording's duration in milliseconds, as m:ss. */
export function durationText(ms) {
  return ms > 0 ? clock(ms / 1000) : '';
}

/**
 * durationWords spells a duration out for the locale ("1 min, 5 sec" /
 * "1 Min., 5 Sek."), for screen readers and details.
 */
export function durationWords(ms) {
  if (!(ms > 0)) return '';
  const s = Math.round(ms / 1000);
  const parts = { hours: Math.floor(s / 3600), minutes: Math.floor((s % 3600) / 60), seconds: s % 60 };
  if (typeof Intl.DurationFormat === 'function') {
    try {
      return new Intl.DurationFormat(lang(), { style: 'short' }).format(parts);
    } catch {
      // fall through
    }
  }
  const unit = (n, u) => new Intl.NumberFormat(lang(), { style: 'unit', unit: u, unitDisplay: 'short' }).format(n);
  const out = [];
  if (parts.hours) out.push(unit(parts.hours, 'hour'));
  if (parts.minutes) out.push(unit(parts.minutes, 'minute'));
  if (parts.seconds || out.length === 0) out.push(unit(parts.seconds, 'second'));
  return out.join(' ');
}

/** numberText formats a number for the locale. */
export function numberText(n, opts) {
  return new Intl.NumberFormat(lang(), opts).format(n);
}

/** bytesText formats a size in bytes (kB, MB) for the locale. */
export function bytesText(n) {
  if (!(n > 0)) return '';
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i += 1; }
  return new Intl.NumberFormat(lang(), { style: 'unit', unit: units[i], maximumFractionDigits: i ? 1 : 0 }).format(v);
}

/** direction normalises a call direction to "in", "out" or "". */
export function direction(d) {
  const s = String(d ?? '').toLowerCase();
  if (s === 'in' || s === 'incoming' || s === 'inbound') return 'in';
  if (s === 'out' || s === 'outgoing' || s === 'outbound') return 'out';
  return '';
}

/** directionText names a call direction. */
export function directionText(d) {
  const dir = direction(d);
  return dir ? t(`common.direction.${dir}`) : t('common.direction.unknown');
}

/**
 * stateWords explains a recording's state in plain words, or '' when it
 * is simply there (ready, with call data).
 */
export function stateWords(rec) {
  const out = [];
  switch (rec.state) {
    case 'receiving': out.push(t('common.state.receiving')); break;
    case 'incomplete': out.push(t('common.state.incomplete')); break;
    case 'failed': out.push(rec.reason ? t('common.state.failedWhy', { reason: rec.reason }) : t('common.state.failed')); break;
    default: break;
  }
  if (rec.cdr_state === 'NoCDR') out.push(t('common.cdr.none'));
  else if (rec.cdr_state === 'pending') out.push(t('common.cdr.pending'));
  return out.join(' · ');
}

/**
 * callTime is when the call took place: connected, as the PBX's call data
 * says, else when the recording began to arrive. The list shows, sorts and
 * filters by it.
 */
export function callTime(rec) {
  return rec.connected_at || rec.created;
}

/** hasAudio reports whether a recording can be played or downloaded. */
export function hasAudio(rec) {
  return rec.state === 'ready' || rec.state === 'incomplete';
}

// Names a PBX puts in a CDR for what is not a person.
const notAPerson = new Set(['trunk', 'unknown', 'anonymous']);

/** peerName is the other party's name fit to show, or ''. */
export function peerName(rec) {
  const n = String(rec.peer_name ?? '').trim();
  if (!n) return '';
  if (notAPerson.has(n.toLowerCase())) return rec.peer_number ? '' : t('common.party.external');
  return n;
}

/** partyText names the other party of a call for sentences. */
export function partyText(rec) {
  const parts = [peerName(rec), rec.peer_number].filter(Boolean);
  return parts.length ? parts.join(' ') : t('common.party.unknown');
}

/** decodeBase64 turns the server's base64 byte strings into bytes. */
export function decodeBase64(s) {
  if (!s) return new Uint8Array(0);
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i += 1) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * localDayStart turns a date input's YYYY-MM-DD into the RFC 3339 time of
 * that day's local midnight, plus addDays days.
 */
export function localDayStart(ymd, addDays = 0) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd ?? '');
  if (!m) return '';
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + addDays);
  return d.toISOString();
}

/** ymd is a local date as YYYY-MM-DD. */
export function ymd(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/**
 * presetRange gives the local [from, to) dates (YYYY-MM-DD, to exclusive)
 * of a date preset: today, yesterday, week (this week from Monday).
 */
export function presetRange(preset, now = new Date()) {
  const day = (n) => new Date(now.getFullYear(), now.getMonth(), now.getDate() + n);
  switch (preset) {
    case 'today': return [ymd(day(0)), ymd(day(1))];
    case 'yesterday': return [ymd(day(-1)), ymd(day(0))];
    case 'week': {
      const back = (now.getDay() + 6) % 7; // days since Monday
      return [ymd(day(-back)), ymd(day(1))];
    }
    default: return ['', ''];
  }
}

/** timeZone is the browser's IANA time zone, for download names. */
export function timeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || '';
  } catch {
    return '';
  }
}
