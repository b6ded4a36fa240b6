// The one i18n module of both apps. Every word an app shows comes from its catalogue folder
// (the patient app's /static/i18n, the care-team app's /static/care/i18n): <lang>.json, and the
// names of the languages it has in languages.json (content/README.md, "Adding a language").
// Missing keys fall back to English; dates, numbers and plurals are the browser's Intl.

import './intl-warm.js';
import './words-core.js';

const { fill } = globalThis.companionWords;

let base = '/static/i18n';
let languageNames = null;

/** The languages the app speaks, {code: name in that language}; English only without a list. */
export async function languages() {
  if (!languageNames) {
    languageNames = fetch(`${base}/languages.json`)
      .then((response) => (response.ok ? response.json() : { en: 'English' }))
      .catch(() => ({ en: 'English' }));
  }
  return languageNames;
}

let strings = {};
let english = {};
export let lang = 'en';
let locale = 'en'; // for dates and numbers: the phone's own variant of the language (en-GB)

async function fetchStrings(code) {
  const response = await fetch(`${base}/${code}.json`);
  if (!response.ok) throw new Error(`no strings for ${code}`);
  return response.json();
}

function pick(wanted, available) {
  const candidates = [wanted, ...(navigator.languages || [navigator.language || 'en'])];
  for (const candidate of candidates) {
    if (!candidate) continue;
    const code = candidate.toLowerCase().split('-')[0];
    if (code in available) return code;
  }
  return 'en';
}

/** Load the words of `wanted` (or the browser's first language the app has), from `catalogues`
 * (the app's folder of catalogues; the patient app's by default). `names` is the folder's
 * languages.json when the page brought it (no request for it then). */
export async function loadLanguage(wanted, { catalogues = base, names = null } = {}) {
  if (catalogues !== base) {
    base = catalogues;
    languageNames = null;
  }
  if (names && !languageNames) languageNames = Promise.resolve(names);
  const [available, englishStrings] = await Promise.all([languages(), fetchStrings('en')]);
  const code = pick(wanted, available);
  english = englishStrings;
  strings = code === 'en' ? english : await fetchStrings(code).catch(() => english);
  lang = code;
  locale = (navigator.languages || []).find((l) => l.toLowerCase().split('-')[0] === code) || code;
  document.documentElement.lang = code;
  document.documentElement.dir = strings['meta.dir'] || 'ltr';
  return code;
}

/** The patient app's choice, for the server: a page load answers the first screen in it. */
export function tellServerLanguage(code) {
  document.cookie = `companion_lang=${code}; path=/; max-age=31536000; SameSite=Lax`;
}

/** The service worker words notifications from the catalogue of the person's language: it
 * keeps a copy of that catalogue (sw.js), so that a reminder reads right offline too. */
export function tellWorkerLanguage(code) {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.ready
    .then((registration) => registration.active && registration.active.postMessage({ type: 'language', lang: code }))
    .catch(() => {});
}

/** The text for `key`, with {name} placeholders filled from `vars`. */
export function t(key, vars) {
  let text = strings[key] ?? english[key];
  if (text === undefined) return key;
  return vars ? fill(text, vars) : text;
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

const DATE_STYLES = {
  long: { weekday: 'long', day: 'numeric', month: 'long' }, // "Tuesday 2 December"
  short: { weekday: 'short', day: 'numeric', month: 'short' }, // "Tue 2 Dec"
  dated: { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' }, // "Tue 2 Dec 2026"
};

/** A calendar date (YYYY-MM-DD) as words, in one of DATE_STYLES. */
export function formatDate(dateText, style = 'long') {
  const [y, m, d] = dateText.split('-').map(Number);
  const date = new Date(Date.UTC(y, m - 1, d, 12));
  return new Intl.DateTimeFormat(locale, { ...DATE_STYLES[style], timeZone: 'UTC' }).format(date);
}

export function formatTime(instant, timeZone = undefined) {
  return new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', timeZone })
    .format(new Date(instant));
}

/** An instant with its day and time; `dated` adds the year (records the care team reads). */
export function formatDateTime(instant, timeZone = undefined, { dated = false } = {}) {
  const day = dated ? { day: 'numeric', month: 'short', year: 'numeric' } : { weekday: 'short', day: 'numeric', month: 'short' };
  return new Intl.DateTimeFormat(locale, { ...day, hour: '2-digit', minute: '2-digit', timeZone })
    .format(new Date(instant));
}

export function formatNumber(value, digits = 1) {
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value);
}
