// One patient's page: status and red flags, the treatment course, doses in the last 7 days, ANC,
// bowel movements, the timeline, entering a blood result, the dose plan, caregiver invites,
// logins and caregivers (people.js), reports and the audit (collapsed, the reader's own page
// views left out unless asked for). Every save (a blood result, a plan, a course change) draws
// the whole page again from the server, so the status, the light and the timeline are never
// stale; what was said is kept.

import { columns } from '/static/js/charts.js';
import {
  CRP_HIGH_MG_L, CRP_RAISED_MG_L, LEVEL_HIGH_NG_ML, LEVEL_TARGET_NG_ML, LIVER_MULTIPLE, TROPONIN_HIGH_MULTIPLE, cellsPerUl,
} from '/static/js/clinical.js';
import { h } from '/static/js/dom.js';
import { addDays, formatDate, formatDateTime, isoDate, localInputToIso, nowForInput, t } from './i18n.js';
import { bowelChart, ancChart } from './charts.js';
import { call } from './session.js';
import { bandName, bloodTestText, errorBox, failureText, field, light, patientLight, pushTag, ruleTitle, sendingForm, severityTag, symptomName, testName } from './ui.js';
import { medicinesSection } from './medicines.js';
import { peopleBlock } from './people.js';
import { planSection } from './plan.js';
import { resolutionText } from './escalations.js';
import { tabletsBlock } from './tablets.js';
import { courseEntries, courseName, courseSection, redrawPatient, takeNotice } from './treatment.js';

const weekday = (date) => new Intl.DateTimeFormat(undefined, { weekday: 'short', timeZone: 'UTC' }).format(new Date(`${date}T12:00:00Z`));
const maybe = (promise, fallback) => promise.catch((error) => (error.status === 404 ? fallback : Promise.reject(error)));

function section(id, title, ...children) {
  return h('section', { id: `sec-${id}`, class: 'card stack', 'aria-labelledby': `h-${id}` },
    h('h2', { id: `h-${id}`, tabindex: '-1' }, title), ...children);
}

export async function render({ params, refresh, go }) {
  const id = Number(params[0]);
  const base = `/api/patients/${id}`;
  const courseEvents = call('GET', `${base}/treatment-events`); // the course's history (treatment.js)
  courseEvents.catch(() => {}); // awaited below; a failure fails the page there
  const patient = await call('GET', base);
  const zone = patient.timezone;
  const today = isoDate(new Date(), zone);
  const days = Array.from({ length: 7 }, (_, i) => addDays(today, i - 6));
  const [labs, bowels, symptoms, events, escalations, plan, ...doseDays] = await Promise.all([
    call('GET', `${base}/lab-results?limit=200`),
    call('GET', `${base}/bowel-movements?limit=300`),
    call('GET', `${base}/symptoms?limit=100`),
    call('GET', `${base}/dose-events?limit=100`),
    call('GET', `/api/escalations?patient_id=${id}`),
    maybe(call('GET', `${base}/dose-plan`), null),
    ...days.map((date) => call('GET', `${base}/doses?date=${date}`)),
  ]);
  const status = patientLight(patient);
  const name = patient.display_name;

  // --- header ---------------------------------------------------------------------------------
  const flags = patient.open_red_flags || [];
  const header = h('div', { class: 'stack' },
    h('p', { class: 'back' }, h('a', { href: '#/patients' }, t('patient.back'))),
    h('h1', { tabindex: '-1' }, t('patient.title', { name })),
    h('p', {}, t('patient.meta', {
      date: formatDate(patient.clozapine_start_date), zone,
      treatment: courseName(patient.status),
    })),
    patient.benign_ethnic_neutropenia ? h('p', { class: 'notice' }, t('patient.ben')) : null,
    h('div', { class: `status-panel status-${status.level}` }, light(status.level),
      h('ul', { class: 'reasons' }, status.reasons.map((r) => h('li', {}, r))),
      h('p', {}, `${t('patients.col.anc')}: ${bandName(patient.status.anc_band, patient.anc_band_edges)}. ${t('patients.col.blood')}: ${bloodTestText(patient.next_blood_test)}.`),
      h('p', {}, `${t('patients.col.push')}: `, pushTag(patient.status.push_reachable))),
    h('div', { class: 'stack' }, h('h2', {}, t('patient.openFlags')),
      flags.length
        ? h('ul', { class: 'plain' }, flags.map((f) => h('li', { class: 'flag-line' }, severityTag(f.severity), ' ', ruleTitle(f.rule, f.title), ` – ${formatDateTime(f.opened_at)}`)))
        : h('p', {}, t('patient.flagsNone')),
      flags.length ? h('p', {}, h('a', { href: '#/escalations' }, t('patient.seeEscalations'))) : null));

  // --- doses in the last 7 days ---------------------------------------------------------------
  const perDay = doseDays.map((answer) => {
    const doses = answer.doses || [];
    const counted = doses.filter((d) => d.status !== 'pending' && d.status !== 'withheld'); // withheld: not due
    return {
      date: answer.date, planned: counted.length, taken: counted.filter((d) => d.status === 'taken').length,
      missed: counted.filter((d) => d.status === 'missed' || d.status === 'skipped').map((d) => `${formatDate(d.local_date, 'short')} ${d.local_time} (${d.status})`),
    };
  });
  // the figure is the server's (status.adherence_7d); the chart needs the doses of each day
  const planned = perDay.reduce((n, d) => n + d.planned, 0);
  const missedList = perDay.flatMap((d) => d.missed);
  const week = patient.status.adherence_7d || { taken: 0, due: 0 };
  const adherence = section('doses', t('adherence.title'),
    week.due ? h('p', { class: 'lead' }, t('adherence.summary', { taken: week.taken, planned: week.due, percent: Math.round((week.taken / week.due) * 100) })) : h('p', {}, t('adherence.none')),
    planned ? columns(perDay.map((d) => ({ label: weekday(d.date), value: d.taken, total: d.planned, text: `${d.taken}/${d.planned}` })),
      t('adherence.chart', { list: perDay.map((d) => t('adherence.day', { date: formatDate(d.date, 'short'), taken: d.taken, planned: d.planned })).join('; ') })) : null,
    planned ? h('p', { class: 'hint' }, t('adherence.legend')) : null,
    missedList.length ? h('p', {}, t('adherence.missed', { list: missedList.join('; ') })) : null);

  // --- ANC --------------------------------------------------------------------------------------
  const ancHolder = h('div', { class: 'stack' });
  function drawAnc(items) {
    const anc = items.filter((r) => r.test === 'anc' && cellsPerUl(r) !== null);
    if (!anc.length) { ancHolder.replaceChildren(h('p', {}, t('anc.none'))); return; }
    // the chart is the clinic's counts: a copy is listed below, marked, and never plotted
    const points = anc.filter((r) => r.source === 'clinic').map((r) => ({
      at: r.collected_at, value: cellsPerUl(r), band: r.band,
      label: formatDate(isoDate(new Date(r.collected_at), zone), 'short').replace(/^\w+,?\s/, ''),
    }));
    const lines = ancLines(patient.anc_band_edges);
    const summary = t('anc.chart', {
      lines: lines.map((l) => l.value).join(', '),
      list: points.map((p) => t('anc.point', { date: p.label, value: Math.round(p.value), band: bandName(p.band, patient.anc_band_edges) })).join('; '),
    });
    ancHolder.replaceChildren(
      points.length ? ancChart(points, summary, lines) : h('p', {}, t('anc.noClinic')),
      points.length ? h('p', { class: 'hint' }, t('anc.legend', { lines: lines.map((l) => t('anc.line', { value: l.value, below: l.below })).join(', ') })) : null,
      h('div', { class: 'table-wrap' }, h('table', {},
        h('caption', {}, t('anc.table.caption')),
        h('thead', {}, h('tr', {}, ['date', 'value', 'band', 'source'].map((c) => h('th', { scope: 'col' }, t(`anc.table.${c}`))))),
        h('tbody', {}, anc.slice(0, 12).map((r) => h('tr', {},
          h('td', {}, formatDateTime(r.collected_at, zone)),
          h('td', {}, `${r.value} ${r.unit}`),
          h('td', {}, r.band ? h('span', { class: `band band-${r.band}` }, bandName(r.band, patient.anc_band_edges)) : t('result.noBand')),
          h('td', {}, sourceText(r))))))));
  }
  drawAnc(labs.items);
  const markersHolder = h('div', { class: 'stack' }, markersTable(labs.items, zone));
  const labForm = labSection(base, {
    notice: takeNotice(id, 'lab'),
    onSaved: (answer) => redrawPatient(go, id, 'lab', { answer }),
  });
  const ancSection = section('anc', t('anc.title'), ancHolder);
  const markersSection = section('markers', t('markers.title'), h('p', { class: 'hint' }, t('markers.intro')), markersHolder);
  const tasks = tasksSection(base, async () => drawAnc((await call('GET', `${base}/lab-results?limit=200`)).items));

  // --- bowel movements ------------------------------------------------------------------------
  const twoWeeks = Array.from({ length: 14 }, (_, i) => addDays(today, i - 13));
  const byDay = new Map(twoWeeks.map((d) => [d, []]));
  for (const bm of [...bowels.items].reverse()) {
    const date = isoDate(new Date(bm.occurred_at), zone);
    if (byDay.has(date)) byDay.get(date).push(bm.bristol_type);
  }
  const bowelDays = twoWeeks.map((date) => ({ date, label: date.slice(8), types: byDay.get(date) }));
  const lastWeek = bowelDays.slice(7).reduce((n, d) => n + d.types.length, 0);
  const bowelSection = section('bowel', t('bowel.title'),
    h('p', { class: 'lead' }, t('bowel.summary', { count: lastWeek })),
    bowelChart(bowelDays, t('bowel.chart', {
      list: bowelDays.map((d) => (d.types.length ? t('bowel.day', { date: formatDate(d.date, 'short'), count: d.types.length, types: d.types.map((n) => `type ${n}`).join(', ') }) : t('bowel.dayNone', { date: formatDate(d.date, 'short') }))).join('; '),
    })),
    h('p', { class: 'hint' }, t('bowel.legend')));

  // --- timeline -------------------------------------------------------------------------------
  const entries = [
    ...courseEntries((await courseEvents).items),
    ...events.items.map((e) => ({ at: e.at, kind: 'dose', text: e.status === 'skipped' && e.reason ? t('timeline.doseReason', { reason: e.reason }) : t(`timeline.dose.${e.status}`) })),
    ...bowels.items.map((b) => ({ at: b.occurred_at, kind: 'bowel', text: t('timeline.bowel', { type: b.bristol_type }) + (b.notes ? ` – ${b.notes}` : '') })),
    ...symptoms.items.map((r) => ({
      at: r.occurred_at, kind: 'symptom',
      text: t('timeline.symptoms', { list: [r.symptoms.map(symptomName).join(', '), r.temperature_c ? t('timeline.temperature', { value: r.temperature_c }) : ''].filter(Boolean).join(', ') }) + (r.notes ? ` – ${r.notes}` : ''),
    })),
    ...labs.items.map((r) => ({
      at: r.collected_at, kind: 'lab',
      text: r.band ? t('timeline.lab', { test: testName(r.test), value: r.value, unit: r.unit || '', band: bandName(r.band, patient.anc_band_edges) }) : t('timeline.labOther', { test: testName(r.test), value: r.value ?? '', unit: r.unit || '' }),
    })),
    ...escalations.escalations.map((e) => ({ at: e.opened_at, kind: 'escalation', text: t('timeline.escalation', { rule: ruleTitle(e.rule, e.title), severity: t(`severity.${e.severity}`) }) })),
    // what was done: the resolution note, for the next shift
    ...escalations.escalations.filter((e) => e.resolved_at).map((e) => ({
      at: e.resolved_at, kind: 'resolved', text: `${ruleTitle(e.rule, e.title)}: ${resolutionText(e)}`,
    })),
  ].sort((a, b) => new Date(b.at) - new Date(a.at)).slice(0, 80);
  const groups = [];
  for (const entry of entries) {
    const date = isoDate(new Date(entry.at), zone);
    if (!groups.length || groups[groups.length - 1].date !== date) groups.push({ date, items: [] });
    groups[groups.length - 1].items.push(entry);
  }
  const timeline = section('timeline', t('timeline.title'), h('p', { class: 'hint' }, t('timeline.intro')),
    entries.length ? groups.map((g) => h('div', { class: 'timeline-day' }, h('h3', {}, formatDate(g.date)),
      h('ul', { class: 'plain timeline' }, g.items.map((e) => h('li', { class: `tl tl-${e.kind}` },
        h('span', { class: 'tl-time' }, new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', timeZone: zone }).format(new Date(e.at))),
        h('span', { class: 'tl-kind' }, t(`timeline.kind.${e.kind}`)),
        h('span', { class: 'tl-text' }, e.text))))))
      : h('p', {}, t('timeline.none')));

  // --- dose plan, invites, reports, audit ----------------------------------------------------
  const planEl = section('plan', t('plan.title'), planSection({
    base, plan, today, status: patient.status, notice: takeNotice(id, 'plan'),
    onSaved: (notice) => redrawPatient(go, id, 'plan', notice),
  }));
  // --- the treatment course: state, why, and hold / resume / stop (treatment.js) ------------
  const courseEl = section('treatment', t('course.title'), courseSection({
    base, patient, notice: takeNotice(id, 'treatment'),
    onSaved: (notice) => redrawPatient(go, id, 'treatment', notice),
  }));
  // --- other medicines and supply (medicines.js) ---------------------------------------------
  const medicinesEl = section('medicines', t('medicines.title'), medicinesSection({
    base, notice: takeNotice(id, 'medicines'),
    onSaved: (notice) => redrawPatient(go, id, 'medicines', notice),
  }));
  const invite = section('invite', t('invite.title'), inviteBlock(base));
  const people = section('people', t('people.title'), peopleBlock(base));
  const tablets = section('tablets', t('tablets.title'), tabletsBlock(base, patient));
  const reports = section('reports', t('export.title'), h('ul', {},
    h('li', {}, h('a', { href: `${base}/report.pdf`, download: '' }, t('export.pdf'))),
    h('li', {}, h('a', { href: `${base}/fhir`, download: '' }, t('export.fhir')))));
  const audit = auditSection(base);

  const sectionsList = [['treatment', 'course.title'], ['doses', 'adherence.title'], ['anc', 'anc.title'], ['markers', 'markers.title'], ['lab', 'lab.title'], ['bowel', 'bowel.title'], ['timeline', 'timeline.title'], ['plan', 'plan.title'], ['tablets', 'tablets.title'], ['medicines', 'medicines.title'], ['invite', 'invite.title'], ['people', 'people.title'], ['reports', 'export.title'], ['audit', 'audit.title']];
  const toc = h('nav', { class: 'toc', 'aria-label': t('patient.sections') }, h('ul', {}, sectionsList.map(([key, label]) => h('li', {},
    h('a', {
      href: `#/patients/${id}/${key}`,
      onclick: (event) => {
        event.preventDefault();
        const target = document.getElementById(`h-${key}`);
        target.scrollIntoView();
        target.focus({ preventScroll: true });
      },
    }, t(label))))));
  const page = h('div', { class: 'stack wide patient-page' }, header, tasks, toc, courseEl,
    h('div', { class: 'grid' }, adherence, ancSection, markersSection, section('lab', t('lab.title'), labForm), bowelSection),
    timeline, planEl, medicinesEl, h('div', { class: 'grid' }, tablets, invite, reports), people, audit);
  if (params[1]) {
    setTimeout(() => {
      const target = document.getElementById(`h-${params[1]}`);
      if (target) { target.scrollIntoView(); target.focus({ preventScroll: true }); }
    }, 0);
  }
  void refresh;
  return page;
}

/** The chart's lines: where each of the patient's ANC bands begins, as the server reads their
 * results (the summary's anc_band_edges, highest first, the last at 0: no line there), each
 * with the name of the band (or UK light) below it. */
function ancLines(edges) {
  const name = (edge) => bandName(edge.band, [edge]);
  return edges.flatMap((edge, index) => (edge.min_cells_per_ul > 0 && edges[index + 1]
    ? [{ value: edge.min_cells_per_ul, band: edge.band, light: edge.traffic_light, below: name(edges[index + 1]) }]
    : []));
}

// --- results: sources, discrepancies, markers and levels with their limits (RULES.md 7) --------

// The tests the care team enters here, their units, and whether the rule needs the upper limit.
const LAB_TESTS = {
  anc: { units: ['cells/uL', '10^9/L'] },
  wbc: { units: ['10^9/L'] },
  troponin: { units: ['ng/L'], limit: true },
  crp: { units: ['mg/L'] },
  trough_level: { units: ['ng/mL'] },
  alt: { units: ['U/L'], limit: true, symptoms: true },
  ast: { units: ['U/L'], limit: true, symptoms: true },
};
const MARKER_TESTS = ['troponin', 'crp', 'trough_level', 'alt', 'ast'];

function unitLabel(unit) {
  if (unit === 'cells/uL') return t('lab.unit.cells');
  if (unit === '10^9/L') return t('lab.unit.giga');
  return unit;
}

/** Who entered a result; a copy says it does not count, and a discrepancy says so. */
function sourceText(r) {
  const who = r.source === 'clinic' ? t('who.clinic') : t('result.copy', { who: t(`who.${r.source}`) });
  if (!r.discrepancy) return who;
  return h('span', {}, who, h('br'), h('strong', { class: 'discrepancy' },
    t('result.differs', { value: r.discrepancy.clinic_value, unit: r.discrepancy.clinic_unit || '' })));
}

function findingText(r) {
  const i = r.interpretation || {};
  if (!i.finding) return r.source === 'clinic' ? '' : t('result.noBand');
  const key = `finding.${i.finding}`;
  const text = t(key, {
    multiple: i.multiple_of_upper_limit ?? '',
    levelHigh: LEVEL_HIGH_NG_ML,
    levelTarget: LEVEL_TARGET_NG_ML,
    crpHigh: CRP_HIGH_MG_L,
    crpRaised: CRP_RAISED_MG_L,
    troponinMultiple: TROPONIN_HIGH_MULTIPLE,
    liverMultiple: LIVER_MULTIPLE,
  });
  return text === key ? i.finding.replace(/_/g, ' ') : text;
}

/** Troponin, CRP, clozapine levels and liver tests, newest first, with their limits. */
function markersTable(items, zone) {
  const rows = items.filter((r) => MARKER_TESTS.includes(r.test));
  if (!rows.length) return h('p', {}, t('markers.none'));
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('caption', {}, t('markers.caption')),
    h('thead', {}, h('tr', {}, ['date', 'test', 'value', 'limit', 'reading', 'source'].map((c) => h('th', { scope: 'col' }, t(`markers.col.${c}`))))),
    h('tbody', {}, rows.slice(0, 30).map((r) => h('tr', {},
      h('td', {}, formatDateTime(r.collected_at, zone)),
      h('td', {}, testName(r.test)),
      h('td', {}, `${r.value} ${r.unit || ''}`),
      h('td', {}, r.upper_limit === null || r.upper_limit === undefined ? t('markers.noLimit') : `${r.upper_limit} ${r.unit || ''}`),
      h('td', {}, findingText(r), (r.interpretation || {}).severity ? h('span', {}, ' ', severityTag(r.interpretation.severity)) : null),
      h('td', {}, sourceText(r)))))));
}

/** The care team's tasks for this patient: step downs of the ANC schedule to confirm. */
function tasksSection(base, onConfirmed) {
  const holder = h('section', { class: 'card stack', 'aria-labelledby': 'h-tasks', hidden: true },
    h('h2', { id: 'h-tasks', tabindex: '-1' }, t('tasks.title')));
  const list = h('ul', { class: 'plain stack' });
  const out = h('div', { role: 'status' });
  const errors = errorBox();
  holder.append(h('p', {}, t('tasks.intro')), errors.el, list, out);
  async function load() {
    try {
      const { items } = await call('GET', `${base}/care-tasks`);
      holder.hidden = !items.length && !out.textContent;
      list.replaceChildren(...items.map((task) => h('li', { class: 'task' },
        h('p', {}, t('tasks.stepDown', {
          from: task.detail.from_interval_days, to: task.detail.to_interval_days,
          week: task.detail.from_week, date: formatDate(task.since),
        })),
        h('button', {
          type: 'button', class: 'button primary',
          onclick: async (event) => {
            const button = event.currentTarget;
            button.disabled = true;
            errors.hide();
            try {
              const answer = await call('POST', `${base}/care-tasks/${encodeURIComponent(task.id)}/confirm`);
              out.replaceChildren(h('p', { class: 'done-box' }, t('tasks.confirmed', {
                date: answer.next_blood_test ? formatDate(answer.next_blood_test.due_date) : '–',
              })));
              await onConfirmed();
              await load();
            } catch (error) {
              errors.show(failureText(error));
              button.disabled = false;
            }
          },
        }, t('tasks.confirm')))));
    } catch (error) {
      holder.hidden = false;
      errors.show(failureText(error));
    }
  }
  load();
  return holder;
}

/** What a saved result says: saved (never in red), the band or reading in words, what to do. */
function labResult(answer) {
  const i = answer.interpretation || {};
  return h('div', { class: 'done-box stack' },
    i.band ? h('p', { class: 'big' }, t('lab.saved', { band: bandName(i.band) })) : h('p', { class: 'big' }, t('lab.savedMarker', { reading: findingText(answer) || t('result.noBand') })),
    i.traffic_light ? h('p', {}, t('lab.light', { light: t(`uklight.${i.traffic_light}`) })) : null,
    i.action_text ? h('p', {}, t('lab.action', { text: i.action_text })) : null,
    i.next_test_due ? h('p', {}, t('lab.nextDue', { date: formatDate(i.next_test_due) })) : null,
    i.confirm_within_24h ? h('p', { class: 'strong-note' }, t('lab.confirm')) : null,
    i.escalation_rule ? h('p', { class: 'notice' }, t('lab.escalated', { rule: ruleTitle(i.escalation_rule) })) : null);
}

function labSection(base, { notice, onSaved }) {
  const errors = errorBox();
  const test = field(t('lab.test'), h('select', { name: 'test' },
    Object.keys(LAB_TESTS).map((code) => h('option', { value: code }, testName(code)))), { name: 'test' });
  const value = field(t('lab.value'), h('input', { type: 'text', inputmode: 'decimal', name: 'value', autocomplete: 'off' }), { name: 'value' });
  const unit = field(t('lab.unit'), h('select', { name: 'unit' }), { name: 'unit' });
  const limit = field(t('lab.upperLimit'), h('input', { type: 'text', inputmode: 'decimal', name: 'upper_limit', autocomplete: 'off' }),
    { name: 'upper_limit', hint: t('lab.upperLimitHint') });
  const symptomatic = h('input', { type: 'checkbox', name: 'symptomatic', id: 'lab-symptomatic' });
  const symptomaticLine = h('div', { class: 'choice-line' }, symptomatic, h('label', { for: 'lab-symptomatic' }, t('lab.symptomatic')));
  const collected = field(t('lab.collected'), h('input', { type: 'datetime-local', name: 'collected_at', value: nowForInput() }), { name: 'collected_at' });
  const fields = { test, value, unit, upper_limit: limit, collected_at: collected };
  const result = h('div', { class: 'result', role: 'status' }, notice && notice.answer ? labResult(notice.answer) : null);
  const submit = h('button', { type: 'submit', class: 'button primary' }, t('lab.submit'));
  function fit() {
    const chosen = LAB_TESTS[test.input.value];
    value.el.querySelector('label').textContent = test.input.value === 'anc' ? t('lab.value') : t('lab.valueOf', { test: testName(test.input.value) });
    unit.input.replaceChildren(...chosen.units.map((u) => h('option', { value: u }, unitLabel(u))));
    limit.el.hidden = !chosen.limit && test.input.value !== 'crp';
    symptomaticLine.hidden = !chosen.symptoms;
  }
  test.input.addEventListener('change', fit);
  fit();
  /** The result to add, or null having said what is wrong. */
  function read() {
    result.replaceChildren();
    const number = Number(value.input.value.replace(',', '.'));
    if (!value.input.value.trim() || Number.isNaN(number)) {
      value.setError(t('lab.required'));
      value.input.focus();
      return null;
    }
    const chosen = LAB_TESTS[test.input.value];
    const body = { test: test.input.value, value: number, unit: unit.input.value, collected_at: localInputToIso(collected.input.value) };
    if (!limit.el.hidden && limit.input.value.trim()) {
      const upper = Number(limit.input.value.replace(',', '.'));
      if (Number.isNaN(upper)) {
        limit.setError(t('lab.required'));
        limit.input.focus();
        return null;
      }
      body.upper_limit = upper;
    } else if (chosen.limit) {
      limit.setError(t('lab.upperLimitNeeded'));
      limit.input.focus();
      return null;
    }
    if (chosen.symptoms) body.symptomatic = symptomatic.checked;
    return body;
  }
  return sendingForm({
    class: 'stack', errors, button: submit, fields, read,
    work: async (body) => {
      const answer = await call('POST', `${base}/lab-results`, { body });
      value.input.value = '';
      limit.input.value = '';
      onSaved(answer); // the whole page again: status, light, charts and timeline
    },
  }, h('p', {}, t('lab.intro')), errors.el, test.el, value.el, unit.el, limit.el, symptomaticLine, collected.el, h('div', {}, submit), result);
}

function inviteBlock(base) {
  const out = h('div', { role: 'status' });
  const errors = errorBox();
  return h('div', { class: 'stack' }, h('p', {}, t('invite.intro')), errors.el,
    h('div', {}, h('button', {
      type: 'button', class: 'button',
      onclick: async (event) => {
        errors.hide();
        event.currentTarget.disabled = true;
        const button = event.currentTarget;
        try {
          const answer = await call('POST', `${base}/caregiver-invites`);
          out.replaceChildren(h('div', { class: 'code-box stack' }, h('p', {}, t('invite.code')),
            h('p', { class: 'code' }, answer.code), h('p', {}, t('invite.expires', { when: formatDateTime(answer.expires_at) }))));
        } catch (error) {
          errors.show(failureText(error));
        } finally {
          button.disabled = false;
        }
      },
    }, t('invite.make'))), out);
}

/** The audit trail, collapsed: loaded when opened; by default without the reader's own page
 * views (a nurse's own reads would fill it); a filter shows changes only, or everything. */
function auditSection(base) {
  const body = h('tbody');
  const errors = errorBox();
  let oldest = null;
  let loaded = false;
  const filterId = 'audit-filter';
  const filter = h('select', { id: filterId, name: 'audit_filter', onchange: () => reload() },
    ['others', 'changes', 'all'].map((key) => h('option', { value: key }, t(`audit.filter.${key}`))));
  const query = () => ({ others: '&hide_own_reads=true', changes: '&kind=changes', all: '' })[filter.value];
  const more = h('button', { type: 'button', class: 'button', hidden: true, onclick: () => load() }, t('action.showOlder'));
  const table = h('table', { class: 'audit' },
    h('caption', { class: 'visually-hidden' }, t('audit.caption')),
    h('thead', {}, h('tr', {}, ['when', 'who', 'what', 'request', 'from', 'result'].map((c) => h('th', { scope: 'col' }, t(`audit.${c}`))))),
    body);
  const wrap = h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('audit.entries') }, table);
  async function load() {
    try {
      const before = oldest ? `&before_id=${oldest}` : '';
      const { items } = await call('GET', `${base}/audit?limit=25${query()}${before}`);
      for (const e of items) {
        body.append(h('tr', {}, h('td', {}, formatDateTime(e.at)), h('td', {}, t(`who.${e.actor_role}`)),
          h('td', {}, auditAction(e.action)), h('td', { class: 'mono' }, `${e.method} ${e.path}`), h('td', {}, e.address || ''), h('td', {}, e.status === null ? '' : String(e.status))));
      }
      if (items.length) oldest = items[items.length - 1].id;
      more.hidden = items.length < 25;
      if (!body.children.length) body.append(h('tr', {}, h('td', { colspan: '6' }, t('audit.none'))));
    } catch (error) {
      errors.show(failureText(error));
    }
  }
  function reload() {
    oldest = null;
    body.replaceChildren();
    return load();
  }
  const details = h('details', { class: 'audit-details' },
    h('summary', {}, t('audit.show')),
    h('div', { class: 'stack' }, h('p', {}, t('audit.intro')),
      h('div', { class: 'field' }, h('label', { for: filterId }, t('audit.filter')), filter),
      errors.el, wrap, h('div', {}, more)));
  details.addEventListener('toggle', () => {
    if (details.open && !loaded) { loaded = true; load(); }
  });
  return h('section', { id: 'sec-audit', class: 'card stack', 'aria-labelledby': 'h-audit' },
    h('h2', { id: 'h-audit', tabindex: '-1' }, t('audit.title')), details);
}

/** "patient.read" as "Read the patient's summary", else the code's words. */
function auditAction(action) {
  const key = `audit.action.${action}`;
  const text = t(key);
  return text === key ? action.replace(/[._]/g, ' ') : text;
}
