// The care-team app's words: the one i18n module of both apps (../../js/i18n.js) reading this
// app's catalogues (/static/care/i18n), with the dates as the care team reads them (with the
// year) and the few date helpers only this app needs.

import * as i18n from '../../js/i18n.js';

export { has, isoDate, formatNumber, formatTime, languages, t, tn, translateDom } from '../../js/i18n.js';

export function loadStrings() {
  return i18n.loadLanguage('en', { catalogues: '/static/care/i18n' });
}

/** A calendar date with its year ("Tue 2 Dec 2026"), or `short` ("Tue 2 Dec"). */
export function formatDate(dateText, style = 'dated') {
  return i18n.formatDate(dateText, style === 'long' ? 'dated' : style);
}

export function formatDateTime(instant, timeZone = undefined) {
  return i18n.formatDateTime(instant, timeZone, { dated: true });
}

/** The calendar date `days` after YYYY-MM-DD. */
export function addDays(dateText, days) {
  const [y, m, d] = dateText.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days, 12)).toISOString().slice(0, 10);
}

/** "3 hours ago" from an instant, in plain words. */
export function ago(instant, now = Date.now()) {
  const minutes = Math.max(0, Math.round((now - new Date(instant).getTime()) / 60000));
  if (minutes < 1) return i18n.t('ago.now');
  if (minutes < 60) return i18n.tn('ago.minutes', minutes);
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return i18n.tn('ago.hours', hours);
  return i18n.tn('ago.days', Math.floor(hours / 24));
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
