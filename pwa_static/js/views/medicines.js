// Other medicines on Today (issue 16): the laxatives and other medicines due today, laxatives
// first, each with "Taken" and "Skip"; a medicine running low says so (for clozapine, whether
// the blood result for the next supply is in), and the patient or helper can give a new count
// after a refill. Self-contained: Today adds the section and it fills itself in, so Today never
// waits for it. Also the advice shown after "I have run out" of clozapine.

import { h, uid } from '../dom.js';
import { formatDate, formatTime, t } from '../i18n.js';
import * as outbox from '../outbox.js';
import { api } from '../api.js';
import { cachedGet, isCaregiver, state } from '../store.js';
import { messageFor } from '../ui.js';

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

/** A new count after a refill ("How many do you have now?"), for a medicine with a count. */
function countForm(medicine, context) {
  if (medicine.stock === null || medicine.stock === undefined) return null;
  const input = h('input', { type: 'number', min: '0', step: '0.5', inputmode: 'decimal', id: uid('count') });
  const out = h('p', { role: 'status' });
  return h('details', { class: 'count-form' },
    h('summary', {}, t('medicines.countSummary', { name: medicine.name, count: medicine.stock })),
    h('form', {
      class: 'stack',
      onsubmit: async (event) => {
        event.preventDefault();
        const value = Number(input.value);
        if (input.value === '' || Number.isNaN(value) || value < 0) {
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
 * Today's section of other medicines: hidden until the answer comes, and while there is
 * nothing to show.
 */
export function otherMedicinesSection(context) {
  const section = h('section', { class: 'stack other-medicines', 'aria-labelledby': 'medicines-title', hidden: true });
  (async () => {
    let answer;
    try {
      answer = await cachedGet(`medicines:${context.pid}`, `/api/patients/${context.pid}/medicines`);
    } catch {
      return;
    }
    const items = (answer && answer.data && answer.data.items) || [];
    const due = items.flatMap((m) => (m.today || []).map((dose) => [m, dose]))
      .sort((a, b) => a[1].scheduled_at.localeCompare(b[1].scheduled_at));
    const notes = items.map(supplyNote).filter(Boolean);
    const counts = items.map((m) => countForm(m, context)).filter(Boolean);
    if (!due.length && !notes.length && !counts.length) return;
    section.append(h('h2', { id: 'medicines-title' }, t('medicines.title')));
    if (due.length) section.append(h('ul', { class: 'doses plain' }, due.map(([m, dose]) => doseLine(m, dose, context))));
    section.append(...notes, ...counts);
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
