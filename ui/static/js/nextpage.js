// Where the sign-in page sends a person: their app, or the app page named
// by ?next= when that is a page of this service. No DOM, so that it can be
// tested on its own (ui/nextpage_test.go).

const appPath = /^\/([^/?#\\]+)\/recordings\/innovaphone-recordings(admin)?\.htm$/;

// Control characters (browsers drop tabs and newlines from URLs: "/\t/host"
// would become "//host") and backslashes (read as "/").
const unsafeChar = /[\u0000-\u001f\u007f\\]/;

/**
 * sameOriginPath tells whether p — a ?next= value, decoded once by
 * URLSearchParams — is a path on this origin: "/" followed by a character
 * other than "/" or "\", with no control characters or backslashes, also
 * once percent-encoding is undone.
 */
export function sameOriginPath(p) {
  if (typeof p !== 'string') return false;
  let decoded;
  try {
    decoded = decodeURIComponent(p);
  } catch {
    return false; // malformed escapes
  }
  return [p, decoded].every((s) => /^\/[^/\\]/.test(s) && !unsafeChar.test(s));
}

/**
 * target is the app page for user u: the page next names when it is one of
 * this service's app pages (an admin page only for admins), else the app
 * for the user's role in the domain the service named (u.app_domain: an
 * instance serving configured domains), else in the one named after
 * hostname.
 */
export function target(u, next, hostname) {
  const admin = u.role === 'admin';
  const m = sameOriginPath(next) ? appPath.exec(next) : null;
  let domain = u.app_domain || hostname || 'local';
  if (m) {
    try {
      domain = decodeURIComponent(m[1]);
    } catch {
      domain = 'local';
    }
  }
  if (domain === '' || domain === '.' || domain === '..') domain = 'local';
  const wantsAdmin = m ? Boolean(m[2]) : admin;
  const page = wantsAdmin && admin ? 'innovaphone-recordingsadmin.htm' : 'innovaphone-recordings.htm';
  // One encoded path segment: no "/", "\" or "%" of its own survives.
  return `/${encodeURIComponent(domain)}/recordings/${page}`;
}
