// "When was it?": just now, or a date and time the person picks. Gives an ISO instant with an
// offset, fixed when the entry is made (not when it is sent).

import { h, uid } from '../dom.js';
import { t } from '../i18n.js';
import { field } from '../ui.js';

function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function chooseWhen() {
  const name = uid('when');
  const nowId = `${name}-now`;
  const earlierId = `${name}-earlier`;
  const input = h('input', { type: 'datetime-local', name: 'occurred_at', max: localInputValue(new Date()) });
  const picker = h('div', { class: 'when-picker', hidden: true }, field({ label: t('when.pick'), input }));
  const toggle = () => {
    const earlier = document.getElementById(earlierId).checked;
    picker.hidden = !earlier;
    if (earlier && !input.value) input.value = localInputValue(new Date());
  };
  const el = h('fieldset', { class: 'when' },
    h('legend', {}, t('when.question')),
    h('div', { class: 'choice-line' },
      h('input', { type: 'radio', name, id: nowId, value: 'now', checked: true, onchange: toggle }),
      h('label', { for: nowId }, t('when.now'))),
    h('div', { class: 'choice-line' },
      h('input', { type: 'radio', name, id: earlierId, value: 'earlier', onchange: toggle }),
      h('label', { for: earlierId }, t('when.earlier'))),
    picker);
  return {
    el,
    /** The chosen instant as ISO 8601 with an offset, or null when the date is not valid. */
    value() {
      if (!document.getElementById(earlierId).checked) return new Date().toISOString();
      const picked = new Date(input.value);
      if (!input.value || Number.isNaN(picked.getTime())) return null;
      if (picked.getTime() > Date.now() + 5 * 60 * 1000) return null;
      return picked.toISOString();
    },
  };
}
