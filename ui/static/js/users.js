// The admin's user list and the form to add a user.
import { h, clear, uid, StatusLine } from './dom.js';
import { dateTimeText } from './format.js';

export class UsersView {
  constructor(socket) {
    this.socket = socket;
    this.status = new StatusLine();
    this.tbody = h('tbody');
    const f = (label, input) => {
      const id = uid('u');
      input.id = id;
      return h('div', { class: 'field' }, h('label', { for: id }, label), input);
    };
    this.name = h('input', { name: 'name', required: true, maxlength: '64', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off' });
    this.display = h('input', { name: 'display_name', maxlength: '128', autocomplete: 'off' });
    this.e164 = h('input', { name: 'e164', inputmode: 'tel', pattern: '\\+?[0-9]{1,20}', autocomplete: 'off' });
    this.role = h('select', { name: 'role' }, h('option', { value: 'user' }, 'user'), h('option', { value: 'admin' }, 'admin'));
    this.password = h('input', { name: 'password', type: 'password', required: true, minlength: '8', maxlength: '72', autocomplete: 'new-password' });
    this.form = h('form', { class: 'create-user', onsubmit: (ev) => { ev.preventDefault(); this.create(); } },
      f('User name', this.name), f('Display name', this.display), f('Number (E.164)', this.e164),
      f('Role', this.role), f('Password (8 or more characters)', this.password),
      h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Add user')));
    this.el = h('section', { class: 'view', 'aria-labelledby': 'users-title' },
      h('h2', { id: 'users-title' }, 'Users'), this.status.el,
      h('div', { class: 'table-wrap' }, h('table', { class: 'users' },
        h('thead', null, h('tr', null, ['Name', 'Display name', 'Number', 'Role', 'Created'].map((t) => h('th', { scope: 'col' }, t)))),
        this.tbody)),
      h('h2', null, 'Add a user'), this.form);
  }

  async start() {
    try {
      const res = await this.socket.request('ListUsers');
      clear(this.tbody);
      for (const u of res.users ?? []) {
        this.tbody.append(h('tr', null,
          h('td', { 'data-label': 'Name' }, u.name),
          h('td', { 'data-label': 'Display name' }, u.display_name ?? ''),
          h('td', { 'data-label': 'Number' }, u.e164 ?? ''),
          h('td', { 'data-label': 'Role' }, u.role),
          h('td', { 'data-label': 'Created' }, dateTimeText(u.created))));
      }
    } catch (err) {
      this.status.error(`Cannot load users: ${err.message}`);
    }
  }

  async create() {
    if (!this.form.reportValidity()) return;
    try {
      const res = await this.socket.request('CreateUser', {
        name: this.name.value.trim(), display_name: this.display.value.trim(), e164: this.e164.value.trim(),
        role: this.role.value, password: this.password.value,
      });
      this.form.reset();
      this.status.info(`User ${res.user.name} added.`);
      await this.start();
    } catch (err) {
      this.status.error(`Not added: ${err.message}`);
    }
  }
}
