// The care-team app's words, from /static/care/i18n/<lang>.json, and the date helpers.
// (The patient app's /static/js/i18n.js reads a fixed path, so this is its small twin.)

let strings = {};
let locale = 'en';

export async function loadStrings() {
  const response = await fetch('/static/care/i18n/en.json');
  strings = await response.json();
  locale = (navigator.languages || []).find((l) => l.toLowerCase().startsWith('en')) || 'en';
  document.documentElement.lang = 'en';
  document.documentElement.dir = strings['meta.dir'] || 'ltr';
}

/** The text for `key`, with {name} placeholders filled from `vars`. */
export function t(key, vars) {
  let text = strings[key];
  if (text === undefined) return key;
  if (vars) text = text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
  return text;
}

export function has(key) {
  return key in strings;
}

export function tn(key, count, vars = {}) {
  const form = new Intl.PluralRules('en').select(count);
  return t(has(`${key}.${form}`) ? `${key}.${form}` : `${key}.other`, { count, ...vars });
}

/** Fill the static text of the shell (elements carrying data-i18n). */
export function translateDom(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
}

/** YYYY-MM-DD of an instant in an IANA zone (the browser's when none is given). */
export function isoDate(instant = new Date(), timeZone = undefined) {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit',
  }).formatToParts(instant);
  const part = (type) => parts.find((p) => p.type === type).value;
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/** The calendar date `days` after YYYY-MM-DD. */
export function addDays(dateText, days) {
  const [y, m, d] = dateText.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days, 12)).toISOString().slice(0, 10);
}

export function formatDate(dateText, style = 'long') {
  const [y, m, d] = dateText.split('-').map(Number);
  const options = style === 'short'
    ? { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' }
    : { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' };
  return new Intl.DateTimeFormat(locale, options).format(new Date(Date.UTC(y, m - 1, d, 12)));
}

export function formatDateTime(instant, timeZone = undefined) {
  return new Intl.DateTimeFormat(locale, {
    day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone,
  }).format(new Date(instant));
}

export function formatTime(instant) {
  return new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' }).format(new Date(instant));
}

export function formatNumber(value, digits = 1) {
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value);
}

/** "3 hours ago" from an instant, in plain words. */
export function ago(instant, now = Date.now()) {
  const minutes = Math.max(0, Math.round((now - new Date(instant).getTime()) / 60000));
  if (minutes < 1) return t('ago.now');
  if (minutes < 60) return tn('ago.minutes', minutes);
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return tn('ago.hours', hours);
  return tn('ago.days', Math.floor(hours / 24));
}

/** An instant as ISO 8601 with the browser's own offset, from an <input type=datetime-local>. */
export function localInputToIso(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return null;
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const pad = (n) => String(Math.floor(Math.abs(n))).padStart(2, '0');
  return `${value.length === 16 ? `${value}:00` : value}${sign}${pad(offset / 60)}:${pad(offset % 60)}`;
}

/** Now, for an <input type=datetime-local> (minutes precision, browser time). */
export function nowForInput() {
  const d = new Date();
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
