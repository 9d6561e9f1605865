// The PBX connection (the App object's websocket) for the admin: whether
// the PBX is connected, since when, what it announced (PbxInfo), the APIs
// the service uses on it, the licences read from it, the last error and
// the last disconnect. Loaded with GetPbxStatus, kept current by the
// PbxStatus pushes.
import { h, clear } from './dom.js';
import { dateTimeText } from './format.js';
import { t } from './i18n.js';

// licLines are the texts of one licence state ({from_pbx, checking, …}).
function licLines(l, domain) {
  let text = l.checking ? t('admin.pbx.licReading') : t('admin.pbx.licUsers', { licensed: l.users_licensed, checked: l.users_checked });
  if (!l.checking && l.count != null) text += t('admin.pbx.licCount', { used: l.used ?? '?', count: l.count });
  if (!l.checking && l.users_unknown) text += t('admin.pbx.licUnknown', { n: l.users_unknown });
  const lines = [`${domain ? `${domain}: ` : ''}${text}.`];
  if (l.last_error) lines.push(`${domain ? `${domain}: ` : ''}${t('admin.pbx.licError', { error: l.last_error })}`);
  return lines;
}

export function pbxLines(st) {
  const lines = [];
  const conns = st?.connections ?? [];
  // With several domains configured, each one's PBX is listed (configured),
  // and each missing one said so; else one line when none is connected.
  const perDomain = conns.some((c) => c.configured);
  if (!perDomain && !conns.some((c) => c.connected)) {
    lines.push(st?.expected ? t('admin.pbx.notConnected') : t('admin.pbx.never'));
  }
  for (const c of conns) {
    if (perDomain && c.configured && !c.connected && st?.expected) {
      lines.push(t('admin.pbx.domainNotConnected', { domain: c.domain }));
    }
    const who = c.pbx ? `${c.pbx}${c.system_name ? ` (${c.system_name})` : ''}` : (c.domain || 'PBX');
    if (c.connected) {
      lines.push(t(c.pbx_dns ? 'admin.pbx.connectedDNS' : 'admin.pbx.connected',
        { who, since: dateTimeText(c.connected_since), ao: c.app_object || '?', dns: c.pbx_dns ?? '' }));
      const none = t('admin.pbx.none');
      lines.push(c.pbx_info_received
        ? t('admin.pbx.apis', { offered: c.apis.length ? c.apis.join(', ') : none, used: c.apis_used.length ? c.apis_used.join(', ') : none })
        : t('admin.pbx.waiting'));
    } else if (c.last_disconnect) {
      lines.push(t(c.last_disconnect_reason ? 'admin.pbx.disconnectedWhy' : 'admin.pbx.disconnected',
        { who, at: dateTimeText(c.last_disconnect), why: c.last_disconnect_reason ?? '' }));
    }
    if (c.last_error) lines.push(t('admin.pbx.lastError', { who, at: dateTimeText(c.last_error_at), error: c.last_error }));
  }
  const l = st?.licences;
  if (l?.from_pbx) {
    if (l.domains?.length) {
      for (const d of l.domains) lines.push(...licLines(d, d.domain));
    } else {
      lines.push(...licLines(l, ''));
    }
  }
  return lines;
}

export class PBXStatusView {
  constructor(socket) {
    this.socket = socket;
    this.body = h('div', { class: 'pbx-status', 'aria-live': 'polite' });
    this.el = h('section', { class: 'pbx-connection', 'aria-labelledby': 'pbx-status-title' },
      h('h2', { id: 'pbx-status-title' }, t('admin.pbx.title')), this.body);
    socket.on('PbxStatus', (m) => this.fill(m.pbx));
  }

  async start() {
    try {
      this.fill((await this.socket.request('GetPbxStatus')).pbx);
    } catch (err) {
      clear(this.body).append(h('p', { class: 'status error' }, t('admin.pbx.loadError', { error: err.message })));
    }
  }

  fill(st) {
    clear(this.body).append(...pbxLines(st).map((line) => h('p', null, line)));
  }
}
