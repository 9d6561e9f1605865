// Formatting of times, durations and recording fields for display.

const dateTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
});

/** dateTimeText shows an ISO time in the browser's time zone. */
export function dateTimeText(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : dateTime.format(d);
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

/** durationText formats a recording's duration in milliseconds. */
export function durationText(ms) {
  return ms > 0 ? clock(ms / 1000) : '';
}

const directions = { in: 'incoming', out: 'outgoing', incoming: 'incoming', outgoing: 'outgoing', inbound: 'incoming', outbound: 'outgoing' };

/** directionText names a call direction. */
export function directionText(d) {
  if (!d) return '';
  return directions[String(d).toLowerCase()] ?? String(d);
}

/** stateText explains a recording's state. */
export function stateText(state) {
  switch (state) {
    case 'receiving': return 'receiving';
    case 'ready': return 'ready';
    case 'failed': return 'failed';
    case 'incomplete': return 'incomplete';
    default: return String(state ?? '');
  }
}

/** hasAudio reports whether a recording can be played or downloaded. */
export function hasAudio(rec) {
  return rec.state === 'ready' || rec.state === 'incomplete';
}

/** partyText names the other party of a call for sentences. */
export function partyText(rec) {
  const parts = [rec.peer_name, rec.peer_number].filter(Boolean);
  return parts.length ? parts.join(' ') : 'unknown party';
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
