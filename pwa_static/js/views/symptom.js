// Report a symptom: plain-word choices and a temperature; red-flag advice at once, emergency
// first, with a call button and "Call my care team". Offline, a red flag says the team does not
// know yet (it is told once the phone is online) and to call now if it is severe.

import { FEVER_C, PLAUSIBLE_C, severityOrder } from '../clinical.js';
import { h, uid } from '../dom.js';
import { formatNumber, t } from '../i18n.js';
import { entries } from '../outbox.js';
import { ensureCatalogue, isCaregiver, savedAnswer, state } from '../store.js';
import {
  callButton, emergencyNumber, errorBox, field, isEmergency, isRedFlag, messageFor, offlineAdvice, setFieldError, symptomGroups,
} from '../ui.js';
import { contactSection, logScreen, say } from '../parts.js';


// The server's field errors in this screen's own plain words (never a validator's message).
const PLAIN_FIELD_ERROR = { temperature_c: 'symptom.tempRange', symptoms: 'symptom.pickOne' };

function plainFieldErrors(fields) {
  return Object.keys(fields || {}).filter((name) => PLAIN_FIELD_ERROR[name]).map((name) => t(PLAIN_FIELD_ERROR[name]));
}

const [LOWEST_C, HIGHEST_C] = PLAUSIBLE_C;
const fahrenheit = (celsius) => (celsius * 9) / 5 + 32;

function parseTemperature(text) {
  const cleaned = text.trim().replace(',', '.').replace(/°?\s*c$/i, '');
  if (!cleaned) return { value: null };
  const value = Number(cleaned);
  if (!Number.isFinite(value)) return { error: t('symptom.tempInvalid') };
  if (value >= fahrenheit(LOWEST_C) && value <= fahrenheit(HIGHEST_C)) return { error: t('symptom.tempFahrenheit') };
  if (value < LOWEST_C || value > HIGHEST_C) return { error: t('symptom.tempRange') };
  return { value: Math.round(value * 10) / 10 };
}

function adviceCard(item) {
  return h('div', { class: `flag card severity-${item.severity || 'urgent'}` },
    h('h3', {}, h('span', { class: 'flag-mark', 'aria-hidden': 'true' }, '!'), ' ', item.title),
    item.severity ? h('p', { class: 'severity' }, t(`severity.${item.severity}`)) : null,
    h('p', {}, item.text),
    item.call_now ? callButton() : null,
    item.guidance ? h('p', {}, h('a', { href: `#/guidance/${encodeURIComponent(item.guidance)}` }, t('symptom.readMore'))) : null);
}

// A temperature that could not be right is not sent; what was ticked still is (RULES.md 7).
function temperatureNote(result, localError) {
  const refused = (result.data && result.data.refused_fields) || {};
  const why = localError || plainFieldErrors(refused)[0];
  if (!why) return null;
  return h('p', { class: 'notice', role: 'status' }, t('symptom.tempNotSent', { why }));
}

const HOUR_MS = 60 * 60 * 1000;

/** What the phone knows that the server reads a report with (ui.js offlineFlags): the clinic's
 * band, and the hours since the last bowel movement (kept from the server, or logged here
 * since; else since tracking began), as server/services/diary.py counts them. */
async function knownHere(summary) {
  const waiting = await entries(state.user.id).catch(() => []);
  const logged = waiting
    .filter((entry) => entry.kind === 'bowel' && String(entry.patientId) === String(state.patientId))
    .map((entry) => entry.body && entry.body.occurred_at);
  const movements = [summary && summary.last_bowel_movement_at, ...logged].filter(Boolean).map(Date.parse);
  const since = movements.length ? Math.max(...movements) : Date.parse((summary && summary.tracking_since) || '');
  const hours = (Date.now() - since) / HOUR_MS;
  return { band: (summary && summary.anc_band) || null, hoursWithoutBowel: hours >= 0 ? hours : null };
}

function resultPanel(result, body, localError, summary, known) {
  const panel = h('section', { class: 'stack result', 'aria-labelledby': 'result-title' });
  if (result.outcome === 'sent') {
    const flags = [...((result.data && result.data.red_flags) || [])]
      .sort((a, b) => severityOrder(a.severity) - severityOrder(b.severity));
    if (flags.length) {
      panel.append(h('h2', { id: 'result-title', tabindex: '-1' }, t('symptom.actNow')));
      panel.append(...flags.map((flag) => adviceCard({
        title: flag.title || t('today.flagUntitled'),
        text: (isCaregiver() && flag.caregiver_advice) || flag.advice,
        call_now: flag.call_now,
        severity: flag.severity,
        guidance: flag.guidance,
      })));
      // only what the server did: the team is told when it opened (or added to) an escalation
      if (result.data.escalation_ids && result.data.escalation_ids.length) panel.append(h('p', {}, say('symptom.teamTold')));
      panel.append(contactSection(summary));
    } else {
      panel.append(h('h2', { id: 'result-title', tabindex: '-1' }, t('saved.done')), h('p', {}, say('symptom.thanks')));
    }
  } else {
    // on this phone only: nobody has been told yet, and the advice says so
    panel.append(h('h2', { id: 'result-title', tabindex: '-1' }, t('saved.notSent')));
    if (isRedFlag(body.symptoms, body.temperature_c, known)) {
      panel.append(h('div', { class: 'flag card severity-emergency' },
        h('p', { class: 'big' }, say('symptom.offlineTold', { number: emergencyNumber() })),
        callButton()));
      panel.append(...offlineAdvice(body.symptoms, body.temperature_c, known).map((item) => adviceCard({ ...item, severity: item.emergency ? 'emergency' : 'urgent' })));
      panel.append(contactSection(summary));
    }
    panel.append(h('p', {}, t('saved.notSentHelp')));
  }
  const note = temperatureNote(result, localError);
  if (note) panel.append(note);
  panel.append(h('a', { href: '#/today', class: 'button primary big' }, t('action.backToday')));
  return panel;
}

export async function render() {
  await ensureCatalogue();
  const known = await knownHere(await savedAnswer(`summary:${state.patientId}`));
  const errors = errorBox();
  const temperature = h('input', { type: 'text', name: 'temperature_c', inputmode: 'decimal', autocomplete: 'off', size: '6' });
  const notes = h('textarea', { name: 'notes', rows: '3', maxlength: '1000' });
  const urgent = h('div', { class: 'callout', hidden: true },
    h('p', {}, t('symptom.emergencyNow', { number: emergencyNumber() })),
    callButton());
  const boxes = [];
  const list = symptomGroups().map(([group, items]) => h('fieldset', { class: 'choices' },
    h('legend', {}, t(`symptom.group.${group}`)),
    items.map((item) => {
      const id = uid('symptom');
      const box = h('input', {
        type: 'checkbox',
        id,
        value: item.code,
        'aria-describedby': item.hint ? `${id}-hint` : null,
        onchange: () => {
          urgent.hidden = !isEmergency(boxes.filter((b) => b.checked).map((b) => b.value), known);
        },
      });
      boxes.push(box);
      return h('div', { class: 'choice-line symptom' },
        box,
        h('label', { for: id }, item.label),
        item.hint ? h('p', { id: `${id}-hint`, class: 'hint' }, item.hint) : null);
    })));
  const submit = h('button', { type: 'submit', class: 'button primary big' }, t('symptom.send'));
  let temp = null;
  function read() {
    const codes = boxes.filter((b) => b.checked).map((b) => b.value);
    temp = parseTemperature(temperature.value);
    setFieldError(temperature, temp.error || '');
    // a wrong temperature alone is not sent; with symptoms ticked, they are sent without it
    if (temp.error && !codes.length) {
      errors.show(temp.error);
      return null;
    }
    if (!codes.length && temp.value === null) {
      errors.show(t('symptom.pickOne'));
      return null;
    }
    const body = { occurred_at: new Date().toISOString(), symptoms: codes };
    if (!temp.error && temp.value !== null) body.temperature_c = temp.value;
    if (notes.value.trim()) body.notes = notes.value.trim();
    return body;
  }
  function refused(error) {
    const plain = plainFieldErrors(error && error.fields);
    if (error && error.fields && error.fields.temperature_c) setFieldError(temperature, t('symptom.tempRange'));
    errors.show(plain.length ? plain.join(' ') : messageFor(error));
  }
  async function answered(result, body) {
    const summary = await savedAnswer(`summary:${state.patientId}`);
    return resultPanel(result, body, temp.error, summary, await knownHere(summary));
  }
  const page = logScreen({
    kind: 'symptom',
    collection: 'symptoms',
    title: t('symptom.title'),
    intro: say('symptom.intro'),
    errors,
    submit,
    read,
    refused,
    answered,
  },
  list,
  urgent,
  field({
    label: t('symptom.temperature'),
    input: temperature,
    hint: t('symptom.temperatureHint', { fever: formatNumber(FEVER_C) }),
  }),
  field({ label: t('symptom.notes'), input: notes }));
  return page;
}
