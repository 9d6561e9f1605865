// The admin's PBX integration settings (GET/PUT /api/admin/pbx): the
// credentials the PBX's CDR interface posts with, the AppLogin password of
// the innovaphone App objects, and the NoCDR grace time. Passwords are
// write-only: the page shows whether one is set, never its text.
import { adminCall } from './api.js';
import { h, uid, StatusLine, ConfirmDialog } from './dom.js';

/** maxGraceSeconds is the server's limit for nocdr_grace_seconds (7 days). */
export const maxGraceSeconds = 7 * 24 * 3600;
/** maxCredentialBytes is the server's limit for the user and passwords. */
export const maxCredentialBytes = 256;
const defaultGraceSeconds = 15 * 60;

/**
 * graceSeconds parses the grace field (minutes, decimals allowed) into
 * whole seconds; NaN when it is not a number of minutes.
 */
export function graceSeconds(text) {
  const t = String(text).trim();
  if (!/^\d+(\.\d+)?$/.test(t)) return NaN;
  return Math.round(Number(t) * 60);
}

/** graceError checks the grace field's text; '' when valid. */
export function graceError(text) {
  const s = graceSeconds(text);
  if (Number.isNaN(s)) return 'Enter a number of minutes, e.g. 15.';
  if (s > maxGraceSeconds) return `At most ${maxGraceSeconds / 60} minutes (7 days).`;
  return '';
}

/** minutesText shows a number of seconds as minutes for the grace field. */
export function minutesText(seconds) {
  return String(Number((seconds / 60).toFixed(4)));
}

/**
 * credentialError checks a CDR user name or a password as the server does;
 * '' when valid. An empty value is valid (it clears or keeps the setting).
 */
export function credentialError(value, isUser) {
  const v = String(value);
  if (new TextEncoder().encode(v).length > maxCredentialBytes) return `At most ${maxCredentialBytes} bytes.`;
  if (/[\u0000-\u001f\u007f]/.test(v)) return 'No control characters or line breaks.';
  if (isUser && v.includes(':')) return 'A user name cannot contain ":" (HTTP Basic).';
  return '';
}

/**
 * cdrURL is the address the PBX's CDR interface posts to for the domain the
 * admin app was opened for (/{domain}/recordings/…).
 */
export function cdrURL(loc) {
  const m = /^\/([^/]+)\/recordings\//.exec(loc.pathname);
  const domain = m ? m[1] : encodeURIComponent(loc.hostname || 'local');
  return `${loc.origin}/${domain}/recordings/cdr`;
}

export class PBXSettingsView {
  constructor() {
    this.status = new StatusLine();
    this.loaded = null;
    this.fields = [];

    const urlID = uid('pbx-cdr-url');
    this.url = h('input', {
      id: urlID, class: 'cdr-url', readonly: true, value: cdrURL(location), spellcheck: 'false',
      onfocus: () => this.url.select(),
    });
    const copy = h('button', { type: 'button', class: 'act copy-url-btn', onclick: () => this.copyURL() }, 'Copy');
    this.cdrAuth = h('p', { class: 'cdr-auth', 'aria-live': 'polite' });

    this.user = this.textField('cdr_user', 'CDR user', 'Empty, together with an empty password: CDRs are accepted without authentication.', true);
    this.cdrPW = this.secretField('cdr_password', 'CDR password', 'CDR password');
    this.appPW = this.secretField('instance_password', 'Instance password', 'instance password');

    const graceID = uid('pbx-grace');
    const graceHelp = uid('pbx-grace-help');
    const graceErr = uid('pbx-grace-err');
    this.grace = {
      input: h('input', {
        id: graceID, name: 'nocdr_grace_minutes', type: 'number', min: '0', max: String(maxGraceSeconds / 60),
        step: 'any', inputmode: 'decimal', 'aria-describedby': `${graceHelp} ${graceErr}`,
        oninput: () => this.check(this.grace, false),
      }),
      help: h('p', { id: graceHelp, class: 'help grace-help' }),
      err: h('p', { id: graceErr, class: 'field-error', 'aria-live': 'polite' }),
      validate: (v) => graceError(v),
    };
    this.fields.push(this.user, this.cdrPW, this.appPW, this.grace);

    this.dialog = new ConfirmDialog('clear', 'Clear password');

    this.form = h('form', { class: 'settings pbx-settings', novalidate: true, onsubmit: (ev) => { ev.preventDefault(); this.save(); } },
      h('fieldset', { class: 'group' }, h('legend', null, 'CDR interface'),
        h('p', { class: 'help' },
          'Set the PBX\u2019s CDR interface (CDR0 or CDR1) to send its records by HTTP to this address, with the user and password below (HTTP Basic).'),
        h('div', { class: 'field' }, h('label', { for: urlID }, 'CDR address for this domain'),
          h('span', { class: 'inline-edit url-line' }, this.url, copy)),
        this.cdrAuth,
        this.user.el, this.cdrPW.el),
      h('fieldset', { class: 'group' }, h('legend', null, 'App sign-in (AppLogin)'),
        h('p', { class: 'help' },
          'The password of this service\u2019s App objects in the PBX (the same for all of them). The PBX signs its users in to the apps with it.'),
        this.appPW.el),
      h('fieldset', { class: 'group' }, h('legend', null, 'Recordings without CDR'),
        h('div', { class: 'field' },
          h('label', { for: graceID }, 'NoCDR grace time (minutes)'),
          this.grace.input, this.grace.help, this.grace.err)),
      h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary save-pbx-btn' }, 'Save PBX settings')));

    this.el = h('section', { class: 'pbx-section', 'aria-labelledby': 'pbx-title' },
      h('h2', { id: 'pbx-title' }, 'PBX integration'), this.status.el, this.form, this.dialog.el);
  }

  textField(name, label, help, isUser) {
    const id = uid(`pbx-${name}`);
    const helpID = `${id}-help`;
    const errID = `${id}-err`;
    const f = {
      input: h('input', {
        id, name, maxlength: String(maxCredentialBytes), autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off',
        'aria-describedby': `${helpID} ${errID}`, oninput: () => this.check(f, false),
      }),
      err: h('p', { id: errID, class: 'field-error', 'aria-live': 'polite' }),
      validate: (v) => credentialError(v.trim(), isUser),
    };
    f.el = h('div', { class: 'field' }, h('label', { for: id }, label), f.input,
      h('p', { id: helpID, class: 'help' }, help), f.err);
    return f;
  }

  // secretField: the state ("set"/"not set") with a clear action, and an
  // empty field for a new password.
  secretField(name, label, noun) {
    const id = uid(`pbx-${name}`);
    const stateID = `${id}-state`;
    const helpID = `${id}-help`;
    const errID = `${id}-err`;
    const f = {
      name,
      label,
      noun,
      state: h('strong', { class: 'secret-state' }),
      input: h('input', {
        id, name, type: 'password', autocomplete: 'new-password', spellcheck: 'false', autocapitalize: 'off',
        'aria-describedby': `${stateID} ${helpID} ${errID}`, oninput: () => this.check(f, false),
      }),
      err: h('p', { id: errID, class: 'field-error', 'aria-live': 'polite' }),
      validate: (v) => credentialError(v, false),
    };
    f.clear = h('button', {
      type: 'button', class: 'act danger clear-btn', hidden: true, 'aria-label': `Clear the ${noun}`,
      onclick: () => this.confirmClear(f),
    }, 'Clear');
    f.el = h('div', { class: `field secret secret-${name}` },
      h('p', { class: 'secret-line' }, h('span', { id: stateID }, `${label}: `, f.state), f.clear),
      h('label', { for: id }, `New ${noun}`), f.input,
      h('p', { id: helpID, class: 'help' }, 'Leave empty to keep the current one. It is never shown again.'), f.err);
    return f;
  }

  async start() {
    try {
      this.fill(await adminCall('GET', '/api/admin/pbx'));
    } catch (err) {
      this.status.error(`Cannot load the PBX settings: ${err.message}`);
    }
  }

  // fill shows the server's settings in every field.
  fill(p) {
    this.showState(p);
    this.user.input.value = p.cdr_user ?? '';
    this.cdrPW.input.value = '';
    this.appPW.input.value = '';
    const secs = p.nocdr_grace_seconds ?? defaultGraceSeconds;
    this.grace.input.value = minutesText(secs);
    this.grace.help.textContent = `How long a new recording waits for its CDR before it is marked NoCDR: 0 to ${maxGraceSeconds / 60} minutes (7 days). `
      + (p.nocdr_grace_configured ? `Now ${minutesText(secs)} minutes.` : `Now the default, ${minutesText(secs)} minutes.`);
    for (const f of this.fields) {
      f.err.textContent = '';
      f.input.setAttribute('aria-invalid', 'false');
    }
  }

  // showState shows which passwords are set and what the CDR interface
  // needs, leaving the fields alone.
  showState(p) {
    this.loaded = p;
    for (const [f, set] of [[this.cdrPW, p.cdr_password_set], [this.appPW, p.instance_password_set]]) {
      f.state.textContent = set ? 'set' : 'not set';
      f.state.classList.toggle('is-set', !!set);
      f.clear.hidden = !set;
    }
    if (!p.cdr_user && !p.cdr_password_set) {
      this.cdrAuth.textContent = 'CDRs are accepted from anyone who can reach this address: no user or password is set.';
      this.cdrAuth.className = 'cdr-auth warn';
    } else {
      let need = 'this user and password';
      if (!p.cdr_password_set) need = 'this user and an empty password';
      else if (!p.cdr_user) need = 'this password and an empty user name';
      this.cdrAuth.textContent = `CDRs are accepted only with ${need} (HTTP Basic).`;
      this.cdrAuth.className = 'cdr-auth';
    }
  }

  check(f, focus) {
    const msg = f.validate(f.input.value);
    f.err.textContent = msg;
    f.input.setAttribute('aria-invalid', msg ? 'true' : 'false');
    if (msg && focus) f.input.focus();
    return msg === '';
  }

  async copyURL() {
    try {
      await navigator.clipboard.writeText(this.url.value);
      this.status.info('CDR address copied.');
    } catch {
      this.url.focus();
      this.url.select();
      this.status.info('The address is selected: copy it with Ctrl+C (or \u2318C).');
    }
  }

  async save() {
    let firstBad = null;
    for (const f of this.fields) {
      if (!this.check(f, false) && !firstBad) firstBad = f;
    }
    if (firstBad) {
      firstBad.input.focus();
      this.status.error('Not saved: please correct the marked field.');
      return;
    }
    const loaded = this.loaded ?? {};
    const body = {};
    const user = this.user.input.value.trim();
    if (user !== (loaded.cdr_user ?? '')) body.cdr_user = user;
    if (this.cdrPW.input.value !== '') body.cdr_password = this.cdrPW.input.value;
    if (this.appPW.input.value !== '') body.instance_password = this.appPW.input.value;
    const secs = graceSeconds(this.grace.input.value);
    if (secs !== loaded.nocdr_grace_seconds) body.nocdr_grace_seconds = secs;
    if (Object.keys(body).length === 0) {
      this.status.info('Nothing changed.');
      return;
    }
    try {
      this.fill(await adminCall('PUT', '/api/admin/pbx', body));
      this.status.info('PBX settings saved.');
    } catch (err) {
      this.status.error(`Not saved: ${err.message}`);
    }
  }

  confirmClear(f) {
    this.dialog.ask(`Clear the ${f.noun}?`, f.name === 'cdr_password'
      ? 'The PBX\u2019s CDRs will then be accepted without a password (and without any authentication if no CDR user is set).'
      : 'App sign-ins from the PBX will fail until a new instance password is set here and in the App objects.',
    () => this.clearPassword(f), () => f.clear.focus());
  }

  async clearPassword(f) {
    try {
      this.showState(await adminCall('PUT', '/api/admin/pbx', { [f.name]: '' }));
      f.input.value = '';
      this.status.info(`${f.label} cleared.`);
      f.input.focus();
    } catch (err) {
      this.status.error(`Not cleared: ${err.message}`);
      f.clear.focus();
    }
  }
}
