// History: doses, bowel movements, symptoms and blood results, each on its own screen with a
// simple chart and the same figures as text. Entries not sent yet are shown, marked as such.

import { columns, line } from '../charts.js';
import { FEVER_C, cellsPerUl } from '../clinical.js';
import { h } from '../dom.js';
import {
  formatDate, formatDateTime, formatMonth, formatNumber, has, isoDate, t, tn, weekdayNames,
} from '../i18n.js';
import * as outbox from '../outbox.js';
import { cachedGet, currentPatient, state, whenPatients } from '../store.js';
import {
  backLink, bristolTypes, checkedForm, describeEntry, errorBox, field, heading, messageFor, showFieldErrors, symptomLabel,
} from '../ui.js';
import { say } from '../parts.js';

const DAY = 24 * 60 * 60 * 1000;
const PARTS = ['month', 'doses', 'bowel', 'symptoms', 'blood'];

function lastDays(count, tz) {
  const days = [];
  for (let i = count - 1; i >= 0; i -= 1) days.push(isoDate(new Date(Date.now() - i * DAY), tz));
  return days;
}

function shortDay(dateText) {
  return formatDate(dateText, 'short').split(/[ ,]/)[0];
}

async function waiting(kind) {
  const list = await outbox.entries(state.user.id).catch(() => []);
  return list.filter((entry) => entry.kind === kind && entry.patientId === state.patientId && entry.state === 'pending');
}

function waitingList(entries) {
  if (!entries.length) return null;
  return h('div', { class: 'card stack' },
    h('h2', {}, t('today.waitingTitle')),
    h('ul', {}, entries.map((entry) => h('li', {}, `${describeEntry(entry)}. ${t('saved.notSent')}`))));
}

function offlineNote(answer) {
  if (answer.fresh) return null;
  return h('p', { class: 'notice' }, answer.savedAt ? t('today.stale', { when: formatDateTime(answer.savedAt) }) : t('history.offline'));
}

function page(title, ...children) {
  return h('section', { class: 'stack' }, backLink('#/history', t('history.back')), heading(title), children);
}

// --- doses -------------------------------------------------------------------------------------

async function doses(pid, tz) {
  const days = lastDays(7, tz);
  const answers = await Promise.all(days.map((day) => cachedGet(`doses:${pid}:${day}`, `/api/patients/${pid}/doses?date=${day}`)
    .catch(() => ({ data: null, fresh: false }))));
  const rows = days.map((day, i) => {
    const list = (answers[i].data && answers[i].data.doses) || [];
    const taken = list.filter((d) => d.status === 'taken').length;
    const due = list.filter((d) => d.status !== 'withheld').length; // a paused dose was not due
    return { day, list, taken, total: due, known: Boolean(answers[i].data) };
  });
  const known = rows.filter((r) => r.known);
  const taken = known.reduce((n, r) => n + r.taken, 0);
  const total = known.reduce((n, r) => n + r.total, 0);
  const summary = t('history.dosesSummary', { taken, total });
  return page(say('history.doses'),
    offlineNote(answers[answers.length - 1]),
    h('p', { class: 'lead' }, summary),
    columns(rows.map((r) => ({ label: shortDay(r.day), value: r.taken, total: r.total, text: r.known ? `${r.taken}/${r.total}` : '?' })), summary),
    h('p', { class: 'hint' }, t('history.dosesLegend')),
    h('ul', { class: 'plain rows' }, [...rows].reverse().map((r) => h('li', {},
      h('h2', { class: 'row-title' }, formatDate(r.day)),
      !r.known ? h('p', {}, t('history.unknown'))
        : !r.list.length ? h('p', {}, t('history.noDoses'))
          : h('ul', {}, r.list.map((d) => h('li', {}, `${d.local_time || ''} ${t('dose.mg', { mg: formatNumber(d.mg, 2) })}: ${say(`dose.status.${d.status}`)}`)))))),
    waitingList(await waiting('dose')));
}

// --- a month at a glance ----------------------------------------------------------------------

function doseCounts(day) {
  const d = day.doses || {};
  // a dose the course withheld was not due; one still to come today is not counted yet
  return { taken: d.taken || 0, total: (d.taken || 0) + (d.skipped || 0) + (d.missed || 0) + (d.pending || 0) };
}

/** One day of the month in words: the doses, the bowel movements, the symptoms. */
function dayWords(day) {
  const doses = doseCounts(day);
  const parts = [doses.total ? t('month.doses', { taken: doses.taken, total: doses.total }) : t('month.noDoses')];
  parts.push(day.bowel_movements ? tn('month.bowel', day.bowel_movements) : t('month.noBowel'));
  if (day.symptoms.length) parts.push(t('month.symptoms', { list: day.symptoms.map(symptomLabel).join(', ') }));
  if (day.highest_temperature_c !== null && day.highest_temperature_c !== undefined) {
    parts.push(t('month.temperature', { value: formatNumber(day.highest_temperature_c) }));
  }
  return parts;
}

/**
 * The month as a calendar (a table, Monday first: each day's doses taken of due, its bowel
 * movements, a mark for symptoms) and the same day by day in words, with the months around it.
 */
async function monthPage(pid, which) {
  const query = which ? `?month=${encodeURIComponent(which)}` : '';
  const answer = await cachedGet(`month:${pid}:${which || 'this'}`, `/api/patients/${pid}/month${query}`);
  const data = answer.data;
  if (!data) return page(say('history.month'), offlineNote(answer));
  const days = data.days || [];
  const [y, m] = data.month.split('-').map(Number);
  const first = new Date(Date.UTC(y, m - 1, 1)).getUTCDay(); // 0 = Sunday
  const length = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const byDate = new Map(days.map((day) => [day.date, day]));
  const cells = Array((first + 6) % 7).fill(null);
  for (let n = 1; n <= length; n += 1) cells.push(`${data.month}-${String(n).padStart(2, '0')}`);
  while (cells.length % 7) cells.push(null);
  const weeks = [];
  for (let i = 0; i < cells.length; i += 7) weeks.push(cells.slice(i, i + 7));
  const totals = days.reduce((sum, day) => {
    const doses = doseCounts(day);
    return {
      taken: sum.taken + doses.taken,
      total: sum.total + doses.total,
      bowel: sum.bowel + day.bowel_movements,
      symptomDays: sum.symptomDays + (day.symptoms.length ? 1 : 0),
    };
  }, { taken: 0, total: 0, bowel: 0, symptomDays: 0 });
  const cell = (date) => {
    const day = date && byDate.get(date);
    if (!date) return h('td', { class: 'empty' });
    if (!day) return h('td', { class: 'later' }, h('span', { class: 'day-number' }, String(Number(date.slice(8)))));
    const doses = doseCounts(day);
    const all = doses.total > 0 && doses.taken === doses.total;
    return h('td', { class: `${day.bowel_movements ? '' : 'no-bowel'}${day.symptoms.length ? ' symptoms' : ''}`.trim() || null },
      h('span', { class: 'day-number' }, String(Number(date.slice(8)))),
      h('span', { class: `day-doses${all ? ' all' : ''}` }, doses.total ? `${doses.taken}/${doses.total}` : '–'),
      h('span', { class: 'day-bowel' }, String(day.bowel_movements)),
      day.symptoms.length ? h('span', { class: 'day-symptom' }, '!') : null);
  };
  const nav = h('p', { class: 'month-nav' },
    h('a', { href: `#/history/month/${data.previous}` }, t('month.previous')),
    data.next ? h('a', { href: `#/history/month/${data.next}` }, t('month.next')) : null);
  return page(`${say('history.month')}: ${formatMonth(data.month)}`,
    offlineNote(answer),
    nav,
    h('p', { class: 'lead' }, t('month.summary', totals)),
    h('table', { class: 'month' },
      h('caption', {}, formatMonth(data.month)),
      h('thead', {}, h('tr', {}, weekdayNames().map((name) => h('th', { scope: 'col' }, name)))),
      h('tbody', {}, weeks.map((week) => h('tr', {}, week.map(cell))))),
    h('p', { class: 'hint' }, t('month.legend')),
    h('ul', { class: 'plain rows' }, [...days].reverse().map((day) => h('li', {},
      h('h2', { class: 'row-title' }, formatDate(day.date)),
      h('ul', {}, dayWords(day).map((text) => h('li', {}, text)))))));
}

// --- bowel movements -----------------------------------------------------------------------

async function bowel(pid, tz) {
  const since = new Date(Date.now() - 14 * DAY).toISOString();
  const answer = await cachedGet(`bowel:${pid}`, `/api/patients/${pid}/bowel-movements?since=${encodeURIComponent(since)}`);
  const items = (answer.data && answer.data.items) || [];
  const days = lastDays(14, tz);
  const counts = new Map(days.map((d) => [d, 0]));
  for (const item of items) {
    const day = isoDate(new Date(item.occurred_at), tz);
    if (counts.has(day)) counts.set(day, counts.get(day) + 1);
  }
  const empty = [...counts.values()].filter((n) => n === 0).length;
  const summary = t('history.bowelSummary', { count: items.length, empty });
  return page(say('history.bowel'),
    offlineNote(answer),
    waitingList(await waiting('bowel')),
    h('p', { class: 'lead' }, summary),
    columns(days.map((d) => ({ label: String(Number(d.slice(8))), value: counts.get(d) })), summary),
    items.length
      ? h('ul', { class: 'plain rows' }, items.map((item) => h('li', {},
        h('h2', { class: 'row-title' }, formatDateTime(item.occurred_at, tz)),
        h('p', {}, h('strong', {}, t('bristol.label', { type: item.bristol_type })), ` – ${(bristolTypes()[item.bristol_type - 1] || {}).description || ''}`),
        item.notes ? h('p', { class: 'hint' }, item.notes) : null)))
      : h('p', {}, t('history.none')),
    h('a', { href: '#/bowel', class: 'button primary' }, t('today.logBowel')));
}

// --- symptoms ------------------------------------------------------------------------------

async function symptomsPage(pid, tz) {
  const since = new Date(Date.now() - 30 * DAY).toISOString();
  const answer = await cachedGet(`symptoms:${pid}`, `/api/patients/${pid}/symptoms?since=${encodeURIComponent(since)}`);
  const items = (answer.data && answer.data.items) || [];
  const temps = items.filter((i) => typeof i.temperature_c === 'number').reverse();
  let chart = null;
  if (temps.length >= 2) {
    const high = Math.max(...temps.map((i) => i.temperature_c));
    const summary = t('history.tempSummary', { count: temps.length, high: formatNumber(high) });
    chart = h('div', { class: 'stack' }, h('h2', {}, t('history.tempTitle')), line(
      temps.map((i) => ({ value: i.temperature_c, label: String(Number(isoDate(new Date(i.occurred_at), tz).slice(8))) })),
      summary,
      { value: FEVER_C, label: t('history.feverLine', { value: formatNumber(FEVER_C) }) },
    ));
  }
  return page(say('history.symptoms'),
    offlineNote(answer),
    waitingList(await waiting('symptom')),
    chart,
    items.length
      ? h('ul', { class: 'plain rows' }, items.map((item) => h('li', {},
        h('h2', { class: 'row-title' }, formatDateTime(item.occurred_at, tz)),
        h('p', {}, (item.symptoms || []).map(symptomLabel).join(', ') || t('history.noSymptoms')),
        typeof item.temperature_c === 'number'
          ? h('p', {}, t('entry.temperature', { value: formatNumber(item.temperature_c) }))
          : null,
        item.notes ? h('p', { class: 'hint' }, item.notes) : null)))
      : h('p', {}, t('history.none')),
    h('a', { href: '#/symptom', class: 'button primary' }, t('today.reportSymptom')));
}

// --- blood results -------------------------------------------------------------------------

function testName(test) {
  return has(`test.${test}`) ? t(`test.${test}`) : t('test.other', { name: String(test).replace(/_/g, ' ') });
}

function unitText(unit) {
  if (unit === '10^9/L') return t('lab.unit.si');
  if (unit === 'cells/uL') return t('lab.unit.cells');
  return unit || '';
}

function bandText(band) {
  return has(`band.${band}`) ? t(`band.${band}`) : band || t('band.unknown');
}

function addResultForm(pid) {
  const value = h('input', { type: 'text', inputmode: 'decimal', name: 'value', autocomplete: 'off' });
  const unit = h('select', { name: 'unit' },
    h('option', { value: '10^9/L' }, t('lab.unit.si')),
    h('option', { value: 'cells/uL' }, t('lab.unit.cells')));
  const collected = h('input', { type: 'date', name: 'collected_at', max: isoDate(), value: isoDate() });
  const errors = errorBox();
  const outcome = h('div', { class: 'stack', 'aria-live': 'polite' });
  const form = checkedForm({
    class: 'stack card',
    errors,
    onSubmit: async () => {
      const number = Number(value.value.trim().replace(',', '.'));
      if (!value.value.trim() || !Number.isFinite(number) || number < 0) {
        showFieldErrors({ value }, { value: [t('lab.valueInvalid')] });
        errors.show(t('lab.valueInvalid'));
        return;
      }
      if (!collected.value) {
        showFieldErrors({ collected_at: collected }, { collected_at: [t('lab.dateInvalid')] });
        errors.show(t('lab.dateInvalid'));
        return;
      }
      showFieldErrors({ value, collected_at: collected }, {});
      // noon on the day the blood was taken, in this phone's time zone, as an instant
      const [y, m, d] = collected.value.split('-').map(Number);
      const body = { test: 'anc', value: number, unit: unit.value, collected_at: new Date(y, m - 1, d, 12).toISOString() };
      const result = await outbox.submit({ kind: 'lab', userId: state.user.id, patientId: pid, path: `/api/patients/${pid}/lab-results`, body });
      if (result.outcome === 'failed') {
        showFieldErrors({ value, unit, collected_at: collected }, (result.error && result.error.fields) || {});
        errors.show(messageFor(result.error));
        return;
      }
      const info = result.data && result.data.interpretation;
      // a copy decides nothing (RULES.md 7): it is shown as yours, in your own words
      outcome.replaceChildren(
        h('p', { class: 'strong-note' }, result.outcome === 'sent' ? t('saved.done') : t('saved.notSent')),
        info && info.advice ? h('p', {}, info.advice.text) : null,
        info && info.counts && info.band ? h('p', {}, t('lab.band', { band: bandText(info.band) })) : null,
        info && info.next_test_due ? h('p', {}, t('lab.next', { date: formatDate(String(info.next_test_due).slice(0, 10)) })) : null,
      );
      value.value = '';
    },
  },
  h('h2', {}, t('lab.addTitle')),
  h('p', { class: 'hint' }, t('lab.addIntro')),
  errors.el,
  field({ label: t('lab.value'), input: value, hint: t('lab.valueHint') }),
  field({ label: t('lab.unit'), input: unit }),
  field({ label: t('lab.date'), input: collected }),
  h('button', { type: 'submit', class: 'button primary' }, t('lab.submit')),
  outcome);
  return form;
}

async function blood(pid, tz) {
  const answer = await cachedGet(`blood:${pid}`, `/api/patients/${pid}/blood-tests`);
  const data = answer.data || { upcoming: [], history: [] };
  const history = data.history || [];
  // the chart is the clinic's neutrophil counts: the ones that count (RULES.md 7)
  const chronological = history.filter((item) => item.test === 'anc' && item.source === 'clinic' && item.value !== null)
    .sort((a, b) => (a.collected_at < b.collected_at ? -1 : 1)).slice(-8);
  const summary = chronological.length
    ? t('history.bloodSummary', { count: chronological.length, band: bandText(chronological[chronological.length - 1].band) })
    : '';
  return page(say('history.blood'),
    offlineNote(answer),
    h('h2', {}, t('history.upcoming')),
    (data.upcoming || []).length
      ? h('ul', { class: 'plain rows' }, data.upcoming.map((item) => h('li', {},
        h('p', {}, h('strong', {}, formatDate(item.due_date)), ` – ${testName(item.test)}`),
        h('p', {}, t(`blood.status.${item.status}`)))))
      : h('p', {}, t('today.bloodNone')),
    h('h2', {}, t('history.results')),
    chronological.length
      ? columns(chronological.map((item) => ({
        label: shortDay(isoDate(new Date(item.collected_at), tz)),
        value: cellsPerUl(item) / 1000,
        text: formatNumber(cellsPerUl(item) / 1000, 1),
      })), summary)
      : null,
    chronological.length ? h('p', { class: 'hint' }, t('history.bloodUnit')) : null,
    history.length
      ? h('ul', { class: 'plain rows' }, history.map((item) => h('li', {},
        h('h3', { class: 'row-title' }, formatDate(isoDate(new Date(item.collected_at), tz))),
        h('p', {}, `${testName(item.test)}: ${formatNumber(item.value, 2)} ${unitText(item.unit)}`),
        item.band && item.source === 'clinic' ? h('p', { class: `band band-${item.band}` }, t('lab.band', { band: bandText(item.band) })) : null,
        h('p', { class: 'hint' }, item.source === 'clinic' ? t('lab.fromClinic') : t('lab.fromYou')),
        item.discrepancy ? h('p', { class: 'notice' }, t('lab.differs')) : null)))
      : h('p', {}, t('history.none')),
    waitingList(await waiting('lab')),
    addResultForm(pid));
}

export async function render({ params }) {
  await whenPatients();
  const pid = state.patientId;
  const tz = (currentPatient() || {}).timezone;
  const part = params[0];
  if (!pid) return page(t('history.title'), h('p', {}, t('today.noPatient')));
  try {
    if (part === 'doses') return await doses(pid, tz);
    if (part === 'bowel') return await bowel(pid, tz);
    if (part === 'symptoms') return await symptomsPage(pid, tz);
    if (part === 'blood') return await blood(pid, tz);
    if (part === 'month') return await monthPage(pid, params[1]);
  } catch (error) {
    return page(say(`history.${part}`), h('p', { class: 'error-box' }, messageFor(error)));
  }
  return h('section', { class: 'stack' },
    heading(t('history.title')),
    h('p', { class: 'lead' }, t('history.intro')),
    h('ul', { class: 'plain menu' }, PARTS.map((name) => h('li', {},
      h('a', { href: `#/history/${name}`, class: 'menu-link' },
        h('span', { class: 'menu-title' }, say(`history.${name}`)),
        h('span', { class: 'hint' }, t(`history.${name}Hint`)))))));
}
