// The in-page player: waveform from the recording's envelope on a canvas
// (click or arrow keys to seek), play/pause and a time display. Audio comes
// from /api/recordings/{id}/audio.wav, which the server serves with Range.
import { h } from './dom.js';
import { clock, dateTimeText, decodeBase64, partyText, callTime } from './format.js';
import { t } from './i18n.js';

const seekStep = 5; // seconds per arrow key

export class Player {
  constructor(onError) {
    this.onError = onError;
    this.onClose = () => {}; // (id) after the person closed the player: focus goes back to the row
    this.rec = null;
    this.envelope = new Uint8Array(0);
    this.raf = 0;
    this.audio = h('audio', { preload: 'auto', class: 'audio' });
    this.title = h('p', { class: 'player-title' });
    this.playButton = h('button', { type: 'button', class: 'play', 'aria-label': t('common.player.play'), onclick: () => this.toggle() }, '▶');
    this.time = h('span', { class: 'time', 'aria-live': 'off' }, '0:00 / 0:00');
    this.canvas = h('canvas', {
      class: 'wave', tabindex: '0', role: 'slider', 'aria-label': t('common.player.position'),
      'aria-valuemin': '0', 'aria-valuemax': '0', 'aria-valuenow': '0', 'aria-valuetext': '0:00',
      onclick: (ev) => this.seekClick(ev), onkeydown: (ev) => this.seekKey(ev),
    });
    this.closeButton = h('button', { type: 'button', class: 'close', 'aria-label': t('common.player.close'), onclick: () => this.close(true) }, '✕');
    this.el = h('section', { class: 'player', 'aria-label': t('common.player.label'), hidden: true, onkeydown: (ev) => { if (ev.key === 'Escape') this.close(true); } },
      h('div', { class: 'player-head' }, this.title, this.closeButton),
      h('div', { class: 'player-body' }, this.playButton, this.canvas, this.time),
      this.audio);
    for (const ev of ['timeupdate', 'durationchange', 'loadedmetadata', 'seeked']) {
      this.audio.addEventListener(ev, () => this.update());
    }
    this.audio.addEventListener('play', () => { this.update(); this.animate(); });
    this.audio.addEventListener('pause', () => this.update());
    this.audio.addEventListener('ended', () => this.update());
    this.audio.addEventListener('error', () => {
      if (this.rec && this.audio.getAttribute('src')) this.onError(t('common.player.error'), this.rec.id);
    });
    new ResizeObserver(() => this.draw()).observe(this.canvas);
  }

  /** open shows rec (detail view with envelope) and starts playing it. */
  open(rec) {
    this.rec = rec;
    this.envelope = decodeBase64(rec.envelope);
    this.title.textContent = `${dateTimeText(callTime(rec))} – ${partyText(rec)}`;
    this.el.hidden = false;
    this.audio.src = `/api/recordings/${rec.id}/audio.wav`;
    this.update();
    this.play();
    this.playButton.focus();
  }

  /** showing reports whether recording id is open. */
  showing(id) { return this.rec !== null && this.rec.id === id; }

  /** close stops and hides the player; focus=true sends the focus back to the row. */
  close(focus) {
    const id = this.rec?.id;
    this.audio.pause();
    this.audio.removeAttribute('src');
    this.audio.load();
    this.rec = null;
    this.el.hidden = true;
    if (focus && id !== undefined) this.onClose(id);
  }

  async play() {
    try {
      await this.audio.play();
    } catch (err) {
      if (err.name !== 'AbortError') this.onError(t('user.error.play', { error: err.message }), this.rec?.id);
    }
  }

  toggle() {
    if (!this.rec) return;
    if (this.audio.paused) this.play();
    else this.audio.pause();
  }

  duration() {
    const d = this.audio.duration;
    if (Number.isFinite(d) && d > 0) return d;
    return this.rec ? this.rec.duration_ms / 1000 : 0;
  }

  seekTo(t) {
    const d = this.duration();
    if (d <= 0) return;
    this.audio.currentTime = Math.min(Math.max(t, 0), d);
    this.update();
  }

  seekClick(ev) {
    const r = this.canvas.getBoundingClientRect();
    if (r.width <= 0) return;
    this.seekTo(((ev.clientX - r.left) / r.width) * this.duration());
  }

  seekKey(ev) {
    const pos = this.audio.currentTime;
    switch (ev.key) {
      case 'ArrowLeft': case 'ArrowDown': this.seekTo(pos - seekStep); break;
      case 'ArrowRight': case 'ArrowUp': this.seekTo(pos + seekStep); break;
      case 'PageDown': this.seekTo(pos - 6 * seekStep); break;
      case 'PageUp': this.seekTo(pos + 6 * seekStep); break;
      case 'Home': this.seekTo(0); break;
      case 'End': this.seekTo(this.duration()); break;
      case ' ': case 'Enter': this.toggle(); break;
      default: return;
    }
    ev.preventDefault();
  }

  update() {
    const playing = !this.audio.paused && !this.audio.ended;
    this.playButton.textContent = playing ? '❚❚' : '▶';
    this.playButton.setAttribute('aria-label', playing ? t('common.player.pause') : t('common.player.play'));
    const d = this.duration();
    const pos = this.audio.currentTime || 0;
    this.time.textContent = `${clock(pos)} / ${clock(d)}`;
    this.canvas.setAttribute('aria-valuemax', String(Math.round(d)));
    this.canvas.setAttribute('aria-valuenow', String(Math.round(pos)));
    this.canvas.setAttribute('aria-valuetext', t('common.player.at', { pos: clock(pos), total: clock(d) }));
    this.draw();
  }

  animate() {
    cancelAnimationFrame(this.raf);
    const step = () => {
      this.draw();
      if (!this.audio.paused && !this.audio.ended) this.raf = requestAnimationFrame(step);
    };
    this.raf = requestAnimationFrame(step);
  }

  /** draw paints the envelope: left channel up, right channel down. */
  draw() {
    const c = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(c.clientWidth * ratio));
    const hgt = Math.max(1, Math.round(c.clientHeight * ratio));
    if (c.width !== w) c.width = w;
    if (c.height !== hgt) c.height = hgt;
    const g = c.getContext('2d');
    if (!g) return;
    const style = getComputedStyle(c);
    const played = style.getPropertyValue('--played').trim() || '#1a5fb4';
    const rest = style.getPropertyValue('--unplayed').trim() || '#9a9a9a';
    g.clearRect(0, 0, w, hgt);
    const mid = hgt / 2;
    const points = Math.floor(this.envelope.length / 2);
    const d = this.duration();
    const px = d > 0 ? (this.audio.currentTime / d) * w : 0;
    if (points === 0) {
      g.fillStyle = rest;
      g.fillRect(0, mid - ratio / 2, w, ratio);
    } else {
      const bar = w / points;
      for (let i = 0; i < points; i += 1) {
        const x = i * bar;
        const up = Math.max(ratio, (this.envelope[2 * i] / 255) * (mid - ratio));
        const down = Math.max(ratio, (this.envelope[2 * i + 1] / 255) * (mid - ratio));
        g.fillStyle = x < px ? played : rest;
        g.fillRect(x, mid - up, Math.max(1, bar - 0.5), up + down);
      }
    }
    g.fillStyle = played;
    g.fillRect(Math.min(px, w - ratio), 0, 2 * ratio, hgt);
  }
}
