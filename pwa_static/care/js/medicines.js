// Other medicines and supply on the patient page (issue 16): the patient's medicines, laxatives
// first, with their times, stock and the day each runs out (a refill due within a week is
// marked, and for clozapine whether the blood result for the next supply is in); a form to add
// one with its times and stock; a new count after a refill; taking one off the list.

import { TABLET_STRENGTHS_MG } from '/static/js/clinical.js';
import { h } from '/static/js/dom.js';
import { formatDate, t } from './i18n.js';
import { call } from './session.js';
import { noticeBox } from './treatment.js';
import { choiceField, errorBox, failureText, field, sendingForm, showFieldErrors } from './ui.js';

const KINDS = ['laxative', 'other', 'clozapine'];

function number(text) {
  const value = Number(String(text).trim().replace(',', '.'));
  return String(text).trim() && !Number.isNaN(value) ? value : null;
}

/** "08:00, 20:00" or "8:00 20:00" -> ["08:00", "20:00"] (the server checks them). */
function times(text) {
  return String(text).split(/[\s,;]+/).filter(Boolean).map((v) => (/^\d:\d\d$/.test(v) ? `0${v}` : v));
}

function supplyText(m) {
  if (m.stock === null || m.stock === undefined) return t('medicines.noStock');
  const left = t('medicines.left', { count: m.stock });
  return m.runs_out_on ? `${left} ${t('medicines.runsOut', { date: formatDate(m.runs_out_on) })}` : left;
}

function row(base, m, onSaved) {
  const errors = errorBox();
  const count = field(t('medicines.newCount', { name: m.name }), h('input', { type: 'text', inputmode: 'decimal', autocomplete: 'off' }));
  const note = m.supply_note
    ? h('p', { class: m.blood_for_supply === 'needed' ? 'strong-note' : 'notice' }, m.supply_note.title, '. ', m.supply_note.text)
    : null;
  async function send(body, message) {
    errors.hide();
    try {
      await call('PATCH', `${base}/medicines/${m.id}`, { body });
      await onSaved({ text: message });
    } catch (error) {
      errors.show(failureText(error));
      for (const messages of Object.values(error.fields || {})) count.setError(messages.join(' '));
    }
  }
  return h('li', { class: 'card stack medicine' },
    h('h3', {}, m.name, ' ', h('span', { class: 'hint' }, `(${t(`medicines.kind.${m.kind}`)})`)),
    h('p', {}, m.kind === 'clozapine'
      ? t('medicines.clozapineTimes', { strength: m.strength_mg ?? '–' })
      : t('medicines.times', { times: m.times.join(', '), dose: m.dose_text || t('medicines.oneDose') })),
    h('p', {}, supplyText(m)),
    note,
    errors.el,
    h('form', {
      class: 'inline-form',
      novalidate: true,
      onsubmit: (event) => {
        event.preventDefault();
        count.setError('');
        const value = number(count.input.value);
        if (value === null) {
          count.setError(t('medicines.countNeeded'));
          count.input.focus();
          return;
        }
        send({ stock: value }, t('medicines.counted', { name: m.name }));
      },
    }, count.el, h('button', { type: 'submit', class: 'button' }, t('medicines.saveCount'))),
    h('button', {
      type: 'button', class: 'button',
      onclick: () => send({ stopped: true }, t('medicines.stopped', { name: m.name })),
    }, t('medicines.stop', { name: m.name })));
}

function addForm(base, onSaved) {
  const errors = errorBox();
  const kind = choiceField(t('medicines.kindLegend'), 'medicine-kind', KINDS.map((k) => [k, t(`medicines.kind.${k}`)]), { onchange: () => fit() });
  kind.choose('laxative');
  const name = field(t('medicines.name'), h('input', { type: 'text', autocomplete: 'off', maxlength: '120' }), { name: 'name' });
  const when = field(t('medicines.timesLabel'), h('input', { type: 'text', autocomplete: 'off', placeholder: '08:00, 20:00' }), { name: 'times', hint: t('medicines.timesHint') });
  const dose = field(t('medicines.dose'), h('input', { type: 'text', autocomplete: 'off', maxlength: '120' }), { name: 'dose_text', hint: t('medicines.doseHint') });
  const units = field(t('medicines.units'), h('input', { type: 'text', inputmode: 'decimal', autocomplete: 'off', value: '1' }), { name: 'units_per_dose', hint: t('medicines.unitsHint') });
  const strength = field(t('medicines.strength'), h('select', {}, TABLET_STRENGTHS_MG.map((mg) => h('option', { value: String(mg) }, `${mg} mg`))), { name: 'strength_mg' });
  const stock = field(t('medicines.stock'), h('input', { type: 'text', inputmode: 'decimal', autocomplete: 'off' }), { name: 'stock', hint: t('medicines.stockHint') });
  const fields = { name, times: when, dose_text: dose, units_per_dose: units, strength_mg: strength, stock, kind };
  function fit() {
    const clozapine = kind.value() === 'clozapine';
    when.el.hidden = clozapine;
    dose.el.hidden = clozapine;
    units.el.hidden = clozapine;
    strength.el.hidden = !clozapine;
  }
  fit();
  const submit = h('button', { type: 'submit', class: 'button primary' }, t('medicines.add'));
  /** The medicine to add, or null having said what is missing. */
  function read() {
    const chosen = kind.value();
    const body = { kind: chosen, name: name.input.value.trim() };
    if (!body.name) {
      name.setError(t('medicines.nameNeeded'));
      name.input.focus();
      return null;
    }
    if (chosen === 'clozapine') {
      body.strength_mg = Number(strength.input.value);
    } else {
      body.times = times(when.input.value);
      if (!body.times.length) {
        when.setError(t('medicines.timesNeeded'));
        when.input.focus();
        return null;
      }
      if (dose.input.value.trim()) body.dose_text = dose.input.value.trim();
      const perDose = number(units.input.value);
      if (perDose !== null) body.units_per_dose = perDose;
    }
    const onHand = number(stock.input.value);
    if (onHand !== null) body.stock = onHand;
    return body;
  }
  return sendingForm({
    class: 'stack', errors, button: submit, fields, read,
    work: async (body) => {
      await call('POST', `${base}/medicines`, { body });
      await onSaved({ text: t('medicines.added', { name: body.name }) });
    },
    failed: (error) => {
      errors.show(failureText(error));
      const first = showFieldErrors(fields, error.fields);
      if (first && first.input) first.input.focus();
    },
  }, h('h3', {}, t('medicines.addTitle')), errors.el, kind.el, name.el, when.el, dose.el, units.el, strength.el, stock.el, h('div', {}, submit));
}

/** The section's body: drawn from the server each time the page is. */
export function medicinesSection({ base, notice, onSaved }) {
  const list = h('ul', { class: 'plain stack' });
  const errors = errorBox();
  const holder = h('div', { class: 'stack' },
    noticeBox(notice),
    h('p', {}, t('medicines.intro')), errors.el, list, addForm(base, onSaved));
  call('GET', `${base}/medicines`).then(({ items }) => {
    list.replaceChildren(...(items.length ? items.map((m) => row(base, m, onSaved)) : [h('li', {}, t('medicines.none'))]));
  }).catch((error) => errors.show(failureText(error)));
  return holder;
}
