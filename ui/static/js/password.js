// Choosing a password: the dialog of a user changing their own (current,
// new, repeated) and of an admin setting someone's (new, repeated).
import { h, uid } from './dom.js';
import { t } from './i18n.js';

/** minPasswordLength is the server's minimum (store.MinPasswordLen), in characters. */
export const minPasswordLength = 10;
const maxPasswordBytes = 72; // bcrypt's limit

/** passwordProblem says what is wrong with a new password and its repetition, or ''. */
export function passwordProblem(pw, repeat) {
  if ([...pw].length < minPasswordLength) return t('common.pw.short', { n: minPasswordLength });
  if (new TextEncoder().encode(pw).length > maxPasswordBytes) return t('common.pw.long', { n: maxPasswordBytes });
  if (pw !== repeat) return t('common.pw.differ');
  return '';
}

/**
 * PasswordDialog asks for a new password (and, withCurrent, the current
 * one). ask(title, text, submit) opens it; submit({old, new}) is awaited:
 * when it throws, its message shows in the dialog, which stays open.
 */
export class PasswordDialog {
  constructor(withCurrent, label) {
    const titleID = uid('pw-title');
    const field = (name, text, autocomplete) => {
      const id = uid('pw');
      const input = h('input', {
        id, name, type: 'password', autocomplete, required: true, maxlength: String(maxPasswordBytes),
      });
      return { input, el: h('div', { class: 'field' }, h('label', { for: id }, text), input) };
    };
    this.current = withCurrent ? field('old', t('common.pw.current'), 'current-password') : null;
    this.next = field('new', t('common.pw.new', { n: minPasswordLength }), 'new-password');
    this.repeat = field('repeat', t('common.pw.repeat'), 'new-password');
    this.title = h('h2', { id: titleID });
    this.text = h('p', { class: 'help' });
    this.error = h('p', { class: 'field-error', role: 'alert' });
    this.submitButton = h('button', { type: 'submit', class: 'primary' }, label);
    this.form = h('form', { class: 'settings', novalidate: true, onsubmit: (ev) => { ev.preventDefault(); this.send(); } },
      this.title, this.text, this.current?.el ?? null, this.next.el, this.repeat.el, this.error,
      h('div', { class: 'buttons' },
        h('button', { type: 'button', value: 'cancel', onclick: () => this.el.close() }, t('common.cancel')),
        this.submitButton));
    this.el = h('dialog', { class: 'confirm password-dialog', 'aria-labelledby': titleID }, this.form);
    this.submit = null;
  }

  ask(title, text, submit) {
    this.title.textContent = title;
    this.text.textContent = text;
    this.error.textContent = '';
    this.form.reset();
    this.submit = submit;
    this.el.showModal();
    (this.current?.input ?? this.next.input).focus();
  }

  async send() {
    const problem = (this.current && this.current.input.value === '')
      ? t('common.pw.enterCurrent')
      : passwordProblem(this.next.input.value, this.repeat.input.value);
    if (problem) {
      this.error.textContent = problem;
      return;
    }
    this.submitButton.disabled = true;
    try {
      await this.submit({ old: this.current?.input.value ?? '', new: this.next.input.value });
      this.form.reset();
      this.el.close();
    } catch (err) {
      this.error.textContent = err.message;
    } finally {
      this.submitButton.disabled = false;
    }
  }
}
