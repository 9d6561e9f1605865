// The admin's PBX integration settings (GET/PUT /api/admin/pbx): what the
// administrator enters on the phones and gateways (the Record-to URL with
// the upload user and password) and on the PBX (the CDR address with the
// CDR user and password, the AppLogin password of the App objects), the
// networks whose devices may send without credentials, and the NoCDR grace
// time. The credentials are shown (hidden until asked for) so that they can
// be copied; they can be changed, not cleared. Settings given when the
// service started (environment) are shown read-only. The instance password
// is shown once: a banner holds a generated or newly set one until an
// administrator confirms having copied it (POST
// /api/admin/pbx/instance-password/seen); then the field only says that it
// is set, and a new one can be entered or generated (shown once again).
import { adminCall } from './api.js';
import { h, uid, StatusLine } from './dom.js';
import { t } from './i18n.js';

/** maxGraceSeconds is the server's limit for nocdr_grace_seconds (7 days). */
export const maxGraceSeconds = 7 * 24 * 3600;
/** maxCredentialBytes is the server's limit for the users and passwords. */
export const maxCredentialBytes = 256;
/** maxNetworks is the server's limit of anonymous networks. */
export const maxNetworks = 64;
const defaultGraceSeconds = 15 * 60;

/**
 * graceSeconds parses the grace field (minutes, decimals allowed) into
 * whole seconds; NaN when it is not a number of minutes.
 */
export function graceSeconds(text) {
  const v = String(text).trim();
  if (!/^\d+(\.\d+)?$/.test(v)) return NaN;
  return Math.round(Number(v) * 60);
}

/** graceError checks the grace field's text; '' when valid. */
export function graceError(text) {
  const s = graceSeconds(text);
  if (Number.isNaN(s)) return t('admin.pbxs.graceNumber');
  if (s > maxGraceSeconds) return t('admin.pbxs.graceMax', { n: maxGraceSeconds / 60 });
  return '';
}

/** minutesText shows a number of seconds as minutes for the grace field. */
export function minutesText(seconds) {
  return String(Number((seconds / 60).toFixed(4)));
}

/**
 * credentialError checks a user name or a password as the server does;
 * '' when valid. A password is required (it cannot be cleared); a user
 * name may be empty.
 */
export function credentialError(value, isUser) {
  const v = String(value);
  if (!isUser && v === '') return t('admin.pbxs.pwRequired');
  if (new TextEncoder().encode(v).length > maxCredentialBytes) return t('admin.pbxs.maxBytes', { n: maxCredentialBytes });
  if (/[\u0000-\u001f\u007f]/.test(v)) return t('admin.pbxs.control');
  if (isUser && v.includes(':')) return t('admin.pbxs.colon');
  return '';
}

/** networkList splits the networks field into its entries. */
export function networkList(text) {
  return String(text).split(/[\s,;]+/).filter((s) => s !== '');
}

/**
 * networksError checks the networks field roughly (the server checks
 * exactly); '' when valid.
 */
export function networksError(text) {
  const list = networkList(text);
  if (list.length > maxNetworks) return t('admin.pbxs.maxNetworks', { n: maxNetworks });
  const bad = list.find((n) => !/^[0-9A-Fa-f:.]+(\/\d{1,3})?$/.test(n) || !/[.:]/.test(n));
  if (bad) return t('admin.pbxs.badNetwork', { bad });
  return '';
}

/**
 * generatePassword makes a password like the server's generated ones: 26
 * characters of A–Z and 2–7 (130 random bits), safe in a URL.
 */
export function generatePassword() {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = new Uint8Array(26);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => alphabet[b % 32]).join('');
}

/** appBase is origin + /{domain}/recordings of the page's location. */
function appBase(loc) {
  const m = /^\/([^/]+)\/recordings\//.exec(loc.pathname);
  const domain = m ? m[1] : encodeURIComponent(loc.hostname || 'local');
  return `${loc.origin}/${domain}/recordings`;
}

/**
 * cdrURL is the address the PBX's CDR interface posts to for the domain the
 * admin app was opened for (/{domain}/recordings/…).
 */
export function cdrURL(loc) {
  return `${appBase(loc)}/cdr`;
}

/**
 * recordToURL is the Record-to URL of the phones and gateways for the
 * domain the admin app was opened for: they add the file name. With user
 * or password, the credentials are put in the URL (percent-encoded); with
 * mask, the password is shown as dots.
 */
export function recordToURL(loc, user, password, mask) {
  const plain = `${appBase(loc)}/Files/`;
  if (!user && !password) return plain;
  const pw = mask ? '\u2022'.repeat(8) : encodeURIComponent(password ?? '');
  return plain.replace(/^(https?:\/\/)/, `$1${encodeURIComponent(user ?? '')}:${pw}@`);
}

export class PBXSettingsView {
  constructor() {
    this.status = new StatusLine();
    this.loaded = null;
    this.fields = [];

    this.recordTo = this.urlField('pbx-record-to', 'record-to-url', t('admin.pbxs.recordTo'));
    this.recordToAuth = this.urlField('pbx-record-to-auth', 'record-to-url-auth', t('admin.pbxs.recordToAuth'));
    this.cdrAddr = this.urlField('pbx-cdr-url', 'cdr-url', t('admin.pbxs.cdrAddr'));
    this.cdrAuth = h('p', { class: 'cdr-auth', 'aria-live': 'polite' });

    this.uploadUser = this.textField('upload_user', t('admin.pbxs.uploadUser'), t('admin.pbxs.uploadUserHelp'));
    this.uploadPW = this.secretField('upload_password', t('admin.pbxs.uploadPW'), t('admin.pbxs.uploadPWNoun'));
    this.cdrUser = this.textField('cdr_user', t('admin.pbxs.cdrUser'), t('admin.pbxs.cdrUserHelp'));
    this.cdrPW = this.secretField('cdr_password', t('admin.pbxs.cdrPW'), t('admin.pbxs.cdrPW'));
    this.appPW = this.secretField('instance_password', t('admin.pbxs.appPW'), t('admin.pbxs.appPWNoun'));
    // The instance password is never filled in: empty keeps it.
    this.appPW.validate = (v) => (v === '' ? '' : credentialError(v, false));
    this.appPW.el.querySelector('.help').textContent = t('admin.pbxs.appPWHelp');
    this.appPWShown = h('code', { class: 'instance-password-value' });
    this.appPWBanner = h('div', { class: 'banner instance-password-banner', role: 'status', hidden: true },
      h('p', null, t('admin.pbxs.appPWOnce'), ' ', this.appPWShown),
      h('p', null, t('admin.pbxs.appPWOnceHelp')),
      h('div', { class: 'buttons' },
        h('button', {
          type: 'button', class: 'act copy-instance-password-btn',
          onclick: () => this.copy(this.appPW.input, t('admin.pbxs.appPW'), this.appPWShown.textContent),
        }, t('admin.pbxs.copy')),
        h('button', { type: 'button', class: 'primary ack-instance-password-btn', onclick: () => this.ackAppPW() },
          t('admin.pbxs.appPWAck'))));
    this.domain = this.textField('domain', t('admin.pbxs.domain'), t('admin.pbxs.domainHelp'));
    for (const f of [this.uploadUser, this.uploadPW]) f.input.addEventListener('input', () => this.showURLs());

    const netID = uid('pbx-networks');
    const netHelp = uid('pbx-networks-help');
    const netErr = uid('pbx-networks-err');
    this.networks = {
      name: 'anonymous_networks',
      input: h('input', {
        id: netID, name: 'anonymous_networks', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off',
        placeholder: t('admin.pbxs.netPlaceholder'), 'aria-describedby': `${netHelp} ${netErr}`,
        oninput: () => this.check(this.networks, false),
      }),
      err: h('p', { id: netErr, class: 'field-error', 'aria-live': 'polite' }),
      fixed: h('p', { class: 'help fixed-note', hidden: true }),
      validate: (v) => networksError(v),
    };
    this.networks.el = h('div', { class: 'field' }, h('label', { for: netID }, t('admin.pbxs.networks')),
      this.networks.input,
      h('p', { id: netHelp, class: 'help' },
        t('admin.pbxs.networksHelp')),
      this.networks.fixed, this.networks.err);

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
    this.fields.push(this.uploadUser, this.uploadPW, this.cdrUser, this.cdrPW, this.appPW, this.domain, this.networks, this.grace);

    this.form = h('form', { class: 'settings pbx-settings', novalidate: true, onsubmit: (ev) => { ev.preventDefault(); this.save(); } },
      h('fieldset', { class: 'group' }, h('legend', null, t('admin.pbxs.phones')),
        h('p', { class: 'help' },
          t('admin.pbxs.phonesHelp')),
        this.recordTo.el, this.recordToAuth.el, this.uploadUser.el, this.uploadPW.el),
      h('fieldset', { class: 'group' }, h('legend', null, t('admin.pbxs.cdr')),
        h('p', { class: 'help' },
          t('admin.pbxs.cdrHelp')),
        this.cdrAddr.el, this.cdrAuth, this.cdrUser.el, this.cdrPW.el),
      h('fieldset', { class: 'group' }, h('legend', null, t('admin.pbxs.devices')), this.networks.el),
      h('fieldset', { class: 'group' }, h('legend', null, t('admin.pbxs.app')),
        h('p', { class: 'help' },
          t('admin.pbxs.appHelp')),
        this.appPW.el, this.domain.el),
      h('fieldset', { class: 'group' }, h('legend', null, t('admin.pbxs.nocdr')),
        h('div', { class: 'field' },
          h('label', { for: graceID }, t('admin.pbxs.grace')),
          this.grace.input, this.grace.help, this.grace.err)),
      h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary save-pbx-btn' }, t('admin.pbxs.save'))));

    this.el = h('section', { class: 'pbx-section', 'aria-labelledby': 'pbx-title' },
      h('h2', { id: 'pbx-title' }, t('admin.pbxs.title')), this.status.el, this.appPWBanner, this.form);
    this.showURLs();
  }

  // urlField: a read-only address with a copy button (which copies
  // f.copyValue when set: the address with the password shown as dots).
  urlField(idPrefix, cls, label) {
    const id = uid(idPrefix);
    const f = {
      input: h('input', {
        id, class: `url-value ${cls}`, readonly: true, spellcheck: 'false', onfocus: () => f.input.select(),
      }),
      copyValue: null,
    };
    const copy = h('button', {
      type: 'button', class: `act copy-btn copy-${cls}`, 'aria-label': t('admin.pbxs.copyOf', { what: label.toLowerCase() }),
      onclick: () => this.copy(f.input, label, f.copyValue),
    }, t('admin.pbxs.copy'));
    f.el = h('div', { class: 'field' }, h('label', { for: id }, label), h('span', { class: 'inline-edit url-line' }, f.input, copy));
    return f;
  }

  textField(name, label, help) {
    const id = uid(`pbx-${name}`);
    const helpID = `${id}-help`;
    const errID = `${id}-err`;
    const f = {
      name,
      input: h('input', {
        id, name, maxlength: String(maxCredentialBytes), autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off',
        'aria-describedby': `${helpID} ${errID}`, oninput: () => this.check(f, false),
      }),
      err: h('p', { id: errID, class: 'field-error', 'aria-live': 'polite' }),
      fixed: h('p', { class: 'help fixed-note', hidden: true }),
      validate: (v) => credentialError(v.trim(), true),
    };
    f.el = h('div', { class: 'field' }, h('label', { for: id }, label), f.input,
      h('p', { id: helpID, class: 'help' }, help), f.fixed, f.err);
    return f;
  }

  // secretField: the password, hidden until shown, with Show, Copy and
  // Generate.
  secretField(name, label, noun) {
    const id = uid(`pbx-${name}`);
    const helpID = `${id}-help`;
    const errID = `${id}-err`;
    const f = {
      name,
      label,
      input: h('input', {
        id, name, type: 'password', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off',
        maxlength: String(maxCredentialBytes), 'aria-describedby': `${helpID} ${errID}`,
        oninput: () => this.check(f, false),
      }),
      err: h('p', { id: errID, class: 'field-error', 'aria-live': 'polite' }),
      fixed: h('p', { class: 'help fixed-note', hidden: true }),
      validate: (v) => credentialError(v, false),
    };
    f.show = h('button', {
      type: 'button', class: 'act show-btn', 'aria-pressed': 'false', 'aria-label': t('admin.pbxs.showOf', { what: noun }),
      onclick: () => this.toggleShown(f),
    }, t('admin.pbxs.show'));
    f.copy = h('button', {
      type: 'button', class: 'act copy-btn', 'aria-label': t('admin.pbxs.copyOf', { what: noun }), onclick: () => this.copy(f.input, label),
    }, t('admin.pbxs.copy'));
    f.generate = h('button', {
      type: 'button', class: 'act generate-btn', 'aria-label': t('admin.pbxs.generateOf', { what: noun }),
      onclick: () => {
        f.input.value = generatePassword();
        this.check(f, false);
        this.showURLs();
        this.status.info(t('admin.pbxs.generated', { what: noun }));
      },
    }, t('admin.pbxs.generate'));
    f.el = h('div', { class: `field secret secret-${name}` }, h('label', { for: id }, label),
      h('span', { class: 'inline-edit secret-line' }, f.input, f.show, f.copy, f.generate),
      h('p', { id: helpID, class: 'help' }, t('admin.pbxs.changeHelp')), f.fixed, f.err);
    return f;
  }

  toggleShown(f) {
    const shown = f.input.type === 'password';
    f.input.type = shown ? 'text' : 'password';
    f.show.textContent = shown ? t('admin.pbxs.hide') : t('admin.pbxs.show');
    f.show.setAttribute('aria-pressed', shown ? 'true' : 'false');
    this.showURLs();
  }

  async start() {
    try {
      this.fill(await adminCall('GET', '/api/admin/pbx'));
    } catch (err) {
      this.status.error(t('admin.pbxs.loadError', { error: err.message }));
    }
  }

  // fill shows the server's settings in every field.
  fill(p) {
    this.loaded = p;
    const fixed = p.fixed ?? {};
    for (const f of [this.uploadUser, this.uploadPW, this.cdrUser, this.cdrPW, this.domain]) {
      f.input.value = p[f.name] ?? '';
    }
    this.showAppPW(p);
    this.networks.input.value = (p.anonymous_networks ?? []).join(', ');
    for (const f of [this.uploadUser, this.uploadPW, this.cdrUser, this.cdrPW, this.appPW, this.domain, this.networks]) {
      const by = fixed[f.name];
      f.input.readOnly = !!by;
      if (f.generate) f.generate.hidden = !!by;
      f.fixed.hidden = !by;
      f.fixed.textContent = by ? t('admin.pbxs.fixed', { by }) : '';
    }
    const secs = p.nocdr_grace_seconds ?? defaultGraceSeconds;
    this.grace.input.value = minutesText(secs);
    this.grace.help.textContent = `${t('admin.pbxs.graceHelp', { n: maxGraceSeconds / 60 })} `
      + t(p.nocdr_grace_configured ? 'admin.pbxs.graceNow' : 'admin.pbxs.graceDefault', { m: minutesText(secs) });
    for (const f of this.fields) {
      f.err.textContent = '';
      f.input.setAttribute('aria-invalid', 'false');
    }
    this.showURLs();
    const nets = p.anonymous_networks ?? [];
    this.cdrAuth.textContent = nets.length ? t('admin.pbxs.cdrAuthNets', { nets: nets.join(', ') }) : t('admin.pbxs.cdrAuth');
  }

  // showURLs shows the addresses to enter on the phones and the PBX; the
  // upload password in the Record-to URL stays dots while its field hides it.
  showURLs() {
    const user = this.uploadUser.input.value.trim();
    const pw = this.uploadPW.input.value;
    this.recordTo.input.value = recordToURL(location);
    this.recordToAuth.copyValue = recordToURL(location, user, pw);
    this.recordToAuth.input.value = recordToURL(location, user, pw, this.uploadPW.input.type === 'password');
    this.cdrAddr.input.value = cdrURL(location);
  }

  check(f, focus) {
    const msg = f.validate(f.input.value);
    f.err.textContent = msg;
    f.input.setAttribute('aria-invalid', msg ? 'true' : 'false');
    if (msg && focus) f.input.focus();
    return msg === '';
  }

  async copy(input, label, value) {
    try {
      await navigator.clipboard.writeText(value ?? input.value);
      this.status.info(t('admin.pbxs.copied', { what: label }));
    } catch {
      if (value && value !== input.value) {
        this.status.error(t('admin.pbxs.copyDenied'));
        return;
      }
      input.focus();
      input.select();
      this.status.info(t('admin.pbxs.selected'));
    }
  }

  // showAppPW empties the instance password's field (saying whether one is
  // set) and shows the banner while the server shows the password.
  showAppPW(p) {
    const f = this.appPW;
    f.input.value = '';
    f.input.placeholder = p.instance_password_set ? t('admin.pbxs.appPWIsSet') : t('admin.pbxs.appPWNotSet');
    const shown = !!p.instance_password && !!p.instance_password_token;
    this.appPWShown.textContent = shown ? p.instance_password : '';
    this.appPWToken = shown ? p.instance_password_token : '';
    this.appPWBanner.hidden = !shown;
  }

  // ackAppPW tells the server that the password shown has been copied:
  // it is not shown again.
  async ackAppPW() {
    try {
      this.fill(await adminCall('POST', '/api/admin/pbx/instance-password/seen', { token: this.appPWToken }));
      this.status.info(this.appPWBanner.hidden ? t('admin.pbxs.appPWHidden') : t('admin.pbxs.appPWNewer'));
    } catch (err) {
      this.status.error(t('admin.notSaved', { error: err.message }));
    }
  }

  async save() {
    let firstBad = null;
    for (const f of this.fields) {
      if (f.input.readOnly) continue;
      if (!this.check(f, false) && !firstBad) firstBad = f;
    }
    if (firstBad) {
      firstBad.input.focus();
      this.status.error(t('admin.pbxs.fix'));
      return;
    }
    const loaded = this.loaded ?? {};
    const body = {};
    for (const f of [this.uploadUser, this.cdrUser, this.domain]) {
      const v = f.input.value.trim();
      if (!f.input.readOnly && v !== (loaded[f.name] ?? '')) body[f.name] = v;
    }
    for (const f of [this.uploadPW, this.cdrPW]) {
      if (!f.input.readOnly && f.input.value !== (loaded[f.name] ?? '')) body[f.name] = f.input.value;
    }
    if (!this.appPW.input.readOnly && this.appPW.input.value !== '') body.instance_password = this.appPW.input.value;
    if (!this.networks.input.readOnly) {
      const nets = networkList(this.networks.input.value);
      if (nets.join(',') !== (loaded.anonymous_networks ?? []).join(',')) body.anonymous_networks = nets;
    }
    const secs = graceSeconds(this.grace.input.value);
    if (secs !== loaded.nocdr_grace_seconds) body.nocdr_grace_seconds = secs;
    if (Object.keys(body).length === 0) {
      this.status.info(t('admin.pbxs.nothing'));
      return;
    }
    try {
      this.fill(await adminCall('PUT', '/api/admin/pbx', body));
      this.status.info(t('admin.pbxs.saved'));
    } catch (err) {
      this.status.error(t('admin.notSaved', { error: err.message }));
    }
  }
}
