// Enrolment: the patient's record and the one-time activation code, shown once.

import { h } from '/static/js/dom.js';
import { formatDateTime, isoDate, t } from './i18n.js';
import { call } from './session.js';
import { errorBox, field, sendingForm } from './ui.js';

function zones() {
  const own = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const all = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [own, 'UTC'];
  return { own, all: all.includes(own) ? all : [own, ...all] };
}

export async function render({ refresh }) {
  const section = h('section', { class: 'stack narrow' });
  const errors = errorBox();
  const name = field(t('enrol.name'), h('input', { type: 'text', name: 'display_name', maxlength: 120, required: true, autocomplete: 'off' }), { name: 'display_name' });
  const { own, all } = zones();
  const zone = field(t('enrol.zone'), h('select', { name: 'timezone' }, all.map((z) => h('option', { value: z, selected: z === own }, z))), { hint: t('enrol.zoneHint'), name: 'timezone' });
  const start = field(t('enrol.start'), h('input', { type: 'date', name: 'clozapine_start_date', required: true, value: isoDate() }), { name: 'clozapine_start_date' });
  const benInput = h('input', { type: 'checkbox', id: 'enrol-ben', name: 'benign_ethnic_neutropenia' });
  const fields = { display_name: name, timezone: zone, clozapine_start_date: start };
  const submit = h('button', { type: 'submit', class: 'button primary' }, t('enrol.submit'));
  const form = sendingForm({
    class: 'stack', errors, button: submit, fields,
    read: () => {
      let missing = false;
      for (const f of [name, start]) {
        if (!f.input.value.trim()) { f.setError(t('enrol.required')); missing = true; }
      }
      if (missing) {
        errors.show(t('error.fixFields'));
        return null;
      }
      return {
        display_name: name.input.value.trim(),
        timezone: zone.input.value,
        clozapine_start_date: start.input.value,
        benign_ethnic_neutropenia: benInput.checked,
      };
    },
    work: async (body) => {
      const created = await call('POST', '/api/patients', { body });
      showCode(created);
    },
  }, errors.el, name.el, zone.el, start.el,
  h('div', { class: 'check' }, benInput, h('label', { for: 'enrol-ben' }, t('enrol.ben'))),
  h('div', {}, submit));

  function showCode(created) {
    const heading = h('h1', { tabindex: '-1' }, t('enrol.done', { name: created.display_name }));
    section.replaceChildren(heading,
      h('div', { class: 'code-box stack' },
        h('p', {}, t('enrol.code')),
        h('p', { class: 'code' }, created.activation_code),
        h('p', {}, t('enrol.codeOnce', { name: created.display_name, when: formatDateTime(created.activation_expires_at) }))),
      h('div', { class: 'button-row' },
        h('a', { href: `#/patients/${created.id}`, class: 'button primary' }, t('enrol.open', { name: created.display_name })),
        h('button', { type: 'button', class: 'button', onclick: () => refresh() }, t('enrol.another'))));
    heading.focus();
  }

  section.append(h('h1', { tabindex: '-1' }, t('enrol.title')), h('p', {}, t('enrol.intro')), form);
  return section;
}
