// Translations. Each language is one file, lang/<code>.js, exporting a
// flat object of key → text; a text may name parameters as {name}. Adding
// a language is adding its file: load() imports lang/<code>.js for the
// first wanted language that has one and falls back to English, key by
// key, for texts the file lacks.
import en from './lang/en.js';

let texts = en;
let current = 'en';

// load picks the language: the wanted one (myApps passes its language),
// else the browser's, else English. Call it once before rendering.
export async function load(wanted) {
  const candidates = [];
  for (const l of [wanted, ...(navigator.languages ?? [navigator.language])]) {
    if (!l) continue;
    const code = String(l).toLowerCase().split(/[-_]/)[0];
    if (/^[a-z]{2,3}$/.test(code) && !candidates.includes(code)) candidates.push(code);
  }
  for (const code of candidates) {
    if (code === 'en') break;
    try {
      const mod = await import(`./lang/${code}.js`);
      texts = { ...en, ...mod.default };
      current = code;
      document.documentElement.lang = code;
      return code;
    } catch {
      // no such language file: try the next
    }
  }
  texts = en;
  current = 'en';
  document.documentElement.lang = 'en';
  return 'en';
}

// lang is the language in use, e.g. for Intl formatters.
export function lang() { return current; }

// t returns the text for key with {name} parameters filled in; an unknown
// key shows as itself, so a missing text is visible rather than blank.
export function t(key, params) {
  const s = texts[key] ?? en[key] ?? key;
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

// tn is t for a count: the key's ".one" form when the language's plural
// rule calls n "one" and the file has that form, else the key itself. The
// parameter n is filled in formatted for the language.
export function tn(key, n, params) {
  let rule = 'other';
  try { rule = new Intl.PluralRules(current).select(n); } catch { /* unknown language */ }
  const k = rule === 'one' && (texts[`${key}.one`] ?? en[`${key}.one`]) !== undefined ? `${key}.one` : key;
  return t(k, { ...params, n: new Intl.NumberFormat(current).format(n) });
}
