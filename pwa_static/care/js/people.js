// One patient's logins as the care team sees them: the patient's own and their caregivers'
// (each with a one-time password reset code to give in person or by phone, since patients may
// have no email), removing a caregiver, and cancelling invite codes nobody has used.

import { h } from '/static/js/dom.js';
import { formatDateTime, languages, t } from './i18n.js';
import { call, session } from './session.js';
import { errorBox, failureText, sendingForm } from './ui.js';

export function peopleBlock(base) {
  const errors = errorBox();
  const body = h('div', { class: 'stack' });
  const shown = h('div', { role: 'status' });

  async function act(work) {
    errors.hide();
    try {
      await work();
      await load();
    } catch (error) {
      errors.show(failureText(error));
    }
  }

  function resetButton(person) {
    return h('button', {
      type: 'button',
      class: 'button',
      onclick: () => act(async () => {
        const answer = await call('POST', `${base}/reset-codes`, { body: { user_id: person.id } });
        shown.replaceChildren(h('div', { class: 'callout code-box stack' },
          h('p', {}, t('people.resetCodeFor', { name: answer.display_name, email: answer.email })),
          h('p', { class: 'code' }, answer.code),
          h('p', {}, t('people.resetExpires', { when: formatDateTime(answer.expires_at) }))));
      }),
    }, t('people.issueReset', { name: person.display_name }));
  }

  async function load() {
    const answer = await call('GET', `${base}/caregivers`);
    const rows = [];
    if (answer.login) {
      rows.push(h('li', { class: 'stack' },
        h('span', {}, t('people.patientLogin', { name: answer.login.display_name, email: answer.login.email })),
        h('div', {}, resetButton(answer.login))));
    } else {
      rows.push(h('li', {}, t('people.noLogin')));
    }
    for (const carer of answer.caregivers) {
      rows.push(h('li', { class: 'stack' },
        h('span', {}, t('people.caregiver', { name: carer.display_name, email: carer.email, when: formatDateTime(carer.since) })),
        h('div', { class: 'button-row' }, resetButton(carer),
          h('button', {
            type: 'button',
            class: 'button danger',
            onclick: () => act(() => call('DELETE', `${base}/caregivers/${carer.id}`)),
          }, t('people.remove', { name: carer.display_name })))));
    }
    for (const invite of answer.invites) {
      rows.push(h('li', { class: 'stack' },
        h('span', {}, t('people.invite', { made: formatDateTime(invite.created_at), until: formatDateTime(invite.expires_at) })),
        h('div', {}, h('button', {
          type: 'button',
          class: 'button',
          onclick: () => act(() => call('DELETE', `${base}/caregiver-invites/${invite.id}`)),
        }, t('people.cancelInvite')))));
    }
    body.replaceChildren(h('ul', { class: 'plain-list' }, rows));
  }

  load().catch((error) => errors.show(failureText(error)));
  return h('div', { class: 'stack' }, h('p', {}, t('people.intro')), errors.el, body, shown);
}

/** The signed-in care-team member's own account: a new password, and signing out everywhere. */
export function accountBlock({ onSignedOut }) {
  const errors = errorBox();
  const done = h('p', { role: 'status' });
  const current = h('input', { type: 'password', id: 'account-current', autocomplete: 'current-password' });
  const next = h('input', { type: 'password', id: 'account-new', autocomplete: 'new-password' });
  const change = h('button', { type: 'submit', class: 'button' }, t('account.change'));
  const form = sendingForm({
    class: 'stack',
    errors,
    button: change,
    read: () => {
      done.textContent = '';
      return { current_password: current.value, new_password: next.value };
    },
    work: async (body) => {
      await call('POST', '/api/me/password', { body });
      current.value = '';
      next.value = '';
      done.textContent = t('account.changed');
    },
    failed: (error) => errors.show(failureText(error)),
  },
  h('div', { class: 'field' }, h('label', { for: current.id }, t('account.current')), current),
  h('div', { class: 'field' }, h('label', { for: next.id }, t('account.new')), next),
  h('div', {}, change));
  const everywhere = h('button', {
    type: 'button',
    class: 'button',
    onclick: async () => {
      try {
        await call('DELETE', '/api/sessions');
        await onSignedOut();
      } catch (error) {
        errors.show(failureText(error));
      }
    },
  }, t('account.signOutEverywhere'));
  return h('div', { class: 'stack' }, errors.el, form, done,
    h('p', { class: 'hint' }, t('account.everywhereHelp')), h('div', {}, everywhere),
    languageField(errors, done));
}

/** The language of this account (kept on the server, for its notifications too): the languages
 * this app has words in. */
function languageField(errors, done) {
  const select = h('select', {
    id: 'account-language',
    onchange: async () => {
      errors.hide();
      try {
        session.user = await call('PUT', '/api/me/language', { body: { language: select.value } });
        done.textContent = t('account.languageSaved');
      } catch (error) {
        errors.show(failureText(error));
      }
    },
  });
  languages().then((names) => {
    const chosen = session.user && session.user.language in names ? session.user.language : 'en';
    select.replaceChildren(...Object.entries(names).map(([code, name]) => h('option', { value: code, lang: code, selected: code === chosen }, name)));
  });
  return h('div', { class: 'field' }, h('label', { for: select.id }, t('account.language')), select);
}
