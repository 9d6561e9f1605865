// The sign-in page: signs a person in and sends them to the app for their role.
import { login, me } from './api.js';
import { target as appTarget } from './nextpage.js';
import { load, t } from './i18n.js';

/** translate sets the page's texts in the browser's language. */
async function translate() {
  let wanted = '';
  try { wanted = sessionStorage.getItem('recordings.lang') ?? ''; } catch { /* private mode */ }
  await load(wanted);
  document.title = t('common.signin.title');
  document.querySelector('.signin-box h1').textContent = t('common.recordings');
  document.querySelector('label[for=name]').textContent = t('common.signin.name');
  document.querySelector('label[for=password]').textContent = t('common.signin.password');
  document.querySelector('#signin button[type=submit]').textContent = t('common.signin.submit');
}

/** target picks the app page for user u, honouring a safe ?next=. */
function target(u) {
  const next = new URLSearchParams(location.search).get('next') ?? '';
  const path = appTarget(u, next, location.hostname);
  // Belt and braces: never leave this origin.
  return new URL(path, location.origin).origin === location.origin ? path : '/';
}

async function main() {
  const form = document.getElementById('signin');
  const msg = document.getElementById('signin-msg');
  const button = form.querySelector('button[type=submit]');
  await translate();
  try {
    const u = await me();
    if (u) {
      location.replace(target(u));
      return;
    }
  } catch (err) {
    msg.textContent = err.message;
  }
  form.hidden = false;
  document.getElementById('name').focus();
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    button.disabled = true;
    try {
      const u = await login(form.elements.name.value.trim(), form.elements.password.value);
      location.assign(target(u));
    } catch (err) {
      msg.textContent = err.message;
      form.elements.password.select();
    } finally {
      button.disabled = false;
    }
  });
}

main();
