// The patient list, sorted by what needs a person first (triage.js): open emergencies, then
// urgent red flags, each by how long the oldest has waited, then the rest of red, amber and
// green. Filters (mine, red, overdue bloods, needs re-titration) and a search by name; one
// compact row a patient so that ten fit on a laptop screen; redrawn when the live pulse says
// something changed (live.js), keeping the filter, the search and the focus.
// #/patients/<id> opens the patient page.

import { h, uid } from '/static/js/dom.js';
import { ago, t } from './i18n.js';
import { call, session } from './session.js';
import { courseCell } from './treatment.js';
import { triage } from './triage.js';
import { adherenceText, bandName, bloodTestText, light, pushTag, ruleTitle } from './ui.js';

const FILTERS = ['all', 'mine', 'red', 'overdue', 'retitration'];
const view = { filter: 'all', search: '' }; // kept while the app is open

function matches(row, filter, userId) {
  if (filter === 'mine') return row.mine.has(userId);
  if (filter === 'red') return row.light.level === 'red';
  if (filter === 'overdue') return Boolean(row.patient.next_blood_test && row.patient.next_blood_test.status === 'overdue');
  if (filter === 'retitration') return row.patient.status.treatment === 'needs_retitration' || Boolean(row.patient.status.needs_retitration);
  return true;
}

function flagsText(flags) {
  if (!flags.length) return t('patients.flags.none');
  return flags.map((f) => `${ruleTitle(f.rule)} (${t(`severity.${f.severity}`)})`).join(', ');
}

async function load() {
  const [{ items }, tasks, open] = await Promise.all([
    call('GET', '/api/patients'),
    call('GET', '/api/care-tasks'),
    call('GET', '/api/escalations?status=unresolved'),
  ]);
  const withTasks = new Set(tasks.items.map((task) => task.patient_id));
  const acknowledgedBy = new Map();
  for (const e of open.escalations) {
    if (!acknowledgedBy.has(e.patient_id)) acknowledgedBy.set(e.patient_id, new Set());
    if (e.acknowledged_by_id) acknowledgedBy.get(e.patient_id).add(e.acknowledged_by_id);
  }
  return triage(items).map((row) => ({
    ...row,
    task: withTasks.has(row.patient.id),
    mine: acknowledgedBy.get(row.patient.id) || new Set(),
  }));
}

function row(entry, cols) {
  const { patient, light: status } = entry;
  const flags = patient.open_red_flags || [];
  const test = patient.next_blood_test;
  const reasons = [...status.reasons, entry.task ? t('patients.task') : null].filter(Boolean);
  const cell = (label, cls, ...children) => h('td', { 'data-label': label, class: cls }, ...children);
  const reasonText = reasons.join('; ');
  const flagText = flagsText(flags);
  return h('tr', { class: `row-${status.level}`, 'data-patient-id': String(patient.id) },
    h('th', { scope: 'row', 'data-label': cols[0] }, h('a', { href: `#/patients/${patient.id}` }, patient.display_name)),
    cell(cols[1], 'needs', h('span', { class: 'needs-line' }, light(status.level), h('span', { class: 'one-line', title: reasonText }, reasonText))),
    cell(cols[2], 'flags', h('span', { class: 'one-line', title: flagText }, flagText)),
    cell(cols[3], '', entry.oldestSerious ? ago(entry.oldestSerious) : '–'),
    cell(cols[4], '', h('span', { class: 'course-cell one-line' }, courseCell(patient.status))),
    cell(cols[5], '', h('span', { class: `band band-${patient.status.anc_band || 'none'}` }, bandName(patient.status.anc_band, patient.anc_band_edges))),
    cell(cols[6], '', h('span', { class: test && test.status === 'overdue' ? 'overdue' : '' }, bloodTestText(test))),
    cell(cols[7], '', adherenceText(patient.status.adherence_7d)),
    cell(cols[8], '', pushTag(patient.status.push_reachable)));
}

export async function render(context) {
  if (context.params.length) {
    const module = await import('./patient.js');
    return module.render(context);
  }
  let rows = await load();
  const cols = ['name', 'status', 'flags', 'waiting', 'course', 'anc', 'blood', 'adherence', 'push'].map((c) => t(`patients.col.${c}`));
  const body = h('tbody');
  const shown = h('p', { class: 'hint', role: 'status' });
  const userId = session.user ? session.user.id : null;

  function draw() {
    const needle = view.search.trim().toLocaleLowerCase();
    const visible = rows.filter((r) => matches(r, view.filter, userId)
      && (!needle || r.patient.display_name.toLocaleLowerCase().includes(needle)));
    body.replaceChildren(...visible.map((r) => row(r, cols)));
    if (!visible.length) body.append(h('tr', {}, h('td', { colspan: String(cols.length) }, t('patients.noMatch'))));
    shown.textContent = t('patients.shown', { shown: visible.length, total: rows.length });
  }

  const searchId = uid('search');
  const search = h('input', {
    id: searchId, type: 'search', name: 'search', autocomplete: 'off', value: view.search,
    oninput: () => { view.search = search.value; draw(); },
  });
  const filterName = uid('filter');
  const filters = h('fieldset', { class: 'filters' }, h('legend', {}, t('patients.filter.legend')),
    FILTERS.map((key) => {
      const id = uid('filter');
      return h('span', { class: 'filter-choice' },
        h('input', {
          type: 'radio', id, name: filterName, value: key, checked: view.filter === key,
          onchange: () => { view.filter = key; draw(); },
        }),
        h('label', { for: id }, t(`patients.filter.${key}`)));
    }));
  const table = h('table', { class: 'patients compact' },
    h('caption', { class: 'visually-hidden' }, t('patients.caption')),
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c)))),
    body);
  draw();

  const onPulse = async () => {
    try {
      rows = await load();
      draw();
    } catch {
      // the next change tries again; the list on screen stays as it was
    }
  };
  window.addEventListener('care:pulse', onPulse);
  const el = h('section', { class: 'stack wide' },
    h('h1', { tabindex: '-1' }, t('patients.title')),
    h('p', {}, t('patients.intro')),
    rows.length ? h('div', { class: 'list-tools' },
      h('div', { class: 'field search-field' }, h('label', { for: searchId }, t('patients.search')), search),
      filters) : null,
    rows.length ? shown : null,
    rows.length ? h('div', { class: 'table-wrap', role: 'region', tabindex: '0', 'aria-label': t('patients.caption') }, table) : h('p', {}, t('patients.none')),
    h('p', {}, h('a', { href: '#/enrol', class: 'button' }, t('patients.enrolLink'))));
  return { el, cleanup: () => window.removeEventListener('care:pulse', onPulse) };
}
