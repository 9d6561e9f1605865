// Continuous replication in the admin's settings (GET/PUT
// /api/admin/replica): where the database is replicated, and how far the
// replica is: state, lag, last sync, last error. The S3 endpoint and keys
// are set in the server's environment, not here.
import { adminCall } from './api.js';
import { h, uid, StatusLine } from './dom.js';
import { lang, t } from './i18n.js';

export const replicaURL = '/api/admin/replica';
/** pollMS is how often the state is refreshed while the page is open. */
export const pollMS = 5000;

/** stateText describes a replication status in one line. */
export function stateText(st) {
  if (!st || st.state === 'off' || !st.url) return t('admin.replica.off');
  const parts = [];
  switch (st.state) {
    case 'starting': parts.push(t('admin.replica.starting')); break;
    case 'error': parts.push(t('admin.replica.failing')); break;
    default: parts.push(t('admin.replica.replicating'));
  }
  parts.push(t('admin.replica.lag', { s: Number(st.lag_seconds ?? 0).toFixed(1) }));
  parts.push(t('admin.replica.tx', { replica: st.replica_txid ?? 0, local: st.local_txid ?? 0 }));
  if (st.last_sync) parts.push(t('admin.replica.lastSync', { at: new Date(st.last_sync).toLocaleString(lang()) }));
  let text = parts.join(', ');
  if (st.last_error) text += t('admin.replica.lastError', { at: new Date(st.last_error_at).toLocaleString(lang()), error: st.last_error });
  return text;
}

export class ReplicaView {
  constructor() {
    const urlID = uid('replica-url');
    const helpID = uid('replica-help');
    this.status = new StatusLine();
    this.url = h('input', {
      id: urlID, name: 'replica_url', maxlength: '256', autocomplete: 'off', spellcheck: 'false',
      placeholder: 's3://bucket/prefix', 'aria-describedby': helpID,
    });
    this.help = h('p', { id: helpID, class: 'help' }, t('admin.replica.help'));
    this.state = h('p', { class: 'replica-state', role: 'status', 'aria-live': 'polite' });
    this.save = h('button', { type: 'submit' }, t('admin.replica.save'));
    this.timer = 0;
    this.el = h('div', { class: 'replica' },
      h('h2', null, t('admin.replica.title')),
      h('form', { novalidate: true, onsubmit: (ev) => { ev.preventDefault(); this.submit(); } },
        h('div', { class: 'field' }, h('label', { for: urlID }, t('admin.replica.label')), this.url, this.help),
        h('div', { class: 'buttons' }, this.save)),
      this.state,
      this.status.el);
  }

  async start() {
    await this.refresh(true);
  }

  fill(r, withURL) {
    if (withURL) this.url.value = r.url ?? '';
    this.url.disabled = Boolean(r.fixed);
    this.save.disabled = Boolean(r.fixed);
    if (r.fixed) this.help.textContent = t('admin.replica.fixed', { by: r.fixed });
    this.state.dataset.state = r.status?.state ?? 'off';
    this.state.classList.toggle('error', r.status?.state === 'error');
    this.state.textContent = stateText(r.status);
  }

  async refresh(withURL) {
    clearTimeout(this.timer);
    this.timer = 0;
    try {
      this.fill(await adminCall('GET', replicaURL), withURL);
    } catch (err) {
      this.state.textContent = t('admin.replica.loadError', { error: err.message });
      if (err.status === 401 || err.status === 403) return;
    }
    if (this.el.isConnected || withURL) this.timer = setTimeout(() => this.refresh(false), pollMS);
  }

  async submit() {
    try {
      this.fill(await adminCall('PUT', replicaURL, { url: this.url.value.trim() }), true);
      this.status.info(t('admin.replica.saved'));
      this.timer = setTimeout(() => this.refresh(false), 1000);
    } catch (err) {
      this.status.error(t('admin.notSaved', { error: err.message }));
    }
  }
}
