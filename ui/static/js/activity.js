// The user's activity history in sentences: who listened to, downloaded,
// protected or deleted which call, newest first (GetActivity). The admins'
// technical log stays in logs.js.
import { h, clear, StatusLine } from './dom.js';
import { dateTimeText, shortWhen, peerName } from './format.js';
import { t } from './i18n.js';
import { unsupported } from './api.js';

const pageSize = 50;
const actions = new Set(['listened', 'downloaded', 'protected', 'unprotected', 'deleted', 'deleted_by_retention', 'deleted_unlicensed']);

/**
 * sentence tells entry e in words; me is the signed-in user's name
 * ("You listened…" for their own actions).
 */
export function sentence(e, me) {
  // As the list names the party: a PBX's "TRUNK" is no one's name.
  const party = peerName(e) || e.peer_number || '';
  const action = actions.has(e.action) ? e.action : 'other';
  if (action === 'deleted_by_retention') {
    return party ? t('user.activity.retention', { party }) : t('user.activity.retentionNoParty');
  }
  if (action === 'deleted_unlicensed') {
    return party ? t('user.activity.unlicensed', { party }) : t('user.activity.unlicensedNoParty');
  }
  const who = !e.by || e.by === me ? 'you' : 'other';
  const key = `user.activity.${action}.${who}${party ? '' : '.noParty'}`;
  return t(key, { party, who: e.by_name || e.by || '', action: e.action ?? '' });
}

export class ActivityView {
  constructor(socket, me) {
    this.socket = socket;
    this.me = me;
    this.next = '';
    this.status = new StatusLine();
    this.list = h('ol', { class: 'activity', 'aria-labelledby': 'activity-title' });
    this.empty = h('p', { class: 'empty', hidden: true }, t('user.activity.empty'));
    this.more = h('button', { type: 'button', class: 'more', hidden: true, onclick: () => this.load(true) }, t('user.activity.more'));
    this.el = h('section', { class: 'view', 'aria-labelledby': 'activity-title' },
      h('h2', { id: 'activity-title' }, t('user.activity.title')),
      this.status.el, this.list, this.empty, this.more);
  }

  start() { return this.load(false); }

  reload() { return this.load(false); }

  /** shown reloads the history each time its tab is chosen again. */
  shown() { return this.load(false); }

  async load(older) {
    const p = { limit: pageSize };
    if (older && this.next) p.cursor = this.next;
    this.list.setAttribute('aria-busy', 'true');
    try {
      const res = await this.socket.request('GetActivity', p, t('user.tab.activity'));
      if (!older) clear(this.list);
      for (const e of res.entries ?? []) this.list.append(this.item(e));
      this.next = res.next ?? '';
      this.more.hidden = !this.next;
      this.empty.hidden = this.list.children.length > 0;
    } catch (err) {
      if (unsupported(err)) {
        this.empty.hidden = false;
        this.empty.textContent = t('user.activity.unavailable');
      } else {
        this.status.error(t('user.activity.error', { error: err.message }));
      }
    } finally {
      this.list.removeAttribute('aria-busy');
    }
  }

  item(e) {
    return h('li', { class: `entry act-${e.action ?? 'other'}` },
      h('span', { class: 'sentence' }, sentence(e, this.me)),
      h('time', { datetime: e.at, title: dateTimeText(e.at) }, shortWhen(e.at)));
  }
}
