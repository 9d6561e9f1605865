// Continuous replication in the admin's settings (GET/PUT
// /api/admin/replica): where the database is replicated, and how far the
// replica is: state, lag, last sync, last error. The S3 endpoint and keys
// are set in the server's environment, not here.
import { adminCall } from './api.js';
import { h, uid, StatusLine } from './dom.js';

export const replicaURL = '/api/admin/replica';
/** pollMS is how often the state is refreshed while the page is open. */
export const pollMS = 5000;

/** stateText describes a replication status in one line. */
export function stateText(st) {
  if (!st || st.state === 'off' || !st.url) return 'Replication is off.';
  const parts = [];
  switch (st.state) {
    case 'starting': parts.push('Starting…'); break;
    case 'error': parts.push('Failing, retrying'); break;
    default: parts.push('Replicating');
  }
  parts.push(`lag ${Number(st.lag_seconds ?? 0).toFixed(1)} s`);
  parts.push(`transaction ${st.replica_txid ?? 0} of ${st.local_txid ?? 0}`);
  if (st.last_sync) parts.push(`last sync ${new Date(st.last_sync).toLocaleString()}`);
  let t = parts.join(', ');
  if (st.last_error) t += `. Last error (${new Date(st.last_error_at).toLocaleString()}): ${st.last_error}`;
  return t;
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
    this.help = h('p', { id: helpID, class: 'help' },
      'file:///folder or s3://bucket/prefix; empty turns replication off. '
      + 'The S3 endpoint and keys are set in the server\'s environment.');
    this.state = h('p', { class: 'replica-state', role: 'status', 'aria-live': 'polite' });
    this.save = h('button', { type: 'submit' }, 'Save replica');
    this.timer = 0;
    this.el = h('div', { class: 'replica' },
      h('h2', null, 'Continuous replication'),
      h('form', { novalidate: true, onsubmit: (ev) => { ev.preventDefault(); this.submit(); } },
        h('div', { class: 'field' }, h('label', { for: urlID }, 'Replica'), this.url, this.help),
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
    if (r.fixed) this.help.textContent = `Set by ${r.fixed} when the service started.`;
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
      this.state.textContent = `Cannot read the replication state: ${err.message}`;
      if (err.status === 401 || err.status === 403) return;
    }
    if (this.el.isConnected || withURL) this.timer = setTimeout(() => this.refresh(false), pollMS);
  }

  async submit() {
    try {
      this.fill(await adminCall('PUT', replicaURL, { url: this.url.value.trim() }), true);
      this.status.info('Replica saved.');
      this.timer = setTimeout(() => this.refresh(false), 1000);
    } catch (err) {
      this.status.error(`Not saved: ${err.message}`);
    }
  }
}
