// Editing the dose plan: a kind of plan in a nurse's words (start, restart from 12.5 mg, change
// the dose, taper to stop) made by the server from a few fields, then the days edited one by one
// and saved as a new version. The "restart not advised" marker is shown first; warnings are
// listed; refusals (422, 409) are shown next to the field or day the server names (`kind`,
// `taper_days`, `steps[1].doses_mg`); a missing baseline count (`baseline_anc`) in the box at
// the top, pointing to the blood result form. After a save the patient page is drawn again.

import { h, uid } from '/static/js/dom.js';
import { addDays, formatDate, t } from './i18n.js';
import { call } from './session.js';
import { rechallengeMarker } from './treatment.js';
import { choiceField, errorBox, failureText, field } from './ui.js';

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
const KINDS = ['initiation', 'retitration', 'maintenance', 'taper'];
/**
 * The kind the server takes when none is given, and the kinds it allows now: both come with
 * the patient's status (server/domain/treatment.py), so the editor keeps no copy of the rules.
 */
export function defaultKind(status) {
  return (status && status.default_plan_kind) || 'initiation';
}

function allowedKinds(status) {
  return (status && status.plan_kinds) || KINDS;
}

function mgValue(input) {
  const mg = Number(input.value.replace(',', '.'));
  return Number.isNaN(mg) ? input.value : mg;
}

export function planSection({ base, plan, today, status, notice, onSaved }) {
  const current = plan;
  const steps = plan ? plan.steps.map((s) => ({ day: s.day, doses_mg: [...s.doses_mg] })) : [];
  const errors = errorBox();
  const summary = h('p', { class: 'lead' });
  const warnings = h('div', { class: 'stack', role: 'status' });
  const kind = choiceField(t('plan.kindLegend'), uid('kind'), KINDS.filter((k) => allowedKinds(status).includes(k)).map((k) => [k, t(`plan.kind.${k}`), t(`plan.kindHint.${k}`)]), {
    onchange: () => showKind(),
  });
  kind.choose(defaultKind(status));
  const lastTotal = plan && plan.days && plan.days.length ? plan.days[plan.days.length - 1].total_mg : null;
  const start = field(t('plan.start'), h('input', { type: 'date', name: 'start_date', value: plan && plan.start_date > today ? plan.start_date : today }), { name: 'start_date' });
  const times = field(t('plan.times'), h('input', { type: 'text', name: 'times', value: plan ? plan.times.join(', ') : '08:00, 21:00', autocomplete: 'off' }), { hint: t('plan.timesHint'), name: 'times' });
  const target = field(t('plan.target'), h('input', {
    type: 'text', inputmode: 'decimal', name: 'target_mg_per_day', autocomplete: 'off',
    value: String((plan && plan.target_mg_per_day) || lastTotal || 300),
  }), { name: 'target_mg_per_day' });
  const taperFrom = field(t('plan.taperFrom'), h('input', { type: 'text', inputmode: 'decimal', name: 'taper_from', autocomplete: 'off', value: '' }), { hint: t('plan.taperFromHint') });
  const taperDays = field(t('plan.taperDays'), h('input', { type: 'text', inputmode: 'numeric', name: 'taper_days', autocomplete: 'off', value: '14' }), { hint: t('plan.taperDaysHint'), name: 'taper_days' });
  const make = h('button', { type: 'button', class: 'button', onclick: () => save(proposal()) });
  const rowsBody = h('tbody');
  const rowErrors = new Map();
  const table = h('table', { class: 'plan-table' });
  const editor = h('div', { class: 'stack' });

  // the field the server names: target_mg_per_day is the taper's "from" dose in a taper
  function topField(key) {
    if (key === 'kind') return kind;
    if (key === 'target_mg_per_day') return kind.value() === 'taper' ? taperFrom : target;
    return { start_date: start, times, taper_days: taperDays }[key] || null;
  }

  function showKind() {
    const chosen = kind.value();
    const isTaper = chosen === 'taper';
    target.el.hidden = isTaper;
    taperFrom.el.hidden = !isTaper;
    taperDays.el.hidden = !isTaper;
    target.el.querySelector('label').textContent = t(chosen === 'maintenance' ? 'plan.dose' : 'plan.target');
    make.textContent = t(`plan.make.${chosen}`);
  }

  function proposal() {
    const chosen = kind.value();
    const body = { kind: chosen };
    if (chosen === 'taper') {
      const days = Number(taperDays.input.value.trim());
      body.taper_days = Number.isInteger(days) && taperDays.input.value.trim() ? days : taperDays.input.value;
      if (taperFrom.input.value.trim()) body.target_mg_per_day = mgValue(taperFrom.input);
      return body;
    }
    if (chosen === 'initiation') body.titration = 'standard';
    body.target_mg_per_day = mgValue(target.input);
    return body;
  }

  function parseTimes() {
    const list = times.input.value.split(',').map((x) => x.trim()).filter(Boolean);
    return list.length && list.every((x) => HHMM.test(x)) ? list : null;
  }

  function describe() {
    if (!current) { summary.textContent = t('plan.none'); return; }
    const words = {
      version: current.version, kind: t(`plan.kind.${current.kind}`), date: formatDate(current.start_date),
      times: current.times.join(', '), maintenance: current.maintenance_from ? formatDate(current.maintenance_from) : '–',
    };
    summary.textContent = current.kind === 'taper' && current.maintenance_from
      ? t('plan.currentTaper', { ...words, last: formatDate(addDays(current.maintenance_from, -1)) })
      : t('plan.current', words);
  }

  function showWarnings(list) {
    warnings.replaceChildren();
    if (notice) warnings.append(h('p', { class: 'saved-line' }, notice.text));
    if (!list || (!list.length && !notice)) return;
    warnings.append(list.length
      ? h('div', { class: 'notice stack' }, h('p', { class: 'strong-note' }, t('plan.warnings')), h('ul', {}, list.map((w) => h('li', {}, w.message))))
      : h('p', {}, t('plan.noWarnings')));
    for (const w of list) {
      const holder = rowErrors.get(w.field);
      if (holder) { holder.warn.textContent = w.message; holder.warn.hidden = false; }
    }
  }

  function clearErrors() {
    errors.hide();
    for (const key of ['kind', 'start_date', 'times', 'target_mg_per_day', 'taper_days']) topField(key).setError('');
    taperFrom.setError('');
    target.setError('');
    for (const holder of rowErrors.values()) {
      holder.error.hidden = true;
      holder.error.textContent = '';
      holder.warn.hidden = true;
      holder.inputs.forEach((i) => i.removeAttribute('aria-invalid'));
    }
  }

  function drawRows() {
    const doseTimes = parseTimes() || (current ? current.times : ['08:00', '21:00']);
    const startDate = start.input.value || today;
    rowErrors.clear();
    table.replaceChildren(
      h('caption', { class: 'visually-hidden' }, t('plan.editTitle')),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('plan.dayCol')), h('th', { scope: 'col' }, t('plan.dateCol')),
        doseTimes.map((time) => h('th', { scope: 'col' }, time)), h('th', { scope: 'col' }, t('plan.totalCol')))),
      rowsBody);
    rowsBody.replaceChildren(...steps.map((step, index) => {
      while (step.doses_mg.length < doseTimes.length) step.doses_mg.unshift(0);
      while (step.doses_mg.length > doseTimes.length) step.doses_mg.shift();
      const errorId = uid('row-err');
      const warnId = uid('row-warn');
      const total = h('td', {}, String(step.doses_mg.reduce((a, b) => a + b, 0)));
      const inputs = step.doses_mg.map((mg, n) => h('input', {
        type: 'text', inputmode: 'decimal', class: 'mg', value: String(mg), 'data-field': `steps[${index}].doses_mg`,
        'aria-label': t('plan.doseLabel', { day: step.day, time: doseTimes[n] }), 'aria-describedby': `${errorId} ${warnId}`,
        oninput: (event) => {
          const value = Number(event.target.value.replace(',', '.'));
          step.doses_mg[n] = Number.isNaN(value) ? event.target.value : value;
          total.textContent = String(step.doses_mg.reduce((a, b) => a + (Number(b) || 0), 0));
        },
      }));
      const error = h('p', { id: errorId, class: 'field-error', hidden: true });
      const warn = h('p', { id: warnId, class: 'row-warning', hidden: true });
      rowErrors.set(`steps[${index}].doses_mg`, { error, warn, inputs });
      rowErrors.set(`steps[${index}].day`, { error, warn, inputs });
      return h('tr', {}, h('th', { scope: 'row' }, t('plan.day', { day: step.day })),
        h('td', {}, formatDate(addDays(startDate, step.day - 1), 'short')),
        inputs.map((input, n) => h('td', {}, input, n === inputs.length - 1 ? [error, warn] : null)), total);
    }));
    editor.hidden = !steps.length;
  }

  function showRefusal(error) {
    errors.show(failureText(error));
    let first = null;
    for (const [key, messages] of Object.entries(error.fields || {})) {
      const text = messages.join(' ');
      if (key === 'baseline_anc') { // no field of this form: the blood result is missing
        errors.show(`${text} ${t('plan.baselineWhere')}`);
        continue;
      }
      const top = topField(key.replace(/\[\d+\]$/, ''));
      const row = rowErrors.get(key) || rowErrors.get(key.replace(/\[\d+\]$/, '')) || rowErrors.get(key.replace(/\.[a-z_]+(\[\d+\])?$/, '.doses_mg'));
      if (top) {
        top.setError(text);
        first = first || top.input || top.inputs[0];
      } else if (row) {
        row.error.textContent = text;
        row.error.hidden = false;
        row.inputs.forEach((i) => i.setAttribute('aria-invalid', 'true'));
        first = first || row.inputs[0];
      } else {
        errors.show(`${failureText(error)} ${key}: ${text}`);
      }
    }
    if (error.status === 422 && !error.fields) errors.show(t('plan.refused', { message: error.message }));
    if (first) first.focus();
  }

  async function save(body) {
    clearErrors();
    const doseTimes = parseTimes();
    if (!doseTimes) { times.setError(t('plan.timesHint')); times.input.focus(); return; }
    const buttons = [make, saveButton];
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const answer = await call('PUT', `${base}/dose-plan`, { body: { start_date: start.input.value, times: doseTimes, ...body } });
      onSaved({ text: t('plan.saved', { version: answer.version }) });
    } catch (error) {
      buttons.forEach((b) => { b.disabled = false; });
      showRefusal(error);
    }
  }

  const saveButton = h('button', {
    type: 'button', class: 'button primary',
    onclick: () => save({ kind: kind.value(), steps: steps.map((s) => ({ day: s.day, doses_mg: s.doses_mg })) }),
  }, t('plan.save'));
  times.input.addEventListener('change', () => { if (parseTimes()) drawRows(); });
  start.input.addEventListener('change', () => drawRows());

  describe();
  drawRows();
  showKind();
  showWarnings(current ? current.warnings : null);
  editor.append(h('h3', {}, t('plan.editTitle')), h('p', { class: 'hint' }, t('plan.editIntro')),
    h('div', { class: 'table-wrap', role: 'region', tabindex: '0', 'aria-label': t('plan.editTitle') }, table),
    h('div', { class: 'button-row' },
      h('button', {
        type: 'button', class: 'button',
        onclick: () => {
          const last = steps[steps.length - 1];
          steps.push({ day: last ? last.day + 1 : 1, doses_mg: last ? [...last.doses_mg] : [0, 12.5] });
          drawRows();
          const inputs = rowsBody.querySelectorAll('input');
          if (inputs.length) inputs[inputs.length - 1].focus();
        },
      }, t('plan.addDay')),
      h('button', { type: 'button', class: 'button', onclick: () => { steps.pop(); drawRows(); } }, t('plan.removeDay')),
      saveButton));
  if (!steps.length) editor.hidden = true;
  const marked = { ...(status || {}), rechallenge: (status && status.rechallenge) || (plan && plan.rechallenge) };
  return h('div', { class: 'stack' }, rechallengeMarker(marked), summary, errors.el, warnings,
    h('div', { class: 'stack plan-settings' }, h('h3', {}, t('plan.proposeTitle')), h('p', { class: 'hint' }, t('plan.proposeIntro')),
      kind.el, h('div', { class: 'field-row' }, start.el, times.el, target.el, taperFrom.el, taperDays.el), h('div', {}, make)),
    editor);
}
