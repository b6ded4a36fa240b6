// Settings: reminders (with every state explained), installing the app, caregivers (invite,
// list, remove, cancel a code; a caregiver accepts another person's code), the emergency
// number, language, text size, the password, and signing out (here or everywhere).

import { api } from '../api.js';
import { h, uid } from '../dom.js';
import { formatDateTime, lang, languages, t, tn } from '../i18n.js';
import * as outbox from '../outbox.js';
import * as push from '../push.js';
import { currentPatient, forgetSession, isCaregiver, saveSettings, settings, state, switchPatient, useLanguage, whenPatients } from '../store.js';
import { checkedForm, emergencyNumber, errorBox, field, heading, messageFor, showFieldErrors } from '../ui.js';

function section(id, title, ...children) {
  return h('section', { class: 'card stack', 'aria-labelledby': id }, h('h2', { id }, title), children);
}

function remindersSection() {
  const body = h('div', { class: 'stack', 'aria-live': 'polite' });
  async function show(current, problem) {
    const parts = [];
    const button = (text, action) => h('button', { type: 'button', class: 'button primary', onclick: action }, text);
    const run = (work) => async () => {
      show('working');
      try {
        show(await work());
      } catch (error) {
        show('error', error);
      }
    };
    parts.push(h('p', { class: 'state' }, h('strong', {}, t(`push.state.${current}`))));
    if (current === 'on') {
      parts.push(h('p', {}, t('push.onHelp')), button(t('push.turnOff'), run(push.turnOff)));
    } else if (current === 'off') {
      parts.push(h('p', {}, t('push.offHelp')), button(t('push.turnOn'), run(push.turnOn)));
    } else if (current === 'denied') {
      parts.push(h('p', {}, t('push.deniedHelp')), h('ol', {},
        h('li', {}, t('push.deniedStep1')), h('li', {}, t('push.deniedStep2')), h('li', {}, t('push.deniedStep3'))),
      button(t('push.checkAgain'), run(push.state)));
    } else if (current === 'needs-install') {
      parts.push(h('p', {}, t('push.installHelp')));
    } else if (current === 'unsupported') {
      parts.push(h('p', {}, t('push.unsupportedHelp')));
    } else if (current === 'error') {
      parts.push(h('p', {}, problem && problem.status !== undefined ? messageFor(problem) : t('push.errorHelp')),
        button(t('action.tryAgain'), run(push.turnOn)));
    }
    parts.push(h('p', { class: 'hint' }, t('push.private')));
    body.replaceChildren(...parts);
  }
  push.state().then((current) => show(current)).catch(() => show('unsupported'));
  body.append(h('p', {}, t('push.checking')));
  return section('reminders-title', t('settings.reminders'), body);
}

function installSection() {
  const body = h('div', { class: 'stack' });
  if (push.isInstalled()) {
    body.append(h('p', {}, t('install.done')));
  } else if (state.installPrompt) {
    body.append(h('p', {}, t('install.intro')), h('button', {
      type: 'button',
      class: 'button primary',
      onclick: async () => {
        const prompt = state.installPrompt;
        state.installPrompt = null;
        prompt.prompt();
        await prompt.userChoice.catch(() => null);
      },
    }, t('install.button')));
  } else if (push.isIos()) {
    body.append(h('p', {}, t('install.iosIntro')), h('ol', {},
      h('li', {}, t('install.iosStep1')), h('li', {}, t('install.iosStep2')), h('li', {}, t('install.iosStep3'))));
  } else {
    body.append(h('p', {}, t('install.other')));
  }
  return section('install-title', t('settings.install'), body);
}

/** A small form: its submit runs `work`, which answers the line to show when it is done. */
function actionForm(title, fields, label, work, onError = () => {}) {
  const errors = errorBox();
  const done = h('p', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'button' }, label);
  return checkedForm({
    class: 'stack',
    errors,
    onSubmit: async () => {
      done.textContent = '';
      submit.disabled = true;
      try {
        done.textContent = await work();
      } catch (error) {
        onError(error);
        errors.show(messageFor(error));
      } finally {
        submit.disabled = false;
      }
    },
  }, h('h3', {}, title), errors.el, fields, submit, done);
}

function acceptInviteForm() {
  const code = h('input', { type: 'text', name: 'invite_code', autocomplete: 'one-time-code', autocapitalize: 'characters', spellcheck: 'false' });
  return h('div', { class: 'stack' }, actionForm(t('caregiver.acceptTitle'),
    [h('p', {}, t('caregiver.acceptIntro')), field({ label: t('caregiver.acceptCode'), input: code })],
    t('caregiver.accept'),
    async () => {
      const before = new Set(state.user.caregiver_of || []);
      const user = await api('POST', '/api/caregiver-invites/accept', { body: { code: code.value.trim() } });
      code.value = '';
      state.user = { ...state.user, caregiver_of: user.caregiver_of };
      state.patients = (await api('GET', '/api/patients')).items;
      const added = state.patients.find((p) => !before.has(p.id));
      return t('caregiver.accepted', { name: added ? added.display_name : '' });
    }));
}

/** The patient's caregivers and unused invite codes, each with a button to end it. */
function caregiverList() {
  const body = h('div', { class: 'stack', 'aria-live': 'polite' });
  const errors = errorBox();
  const base = `/api/patients/${state.patientId}`;
  async function act(path, message) {
    errors.clear();
    try {
      await api('DELETE', path);
      await load(message);
    } catch (error) {
      errors.show(messageFor(error));
    }
  }
  async function load(message) {
    const answer = await api('GET', `${base}/caregivers`);
    const people = answer.caregivers.length
      ? h('ul', { class: 'plain-list' }, answer.caregivers.map((c) => h('li', { class: 'stack' },
        h('span', {}, t('caregiver.since', { name: c.display_name, email: c.email, when: formatDateTime(c.since) })),
        h('button', {
          type: 'button',
          class: 'button danger',
          onclick: () => act(`${base}/caregivers/${c.id}`, t('caregiver.removed', { name: c.display_name })),
        }, t('caregiver.remove', { name: c.display_name })))))
      : h('p', {}, t('caregiver.none'));
    const invites = answer.invites.length
      ? [h('h3', {}, t('caregiver.invitesTitle')), h('ul', { class: 'plain-list' }, answer.invites.map((i) => h('li', { class: 'stack' },
        h('span', {}, t('caregiver.inviteLine', { when: formatDateTime(i.created_at) })),
        h('button', {
          type: 'button',
          class: 'button',
          onclick: () => act(`${base}/caregiver-invites/${i.id}`, t('caregiver.cancelled')),
        }, t('caregiver.cancelInvite')))))]
      : [];
    body.replaceChildren(h('h3', {}, t('caregiver.listTitle')), message ? h('p', { class: 'strong-note' }, message) : null, people, ...invites);
  }
  const reload = () => load().catch((error) => errors.show(messageFor(error)));
  reload();
  return { el: h('div', { class: 'stack' }, errors.el, body), reload };
}

function caregiversSection() {
  if (isCaregiver()) {
    const mine = state.user.caregiver_of || [];
    const names = mine.map((id) => (state.patients.find((p) => p.id === id) || {}).display_name || t('patient.unnamed', { id }));
    const parts = [h('p', {}, t('caregiver.youCareFor', { names: names.join(', ') }))];
    if (mine.length > 1) {
      const select = h('select', {
        onchange: (event) => {
          switchPatient(Number(event.target.value));
          location.hash = '#/today';
        },
      }, mine.map((id, i) => h('option', { value: String(id), selected: id === state.patientId }, names[i])));
      parts.push(field({ label: t('patient.switch'), input: select }));
    }
    parts.push(acceptInviteForm());
    return section('care-title', t('settings.caring'), parts);
  }
  if (state.user.role !== 'patient') return null;
  const result = h('div', { class: 'stack', 'aria-live': 'polite' });
  const errors = errorBox();
  const list = caregiverList();
  const button = h('button', {
    type: 'button',
    class: 'button primary',
    onclick: async () => {
      errors.clear();
      button.disabled = true;
      try {
        const invite = await api('POST', `/api/patients/${state.patientId}/caregiver-invites`);
        result.replaceChildren(
          h('p', {}, t('caregiver.codeIs')),
          h('p', { class: 'code' }, invite.code),
          h('p', {}, invite.expires_at ? t('caregiver.codeHelp', { when: formatDateTime(invite.expires_at) }) : t('caregiver.codeHelpNoDate')),
        );
        list.reload();
      } catch (error) {
        errors.show(messageFor(error));
      } finally {
        button.disabled = false;
      }
    },
  }, t('caregiver.invite'));
  return section('care-title', t('settings.caregivers'), h('p', {}, t('caregiver.intro')), errors.el, button, result, list.el);
}

function emergencySection() {
  const input = h('input', { type: 'tel', name: 'emergency', autocomplete: 'off', value: emergencyNumber() });
  const saved = h('p', { 'aria-live': 'polite', class: 'hint' });
  const form = h('form', {
    class: 'stack',
    onsubmit: (event) => {
      event.preventDefault();
      const value = input.value.replace(/[^0-9+*#]/g, '');
      saveSettings({ emergencyNumber: value || '112' });
      input.value = emergencyNumber();
      saved.textContent = t('settings.emergencySaved', { number: emergencyNumber() });
    },
  },
  field({ label: t('settings.emergencyLabel'), input, hint: t('settings.emergencyHint') }),
  h('button', { type: 'submit', class: 'button' }, t('action.save')),
  saved);
  return section('emergency-title', t('settings.emergency'), form);
}

function languageSection(refresh, names) {
  const select = h('select', {
    name: 'lang',
    onchange: async (event) => {
      await useLanguage(event.target.value, { choose: true }); // on the server too: your pushes
      refresh();
    },
  }, Object.entries(names).map(([code, name]) => h('option', { value: code, lang: code, selected: code === lang }, name)));
  return section('language-title', t('settings.language'), field({ label: t('settings.languageLabel'), input: select }));
}

function textSizeSection(applyTextSize) {
  const name = uid('size');
  return section('size-title', t('settings.textSize'),
    h('fieldset', {},
      h('legend', {}, t('settings.textSizeQuestion')),
      ['standard', 'large', 'largest'].map((size) => {
        const id = `${name}-${size}`;
        return h('div', { class: 'choice-line' },
          h('input', {
            type: 'radio', name, id, value: size, checked: (settings.textSize || 'standard') === size,
            onchange: () => {
              saveSettings({ textSize: size });
              applyTextSize();
            },
          }),
          h('label', { for: id, class: `size-${size}` }, t(`settings.size.${size}`)));
      })));
}

function accountSection(go) {
  const errors = errorBox();
  const body = h('div', { class: 'stack' });
  async function signOut(discard) {
    errors.clear();
    const waiting = (await outbox.entries(state.user.id)).filter((e) => e.state === 'pending');
    if (waiting.length && !discard) {
      body.replaceChildren(
        h('p', { class: 'strong-note', role: 'alert' }, tn('settings.signOutWaiting', waiting.length)),
        h('button', { type: 'button', class: 'button primary', onclick: () => { location.hash = '#/today'; } }, t('settings.keepThem')),
        h('button', { type: 'button', class: 'button danger', onclick: () => signOut(true) }, t('settings.signOutAnyway')),
      );
      return;
    }
    try {
      await push.turnOff().catch(() => null);
      await api('DELETE', '/api/session');
    } catch (error) {
      if (error.isNetwork) {
        errors.show(t('settings.signOutOffline'));
        return;
      }
    }
    if (discard) await outbox.discardAll(state.user.id);
    await forgetSession();
    go('signin');
  }
  body.append(h('button', { type: 'button', class: 'button', onclick: () => signOut(false) }, t('settings.signOut')));
  const everywhere = h('button', {
    type: 'button',
    class: 'button',
    onclick: async () => {
      errors.clear();
      try {
        await push.turnOff().catch(() => null);
        await api('DELETE', '/api/sessions');
      } catch (error) {
        errors.show(messageFor(error));
        return;
      }
      await forgetSession();
      go('signin');
    },
  }, t('settings.signOutEverywhere'));
  return section('account-title', t('settings.account'),
    h('p', {}, t('settings.signedInAs', { email: state.user.email })),
    errors.el,
    body,
    passwordForm(),
    h('p', { class: 'hint' }, t('settings.signOutEverywhereHelp')),
    everywhere);
}

function passwordForm() {
  const current = h('input', { type: 'password', name: 'current_password', autocomplete: 'current-password' });
  const next = h('input', { type: 'password', name: 'new_password', autocomplete: 'new-password' });
  const inputs = { current_password: current, new_password: next };
  return actionForm(t('settings.changePassword'), [
    field({ label: t('settings.currentPassword'), input: current }),
    field({ label: t('settings.newPassword'), input: next, hint: t('activate.passwordHint') }),
  ], t('settings.changePassword'), async () => {
    showFieldErrors(inputs, {});
    await api('POST', '/api/me/password', { body: { current_password: current.value, new_password: next.value } });
    current.value = '';
    next.value = '';
    return t('settings.passwordChanged');
  }, (error) => {
    const fields = error.fields || {};
    showFieldErrors(inputs, { ...fields, new_password: fields.password });
  });
}

export async function render({ go, refresh, applyTextSize }) {
  await whenPatients();
  const patient = currentPatient();
  return h('div', { class: 'stack' },
    heading(t('settings.title')),
    isCaregiver() && patient ? h('p', { class: 'lead' }, t('settings.forPatient', { name: patient.display_name })) : null,
    remindersSection(),
    // other medicines and their stock have a page of their own (views/medicines.js)
    section(uid('medicines'), t('medicines.pageTitle'), h('p', {}, h('a', { href: '#/medicines' }, t('medicines.settingsLink')))),
    caregiversSection(),
    emergencySection(),
    textSizeSection(applyTextSize),
    languageSection(refresh, await languages()),
    installSection(),
    accountSection(go));
}
