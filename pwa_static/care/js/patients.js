// The patient list with a traffic light and the treatment course per patient, paused courses
// first (interrupted, needs re-titration, held); #/patients/<id> opens the patient page.

import { h } from '/static/js/dom.js';
import { ago, formatDateTime, t } from './i18n.js';
import { call } from './session.js';
import { courseCell, pausedRank } from './treatment.js';
import { adherenceText, bandName, bloodTestText, light, patientLight, pushTag, ruleTitle } from './ui.js';

const ORDER = { red: 0, amber: 1, green: 2 };

function cell(label, ...children) {
  return h('td', { 'data-label': label }, ...children);
}

function when(iso) {
  if (!iso) return t('patients.never');
  return `${ago(iso)} (${formatDateTime(iso)})`;
}

/** Patients with a task for the care team (a step down of the schedule to confirm). */
async function patientsWithTasks() {
  const { items } = await call('GET', '/api/care-tasks');
  return new Set(items.map((task) => task.patient_id));
}

export async function render(context) {
  if (context.params.length) {
    const module = await import('./patient.js');
    return module.render(context);
  }
  const [{ items }, withTasks] = await Promise.all([call('GET', '/api/patients'), patientsWithTasks()]);
  const rows = items
    .map((patient) => ({ patient, light: patientLight(patient) }))
    .sort((a, b) => pausedRank(a.patient) - pausedRank(b.patient) || ORDER[a.light.level] - ORDER[b.light.level]
      || a.patient.display_name.localeCompare(b.patient.display_name));
  const cols = ['name', 'status', 'course', 'flags', 'anc', 'blood', 'adherence', 'bowel', 'dose', 'push'].map((c) => t(`patients.col.${c}`));
  const table = h('table', { class: 'patients' },
    h('caption', { class: 'visually-hidden' }, t('patients.title')),
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map(({ patient, light: status }) => {
      const flags = patient.open_red_flags || [];
      const test = patient.next_blood_test;
      return h('tr', { class: `row-${status.level}` },
        h('th', { scope: 'row', 'data-label': cols[0] }, h('a', { href: `#/patients/${patient.id}` }, patient.display_name)),
        cell(cols[1], light(status.level), h('ul', { class: 'reasons' }, status.reasons.map((r) => h('li', {}, r)),
          withTasks.has(patient.id) ? h('li', {}, t('patients.task')) : null)),
        cell(cols[2], h('div', { class: 'course-cell' }, courseCell(patient.status))),
        cell(cols[3], flags.length ? h('ul', { class: 'reasons' }, flags.map((f) => h('li', {}, `${ruleTitle(f.rule)} (${t(`severity.${f.severity}`)})`))) : t('patients.flags.none')),
        cell(cols[4], h('span', { class: `band band-${patient.status.anc_band || 'none'}` }, bandName(patient.status.anc_band))),
        cell(cols[5], h('span', { class: test && test.status === 'overdue' ? 'overdue' : '' }, bloodTestText(test))),
        cell(cols[6], adherenceText(patient.status.adherence_7d)),
        cell(cols[7], when(patient.status.last_bowel_movement_at)),
        cell(cols[8], when(patient.status.last_dose_taken_at)),
        cell(cols[9], pushTag(patient.status.push_reachable)));
    })));
  return h('section', { class: 'stack wide' },
    h('h1', { tabindex: '-1' }, t('patients.title')),
    h('p', {}, t('patients.intro')),
    rows.length ? table : h('p', {}, t('patients.none')),
    h('p', {}, h('a', { href: '#/enrol', class: 'button' }, t('patients.enrolLink'))));
}
