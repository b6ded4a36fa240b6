// The clinic settings' cards that every clinician uses: notifications on this computer (Web Push
// through the same client and service worker as the patient app: /static/js/push.js, /sw.js),
// the sound for a new emergency (live.js), and who is told about escalations (the email
// recipients and the on-call contact, PUT /api/clinic/alert-contacts).

import * as push from '/static/js/push.js';
import { h, uid } from '/static/js/dom.js';
import { t } from './i18n.js';
import { setSound, soundOn } from './live.js';
import { call } from './session.js';
import { errorBox, failureText, field, sendingForm } from './ui.js';

/** The shared service worker (scope "/"): it shows escalation pushes and opens /care/ on a tap. */
async function worker() {
  if (!('serviceWorker' in navigator)) return null;
  return navigator.serviceWorker.register('/sw.js', { scope: '/' });
}

async function currentState() {
  if (!('serviceWorker' in navigator) || !('PushManager' in window)) return push.state();
  const registration = await navigator.serviceWorker.getRegistration('/');
  if (!registration) return Notification.permission === 'denied' ? 'denied' : 'off';
  return push.state();
}

export function deviceCard() {
  const stateLine = h('p', { class: 'push-state', role: 'status' });
  const errors = errorBox();
  const button = h('button', { type: 'button', class: 'button primary', hidden: true });
  let state = 'off';

  function draw(next) {
    state = next;
    stateLine.textContent = t(`alerts.state.${state}`);
    button.hidden = state === 'unsupported' || state === 'needs-install';
    button.textContent = t(state === 'on' ? 'alerts.turnOff' : state === 'denied' ? 'alerts.checkAgain' : 'alerts.turnOn');
  }

  button.addEventListener('click', async () => {
    errors.hide();
    button.disabled = true;
    try {
      if (state === 'on') draw(await push.turnOff());
      else if (state === 'denied') draw(await currentState());
      else {
        await worker();
        draw(await push.turnOn());
      }
    } catch (error) {
      errors.show(t('alerts.failed', { message: (error && error.message) || String(error) }));
    } finally {
      button.disabled = false;
    }
  });
  currentState().then(draw, () => draw('unsupported'));

  const soundId = uid('sound');
  const hintId = uid('hint');
  const sound = h('input', {
    type: 'checkbox', id: soundId, name: 'alert_sound', checked: soundOn(), 'aria-describedby': hintId,
    onchange: () => setSound(sound.checked),
  });
  return h('section', { class: 'card stack', 'aria-labelledby': 'h-alerts' },
    h('h2', { id: 'h-alerts' }, t('alerts.title')),
    h('p', {}, t('alerts.intro')),
    stateLine, errors.el, h('div', {}, button),
    h('div', { class: 'choice-line' }, sound, h('label', { for: soundId }, t('alerts.sound'))),
    h('p', { id: hintId, class: 'hint' }, t('alerts.soundHint')));
}

/** The on-call contact's fields and the email recipients, with the request body they make:
 * {onCall: {name, email, phone}, emails, emailList(), body()} (also in the admin's form). */
export function contactFields(initial) {
  const onCallInitial = initial.on_call || {};
  const onCall = {
    name: field(t('settings.onCall.name'), h('input', { type: 'text', name: 'on_call_name', maxlength: 120, autocomplete: 'off', value: onCallInitial.name || '' }), { name: 'on_call.name' }),
    email: field(t('settings.onCall.email'), h('input', { type: 'email', name: 'on_call_email', maxlength: 254, autocomplete: 'off', value: onCallInitial.email || '' }), { name: 'on_call.email' }),
    phone: field(t('settings.onCall.phone'), h('input', { type: 'tel', name: 'on_call_phone', maxlength: 40, autocomplete: 'off', value: onCallInitial.phone || '' }), { hint: t('settings.onCall.phoneHint'), name: 'on_call.phone' }),
  };
  const emails = field(t('settings.emails'), h('textarea', { name: 'email_recipients', rows: 4, autocomplete: 'off' }),
    { hint: t('settings.emailsHint'), name: 'email_recipients' });
  emails.input.value = (initial.email_recipients || []).join('\n');
  const emailList = () => emails.input.value.split(/[\n,;]+/).map((e) => e.trim()).filter(Boolean);
  function body() {
    const onCallBody = {
      name: onCall.name.input.value.trim(),
      email: onCall.email.input.value.trim() || null,
      phone: onCall.phone.input.value.trim() || null,
    };
    if (onCallInitial.user_id !== undefined && onCallInitial.user_id !== null) onCallBody.user_id = onCallInitial.user_id;
    return { on_call: onCallBody, email_recipients: emailList() };
  }
  return { onCall, emails, emailList, body };
}

/** Email recipients and the on-call contact, for any clinician (an admin has them in the full form). */
export function contactsForm(initial, onSaved) {
  const errors = errorBox();
  const saved = h('p', { class: 'saved-line', role: 'status' });
  const contacts = contactFields(initial);
  const { name, email, phone } = contacts.onCall;
  const { emails } = contacts;
  const byName = { 'on_call.name': name, 'on_call.email': email, 'on_call.phone': phone, on_call: name, email_recipients: emails };
  const all = [name, email, phone, emails];
  const list = contacts.emailList;
  const submit = h('button', { type: 'submit', class: 'button primary' }, t('contacts.save'));
  const form = sendingForm({
    class: 'stack', errors, button: submit, fields: all,
    work: async () => {
      saved.textContent = '';
      const answer = await call('PUT', '/api/clinic/alert-contacts', { body: contacts.body() });
      emails.input.value = (answer.email_recipients || []).join('\n');
      saved.textContent = t('contacts.saved');
      if (onSaved) onSaved(answer);
    },
    failed: (error) => {
      errors.show(failureText(error));
      const addresses = list();
      const texts = new Map();
      for (const [key, messages] of Object.entries(error.fields || {})) {
        const match = /^([\w.]+?)(?:\[(\d+)\])?$/.exec(key);
        const target = byName[key] || byName[match ? match[1] : key];
        if (!target) continue;
        const text = match && match[2] !== undefined
          ? t('settings.emailLine', { line: Number(match[2]) + 1, address: addresses[Number(match[2])] || '', message: messages.join(' ') })
          : messages.join(' ');
        texts.set(target, [...(texts.get(target) || []), text]);
      }
      for (const [target, lines] of texts) target.setError(lines.join(' '));
      const first = form.querySelector('[aria-invalid="true"]');
      if (first) first.focus();
    },
  }, errors.el, h('div', { class: 'field-row' }, name.el, email.el, phone.el), emails.el, h('div', { class: 'button-row' }, submit, saved));
  return h('section', { class: 'card stack', 'aria-labelledby': 'h-contacts' },
    h('h2', { id: 'h-contacts' }, t('contacts.title')),
    h('p', {}, t('contacts.intro')),
    form);
}
