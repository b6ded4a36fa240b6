// The signed-in clinician, and signing in again without losing the page when the session ends
// (clinicians are signed out after 30 idle minutes): the sign-in opens in a dialog over the
// screen, and the request that failed is sent again.

import { api, ApiError, setCsrf } from '/static/js/api.js';
import { h, uid } from '/static/js/dom.js';
import { t } from './i18n.js';
import { errorBox, sendingForm } from './ui.js';

export const session = { user: null };
const CARE_ROLES = new Set(['clinician', 'admin']);
let pending = null; // the open re-sign-in dialog's promise

export async function restore() {
  try {
    const me = await api('GET', '/api/me');
    if (me && me.user && CARE_ROLES.has(me.user.role)) {
      session.user = me.user;
      setCsrf(me.csrf_token);
    }
  } catch (error) {
    if (!(error instanceof ApiError) || !error.needsSignIn) throw error;
  }
  return session.user;
}

/** Sign in; resolves to the user, or throws an ApiError (code `not_care_team` for a patient). */
export async function signIn(email, password) {
  const answer = await api('POST', '/api/session', { body: { email, password } });
  if (!CARE_ROLES.has(answer.user.role)) {
    setCsrf(answer.csrf_token);
    await api('DELETE', '/api/session').catch(() => {});
    setCsrf(null);
    throw new ApiError(403, 'not_care_team', t('signin.notCareTeam'));
  }
  session.user = answer.user;
  setCsrf(answer.csrf_token);
  return answer.user;
}

export async function signOut() {
  await api('DELETE', '/api/session').catch(() => {});
  session.user = null;
  setCsrf(null);
}

/** The sign-in form's fields: used by the sign-in screen and the re-sign-in dialog. */
export function signInForm({ onDone, email = '' }) {
  const emailId = uid('email');
  const passwordId = uid('password');
  const errors = errorBox();
  const emailInput = h('input', { id: emailId, type: 'email', name: 'email', autocomplete: 'username', required: true, value: email });
  const passwordInput = h('input', { id: passwordId, type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const button = h('button', { type: 'submit', class: 'button primary' }, t('signin.submit'));
  const form = sendingForm({
    class: 'stack signin-form',
    errors,
    button,
    work: async () => {
      await signIn(emailInput.value.trim(), passwordInput.value);
      passwordInput.value = '';
      await onDone(session.user);
    },
    failed: (failure) => errors.show(failure.code === 'not_care_team' ? t('signin.notCareTeam')
      : failure.status === 401 || failure.status === 422 || failure.status === 400 ? t('signin.wrong')
        : failure.isNetwork ? t('error.network') : t('error.generic', { message: failure.message })),
  },
  errors.el,
  h('div', { class: 'field' }, h('label', { for: emailId }, t('signin.email')), emailInput),
  h('div', { class: 'field' }, h('label', { for: passwordId }, t('signin.password')), passwordInput),
  h('div', {}, button));
  return form;
}

/** Ask for the password again in a modal dialog; resolves true once signed in. */
export function reauthenticate() {
  if (pending) return pending;
  pending = new Promise((resolve) => {
    const titleId = uid('reauth-title');
    const dialog = h('dialog', { class: 'reauth', 'aria-labelledby': titleId });
    const close = (ok) => {
      dialog.close();
      dialog.remove();
      pending = null;
      resolve(ok);
    };
    dialog.addEventListener('cancel', (event) => { event.preventDefault(); close(false); });
    dialog.append(
      h('h2', { id: titleId }, t('signin.expiredTitle')),
      h('p', {}, t('signin.expired')),
      signInForm({ email: session.user ? session.user.email : '', onDone: () => close(true) }),
      h('button', { type: 'button', class: 'button', onclick: () => close(false) }, t('signin.cancel')),
    );
    document.body.append(dialog);
    dialog.showModal();
  });
  return pending;
}

/** Call the API; when the session has ended, sign in again in the dialog and send it once more. */
export async function call(method, path, options) {
  try {
    return await api(method, path, options);
  } catch (error) {
    if (error instanceof ApiError && error.needsSignIn && session.user) {
      if (await reauthenticate()) return api(method, path, options);
    }
    throw error;
  }
}
