// A menu button (WAI-ARIA menu button pattern): one popup menu shared by
// every row of a list, opened beside the button that asked for it. Arrow
// keys move between the items, Escape and Tab close it, and the focus goes
// back to the button.
import { h, clear } from './dom.js';

export class PopupMenu {
  constructor(label) {
    this.el = h('div', { class: 'popup-menu', role: 'menu', 'aria-label': label, hidden: true, tabindex: '-1' });
    this.button = null;
    this.el.addEventListener('keydown', (ev) => this.key(ev));
    this.el.addEventListener('focusout', (ev) => {
      if (!this.el.hidden && ev.relatedTarget && !this.el.contains(ev.relatedTarget)) this.close(false);
    });
    document.addEventListener('pointerdown', (ev) => {
      if (!this.el.hidden && !this.el.contains(ev.target) && ev.target !== this.button && !this.button?.contains(ev.target)) this.close(false);
    });
  }

  items() { return [...this.el.querySelectorAll('[role=menuitem]')]; }

  /**
   * open shows items ({label, cls, href, download, danger, run}) beside
   * button; run is called after the menu closed.
   */
  open(button, items) {
    if (this.button === button && !this.el.hidden) { this.close(true); return; }
    this.close(false);
    this.button = button;
    clear(this.el);
    for (const it of items) {
      const attrs = {
        role: 'menuitem', tabindex: '-1', class: `menu-item ${it.cls ?? ''}${it.danger ? ' danger' : ''}`,
        onclick: (ev) => {
          if (!it.href) ev.preventDefault();
          this.close(!it.keepFocus);
          if (it.run) it.run();
        },
      };
      const el = it.href
        ? h('a', { ...attrs, href: it.href, download: it.download ?? '' }, it.label)
        : h('button', { ...attrs, type: 'button' }, it.label);
      this.el.append(el);
    }
    button.setAttribute('aria-expanded', 'true');
    this.el.hidden = false;
    const r = button.getBoundingClientRect();
    const menuH = this.el.offsetHeight;
    const menuW = this.el.offsetWidth;
    const below = r.bottom + menuH + 4 <= window.innerHeight;
    const top = (below ? r.bottom + 2 : r.top - menuH - 2) + window.scrollY;
    const left = Math.max(4, Math.min(r.right - menuW, window.innerWidth - menuW - 4)) + window.scrollX;
    this.el.style.top = `${Math.max(0, top)}px`;
    this.el.style.left = `${left}px`;
    this.items()[0]?.focus();
  }

  /** rebind moves an open menu to button, which took its button's place. */
  rebind(button) {
    if (this.el.hidden || !button) return;
    this.button = button;
    button.setAttribute('aria-expanded', 'true');
  }

  close(focusButton) {
    if (this.el.hidden) return;
    this.el.hidden = true;
    const b = this.button;
    b?.setAttribute('aria-expanded', 'false');
    if (focusButton && b?.isConnected) b.focus();
  }

  key(ev) {
    const items = this.items();
    const i = items.indexOf(document.activeElement);
    let j = -1;
    switch (ev.key) {
      case 'ArrowDown': j = (i + 1) % items.length; break;
      case 'ArrowUp': j = (i - 1 + items.length) % items.length; break;
      case 'Home': j = 0; break;
      case 'End': j = items.length - 1; break;
      case 'Escape': ev.preventDefault(); this.close(true); return;
      case 'Tab': this.close(true); ev.preventDefault(); return;
      default: return;
    }
    ev.preventDefault();
    items[j]?.focus();
  }
}
