// The database backup in the admin's settings. The download stays a real
// link to GET /api/admin/backup, so the browser's download manager streams
// the file to disk; meanwhile the page polls GET /api/admin/backup/status
// and shows the backup's progress: the snapshot being made, the bytes sent,
// then saved or failed. A backup someone else started is shown the same way.
import { adminCall, me } from './api.js';
import { h, uid } from './dom.js';
import { t } from './i18n.js';

export const backupURL = '/api/admin/backup';
export const statusURL = '/api/admin/backup/status';
/** pollMS is how often the status is asked while a backup runs. */
export const pollMS = 500;
/** startWaitMS is how long a clicked backup may take to show up. */
export const startWaitMS = 15000;

const units = ['kB', 'MB', 'GB', 'TB'];

/** bytesText shows a byte count in decimal units: 950 B, 1.2 GB. */
export function bytesText(n) {
  let v = Number(n);
  if (!Number.isFinite(v) || v < 0) v = 0;
  if (v < 1000) return `${Math.round(v)} B`;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i += 1;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** percent is bytes of total as a whole percentage, 0 to 100. */
export function percent(bytes, total) {
  if (!(total > 0) || !(bytes > 0)) return 0;
  return Math.min(100, Math.floor((100 * bytes) / total));
}

/** running tells whether a status is of a backup still in progress. */
export function running(st) {
  return st?.phase === 'snapshot' || st?.phase === 'sending';
}

/** progressText describes a backup status; user is who looks at it. */
export function progressText(st, user) {
  const other = st.user && user && st.user !== user;
  switch (st.phase) {
    case 'snapshot': {
      const text = t('admin.backup.snapshot', { p: percent(st.bytes, st.total) });
      return other ? t('admin.backup.otherRunning', { user: st.user, text }) : text;
    }
    case 'sending': {
      const text = t('admin.backup.sending', { bytes: bytesText(st.bytes), total: bytesText(st.total) });
      return other ? t('admin.backup.otherRunning', { user: st.user, text }) : text;
    }
    case 'done':
      return t(other ? 'admin.backup.otherDone' : 'admin.backup.done', { user: st.user, file: st.file ?? '', size: bytesText(st.bytes) });
    case 'failed':
      return t(other ? 'admin.backup.otherFailed' : 'admin.backup.failed', { user: st.user, error: st.error || t('admin.backup.unknown') });
    default:
      return '';
  }
}

export class BackupView {
  constructor() {
    this.user = '';
    this.timer = 0; // the one poller, 0 when none runs
    this.lastID = 0; // the newest backup seen in the status
    this.armed = false; // the next click on the link is the download itself
    this.checking = false; // a click is asking for the status

    const progID = uid('backup-progress');
    const textID = uid('backup-text');
    this.link = h('a', {
      class: 'button backup-link', href: backupURL, download: '', onclick: (ev) => this.clicked(ev),
    }, t('admin.backup.link'));
    this.progress = h('progress', { id: progID, max: '100', 'aria-describedby': textID });
    this.text = h('p', { id: textID, class: 'backup-text', role: 'status', 'aria-live': 'polite' });
    this.note = h('p', { class: 'backup-note', role: 'alert', hidden: true });
    this.box = h('div', { class: 'backup-progress', hidden: true },
      h('label', { for: progID }, t('admin.backup.progress')), this.progress, this.text);
    this.el = h('div', { class: 'backup' },
      h('h2', null, t('admin.backup.title')),
      h('p', null, t('admin.backup.help')),
      h('p', null, this.link),
      this.note,
      this.box);
  }

  /** start learns who is signed in and shows a backup already running. */
  async start() {
    try {
      this.user = (await me())?.name ?? '';
    } catch { /* the names just are not compared */ }
    try {
      const st = await adminCall('GET', statusURL);
      this.lastID = st.id;
      if (running(st)) this.follow(st.id - 1);
    } catch { /* shown when a backup is clicked */ }
  }

  async clicked(ev) {
    if (this.armed) return; // the download itself: the browser saves it
    ev.preventDefault();
    if (this.timer || this.checking) {
      this.notice(t('admin.backup.wait'));
      return;
    }
    this.notice('');
    this.show(null, t('admin.backup.starting')); // the last backup's state goes
    let st = null;
    this.checking = true; // a second click meanwhile starts nothing
    try {
      st = await adminCall('GET', statusURL);
    } catch (err) {
      this.notice(t('admin.backup.noStatus', { error: err.message }));
    } finally {
      this.checking = false;
    }
    if (running(st)) {
      // The server would answer 503: show the running backup instead.
      this.lastID = st.id;
      this.notice(t('admin.backup.refused', { user: st.user || t('admin.backup.someone') }));
      this.show(st, progressText(st, this.user));
      this.follow(st.id - 1);
      return;
    }
    const base = st ? st.id : this.lastID;
    this.armed = true;
    try {
      this.link.click(); // a real navigation: the download manager takes it
    } finally {
      this.armed = false;
    }
    this.follow(base);
  }

  /**
   * follow polls the status until a backup newer than base has finished;
   * there is at most one poller.
   */
  follow(base) {
    if (this.timer) return;
    const since = Date.now();
    const tick = async () => {
      let st;
      try {
        st = await adminCall('GET', statusURL);
      } catch (err) {
        this.text.textContent = t('admin.backup.noProgress', { error: err.message });
        // Signed out or no longer an admin: asking again will not help.
        this.timer = err.status === 401 || err.status === 403 ? 0 : setTimeout(tick, pollMS * 2);
        return;
      }
      if (st.id <= base) {
        if (Date.now() - since > startWaitMS) {
          this.timer = 0;
          this.show(null, t('admin.backup.notStarted'));
          return;
        }
        this.timer = setTimeout(tick, pollMS);
        return;
      }
      this.lastID = st.id;
      this.show(st, progressText(st, this.user));
      if (running(st)) this.timer = setTimeout(tick, pollMS);
      else this.timer = 0;
    };
    this.timer = setTimeout(tick, 0);
  }

  /** notice shows (or with '' hides) a message next to the progress. */
  notice(text) {
    this.note.textContent = text;
    this.note.hidden = text === '';
  }

  /** show puts a status (or, with st null, an indefinite state) and text up. */
  show(st, text) {
    this.box.hidden = false;
    this.box.dataset.phase = st?.phase ?? 'starting';
    this.box.classList.toggle('error', st?.phase === 'failed');
    for (const k of ['id', 'bytes', 'total', 'file']) delete this.box.dataset[k];
    if (st && (st.phase === 'done' || st.phase === 'failed' || st.phase === 'sending' || st.phase === 'snapshot')) {
      this.progress.value = st.phase === 'done' ? 100 : percent(st.bytes, st.total);
      // The exact numbers, for tools and tests.
      this.box.dataset.id = String(st.id);
      this.box.dataset.bytes = String(st.bytes);
      this.box.dataset.total = String(st.total);
      if (st.file) this.box.dataset.file = st.file;
    } else {
      this.progress.removeAttribute('value'); // indeterminate
    }
    this.text.textContent = text;
  }
}
