// Small pieces every care screen uses: labelled fields with their errors, the error box, the
// form that sends (its button disabled meanwhile, its failure shown), the traffic light and
// plain-word names.

import { BOWEL_FLAG_HOURS, BOWEL_PROMPT_HOURS, RETITRATION_AFTER_HOURS } from '/static/js/clinical.js';
import { h, s, uid } from '/static/js/dom.js';
import { has, t, tn } from './i18n.js';

/** A labelled field: {label, input, hint}; returns {el, input, setError(text)}. */
export function field(label, input, { hint, name } = {}) {
  const id = input.id || uid('f');
  input.id = id;
  if (name) input.dataset.field = name;
  const hintId = hint ? uid('hint') : null;
  const errorId = uid('err');
  const error = h('p', { id: errorId, class: 'field-error', hidden: true });
  const described = [hintId, errorId].filter(Boolean).join(' ');
  input.setAttribute('aria-describedby', described);
  const el = h('div', { class: 'field' },
    h('label', { for: id }, label),
    hint ? h('p', { id: hintId, class: 'hint' }, hint) : null,
    input, error);
  return {
    el,
    input,
    setError(text) {
      error.textContent = text || '';
      error.hidden = !text;
      if (text) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    },
  };
}

/**
 * A group of radio buttons with its legend and a place for its error: `choices` is
 * [[value, label, hint?], ...]; returns {el, inputs, value(), choose(value), setError(text)}.
 */
export function choiceField(legend, name, choices, { onchange } = {}) {
  const errorId = uid('err');
  const error = h('p', { id: errorId, class: 'field-error', hidden: true });
  const inputs = [];
  const lines = choices.map(([value, label, hint]) => {
    const input = h('input', { type: 'radio', name, value, id: uid(name), onchange });
    const hintId = hint ? uid('hint') : null;
    if (hintId) input.setAttribute('aria-describedby', hintId);
    inputs.push(input);
    return h('div', { class: 'choice-line' }, input, h('label', { for: input.id }, label),
      hint ? h('p', { id: hintId, class: 'hint' }, hint) : null);
  });
  const el = h('fieldset', { class: 'choice-set', 'aria-describedby': errorId }, h('legend', {}, legend), lines, error);
  return {
    el,
    inputs,
    value: () => (inputs.find((i) => i.checked) || {}).value || null,
    choose(value) { for (const i of inputs) i.checked = i.value === value; },
    setError(text) {
      error.textContent = text || '';
      error.hidden = !text;
      for (const i of inputs) {
        if (text) i.setAttribute('aria-invalid', 'true');
        else i.removeAttribute('aria-invalid');
      }
    },
  };
}

/** The message for a failed request, in plain words. */
export function failureText(error) {
  if (!error || error.isNetwork) return t('error.network');
  if (error.needsSignIn) return t('signin.expired');
  if (error.status === 403) return t('error.forbidden');
  if (error.status === 404) return t('error.notFound');
  if (error.status === 409) return t('error.conflict', { message: error.message });
  if (error.fields) return t('error.fixFields');
  return t('error.generic', { message: error.message || error.code });
}

/**
 * The server's field errors (`{name: [why, ...]}`) next to the fields of `fields` ({name: field});
 * an item of a list (`times[1]`) goes to the list's field. Answers the first field it marked.
 */
export function showFieldErrors(fields, errors) {
  let first = null;
  for (const [key, messages] of Object.entries(errors || {})) {
    const target = fields[key] || fields[key.split('[')[0]];
    if (!target) continue;
    target.setError(messages.join(' '));
    first = first || target;
  }
  return first;
}

/**
 * A care-team form (`props` for the form element, `children` in it) whose submit is neither the
 * browser's own check nor a page load. The error box and the errors of `fields` ({name: field})
 * are emptied; `read()`, when given, answers what to send, or nothing having said why not; then
 * `work(what)` runs with `button` disabled until it is done (one tap, one request). A failure is
 * said in plain words in the box and next to the fields it names, or by `failed(error)` in its
 * own way.
 */
export function sendingForm({ errors, button, fields = {}, read, work, failed, ...props }, ...children) {
  async function onsubmit(event) {
    event.preventDefault();
    errors.hide();
    Object.values(fields).forEach((f) => f.setError(''));
    const what = read ? read() : undefined;
    if (read && !what) return;
    button.disabled = true;
    try {
      await work(what);
    } catch (error) {
      if (failed) {
        failed(error);
      } else {
        errors.show(failureText(error));
        showFieldErrors(fields, error.fields);
      }
    } finally {
      button.disabled = false;
    }
  }
  return h('form', { ...props, novalidate: true, onsubmit }, ...children);
}

export function errorBox() {
  const box = h('div', { class: 'error-box', role: 'alert', tabindex: '-1', hidden: true });
  return {
    el: box,
    show(text) { box.textContent = text; box.hidden = false; box.focus(); },
    hide() { box.hidden = true; box.textContent = ''; },
  };
}

/** A rule in the care team's words; `fallback` (the server's title) before the bare code. */
export function ruleTitle(rule, fallback) {
  if (has(`rule.${rule}`)) return t(`rule.${rule}`);
  return fallback || rule.replace(/_/g, ' ');
}

export function symptomName(code) {
  return has(`symptom.${code}`) ? t(`symptom.${code}`) : code.replace(/_/g, ' ');
}

export function testName(code) {
  return has(`test.${code}`) ? t(`test.${code}`) : code.replace(/_/g, ' ');
}

/** A band in the care team's words: under a traffic-light profile the light the patient's
 * bands give it (`edges`: the summary's anc_band_edges; "Amber", not "Mild"), else its name. */
export function bandName(band, edges = []) {
  if (!band) return t('band.unknown');
  const edge = (edges || []).find((e) => e.band === band && e.traffic_light);
  if (edge) return t(`uklight.${edge.traffic_light}`);
  return has(`band.${band}`) ? t(`band.${band}`) : band;
}

/** Emergency, urgent or routine as a word with a shape: never colour alone. */
export function severityTag(severity) {
  return h('span', { class: `severity-tag severity-${severity}` }, shape(severity === 'routine' ? 'green' : severity === 'urgent' ? 'amber' : 'red'),
    has(`severity.${severity}`) ? t(`severity.${severity}`) : severity);
}

/** The traffic-light shape: red octagon "!", amber triangle "!", green circle with a tick. */
export function shape(level) {
  const parts = level === 'red'
    ? [s('polygon', { points: '6,1 14,1 19,6 19,14 14,19 6,19 1,14 1,6' }), s('path', { class: 'mark', d: 'M10 5v6M10 14v1.5' })]
    : level === 'amber'
      ? [s('polygon', { points: '10,1 19,18 1,18' }), s('path', { class: 'mark', d: 'M10 7v5M10 14.5v1.5' })]
      : [s('circle', { cx: 10, cy: 10, r: 9 }), s('path', { class: 'mark', d: 'M5.5 10.5l3 3 6-7' })];
  return s('svg', { class: `light-shape light-${level}`, viewBox: '0 0 20 20', width: 20, height: 20, 'aria-hidden': 'true', focusable: 'false' }, parts);
}

/** The traffic light of a patient summary: {level, reasons: [text]}. */
export function patientLight(patient, now = Date.now()) {
  const reasons = { red: [], amber: [] };
  const flags = patient.open_red_flags || [];
  const serious = flags.filter((f) => f.severity !== 'routine');
  if (serious.length) reasons.red.push(tn('reason.flag', serious.length));
  else if (flags.length) reasons.amber.push(tn('reason.flag', flags.length));
  const status = patient.status || {};
  const band = status.anc_band;
  const edges = patient.anc_band_edges;
  if (band === 'moderate' || band === 'severe') reasons.red.push(t('reason.ancLow', { band: bandName(band, edges) }));
  else if (band === 'mild') reasons.amber.push(t('reason.ancLow', { band: bandName(band, edges) }));
  const test = patient.next_blood_test;
  if (test && test.status === 'overdue') reasons.red.push(t('reason.bloodOverdue'));
  else if (test && test.status === 'due') reasons.amber.push(t('reason.bloodDue'));
  const hours = (iso) => (iso ? (now - new Date(iso).getTime()) / 3600000 : null);
  const bowel = hours(status.last_bowel_movement_at);
  if (bowel !== null && bowel >= BOWEL_FLAG_HOURS) reasons.red.push(t('reason.bowel72'));
  else if (bowel !== null && bowel >= BOWEL_PROMPT_HOURS) reasons.amber.push(t('reason.bowel48'));
  const dose = hours(status.last_dose_taken_at);
  // a paused course (RULES.md 6) waits for the care team: its doses are withheld meanwhile
  if (status.treatment === 'interrupted') reasons.red.push(t('reason.interrupted'));
  if (status.needs_retitration) reasons.red.push(t('reason.retitrate'));
  if (status.treatment === 'held') reasons.amber.push(t('reason.held'));
  if (dose !== null && dose >= RETITRATION_AFTER_HOURS && !status.doses_withheld) reasons.amber.push(t('reason.dose48'));
  // push is its own column (pushTag): a patient without it can still be on track
  if (reasons.red.length) return { level: 'red', reasons: [...reasons.red, ...reasons.amber] };
  if (reasons.amber.length) return { level: 'amber', reasons: reasons.amber };
  return { level: 'green', reasons: [t('reason.none')] };
}

export function light(level) {
  return h('span', { class: `light light-${level}` }, shape(level), h('span', {}, t(`light.${level}`)));
}

/** Doses taken of those due in the last 7 days, as words: "5 of 6 taken (83%)". */
export function adherenceText(adherence) {
  if (!adherence || !adherence.due) return t('adherence.noneDue');
  const { taken, due } = adherence;
  return t('adherence.short', { taken, due, percent: Math.round((taken / due) * 100) });
}

/** Push reachable or not, as a word with a shape (never colour alone). */
export function pushTag(reachable) {
  if (reachable === undefined || reachable === null) return h('span', {}, t('push.unknown'));
  return h('span', { class: `push-tag ${reachable ? 'push-on' : 'push-off'}` },
    shape(reachable ? 'green' : 'amber'), h('span', {}, t(reachable ? 'push.on' : 'push.off')));
}

export function bloodTestText(test) {
  if (!test) return t('blood.none');
  const date = test.due_date;
  const name = testName(test.test);
  if (test.status === 'overdue') return `${name}: ${t('blood.status.overdue', { date })}`;
  if (test.status === 'due') return `${name}: ${t('blood.status.due', { date })}`;
  if (test.days_away === 0) return `${name}: ${t('blood.status.today', { date })}`;
  return `${name}: ${tn('blood.status.upcoming', test.days_away, { date })}`;
}
