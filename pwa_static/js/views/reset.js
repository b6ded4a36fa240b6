// Setting a new password with the one-time reset code the care team gives (patients may have no
// email). Its own module: most people never open it, so the first load does not carry it.

import { api } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { field, heading } from '../ui.js';
import { codeForm, codeInput, emailInput, passwordInput, signIn } from './signin.js';

export async function renderReset({ go, afterSignIn }) {
  const email = emailInput();
  const code = codeInput();
  const password = passwordInput('new-password');
  const inputs = { email, code, password };
  async function send() {
    await api('POST', '/api/password-reset', {
      body: { email: email.value.trim(), code: code.value.trim(), password: password.value },
    });
    await signIn(email.value.trim(), password.value, afterSignIn);
  }
  const words = { submit: t('reset.submit'), busy: t('reset.busy'), offline: t('reset.offline') };
  const form = codeForm({ inputs, words, send, go },
    field({ label: t('activate.email'), input: email }),
    field({ label: t('reset.code'), input: code }),
    field({ label: t('reset.password'), input: password, hint: t('activate.passwordHint') }));
  return h('section', { class: 'stack' },
    h('p', { class: 'back' }, h('a', { href: '#/signin' }, t('activate.back'))),
    heading(t('reset.title')),
    h('p', { class: 'lead' }, t('reset.intro')),
    form);
}
