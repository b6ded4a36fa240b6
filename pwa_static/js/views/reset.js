// Setting a new password with the one-time reset code the care team gives (patients may have no
// email). Its own module: most people never open it, so the first load does not carry it.

import { api } from '../api.js';
import { t } from '../i18n.js';
import { field } from '../ui.js';
import { codeInput, codeScreen, emailInput, passwordInput, signIn } from './signin.js';

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
  const words = {
    title: t('reset.title'),
    intro: t('reset.intro'),
    submit: t('reset.submit'),
    busy: t('reset.busy'),
    offline: t('reset.offline'),
  };
  return codeScreen({ inputs, words, send, go },
    field({ label: t('activate.email'), input: email }),
    field({ label: t('reset.code'), input: code }),
    field({ label: t('reset.password'), input: password, hint: t('activate.passwordHint') }));
}
