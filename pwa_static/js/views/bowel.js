// Log bowel movement: the seven Bristol types as pictures and words, when, and a note.

import { h, uid } from '../dom.js';
import { t } from '../i18n.js';
import { bristolPicture } from '../pictures.js';
import { ensureCatalogue } from '../store.js';
import { bristolTypes, errorBox, field, messageFor } from '../ui.js';
import { logScreen, say } from '../parts.js';
import { chooseWhen } from './when.js';

function resultPanel(result, type, again) {
  const panel = h('section', { class: 'stack result', 'aria-labelledby': 'result-title' });
  const sent = result.outcome === 'sent';
  panel.append(h('h2', { id: 'result-title', tabindex: '-1' }, sent ? t('saved.done') : t('saved.notSent')));
  if (!sent) panel.append(h('p', {}, t('saved.notSentHelp')));
  const info = bristolTypes().find((item) => item.type === type);
  if (type <= 2) {
    panel.append(h('p', {}, t('bowel.hardNote')), h('p', {}, h('a', { href: '#/guidance/constipation' }, t('bowel.constipationLink'))));
  } else if (type === 7) {
    panel.append(h('p', {}, t('bowel.wateryNote')));
  } else if (info && info.meaning) {
    panel.append(h('p', {}, t('bowel.meaning', { meaning: info.meaning })));
  }
  panel.append(
    h('a', { href: '#/today', class: 'button primary big' }, t('action.backToday')),
    h('button', { type: 'button', class: 'button', onclick: again }, t('bowel.another')),
  );
  return panel;
}

export async function render({ refresh }) {
  await ensureCatalogue();
  const name = uid('bristol');
  const errors = errorBox();
  const when = chooseWhen();
  const notes = h('textarea', { name: 'notes', rows: '3', maxlength: '1000' });
  const choices = h('fieldset', { class: 'choices' },
    h('legend', {}, t('bowel.question')),
    bristolTypes().map((item) => {
      const id = `${name}-${item.type}`;
      return h('div', { class: 'choice bristol' },
        h('input', { type: 'radio', name, id, value: String(item.type), 'aria-describedby': `${id}-desc` }),
        h('label', { for: id }, bristolPicture(item.type), h('span', { class: 'choice-label' }, item.label)),
        h('p', { id: `${id}-desc`, class: 'choice-desc' }, item.description));
    }));
  const submit = h('button', { type: 'submit', class: 'button primary big' }, t('action.save'));
  function read() {
    const chosen = choices.querySelector(`input[name="${name}"]:checked`);
    if (!chosen) {
      errors.show(t('bowel.pickOne'));
      return null;
    }
    const occurredAt = when.value();
    if (!occurredAt) {
      errors.show(t('when.invalid'));
      return null;
    }
    const body = { occurred_at: occurredAt, bristol_type: Number(chosen.value) };
    if (notes.value.trim()) body.notes = notes.value.trim();
    return body;
  }
  const page = logScreen({
    kind: 'bowel',
    collection: 'bowel-movements',
    title: t('bowel.title'),
    intro: say('bowel.intro'),
    errors,
    submit,
    read,
    refused: (error) => errors.show(messageFor(error)),
    answered: (result, body) => resultPanel(result, body.bristol_type, () => refresh()),
  },
  choices,
  when.el,
  field({ label: t('bowel.notes'), input: notes, hint: t('bowel.notesHint') }));
  return page;
}
