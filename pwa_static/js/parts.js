// What the screens after sign-in share about the person and their day: words for whoever reads
// them (a caregiver reads "Has Sam taken it?"), a dose as tablets, who to call, and the screen
// of a log (a bowel movement, a symptom). Kept apart from ui.js so that the sign-in screen does
// not load it.

import { h } from './dom.js';
import { formatNumber, has, t } from './i18n.js';
import * as outbox from './outbox.js';
import { isCaregiver, personName, state } from './store.js';
import { backLink, checkedForm, emergencyNumber, heading } from './ui.js';

/**
 * Text for whoever reads it: a caregiver reads "Has Sam taken it?" where the patient reads
 * "Not taken yet" (the `.caregiver` form of a key, with the person's name), when there is one.
 */
export function say(key, vars = {}) {
  const name = isCaregiver() ? personName() : null;
  if (name && has(`${key}.caregiver`)) return t(`${key}.caregiver`, { ...vars, name });
  return t(key, vars);
}

/** A number of tablets in words ("one", "two", ...), figures from eleven on. */
function countWord(count) {
  return has(`number.${count}`) ? t(`number.${count}`) : String(count);
}

/** "one 25 mg and half a 25 mg" for the server's split of a dose into tablets. */
export function tabletWords(tablets) {
  const parts = [];
  for (const piece of tablets) {
    const mg = formatNumber(piece.strength_mg, 1);
    if (piece.whole) parts.push(t('tablets.whole', { count: countWord(piece.whole), mg }));
    if (piece.half) parts.push(t('tablets.half', { mg }));
  }
  if (parts.length < 2) return parts.join('');
  return t('list.and', { first: parts.slice(0, -1).join(', '), last: parts[parts.length - 1] });
}

const PICTURE_MAX = 8; // more pieces than this are told in words only

/**
 * A dose as tablets: a small picture of the pieces (each strength its own size, a half drawn
 * as half) and the words; null when the patient's tablets are not set.
 */
export function tabletsLine(dose) {
  if (!Array.isArray(dose.tablets)) return null;
  if (!dose.tablets.length) return h('p', { class: 'tablets' }, t('tablets.cannot'));
  const pieces = [];
  for (const piece of dose.tablets) {
    const size = `pill pill-${String(piece.strength_mg).replace('.', '-')}`;
    for (let i = 0; i < piece.whole; i += 1) pieces.push(h('span', { class: size }));
    if (piece.half) pieces.push(h('span', { class: `${size} pill-half` }));
  }
  return h('p', { class: 'tablets' },
    pieces.length <= PICTURE_MAX ? h('span', { class: 'tablets-picture', 'aria-hidden': 'true' }, pieces) : null,
    h('span', {}, say('tablets.take', { list: tabletWords(dose.tablets) })));
}

/** A phone number as a tel: link wants it. */
function dialable(number) {
  return String(number || '').replace(/[^0-9+*#]/g, '');
}

/**
 * "Call my care team" (the clinic's number and hours, from the patient summary) beside the
 * emergency button.
 */
export function contactSection(summary) {
  const contact = (summary && summary.care_team_contact) || {};
  const number = emergencyNumber();
  const details = [];
  if (contact.phone) details.push(h('p', {}, t('contact.number', { number: contact.phone })));
  if (contact.phone && contact.hours) details.push(h('p', {}, t('contact.hours', { hours: contact.hours })));
  if (!contact.phone) details.push(h('p', { class: 'hint' }, t('contact.none')));
  return h('section', { class: 'card stack contact', 'aria-labelledby': 'contact-title' },
    h('h2', { id: 'contact-title' }, t('contact.title')),
    h('div', { class: 'call-row' },
      contact.phone ? h('a', { class: 'button call-team', href: `tel:${dialable(contact.phone)}` }, say('contact.call')) : null,
      h('a', { class: 'button danger call', href: `tel:${number}` }, t('call.button', { number }))),
    details);
}

/**
 * The screen of a log (a bowel movement, a symptom report): back to Today, the title, the intro
 * and the form. On submit, `read()` checks what was filled in (saying what is wrong in `errors`)
 * and answers the body to log, or nothing; the entry is saved on the phone and sent
 * (/api/patients/<id>/<collection>). A refusal goes to `refused(error)` and the form stays; else
 * `answered(result, body)` makes the panel (headed by an h2) that takes the form's place.
 */
export function logScreen({ kind, collection, title, intro, errors, submit, read, refused, answered }, ...fields) {
  const page = h('section', { class: 'stack' });
  const top = () => [backLink('#/today', t('action.backToday')), heading(title)];
  const form = checkedForm({
    class: 'stack',
    errors,
    onSubmit: async () => {
      const body = read();
      if (!body) return;
      submit.disabled = true;
      const pid = state.patientId;
      const result = await outbox.submit({
        kind,
        userId: state.user.id,
        patientId: pid,
        path: `/api/patients/${pid}/${collection}`,
        body,
      });
      if (result.outcome === 'failed') {
        submit.disabled = false;
        refused(result.error);
        return;
      }
      const panel = await answered(result, body);
      page.replaceChildren(...top(), panel);
      panel.querySelector('h2').focus();
    },
  },
  errors.el,
  fields,
  submit);
  page.append(...top(), h('p', { class: 'lead' }, intro), form);
  return page;
}
