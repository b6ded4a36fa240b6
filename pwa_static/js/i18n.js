// Every word the app shows comes from /static/i18n/<lang>.json: a second language is one more
// file there and one more line in LANGUAGES. Missing keys fall back to English.

export const LANGUAGES = { en: 'English' };

let strings = {};
let english = {};
export let lang = 'en';
let locale = 'en'; // for dates and numbers: the phone's own variant of the language (en-GB)

async function fetchStrings(code) {
  const response = await fetch(`/static/i18n/${code}.json`);
  if (!response.ok) throw new Error(`no strings for ${code}`);
  return response.json();
}

function pick(wanted) {
  const candidates = [wanted, ...(navigator.languages || [navigator.language || 'en'])];
  for (const candidate of candidates) {
    if (!candidate) continue;
    const code = candidate.toLowerCase().split('-')[0];
    if (code in LANGUAGES) return code;
  }
  return 'en';
}

export async function loadLanguage(wanted) {
  const code = pick(wanted);
  english = await fetchStrings('en');
  strings = code === 'en' ? english : await fetchStrings(code).catch(() => english);
  lang = code;
  locale = (navigator.languages || []).find((l) => l.toLowerCase().split('-')[0] === code) || code;
  document.documentElement.lang = code;
  document.documentElement.dir = strings['meta.dir'] || 'ltr';
  return code;
}

/** The text for `key`, with {name} placeholders filled from `vars`. */
export function t(key, vars) {
  let text = strings[key] ?? english[key];
  if (text === undefined) return key;
  if (vars) {
    text = text.replace(/\{(\w+)\}/g, (match, name) => (name in vars ? String(vars[name]) : match));
  }
  return text;
}

export function has(key) {
  return key in strings || key in english;
}

/** Plural-aware text: `key.one`, `key.other` (and whatever else the language needs). */
export function tn(key, count, vars = {}) {
  const form = new Intl.PluralRules(lang).select(count);
  const chosen = has(`${key}.${form}`) ? `${key}.${form}` : `${key}.other`;
  return t(chosen, { count, ...vars });
}

/** Fill the static text of the shell (elements carrying data-i18n). */
export function translateDom(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
}

// --- dates and times -------------------------------------------------------------------------

/** YYYY-MM-DD of the given instant in an IANA time zone (the device's when none is given). */
export function isoDate(instant = new Date(), timeZone = undefined) {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit',
  }).formatToParts(instant);
  const part = (type) => parts.find((p) => p.type === type).value;
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/** A month (YYYY-MM) as words, e.g. "December 2026". */
export function formatMonth(monthText) {
  const [y, m] = monthText.split('-').map(Number);
  return new Intl.DateTimeFormat(locale, { month: 'long', year: 'numeric', timeZone: 'UTC' })
    .format(new Date(Date.UTC(y, m - 1, 15)));
}

/** The short names of the weekdays, Monday first. */
export function weekdayNames() {
  const monday = Date.UTC(2024, 0, 1, 12); // a Monday
  const format = new Intl.DateTimeFormat(locale, { weekday: 'short', timeZone: 'UTC' });
  return [0, 1, 2, 3, 4, 5, 6].map((n) => format.format(new Date(monday + n * 864e5)));
}

/** A calendar date (YYYY-MM-DD) as words, e.g. "Tuesday 2 December". */
export function formatDate(dateText, style = 'long') {
  const [y, m, d] = dateText.split('-').map(Number);
  const date = new Date(Date.UTC(y, m - 1, d, 12));
  const options = style === 'short'
    ? { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' }
    : { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC' };
  return new Intl.DateTimeFormat(locale, options).format(date);
}

export function formatTime(instant, timeZone = undefined) {
  return new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', timeZone })
    .format(new Date(instant));
}

export function formatDateTime(instant, timeZone = undefined) {
  return new Intl.DateTimeFormat(locale, {
    weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZone,
  }).format(new Date(instant));
}

export function formatNumber(value, digits = 1) {
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value);
}
