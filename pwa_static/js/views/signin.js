// Signing in, and using a one-time code (enrolment or caregiver) to make an account (setting a
// new password with a reset code is views/reset.js).

import { api } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { rememberSession, state } from '../store.js';
import { backLink, checkedForm, errorBox, field, heading, messageFor, showFieldErrors } from '../ui.js';

export async function signIn(email, password, afterSignIn) {
  const session = await api('POST', '/api/session', { body: { email, password } });
  await rememberSession(session);
  await afterSignIn();
}

export function passwordInput(autocomplete) {
  return h('input', { type: 'password', name: 'password', autocomplete, required: true });
}

export function emailInput() {
  return h('input', { type: 'email', name: 'email', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true });
}

/** A one-time code as the care team writes it (enrolment, caregiver invite, reset). */
export function codeInput() {
  return h('input', { type: 'text', name: 'code', autocomplete: 'one-time-code', autocapitalize: 'characters', spellcheck: 'false', required: true });
}

function showPasswordToggle(input) {
  const box = h('input', {
    type: 'checkbox',
    id: `${input.id}-show`,
    onchange: (event) => { input.type = event.target.checked ? 'text' : 'password'; },
  });
  return h('div', { class: 'check' }, box, h('label', { for: box.id }, t('signin.showPassword')));
}

/** All filled in? Else say which are not. */
function allFilled(inputs, errors) {
  const missing = {};
  for (const [key, input] of Object.entries(inputs)) {
    if (!input.value.trim()) missing[key] = [t('activate.required')];
  }
  showFieldErrors(inputs, missing);
  if (Object.keys(missing).length) errors.show(t('activate.fillAll'));
  return !Object.keys(missing).length;
}

function busy(button, on, text) {
  button.disabled = on;
  if (text) button.textContent = text;
}

/**
 * The screen of a one-time code (an activation, a password reset): back to sign-in, the title,
 * the intro and the form. Every field must be filled in; `send()` makes the account or the
 * password and signs in, then Today opens; a refusal shows the server's field errors next to
 * the fields and its message in the box. `words` are the `title`, the `intro`, the button's
 * `submit` and `busy` texts and what to say `offline`.
 */
export function codeScreen({ inputs, words, send, go }, ...fields) {
  const errors = errorBox();
  const submit = h('button', { type: 'submit', class: 'button primary' }, words.submit);
  const form = checkedForm({
    errors,
    onSubmit: async () => {
      if (!allFilled(inputs, errors)) return;
      busy(submit, true, words.busy);
      try {
        await send();
        go('today');
      } catch (error) {
        busy(submit, false, words.submit);
        showFieldErrors(inputs, error.fields || {});
        errors.show(error.isNetwork ? words.offline : messageFor(error));
      }
    },
  },
  errors.el,
  fields,
  showPasswordToggle(inputs.password),
  submit);
  return h('section', { class: 'stack' },
    backLink('#/signin', t('activate.back')),
    heading(words.title),
    h('p', { class: 'lead' }, words.intro),
    form);
}

export async function render({ go, afterSignIn }) {
  const email = h('input', {
    type: 'email', name: 'email', id: 'signin-email', autocomplete: 'username', required: true,
    autocapitalize: 'none', spellcheck: 'false',
  });
  const password = passwordInput('current-password');
  password.id = 'signin-password';
  const errors = errorBox();
  const submit = h('button', { type: 'submit', class: 'button primary' }, t('signin.submit'));
  const notes = [];
  if (state.sessionEnded) notes.push(h('p', { class: 'notice' }, t('signin.ended')));
  const waiting = await pendingFromBefore();
  if (waiting) notes.push(h('p', { class: 'notice' }, t('signin.waiting')));

  const form = checkedForm({
    errors,
    onSubmit: async () => {
      if (!email.value.trim() || !password.value) {
        showFieldErrors({ email, password }, {
          email: email.value.trim() ? null : [t('signin.needEmail')],
          password: password.value ? null : [t('signin.needPassword')],
        });
        errors.show(t('signin.fillBoth'));
        return;
      }
      showFieldErrors({ email, password }, {});
      busy(submit, true, t('signin.busy'));
      try {
        await signIn(email.value.trim(), password.value, afterSignIn);
        go('today');
      } catch (error) {
        busy(submit, false, t('signin.submit'));
        errors.show(error.isNetwork ? t('signin.offline') : messageFor(error));
      }
    },
  },
  errors.el,
  field({ label: t('signin.email'), input: email }),
  field({ label: t('signin.password'), input: password }),
  showPasswordToggle(password),
  submit);

  return h('section', { class: 'stack' },
    heading(t('signin.title')),
    h('p', { class: 'lead' }, t('signin.intro')),
    notes,
    form,
    h('h2', {}, t('signin.newTitle')),
    h('p', {}, t('signin.newIntro')),
    h('p', {}, h('a', { href: '#/activate', class: 'button' }, t('signin.haveCode'))),
    h('h2', {}, t('signin.forgotTitle')),
    h('p', {}, h('a', { href: '#/reset', class: 'button' }, t('signin.haveResetCode'))));
}

async function pendingFromBefore() {
  try {
    const { kv } = await import('../db.js');
    const saved = await kv.get('session');
    if (!saved) return false;
    const { entries } = await import('../outbox.js');
    return (await entries(saved.user.id)).some((e) => e.state === 'pending');
  } catch {
    return false;
  }
}

export async function renderActivate({ go, afterSignIn }) {
  const code = codeInput();
  const email = emailInput();
  const password = passwordInput('new-password');
  const name = h('input', { type: 'text', name: 'display_name', autocomplete: 'name', required: true });
  const inputs = { code, email, password, display_name: name };
  async function send() {
    await api('POST', '/api/activate', {
      body: {
        code: code.value.trim(),
        email: email.value.trim(),
        password: password.value,
        display_name: name.value.trim(),
      },
    });
    try {
      await signIn(email.value.trim(), password.value, afterSignIn);
    } catch (error) {
      // nothing was made: the email has an account with another password
      if (error.status === 401) throw { status: 401, message: t('activate.emailInUse') };
      throw error;
    }
    // an existing caregiver signed in: accept the invite from their account
    if (state.user && state.user.role === 'caregiver') {
      await api('POST', '/api/caregiver-invites/accept', { body: { code: code.value.trim() } }).catch(() => null);
      await afterSignIn();
    }
  }
  const words = {
    title: t('activate.title'),
    intro: t('activate.intro'),
    submit: t('activate.submit'),
    busy: t('activate.busy'),
    offline: t('activate.offline'),
  };
  return codeScreen({ inputs, words, send, go },
    field({ label: t('activate.code'), input: code, hint: t('activate.codeHint') }),
    field({ label: t('activate.name'), input: name, hint: t('activate.nameHint') }),
    field({ label: t('activate.email'), input: email }),
    field({ label: t('activate.password'), input: password, hint: t('activate.passwordHint') }));
}
