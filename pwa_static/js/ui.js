// Pieces every screen uses: form fields with their hints and errors, the error box, the form the
// app checks itself, the call button, and the plain-word names of symptoms, Bristol types and
// saved entries.

import { FEVER_C, severityOrder } from './clinical.js';
import { h, uid } from './dom.js';
import { formatDateTime, has, t } from './i18n.js';
import { isCaregiver, settings, state } from './store.js';

/** The symptom choices: {code, label, hint, red_flag, severity, flags}, as the server's
 * catalogue gives them in this person's language (the phone keeps a copy; store.js). */
export function symptoms() {
  return (state.catalogue && state.catalogue.symptoms) || [];
}

export function symptomLabel(code) {
  const found = symptoms().find((item) => item.code === code);
  return found ? found.label : code.replace(/_/g, ' ');
}

/** The Bristol types: {type, label, description, meaning}. */
export function bristolTypes() {
  const list = (state.catalogue && state.catalogue.bristol) || [];
  return [1, 2, 3, 4, 5, 6, 7].map((type) => {
    const server = list.find((item) => Number(item.type) === type);
    return {
      type,
      label: t('bristol.label', { type }),
      description: server ? server.description : '',
      meaning: server ? server.meaning : '',
    };
  });
}

/** Is this symptom, reported alone, a warning sign (a red flag that is not routine)? */
function isWarning(item) {
  return Boolean(item && item.red_flag && item.severity !== 'routine');
}

/** The flags a report raises, read on the phone as the server reads it ({rule, severity,
 * advice}, one a rule, emergency first): a temperature from FEVER_C counts as a fever; each
 * symptom raises its own flags and each pair of them the catalogue names raises more (no rule
 * asks for more than two: server/domain/red_flags.py `raised_in_pairs`); then the catalogue's
 * `context` rules (server/domain/signals.py `reading_context`) with what the phone knows: the
 * clinic's band (`band`) and the hours since the last bowel movement (`hoursWithoutBowel`).
 * The days on clozapine are not known here, so a heart symptom with fever reads as in the
 * first weeks. */
export function offlineFlags(codes, temperature, known = {}, catalogue = state.catalogue) {
  const { band = null, hoursWithoutBowel = null } = known;
  const reported = new Set(codes);
  if (temperature !== null && temperature !== undefined && temperature >= FEVER_C) reported.add('fever');
  const found = new Map();
  const raise = ({ rule, severity, advice }) => {
    const had = found.get(rule);
    if (!had || severityOrder(severity) < severityOrder(had.severity)) found.set(rule, { rule, severity, advice });
  };
  for (const item of (catalogue && catalogue.symptoms) || []) {
    if (reported.has(item.code)) (item.flags || []).forEach(raise);
  }
  for (const pair of (catalogue && catalogue.pairs) || []) {
    if (pair.symptoms.every((code) => reported.has(code))) raise(pair);
  }
  const { neutropenic, diary } = (catalogue && catalogue.context) || {};
  if (neutropenic && neutropenic.bands.includes(band)) {
    for (const flag of found.values()) {
      if (neutropenic.rules.includes(flag.rule)) found.set(flag.rule, { ...flag, severity: neutropenic.severity, advice: neutropenic.advice });
    }
  }
  if (diary && hoursWithoutBowel !== null && hoursWithoutBowel >= diary.hours && diary.symptoms.some((code) => reported.has(code))) {
    if (!found.has(diary.rule)) raise(diary);
  }
  return [...found.values()].sort((a, b) => severityOrder(a.severity) - severityOrder(b.severity));
}

/** Advice known on the phone for a report made offline: [{title, text, call_now, emergency}],
 * one for each warning its flags raise, emergencies first. */
export function offlineAdvice(codes, temperature, known) {
  const advice = (state.catalogue && state.catalogue.advice) || {};
  return offlineFlags(codes, temperature, known)
    .filter((flag) => flag.severity !== 'routine' && advice[flag.advice])
    .map((flag) => {
      const entry = advice[flag.advice];
      return {
        title: entry.title,
        text: (isCaregiver() && entry.caregiver) || entry.patient,
        call_now: entry.call_now,
        emergency: flag.severity === 'emergency',
      };
    });
}

/** Does this report need the "your team does not know yet: call if severe" message offline? */
export function isRedFlag(codes, temperature, known) {
  return offlineFlags(codes, temperature, known).some((flag) => flag.severity !== 'routine');
}

// things that are not symptoms but change the care: asked apart from the symptoms
const LIFE_CHANGES = new Set(['pregnant', 'breastfeeding', 'stopped_smoking', 'started_smoking', 'switched_to_ecig']);

/** The symptom choices in three groups: warning signs, other symptoms, changes in life. */
export function symptomGroups() {
  const groups = { warning: [], other: [], changes: [] };
  for (const item of symptoms()) {
    if (LIFE_CHANGES.has(item.code)) groups.changes.push(item);
    else if (isWarning(item)) groups.warning.push(item);
    else groups.other.push(item);
  }
  return Object.entries(groups).filter(([, items]) => items.length);
}

/** Is what is ticked an emergency (alone, together, or with what the phone knows)? */
export function isEmergency(codes, known) {
  return offlineFlags(codes, null, known).some((flag) => flag.severity === 'emergency');
}

// --- the device (dom.js, shared with the care-team app's push client) --------------------------

export { isInstalled, isIos } from './dom.js';

// --- building blocks --------------------------------------------------------------------------

/** A labelled input with an optional hint and a place for its error, all wired for screen readers. */
export function field({ label, input, hint }) {
  const id = input.id || uid('field');
  input.id = id;
  const described = [];
  const parts = [h('label', { for: id }, label)];
  if (hint) {
    parts.push(h('p', { class: 'hint', id: `${id}-hint` }, hint));
    described.push(`${id}-hint`);
  }
  const error = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  described.push(`${id}-error`);
  input.setAttribute('aria-describedby', described.join(' '));
  parts.push(error, input);
  return h('div', { class: 'field' }, parts);
}

export function setFieldError(input, message) {
  const error = document.getElementById(`${input.id}-error`);
  if (!error) return;
  if (message) {
    error.textContent = message;
    error.hidden = false;
    input.setAttribute('aria-invalid', 'true');
  } else {
    error.textContent = '';
    error.hidden = true;
    input.removeAttribute('aria-invalid');
  }
}

/** A box at the top of a form that says what went wrong; focused so it is read out. */
export function errorBox() {
  const el = h('div', { class: 'error-box', role: 'alert', tabindex: '-1', hidden: true });
  return {
    el,
    show(message) {
      el.replaceChildren(h('p', {}, message));
      el.hidden = false;
      el.focus();
    },
    clear() {
      el.hidden = true;
      el.replaceChildren();
    },
  };
}

/**
 * A form this code checks and sends itself: neither the browser's own check nor a page load.
 * On submit the error box of the last try is emptied, then `onSubmit()` runs.
 */
export function checkedForm({ errors, onSubmit, ...props }, ...children) {
  return h('form', {
    ...props,
    novalidate: true,
    onsubmit: (event) => {
      event.preventDefault();
      errors.clear();
      return onSubmit();
    },
  }, ...children);
}

/** Plain words for an ApiError. */
export function messageFor(error) {
  if (!error) return t('error.generic');
  if (error.isNetwork) return t('error.offline');
  if (error.code && has(`error.${error.code}`)) return t(`error.${error.code}`);
  const details = Object.values(error.fields || {}).flat().filter(Boolean);
  if (details.length) return details.join(' ');
  return error.message || t('error.generic');
}

/** Show the server's field errors next to the inputs named in `inputs` ({field: input}). */
export function showFieldErrors(inputs, fields) {
  let first = null;
  for (const [name, input] of Object.entries(inputs)) {
    const messages = fields && fields[name];
    setFieldError(input, messages ? messages.join(' ') : '');
    if (messages && !first) first = input;
  }
  return first;
}

export function emergencyNumber() {
  return String(settings.emergencyNumber || '112').replace(/[^0-9+*#]/g, '') || '112';
}

export function callButton() {
  const number = emergencyNumber();
  return h('a', { class: 'button danger call', href: `tel:${number}` }, t('call.button', { number }));
}

export function heading(text) {
  return h('h1', { tabindex: '-1' }, text);
}

export function backLink(href, text) {
  return h('p', { class: 'back' }, h('a', { href }, text));
}

/** "Bowel movement, Type 4, Mon 24 Nov 10:32" for an outbox entry. */
export function describeEntry(entry) {
  const when = formatDateTime(entry.body.occurred_at || entry.body.at || entry.createdAt);
  if (entry.kind === 'bowel') return t('entry.bowel', { type: entry.body.bristol_type, when });
  if (entry.kind === 'symptom') {
    const names = entry.body.symptoms.map(symptomLabel);
    if (entry.body.temperature_c !== undefined) names.push(t('entry.temperature', { value: entry.body.temperature_c }));
    return t('entry.symptom', { what: names.join(', '), when });
  }
  if (entry.kind === 'dose') {
    return t(entry.body.status === 'taken' ? 'entry.doseTaken' : 'entry.doseSkipped', { when });
  }
  if (entry.kind === 'medicine') {
    return t(entry.body.status === 'taken' ? 'entry.medicineTaken' : 'entry.medicineSkipped', { when });
  }
  if (entry.kind === 'lab') return t('entry.lab', { value: entry.body.value, unit: entry.body.unit, when });
  return t('entry.other', { when });
}
