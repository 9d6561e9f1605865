// The sign-in page: signs a person in and sends them to the app for their role.
import { login, me } from './api.js';

const appPath = /^\/([^/?#]+)\/recordings\/innovaphone-recordings(admin)?\.htm$/;

/** target picks the app page for user u, honouring a safe ?next=. */
function target(u) {
  const admin = u.role === 'admin';
  const next = new URLSearchParams(location.search).get('next') ?? '';
  const m = appPath.exec(next);
  let domain = m ? m[1] : encodeURIComponent(location.hostname || 'local');
  if (domain === '' || domain === '.' || domain === '..') domain = 'local';
  const wantsAdmin = m ? Boolean(m[2]) : admin;
  const page = wantsAdmin && admin ? 'innovaphone-recordingsadmin.htm' : 'innovaphone-recordings.htm';
  return `/${domain}/recordings/${page}`;
}

async function main() {
  const form = document.getElementById('signin');
  const msg = document.getElementById('signin-msg');
  const button = form.querySelector('button[type=submit]');
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
