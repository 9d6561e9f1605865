// Small DOM helpers. Everything that comes from the server or a person is
// put into the page as text (text nodes, textContent, attributes), never as
// markup.
import { t } from './i18n.js';

/**
 * h builds an element. attrs: "class", "text" (textContent), "on<event>"
 * (listeners), the properties value/checked/disabled/hidden/selected, and
 * any other key as an attribute (true = present, false/null = absent).
 * Children may be nodes, strings (as text), arrays, or null (skipped).
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'class') {
      el.className = v;
    } else if (k === 'text') {
      el.textContent = String(v);
    } else if (k === 'value' || k === 'checked' || k === 'disabled' || k === 'hidden' || k === 'selected') {
      el[k] = v;
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

/** append adds children (nodes, strings as text, arrays, null skipped). */
export function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
  return el;
}

/** clear removes all children of el. */
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

let idSeq = 0;
/** uid returns a page-unique id for label/aria links. */
export function uid(prefix) {
  idSeq += 1;
  return `${prefix}-${idSeq}`;
}

/**
 * StatusLine shows short messages: info politely, errors as alerts.
 */
export class StatusLine {
  constructor() {
    this.el = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
    this.timer = 0;
  }

  info(msg) { this.show(msg, false); }

  error(msg) { this.show(msg, true); }

  show(msg, isError) {
    clearTimeout(this.timer);
    this.el.textContent = msg;
    this.el.classList.toggle('error', isError);
    this.el.setAttribute('role', isError ? 'alert' : 'status');
    if (!isError && msg) this.timer = setTimeout(() => { this.el.textContent = ''; }, 6000);
  }

  clear() { this.show('', false); }
}

/**
 * ConfirmDialog asks before an action that cannot be undone. value names
 * the confirming button (its value attribute) and label is its text.
 * ask() opens it; answer() closes it by script. One close listener answers
 * every opening: a close event is queued, so that of an earlier closing can
 * arrive after the dialog was opened again, and it is ignored while the
 * dialog is open.
 */
export class ConfirmDialog {
  constructor(value, label) {
    const titleID = uid('confirm-title');
    this.value = value;
    this.title = h('h2', { id: titleID });
    this.text = h('p');
    this.el = h('dialog', { class: 'confirm', 'aria-labelledby': titleID },
      h('form', { method: 'dialog' },
        this.title, this.text,
        h('div', { class: 'buttons' },
          h('button', { value: 'cancel', autofocus: true }, t('common.cancel')),
          h('button', { value, class: 'danger' }, label))));
    this.pending = null; // { confirmed, cancelled } of the open question
    this.el.addEventListener('close', () => {
      const p = this.pending;
      if (this.el.open || !p) return;
      this.pending = null;
      if (this.el.returnValue === this.value) p.confirmed();
      else p.cancelled();
    });
  }

  /**
   * ask shows title and text (as text) and calls confirmed() or cancelled()
   * once the dialog closes.
   */
  ask(title, text, confirmed, cancelled, label) {
    this.title.textContent = title;
    if (label) this.el.querySelector(`button[value="${this.value}"]`).textContent = label;
    this.text.textContent = text;
    this.el.returnValue = '';
    this.pending = { confirmed, cancelled };
    this.el.showModal();
  }
}

/**
 * FieldError is a message next to the control that caused it: the control
 * gets aria-invalid and aria-describedby while the message shows.
 */
export class FieldError {
  constructor(control) {
    this.control = control;
    this.el = h('p', { class: 'field-error', id: uid('err'), role: 'alert', hidden: true });
  }

  show(msg) {
    this.el.textContent = msg;
    this.el.hidden = !msg;
    const c = this.control;
    if (!c) return;
    if (msg) {
      c.setAttribute('aria-describedby', this.el.id);
      if (c.matches('input, select, textarea')) c.setAttribute('aria-invalid', 'true');
    } else {
      if (c.getAttribute('aria-describedby') === this.el.id) c.removeAttribute('aria-describedby');
      c.removeAttribute('aria-invalid');
    }
  }

  clear() { this.show(''); }
}
