// Editing the dose plan: the standard titration made by the server as a starting point, then the
// days edited one by one and saved as a new version. Warnings are listed; refusals (422) are
// shown next to the day or field the server names (e.g. `steps[1].doses_mg`).

import { h, uid } from '/static/js/dom.js';
import { addDays, formatDate, t } from './i18n.js';
import { call } from './session.js';
import { errorBox, failureText, field } from './ui.js';

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

export function planSection({ base, plan, today }) {
  let current = plan;
  let steps = plan ? plan.steps.map((s) => ({ day: s.day, doses_mg: [...s.doses_mg] })) : [];
  const errors = errorBox();
  const summary = h('p', { class: 'lead' });
  const warnings = h('div', { class: 'stack', role: 'status' });
  const start = field(t('plan.start'), h('input', { type: 'date', name: 'start_date', value: plan ? plan.start_date : today }), { name: 'start_date' });
  const times = field(t('plan.times'), h('input', { type: 'text', name: 'times', value: plan ? plan.times.join(', ') : '08:00, 21:00', autocomplete: 'off' }), { hint: t('plan.timesHint'), name: 'times' });
  const target = field(t('plan.target'), h('input', { type: 'text', inputmode: 'decimal', name: 'target_mg_per_day', value: plan && plan.target_mg_per_day ? String(plan.target_mg_per_day) : '300', autocomplete: 'off' }), { name: 'target_mg_per_day' });
  const topFields = { start_date: start, times, target_mg_per_day: target };
  const rowsBody = h('tbody');
  const rowErrors = new Map();
  const table = h('table', { class: 'plan-table' });
  const editor = h('div', { class: 'stack' });

  function parseTimes() {
    const list = times.input.value.split(',').map((x) => x.trim()).filter(Boolean);
    return list.length && list.every((x) => HHMM.test(x)) ? list : null;
  }

  function describe() {
    if (!current) { summary.textContent = t('plan.none'); return; }
    summary.textContent = t('plan.current', {
      version: current.version, kind: t(`plan.kind.${current.kind}`), date: formatDate(current.start_date),
      times: current.times.join(', '), maintenance: current.maintenance_from ? formatDate(current.maintenance_from) : '–',
    });
  }

  function showWarnings(list) {
    warnings.replaceChildren();
    if (list === null) return;
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
    Object.values(topFields).forEach((f) => f.setError(''));
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
      const top = topFields[key.replace(/\[\d+\]$/, '')];
      const row = rowErrors.get(key) || rowErrors.get(key.replace(/\[\d+\]$/, '')) || rowErrors.get(key.replace(/\.[a-z_]+(\[\d+\])?$/, '.doses_mg'));
      if (top) { top.setError(text); first = first || top.input; } else if (row) {
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
    showWarnings(null);
    const doseTimes = parseTimes();
    if (!doseTimes) { times.setError(t('plan.timesHint')); times.input.focus(); return; }
    try {
      const answer = await call('PUT', `${base}/dose-plan`, { body: { start_date: start.input.value, times: doseTimes, ...body } });
      current = answer;
      steps = answer.steps.map((s) => ({ day: s.day, doses_mg: [...s.doses_mg] }));
      describe();
      drawRows();
      showWarnings(answer.warnings || []);
      warnings.prepend(h('p', { class: 'strong-note' }, t('plan.saved', { version: answer.version })));
    } catch (error) {
      showRefusal(error);
    }
  }

  const propose = h('button', {
    type: 'button', class: 'button',
    onclick: () => {
      const mg = Number(target.input.value.replace(',', '.'));
      save({ titration: 'standard', target_mg_per_day: Number.isNaN(mg) ? target.input.value : mg });
    },
  }, t('plan.propose'));
  const saveButton = h('button', { type: 'button', class: 'button primary', onclick: () => save({ steps: steps.map((s) => ({ day: s.day, doses_mg: s.doses_mg })) }) }, t('plan.save'));
  times.input.addEventListener('change', () => { if (parseTimes()) drawRows(); });
  start.input.addEventListener('change', () => drawRows());

  describe();
  drawRows();
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
  return h('div', { class: 'stack' }, summary, errors.el,
    h('div', { class: 'stack plan-settings' }, h('h3', {}, t('plan.proposeTitle')), h('p', { class: 'hint' }, t('plan.proposeIntro')),
      h('div', { class: 'field-row' }, start.el, times.el, target.el), h('div', {}, propose)),
    warnings, editor);
}
