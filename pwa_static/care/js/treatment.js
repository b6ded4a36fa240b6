// The treatment course on the care-team screens (RULES.md 6): the state in a nurse's words with
// since when and why, the "restart not advised" marker, a clinician's hold, resume or stop, the
// course's events for the timeline, and the patient page drawn again after each save.

import { RETITRATION_AFTER_HOURS } from '/static/js/clinical.js';
import { h, uid } from '/static/js/dom.js';
import { ago, formatDate, formatDateTime, has, t } from './i18n.js';
import { call } from './session.js';
import { choiceField, errorBox, failureText, field, sendingForm, shape } from './ui.js';

// Paused courses come first in the patient list, the blood count first of all.
const PAUSED_ORDER = { interrupted: 0, needs_retitration: 1, held: 2 };

/** 0, 1, 2 for a paused course (interrupted, needs re-titration, held), else 3: the list's order. */
export function pausedRank(patient) {
  const state = patient.status ? patient.status.treatment : null;
  return state in PAUSED_ORDER ? PAUSED_ORDER[state] : 3;
}

/** The state in a nurse's words: "Needs re-titration", "Held", "Interrupted (blood count)". */
export function courseName(status) {
  const state = (status && status.treatment) || 'not_started';
  if (state === 'in_titration' && status.treatment_cause === 'taper_plan') return t('course.state.tapering');
  return has(`course.state.${state}`) ? t(`course.state.${state}`) : state.replace(/_/g, ' ');
}

/** Why the course is in its state, in words. */
export function causeText(cause) {
  if (!cause) return '';
  return has(`course.cause.${cause}`) ? t(`course.cause.${cause}`) : cause.replace(/_/g, ' ');
}

function level(state) {
  if (state === 'interrupted' || state === 'needs_retitration') return 'red';
  if (state === 'held' || state === 'stopped') return 'amber';
  return 'green';
}

function sinceText(status) {
  if (!status.treatment_since) return '';
  return t('course.since', { ago: ago(status.treatment_since), when: formatDateTime(status.treatment_since) });
}

/** The "restart not advised" marker (after ANC < 500, UK red, or a stop for myocarditis). */
export function rechallengeMarker(status, { compact = false } = {}) {
  if (!status || status.rechallenge !== 'not_advised') return null;
  const cause = status.rechallenge_cause;
  const why = cause ? (has(`course.rechallenge.cause.${cause}`) ? t(`course.rechallenge.cause.${cause}`) : causeText(cause)) : '';
  if (compact) return h('p', { class: 'rechallenge-tag' }, shape('red'), h('span', {}, t('course.rechallenge.short')));
  return h('div', { class: 'rechallenge-marker' }, shape('red'),
    h('p', {}, h('strong', {}, t('course.rechallenge.title')), ' ',
      why ? t('course.rechallenge.why', { why }) : '', ' ', t('course.rechallenge.text')));
}

/** The patient list's cell: state, since when, why, a planned restart, the marker. */
export function courseCell(status) {
  const state = status.treatment || 'not_started';
  return [
    h('span', { class: `course-tag course-${level(state)}` }, level(state) === 'green' ? null : shape(level(state)), h('span', {}, courseName(status))),
    status.treatment_since ? h('span', { class: 'course-line' }, sinceText(status)) : null,
    status.treatment_cause ? h('span', { class: 'course-line' }, t('course.why', { why: causeText(status.treatment_cause) })) : null,
    status.restart_on ? h('span', { class: 'course-line' }, t('course.restartOn', { date: formatDate(status.restart_on) })) : null,
    rechallengeMarker(status, { compact: true }),
  ];
}

// --- after a save: the page is drawn again from the server, and what was said is kept --------

const notices = new Map();

/** Draw the patient page again at `section`, with `notice` ({text, warning?}) shown there. */
export function redrawPatient(go, id, section, notice) {
  notices.set(`${id}:${section}`, notice);
  go(`patients/${id}/${section}`);
}

/** The notice left for this section by the save that drew the page again (once). */
export function takeNotice(id, section) {
  const key = `${id}:${section}`;
  const notice = notices.get(key) || null;
  notices.delete(key);
  return notice;
}

export function noticeBox(notice) {
  if (!notice) return null;
  return h('div', { class: 'stack' },
    h('p', { class: 'saved-line' }, notice.text),
    notice.warning ? h('p', { class: 'notice' }, notice.warning) : null);
}

// --- the patient page's section -------------------------------------------------------------

const REASONS = {
  hold: ['illness', 'procedure', 'suspected_myocarditis', 'side_effects', 'other'],
  resume: ['doses_taken', 'short_gap', 'cause_passed', 'count_recovered', 'other'],
  stop: ['myocarditis', 'neutropenia', 'side_effects', 'not_working', 'patient_choice', 'other'],
};
// Stopping for these: restarting clozapine is not advised (guideline L149, L182).
const NOT_ADVISED_AFTER = new Set(['myocarditis', 'neutropenia']);

/** Hours since the last dose marked taken, or null when none is known. */
function hoursWithoutDose(status) {
  if (!status.last_dose_taken_at) return null;
  return (Date.now() - new Date(status.last_dose_taken_at).getTime()) / 3600000;
}

function actionForm(action, { base, patient, onDone, onCancel }) {
  const status = patient.status;
  const errors = errorBox();
  const titleId = uid('act');
  const reasons = choiceField(t('course.form.reason'), uid('reason'), REASONS[action].map((v) => [v, t(`course.reason.${action}.${v}`)]), {
    onchange: (event) => {
      if (action === 'stop' && NOT_ADVISED_AFTER.has(event.target.value)) rechallenge.choose('not_advised');
    },
  });
  const details = field(t('course.form.details'), h('textarea', { rows: '2', maxlength: '400' }), { hint: t('course.form.detailsHint') });
  const rechallenge = action === 'stop'
    ? choiceField(t('course.form.rechallenge'), uid('rechallenge'), ['advised', 'not_advised'].map((v) => [v, t(`course.rechallengeChoice.${v}`)]))
    : null;
  const hours = hoursWithoutDose(status);
  const longGap = action === 'resume' && hours !== null && hours > RETITRATION_AFTER_HOURS;
  const confirmBox = longGap ? h('input', { type: 'checkbox', id: uid('confirm') }) : null;
  const confirmError = h('p', { id: uid('err'), class: 'field-error', hidden: true });
  const gapWarning = longGap
    ? h('div', { class: 'notice stack', role: 'note' },
      h('p', { class: 'strong-note' }, t('course.resume.gapTitle', { ago: ago(status.last_dose_taken_at) })),
      h('p', {}, t('course.resume.gapText')),
      h('div', { class: 'check' }, confirmBox, h('label', { for: confirmBox.id }, t('course.resume.gapConfirm'))),
      confirmError)
    : null;
  if (confirmBox) confirmBox.setAttribute('aria-describedby', confirmError.id);
  const submit = h('button', { type: 'submit', class: action === 'resume' ? 'button primary' : 'button danger' },
    t(longGap ? 'course.resume.anyway' : `course.action.${action}`));

  function clear() {
    errors.hide();
    reasons.setError('');
    details.setError('');
    if (rechallenge) rechallenge.setError('');
    confirmError.hidden = true;
  }

  const form = sendingForm({
    class: 'stack course-form',
    'aria-labelledby': titleId,
    errors,
    button: submit,
    read: () => {
      clear();
      const chosen = reasons.value();
      const more = details.input.value.trim();
      let first = null;
      if (!chosen) { reasons.setError(t('course.form.reasonMissing')); first = first || reasons.inputs[0]; }
      if (chosen === 'other' && !more) { details.setError(t('course.form.detailsMissing')); first = first || details.input; }
      if (rechallenge && !rechallenge.value()) { rechallenge.setError(t('course.form.rechallengeMissing')); first = first || rechallenge.inputs[0]; }
      if (confirmBox && !confirmBox.checked) {
        confirmError.textContent = t('course.resume.gapMissing');
        confirmError.hidden = false;
        first = first || confirmBox;
      }
      if (first) { first.focus(); return null; }
      const label = t(`course.reason.${action}.${chosen}`);
      const body = { action, reason: chosen === 'other' ? more : (more ? `${label}: ${more}` : label) };
      if (rechallenge) body.rechallenge = rechallenge.value();
      return body;
    },
    work: async (body) => {
      const answer = await call('POST', `${base}/treatment-events`, { body });
      onDone({
        text: t(`course.done.${action}`, { state: courseName(answer.status) }),
        warning: answer.warning === 'gap_over_48h' ? t('course.warning.gap_over_48h') : null,
      });
    },
    failed: (error) => {
      errors.show(failureText(error));
      const fields = error.fields || {};
      if (fields.reason) { reasons.setError(fields.reason.join(' ')); reasons.inputs[0].focus(); }
      if (fields.rechallenge && rechallenge) { rechallenge.setError(fields.rechallenge.join(' ')); rechallenge.inputs[0].focus(); }
      if (fields.action) errors.show(`${failureText(error)} ${fields.action.join(' ')}`);
    },
  },
  h('h3', { id: titleId }, t(`course.action.${action}`)),
  h('p', { class: 'hint' }, t(`course.form.intro.${action}`)),
  errors.el, reasons.el, details.el, rechallenge ? rechallenge.el : null, gapWarning,
  h('div', { class: 'button-row' }, submit,
    h('button', { type: 'button', class: 'button', onclick: onCancel }, t('course.form.cancel'))));
  return form;
}

/**
 * The patient page's "Treatment" section: the state with since when and why, what the patient
 * is told, the marker, what to do next, and the clinician's actions for this state.
 * `onSaved(notice)` draws the page again.
 */
export function courseSection({ base, patient, notice, onSaved }) {
  const status = patient.status || {};
  const state = status.treatment || 'not_started';
  const holder = h('div', { class: 'stack' });
  const buttons = h('div', { class: 'button-row' });
  const panel = h('div', { class: `course-panel course-panel-${level(state)} stack` },
    h('p', { class: 'big course-state' }, level(state) === 'green' ? null : shape(level(state)), ' ', courseName(status)),
    status.treatment_since || status.treatment_cause
      ? h('p', {}, [sinceText(status), status.treatment_cause ? t('course.why', { why: causeText(status.treatment_cause) }) : ''].filter(Boolean).join(' '))
      : null,
    status.restart_on ? h('p', { class: 'strong-note' }, t('course.restartOn', { date: formatDate(status.restart_on) })) : null,
    status.doses_withheld && state !== 'stopped' ? h('p', {}, t('course.withheld')) : null,
    has(`course.next.${state}`) ? h('p', {}, t(`course.next.${state}`)) : null);

  function showButtons() {
    holder.replaceChildren();
    buttons.replaceChildren(...(status.treatment_actions || []).map((action) => h('button', {
      type: 'button',
      class: 'button',
      onclick: () => openForm(action),
    }, t(`course.action.${action}`))));
    buttons.hidden = !buttons.children.length;
  }

  function openForm(action) {
    buttons.hidden = true;
    const form = actionForm(action, {
      base,
      patient,
      onDone: onSaved,
      onCancel: () => {
        showButtons();
        const again = [...buttons.children].find((b) => b.textContent === t(`course.action.${action}`));
        if (again) again.focus();
      },
    });
    holder.replaceChildren(form);
    form.querySelector('input').focus();
  }

  showButtons();
  return h('div', { class: 'stack' }, noticeBox(notice), panel, rechallengeMarker(status), buttons, holder);
}

// --- the timeline ----------------------------------------------------------------------------

/** The course's events as timeline entries: {at, kind: 'treatment', text}. */
export function courseEntries(items) {
  return items.map((e) => {
    let text;
    if (e.action) {
      text = t(`course.event.${e.action}`, { who: e.by || t('who.clinician'), reason: e.reason || '' });
      if (e.rechallenge) text += ` ${t(`course.event.rechallenge.${e.rechallenge}`)}`;
      if (e.warning) text += ` ${t(`course.event.warning.${e.warning}`)}`;
    } else {
      const name = courseName({ treatment: e.to_state, treatment_cause: e.cause });
      text = `${name}: ${causeText(e.cause)}${e.by ? ` (${e.by})` : ''}`;
    }
    return { at: e.at, kind: 'treatment', text };
  });
}
