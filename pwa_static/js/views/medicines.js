// Other medicines (issue 16). On Today: the laxatives and other medicines due today, laxatives
// first, each with "Taken" and "Skip"; a medicine running low says so (for clozapine, whether
// the blood result for the next supply is in), and the patient or helper can give a new count
// after a refill. Self-contained: Today adds the section and it fills itself in, so Today never
// waits for it. The page #/medicines: the list, adding one with its times and stock, taking one
// off. Also the advice shown after "I have run out" of clozapine.

import { h, uid } from '../dom.js';
import { formatDate, formatTime, t } from '../i18n.js';
import * as outbox from '../outbox.js';
import { api } from '../api.js';
import { TABLET_STRENGTHS_MG } from '../clinical.js';
import { isCaregiver, state } from '../store.js';
import { backLink, checkedForm, errorBox, field, heading, messageFor, setFieldError, showFieldErrors } from '../ui.js';

function doseLine(medicine, dose, context) {
  const titleId = uid('med');
  const status = h('p', { class: 'dose-status', tabindex: '-1' });
  const actions = h('div', { class: 'dose-actions' });
  const row = h('li', { class: 'card medicine-dose' },
    h('h3', { id: titleId },
      h('span', { class: 'dose-time' }, dose.local_time || formatTime(dose.scheduled_at, context.tz)), ' ',
      h('span', {}, medicine.name),
      medicine.dose_text ? h('span', { class: 'hint' }, ` – ${medicine.dose_text}`) : null),
    status, actions);

  function show(current, message) {
    row.dataset.status = current;
    status.textContent = message || t(`dose.status.${current}`);
    actions.replaceChildren();
    if (current !== 'pending' && current !== 'missed') return;
    actions.append(
      h('button', { type: 'button', class: 'button primary', 'aria-describedby': titleId, onclick: () => record('taken') }, current === 'missed' ? t('dose.tookLate') : t('dose.taken')),
      h('button', { type: 'button', class: 'button', 'aria-describedby': titleId, onclick: () => record('skipped') }, t('dose.skip')));
  }

  async function record(kind) {
    const body = { medicine_id: medicine.id, scheduled_at: dose.scheduled_at, status: kind, at: new Date().toISOString() };
    for (const button of actions.querySelectorAll('button')) button.disabled = true;
    const result = await outbox.submit({
      kind: 'medicine', userId: state.user.id, patientId: context.pid,
      path: `/api/patients/${context.pid}/medicine-events`, body,
    });
    if (result.outcome === 'sent') {
      show(kind, kind === 'taken' ? t('dose.takenAt', { time: formatTime(body.at, context.tz) }) : t('dose.skipped'));
    } else if (result.outcome === 'failed') {
      show(dose.status, `${t(`dose.status.${dose.status}`)} ${t('dose.notSaved', { message: messageFor(result.error) })}`);
    } else {
      show(kind, `${kind === 'taken' ? t('dose.takenAt', { time: formatTime(body.at, context.tz) }) : t('dose.skipped')} ${t('saved.notSent')}`);
    }
    status.focus();
  }

  show(dose.status);
  return row;
}

function supplyNote(medicine) {
  const note = medicine.supply_note;
  if (!note) return null;
  return h('div', { class: medicine.blood_for_supply === 'needed' ? 'notice stack supply-note' : 'card stack supply-note' },
    h('h3', {}, `${note.title}: ${medicine.name}`),
    medicine.runs_out_on ? h('p', {}, t('medicines.runsOut', { date: formatDate(medicine.runs_out_on) })) : null,
    h('p', {}, note.text));
}

/** A new count after a refill ("How many do you have now?"); on Today only for a counted one. */
function countForm(medicine, context, always = false) {
  if (!always && (medicine.stock === null || medicine.stock === undefined)) return null;
  const input = h('input', { type: 'text', inputmode: 'decimal', autocomplete: 'off', id: uid('count') });
  const out = h('p', { role: 'status' });
  return h('details', { class: 'count-form' },
    h('summary', {}, medicine.stock === null || medicine.stock === undefined
      ? t('medicines.countFirst', { name: medicine.name })
      : t('medicines.countSummary', { name: medicine.name, count: medicine.stock })),
    h('form', {
      class: 'stack',
      onsubmit: async (event) => {
        event.preventDefault();
        const value = Number(input.value.trim().replace(',', '.'));
        if (input.value.trim() === '' || Number.isNaN(value) || value < 0) {
          out.textContent = t('medicines.countNeeded');
          return;
        }
        try {
          const answer = await api('PATCH', `/api/patients/${context.pid}/medicines/${medicine.id}`, { body: { stock: value } });
          out.textContent = answer.runs_out_on
            ? t('medicines.countSavedUntil', { date: formatDate(answer.runs_out_on) })
            : t('medicines.countSaved');
        } catch (error) {
          out.textContent = t('dose.notSaved', { message: messageFor(error) });
        }
      },
    },
    h('div', { class: 'field' }, h('label', { for: input.id }, t('medicines.countLabel')), input),
    h('button', { type: 'submit', class: 'button' }, t('medicines.countSave')), out));
}

/**
 * Today's section of other medicines: hidden until `reading` (Today's read of the list, made as
 * Today is drawn) answers, and while there is nothing to show.
 */
export function otherMedicinesSection(context, reading) {
  const section = h('section', { class: 'stack other-medicines', 'aria-label': t('medicines.title'), hidden: true });
  (async () => {
    let answer;
    try {
      answer = await reading;
    } catch {
      return;
    }
    // none listed: nothing on Today (the page is reached from Settings)
    if (!answer || !answer.data || !(answer.data.items || []).length) return;
    const items = answer.data.items;
    const due = items.flatMap((m) => (m.today || []).map((dose) => [m, dose]))
      .sort((a, b) => a[1].scheduled_at.localeCompare(b[1].scheduled_at));
    const notes = items.map(supplyNote).filter(Boolean);
    const counts = items.map((m) => countForm(m, context)).filter(Boolean);
    const link = h('p', {}, h('a', { href: '#/medicines' }, t('medicines.change')));
    if (!due.length && !notes.length && !counts.length) {
      section.append(link); // nothing due: only the way to list one
    } else {
      section.append(h('h2', { id: 'medicines-title' }, t('medicines.title')));
      if (due.length) section.append(h('ul', { class: 'doses plain' }, due.map(([m, dose]) => doseLine(m, dose, context))));
      section.append(...notes, ...counts, link);
    }
    section.hidden = false;
  })();
  return section;
}

/**
 * What to do after "I have run out" of clozapine: the care team's words from the catalogue,
 * and whether the team has been told yet (only once the skip has reached the server).
 */
export function ranOutAdvice(sent) {
  const advice = state.catalogue && state.catalogue.advice ? state.catalogue.advice.out_of_clozapine : null;
  const text = advice ? (isCaregiver() ? advice.caregiver : advice.patient) : t('medicines.ranOutFallback');
  return h('div', { class: 'notice stack ran-out', role: 'note' },
    h('h3', {}, advice ? advice.title : t('medicines.ranOutTitle')),
    h('p', { class: 'strong-note' }, sent ? t('medicines.ranOutTold') : t('medicines.ranOutNotYet')),
    h('p', {}, text));
}

// --- the page: #/medicines --------------------------------------------------------------------

const KINDS = ['laxative', 'other', 'clozapine'];

function listedMedicine(medicine, context, refresh) {
  const out = h('p', { role: 'status' });
  const when = medicine.kind === 'clozapine'
    ? t('medicines.clozapineCounted', { strength: medicine.strength_mg ?? '–' })
    : t('medicines.at', { times: medicine.times.join(', '), dose: medicine.dose_text || t('medicines.oneDose') });
  return h('li', { class: 'card stack' },
    h('h2', {}, medicine.name),
    h('p', {}, when),
    medicine.runs_out_on ? h('p', {}, t('medicines.runsOut', { date: formatDate(medicine.runs_out_on) })) : null,
    countForm(medicine, context, true),
    h('button', {
      type: 'button',
      class: 'button',
      onclick: async (event) => {
        event.currentTarget.disabled = true;
        try {
          await api('PATCH', `/api/patients/${context.pid}/medicines/${medicine.id}`, { body: { stopped: true } });
          refresh();
        } catch (error) {
          out.textContent = t('dose.notSaved', { message: messageFor(error) });
          event.target.disabled = false;
        }
      },
    }, t('medicines.stopMine', { name: medicine.name })),
    out);
}

function addForm(context, refresh) {
  const errors = errorBox();
  const name = h('input', { type: 'text', autocomplete: 'off', maxlength: '120' });
  const times = h('input', { type: 'text', autocomplete: 'off', inputmode: 'numeric', placeholder: '08:00, 20:00' });
  const dose = h('input', { type: 'text', autocomplete: 'off', maxlength: '120' });
  const stock = h('input', { type: 'text', inputmode: 'decimal', autocomplete: 'off' });
  const strength = h('select', {}, TABLET_STRENGTHS_MG.map((mg) => h('option', { value: String(mg) }, `${mg} mg`)));
  const group = uid('kind');
  const kinds = KINDS.map((kind) => {
    const input = h('input', { type: 'radio', name: group, value: kind, id: uid('kind'), onchange: () => fit() });
    if (kind === 'laxative') input.checked = true;
    return [input, h('div', { class: 'choice-line' }, input, h('label', { for: input.id }, t(`medicines.kind.${kind}`)))];
  });
  const timesField = field({ label: t('medicines.timesLabel'), input: times, hint: t('medicines.timesHint') });
  const doseField = field({ label: t('medicines.dose'), input: dose, hint: t('medicines.doseHint') });
  const strengthField = field({ label: t('medicines.strength'), input: strength });
  const chosen = () => kinds.find(([input]) => input.checked)[0].value;
  function fit() {
    const clozapine = chosen() === 'clozapine';
    timesField.hidden = clozapine;
    doseField.hidden = clozapine;
    strengthField.hidden = !clozapine;
  }
  fit();
  return checkedForm({
    class: 'stack card',
    errors,
    onSubmit: async () => {
      const body = { kind: chosen(), name: name.value.trim() };
      if (body.kind === 'clozapine') {
        body.strength_mg = Number(strength.value);
      } else {
        body.times = times.value.split(/[\s,;]+/).filter(Boolean).map((v) => (/^\d:\d\d$/.test(v) ? `0${v}` : v));
        if (dose.value.trim()) body.dose_text = dose.value.trim();
      }
      if (stock.value.trim() !== '') body.stock = Number(stock.value.trim().replace(',', '.'));
      const badCount = Number.isNaN(body.stock) || body.stock < 0;
      setFieldError(name, body.name ? '' : t('medicines.nameNeeded'));
      setFieldError(stock, badCount ? t('medicines.countNeeded') : '');
      if (!body.name || badCount) {
        (body.name ? stock : name).focus();
        return;
      }
      try {
        await api('POST', `/api/patients/${context.pid}/medicines`, { body });
        refresh();
      } catch (error) {
        errors.show(messageFor(error));
        const first = showFieldErrors({ name, times, dose_text: dose, stock, strength_mg: strength }, error.fields);
        if (first) first.focus();
      }
    },
  },
  h('h2', {}, t('medicines.addTitle')), errors.el,
  h('fieldset', {}, h('legend', {}, t('medicines.kindLegend')), kinds.map(([, line]) => line)),
  field({ label: t('medicines.name'), input: name }),
  timesField, doseField, strengthField,
  field({ label: t('medicines.stock'), input: stock, hint: t('medicines.stockHint') }),
  h('button', { type: 'submit', class: 'button primary' }, t('medicines.add')));
}

/** #/medicines: the patient's other medicines (and clozapine's stock), adding and removing. */
export async function render({ refresh } = {}) {
  const pid = state.patientId;
  const context = { pid, tz: undefined };
  const root = h('section', { class: 'stack' }, backLink('#/today', t('medicines.back')), heading(t('medicines.pageTitle')),
    h('p', {}, t('medicines.pageIntro')));
  let items = null;
  try {
    items = (await api('GET', `/api/patients/${pid}/medicines`)).items;
  } catch (error) {
    root.append(h('p', { class: 'notice' }, messageFor(error)));
    return root;
  }
  const again = refresh || (() => {});
  root.append(items.length
    ? h('ul', { class: 'plain stack' }, items.map((m) => listedMedicine(m, context, again)))
    : h('p', {}, t('medicines.none')));
  root.append(addForm(context, again));
  return root;
}
