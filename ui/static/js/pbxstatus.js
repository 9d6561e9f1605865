// The PBX connection (the App object's websocket) for the admin: whether
// the PBX is connected, since when, what it announced (PbxInfo), the APIs
// the service uses on it, the licences read from it, the last error and
// the last disconnect. Loaded with GetPbxStatus, kept current by the
// PbxStatus pushes.
import { h, clear } from './dom.js';
import { dateTimeText } from './format.js';

export function pbxLines(st) {
  const lines = [];
  const conns = st?.connections ?? [];
  if (!conns.some((c) => c.connected)) {
    lines.push(st?.expected ? 'PBX not connected.' : 'No PBX has connected yet (no App object with the websocket checkmark points here).');
  }
  for (const c of conns) {
    const who = c.pbx ? `${c.pbx}${c.system_name ? ` (${c.system_name})` : ''}` : (c.domain || 'PBX');
    if (c.connected) {
      lines.push(`${who}: connected since ${dateTimeText(c.connected_since)} as App object ${c.app_object || '?'}`
        + (c.pbx_dns ? `, ${c.pbx_dns}` : '') + '.');
      lines.push(c.pbx_info_received
        ? `APIs offered: ${c.apis.length ? c.apis.join(', ') : 'none'}; used: ${c.apis_used.length ? c.apis_used.join(', ') : 'none'}.`
        : 'Waiting for the PBX to announce itself (PbxInfo).');
    } else if (c.last_disconnect) {
      lines.push(`${who}: disconnected at ${dateTimeText(c.last_disconnect)}${c.last_disconnect_reason ? ` (${c.last_disconnect_reason})` : ''}.`);
    }
    if (c.last_error) lines.push(`${who}: last error at ${dateTimeText(c.last_error_at)}: ${c.last_error}`);
  }
  const l = st?.licences;
  if (l?.from_pbx) {
    let text = l.checking ? 'Licences: reading them from the PBX…' : `Licences from the PBX: ${l.users_licensed} of ${l.users_checked} users licensed`;
    if (!l.checking && l.count != null) text += `, ${l.used ?? '?'} of ${l.count} App(innovaphone-recorder) licences used`;
    if (!l.checking && l.users_unknown) text += ` (${l.users_unknown} not known to the PBX)`;
    lines.push(`${text}.`);
    if (l.last_error) lines.push(`Licence check: ${l.last_error}`);
  }
  return lines;
}

export class PBXStatusView {
  constructor(socket) {
    this.socket = socket;
    this.body = h('div', { class: 'pbx-status', 'aria-live': 'polite' });
    this.el = h('section', { class: 'pbx-connection', 'aria-labelledby': 'pbx-status-title' },
      h('h2', { id: 'pbx-status-title' }, 'PBX connection'), this.body);
    socket.on('PbxStatus', (m) => this.fill(m.pbx));
  }

  async start() {
    try {
      this.fill((await this.socket.request('GetPbxStatus')).pbx);
    } catch (err) {
      clear(this.body).append(h('p', { class: 'status error' }, `Cannot load the PBX connection: ${err.message}`));
    }
  }

  fill(st) {
    clear(this.body).append(...pbxLines(st).map((t) => h('p', null, t)));
  }
}
