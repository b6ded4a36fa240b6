// Setting a new password with the one-time reset code the care team gives (patients may have no
// email). Its own module: most people never open it, so the first load does not carry it.

import { api } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { errorBox, field, heading, messageFor, showFieldErrors } from '../ui.js';
import { allFilled, busy, codeInput, emailInput, passwordInput, showPasswordToggle, signIn } from './signin.js';

export async function renderReset({ go, afterSignIn }) {
  const email = emailInput();
  const code = codeInput();
  const password = passwordInput('new-password');
  const inputs = { email, code, password };
  const errors = errorBox();
  const submit = h('button', { type: 'submit', class: 'button primary' }, t('reset.submit'));
  const form = h('form', {
    novalidate: true,
    onsubmit: async (event) => {
      event.preventDefault();
      errors.clear();
      if (!allFilled(inputs, errors)) return;
      busy(submit, true, t('reset.busy'));
      try {
        await api('POST', '/api/password-reset', {
          body: { email: email.value.trim(), code: code.value.trim(), password: password.value },
        });
        await signIn(email.value.trim(), password.value, afterSignIn);
        go('today');
      } catch (error) {
        busy(submit, false, t('reset.submit'));
        showFieldErrors(inputs, error.fields || {});
        errors.show(error.isNetwork ? t('reset.offline') : messageFor(error));
      }
    },
  },
  errors.el,
  field({ label: t('activate.email'), input: email }),
  field({ label: t('reset.code'), input: code }),
  field({ label: t('reset.password'), input: password, hint: t('activate.passwordHint') }),
  showPasswordToggle(password),
  submit);
  return h('section', { class: 'stack' },
    h('p', { class: 'back' }, h('a', { href: '#/signin' }, t('activate.back'))),
    heading(t('reset.title')),
    h('p', { class: 'lead' }, t('reset.intro')),
    form);
}
