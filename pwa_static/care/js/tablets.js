// The clozapine tablet strengths a patient has (12.5, 25, 50, 100, 200 mg): the patient's app
// then shows each dose as tablets ("one 25 mg and half a 25 mg"). The split itself is the
// server's (server/domain/tablets.py); this only chooses the strengths.

import { TABLET_STRENGTHS_MG } from '/static/js/clinical.js';
import { h, uid } from '/static/js/dom.js';
import { t } from './i18n.js';
import { call } from './session.js';
import { errorBox, sendingForm } from './ui.js';


export function tabletsBlock(base, patient) {
  const errors = errorBox();
  const saved = h('p', { class: 'saved-line', role: 'status' });
  const have = new Set((patient.tablet_strengths_mg || []).map(Number));
  const boxes = TABLET_STRENGTHS_MG.map((mg) => {
    const id = uid('tablet');
    const box = h('input', { type: 'checkbox', id, name: 'tablet_strengths', value: String(mg), checked: have.has(mg) });
    return { mg, box, el: h('div', { class: 'check' }, box, h('label', { for: id }, t('tablets.strength', { mg }))) };
  });
  const hintId = uid('hint');
  const submit = h('button', { type: 'submit', class: 'button' }, t('tablets.save'));
  return sendingForm({
    class: 'stack', errors, button: submit,
    work: async () => {
      saved.textContent = '';
      const answer = await call('PUT', `${base}/tablets`, {
        body: { strengths_mg: boxes.filter((b) => b.box.checked).map((b) => b.mg) },
      });
      saved.textContent = answer.strengths_mg.length ? t('tablets.saved') : t('tablets.cleared');
    },
  },
  errors.el,
  h('fieldset', { class: 'stack', 'aria-describedby': hintId },
    h('legend', {}, t('tablets.legend')),
    h('p', { id: hintId, class: 'hint' }, t('tablets.hint')),
    h('div', { class: 'rule-grid' }, boxes.map((b) => b.el))),
  h('div', { class: 'button-row' }, submit, saved));
}
