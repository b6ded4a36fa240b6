// Clinic settings: the monitoring profile, the escalation windows of the re-notification ladder,
// the on-call contact, the webhook, the email recipients, which red flags linked caregivers are
// told about, and the clinic's time zone. Everyone in the care team can read them and turn on
// notifications on their computer; a clinician changes who is told (email recipients, on-call:
// alerts.js); only an administrator changes the rest (a clinician reads it as a list).

import { h, uid } from '/static/js/dom.js';
import { has, t, tn } from './i18n.js';
import { accountBlock } from './people.js';
import { call, session, signOut } from './session.js';
import { contactFields, contactsForm, deviceCard } from './alerts.js';
import { errorBox, failureText, field, ruleTitle, sendingForm } from './ui.js';

const WINDOWS = [
  { key: 'emergency', max: 240 },
  { key: 'urgent', max: 24 * 60 },
  { key: 'routine', max: 7 * 24 * 60, optional: true },
];

function profileName(name) {
  return has(`settings.profile.${name}`) ? t(`settings.profile.${name}`) : name;
}

/** The rules a caregiver can be told about: the catalogue's, then any the clinic already has. */
async function ruleChoices(current) {
  const titles = new Map();
  try {
    const catalogue = await call('GET', '/api/catalogue');
    for (const [rule, advice] of Object.entries(catalogue.advice || {})) {
      titles.set(rule, (advice && advice.title) || ruleTitle(rule));
    }
  } catch {
    // the list still shows the clinic's current rules
  }
  for (const rule of current) if (!titles.has(rule)) titles.set(rule, ruleTitle(rule));
  return [...titles.entries()].map(([rule, title]) => ({ rule, title }))
    .sort((a, b) => a.title.localeCompare(b.title));
}

function minutesText(value) {
  return value === null || value === undefined ? t('settings.window.nextWorkingDay') : tn('settings.minutes', value);
}

function orNone(value) {
  return value === null || value === undefined || value === '' ? t('settings.notSet') : String(value);
}

// --- read-only: a description list per group --------------------------------------------------

function readOnlyView(settings, choices) {
  const titles = new Map(choices.map((c) => [c.rule, c.title]));
  const onCall = settings.on_call || {};
  const windows = settings.escalation_windows_minutes || {};
  const group = (title, rows) => h('section', { class: 'card stack', 'aria-labelledby': `ro-${title}` },
    h('h2', { id: `ro-${title}` }, t(`settings.group.${title}`)),
    h('dl', { class: 'settings-list' }, rows.flatMap(([label, value]) => [h('dt', {}, label), h('dd', {}, value)])));
  return h('div', { class: 'stack' },
    group('profile', [[t('settings.profile'), profileName(settings.monitoring_profile)], [t('settings.timezone'), settings.timezone]]),
    group('windows', WINDOWS.map(({ key }) => [t(`settings.window.${key}`), minutesText(windows[key])])),
    group('patientContact', [
      [t('settings.patientContact.phone'), orNone((settings.patient_contact || {}).phone)],
      [t('settings.patientContact.hours'), orNone((settings.patient_contact || {}).hours)],
    ]),
    group('onCall', [
      [t('settings.onCall.name'), orNone(onCall.name)],
      [t('settings.onCall.email'), orNone(onCall.email)],
      [t('settings.onCall.phone'), orNone(onCall.phone)],
    ]),
    group('delivery', [
      [t('settings.webhookUrl'), orNone(settings.webhook_url)],
      [t('settings.webhookSecret'), settings.webhook_secret_set ? t('settings.secretSet') : t('settings.secretNotSet')],
      [t('settings.emails'), settings.email_recipients.length
        ? h('ul', { class: 'plain' }, settings.email_recipients.map((e) => h('li', {}, e))) : t('settings.notSet')],
    ]),
    group('caregivers', [[t('settings.caregiverRules'), settings.caregiver_rules.length
      ? h('ul', {}, settings.caregiver_rules.map((r) => h('li', {}, titles.get(r) || ruleTitle(r)))) : t('settings.caregiverNone')]]));
}

// --- the administrator's form -------------------------------------------------------------------

function editForm(initial, choices) {
  const errors = errorBox();
  const saved = h('p', { class: 'saved-line', role: 'status' });
  const zoneList = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  const zones = zoneList.includes(initial.timezone) ? zoneList : [initial.timezone, ...zoneList];

  const profile = field(t('settings.profile'), h('select', { name: 'monitoring_profile' },
    initial.available_profiles.map((p) => h('option', { value: p, selected: p === initial.monitoring_profile }, profileName(p)))),
  { hint: t('settings.profileHint'), name: 'monitoring_profile' });
  const timezone = field(t('settings.timezone'), h('select', { name: 'timezone' },
    zones.map((z) => h('option', { value: z, selected: z === initial.timezone }, z))),
  { hint: t('settings.timezoneHint'), name: 'timezone' });

  const windows = {};
  for (const { key, max, optional } of WINDOWS) {
    const value = initial.escalation_windows_minutes[key];
    windows[key] = field(t(`settings.window.${key}`), h('input', {
      type: 'number', name: `window-${key}`, min: 1, max, step: 1, inputmode: 'numeric', autocomplete: 'off',
      value: value === null || value === undefined ? '' : String(value),
    }), { hint: t(optional ? 'settings.window.routineHint' : 'settings.window.hint', { max }), name: `escalation_windows_minutes.${key}` });
  }

  const contacts = contactFields(initial); // who is told: the same fields as a clinician's form
  const { onCall, emails } = contacts;

  // the number and hours patients see beside the emergency button ("Call my care team")
  const contactInitial = initial.patient_contact || {};
  const contact = {
    phone: field(t('settings.patientContact.phone'), h('input', { type: 'tel', name: 'patient_contact_phone', maxlength: 40, autocomplete: 'off', value: contactInitial.phone || '' }),
      { hint: t('settings.patientContact.phoneHint'), name: 'patient_contact.phone' }),
    hours: field(t('settings.patientContact.hours'), h('input', { type: 'text', name: 'patient_contact_hours', maxlength: 120, autocomplete: 'off', value: contactInitial.hours || '' }),
      { hint: t('settings.patientContact.hoursHint'), name: 'patient_contact.hours' }),
  };

  const secretState = h('span', {});
  const setSecretState = (isSet) => { secretState.textContent = isSet ? t('settings.secretSet') : t('settings.secretNotSet'); };
  setSecretState(initial.webhook_secret_set);
  const webhookUrl = field(t('settings.webhookUrl'), h('input', { type: 'url', name: 'webhook_url', maxlength: 2000, autocomplete: 'off', value: initial.webhook_url || '' }),
    { hint: t('settings.webhookUrlHint'), name: 'webhook_url' });
  const webhookSecret = field(t('settings.webhookSecret'), h('input', { type: 'password', name: 'webhook_secret', maxlength: 200, autocomplete: 'new-password' }),
    { hint: t('settings.webhookSecretHint'), name: 'webhook_secret' });

  // the caregiver rules: a group of checkboxes with one error line for the group
  const ruleErrorId = uid('err');
  const ruleError = h('p', { id: ruleErrorId, class: 'field-error', hidden: true });
  const ruleBoxes = choices.map(({ rule, title }) => {
    const id = uid('rule');
    const box = h('input', { type: 'checkbox', id, name: 'caregiver_rules', value: rule, checked: initial.caregiver_rules.includes(rule) });
    return { rule, box, el: h('div', { class: 'check' }, box, h('label', { for: id }, title)) };
  });
  const ruleHintId = uid('hint');
  const rulesGroup = h('fieldset', { class: 'stack rule-choices', 'aria-describedby': `${ruleHintId} ${ruleErrorId}` },
    h('legend', {}, t('settings.caregiverRules')),
    h('p', { id: ruleHintId, class: 'hint' }, t('settings.caregiverRulesHint')),
    ruleError,
    h('div', { class: 'rule-grid' }, ruleBoxes.map((r) => r.el)));
  const rules = {
    el: rulesGroup,
    input: ruleBoxes.length ? ruleBoxes[0].box : rulesGroup,
    setError(text) {
      ruleError.textContent = text || '';
      ruleError.hidden = !text;
      for (const { box } of ruleBoxes) {
        if (text) box.setAttribute('aria-invalid', 'true'); else box.removeAttribute('aria-invalid');
      }
    },
  };

  // the server names nested fields "escalation_windows_minutes.urgent", "on_call.email" and
  // list items "email_recipients[2]": each finds its field here
  const byName = {
    monitoring_profile: profile,
    timezone,
    webhook_url: webhookUrl,
    webhook_secret: webhookSecret,
    email_recipients: emails,
    caregiver_rules: rules,
    on_call: onCall.name,
  };
  for (const key of Object.keys(windows)) byName[`escalation_windows_minutes.${key}`] = windows[key];
  byName.escalation_windows_minutes = windows.emergency;
  for (const key of Object.keys(onCall)) byName[`on_call.${key}`] = onCall[key];
  for (const key of Object.keys(contact)) byName[`patient_contact.${key}`] = contact[key];
  byName.patient_contact = contact.phone;
  const all = [profile, timezone, ...Object.values(windows), ...Object.values(onCall), ...Object.values(contact), webhookUrl, webhookSecret, emails, rules];

  // the clinic's order is kept: the rules it had that are still ticked, then the newly ticked
  let savedRules = [...initial.caregiver_rules];
  function chosenRules() {
    const ticked = ruleBoxes.filter((r) => r.box.checked).map((r) => r.rule);
    return [...savedRules.filter((r) => ticked.includes(r)), ...ticked.filter((r) => !savedRules.includes(r))];
  }

  const emailList = contacts.emailList;

  function showFieldErrors(fields) {
    const messages = new Map();
    const unplaced = [];
    for (const [name, list] of Object.entries(fields || {})) {
      const match = /^([\w.]+?)(?:\[(\d+)\])?(?:\.(\w+))?$/.exec(name);
      const base = match ? match[1] : name;
      const target = byName[name] || byName[base];
      let text = list.join(' ');
      if (match && match[2] !== undefined && base === 'email_recipients') {
        text = t('settings.emailLine', { line: Number(match[2]) + 1, address: emailList()[Number(match[2])] || '', message: text });
      } else if (match && match[2] !== undefined && base === 'caregiver_rules') {
        text = t('settings.ruleProblem', { message: text });
      }
      if (!target) { unplaced.push(`${name}: ${text}`); continue; }
      messages.set(target, [...(messages.get(target) || []), text]);
    }
    for (const [target, texts] of messages) target.setError(texts.join(' '));
    return { unplaced };
  }

  /** The request body from the form, or null when a window is not a whole number. */
  function collect() {
    let ok = true;
    const minutes = {};
    for (const { key, optional } of WINDOWS) {
      const raw = windows[key].input.value.trim();
      if (!raw && optional) { minutes[key] = null; continue; }
      if (!/^\d+$/.test(raw)) {
        windows[key].setError(t(optional ? 'settings.window.wholeOrEmpty' : 'settings.window.whole'));
        ok = false;
        continue;
      }
      minutes[key] = Number(raw);
    }
    const secret = webhookSecret.input.value;
    if (secret && secret.length < 16) {
      webhookSecret.setError(t('settings.secretShort'));
      ok = false;
    }
    if (!ok) return null;
    const body = {
      monitoring_profile: profile.input.value,
      timezone: timezone.input.value,
      escalation_windows_minutes: minutes,
      ...contacts.body(),
      webhook_url: webhookUrl.input.value.trim() || null,
      caregiver_rules: chosenRules(),
      patient_contact: {
        phone: contact.phone.input.value.trim() || null,
        hours: contact.hours.input.value.trim() || null,
      },
    };
    if (secret) body.webhook_secret = secret;
    return body;
  }

  const submit = h('button', { type: 'submit', class: 'button primary' }, t('settings.save'));
  const form = sendingForm({
    class: 'stack settings-form', errors, button: submit, fields: all,
    read: () => {
      saved.textContent = '';
      const body = collect();
      if (body) return body;
      errors.show(t('error.fixFields'));
      const first = form.querySelector('[aria-invalid="true"]');
      if (first) first.focus();
      return null;
    },
    work: async (body) => {
      const answer = await call('PUT', '/api/clinic/settings', { body });
      webhookSecret.input.value = '';
      setSecretState(answer.webhook_secret_set);
      const w = answer.escalation_windows_minutes || {};
      for (const { key } of WINDOWS) windows[key].input.value = w[key] === null || w[key] === undefined ? '' : String(w[key]);
      emails.input.value = (answer.email_recipients || []).join('\n');
      savedRules = [...(answer.caregiver_rules || [])];
      saved.textContent = t('settings.saved');
    },
    failed: (error) => {
      if (error.fields) {
        const { unplaced } = showFieldErrors(error.fields);
        errors.show(unplaced.length ? `${t('error.fixFields')} ${unplaced.join(' ')}` : t('error.fixFields'));
        const first = form.querySelector('[aria-invalid="true"]');
        if (first) first.focus();
      } else {
        errors.show(failureText(error));
      }
    },
  },
  errors.el,
  h('fieldset', { class: 'card stack' }, h('legend', {}, t('settings.group.profile')), profile.el, timezone.el),
  h('fieldset', { class: 'card stack' }, h('legend', {}, t('settings.group.windows')),
    h('p', { class: 'hint' }, t('settings.windowsIntro')),
    h('div', { class: 'field-row' }, Object.values(windows).map((f) => f.el))),
  h('fieldset', { class: 'card stack' }, h('legend', {}, t('settings.group.patientContact')),
    h('p', { class: 'hint' }, t('settings.patientContactIntro')),
    h('div', { class: 'field-row' }, Object.values(contact).map((f) => f.el))),
  h('fieldset', { class: 'card stack' }, h('legend', {}, t('settings.group.onCall')),
    h('p', { class: 'hint' }, t('settings.onCallIntro')),
    h('div', { class: 'field-row' }, Object.values(onCall).map((f) => f.el))),
  h('fieldset', { class: 'card stack' }, h('legend', {}, t('settings.group.delivery')),
    webhookUrl.el,
    h('p', {}, `${t('settings.webhookSecret')}: `, secretState),
    webhookSecret.el, emails.el),
  h('div', { class: 'card stack' }, rulesGroup),
  h('div', { class: 'button-row' }, submit, saved));
  return form;
}

export async function render() {
  const settings = await call('GET', '/api/clinic/settings');
  const choices = await ruleChoices(settings.caregiver_rules || []);
  const isAdmin = Boolean(session.user && session.user.role === 'admin');
  // every clinician: notifications on this computer, and who is told (alerts.js)
  let readOnly = isAdmin ? null : readOnlyView(settings, choices);
  const contacts = isAdmin ? null : contactsForm(settings, (answer) => {
    const next = readOnlyView(answer, choices);
    readOnly.replaceWith(next);
    readOnly = next;
  });
  return h('section', { class: 'stack wide settings-page' },
    h('h1', { tabindex: '-1' }, t('settings.title')),
    h('p', {}, t('settings.intro', { name: settings.name })),
    deviceCard(),
    contacts,
    isAdmin ? null : h('p', { class: 'notice read-only-note' }, t('settings.readOnly')),
    isAdmin ? editForm(settings, choices) : readOnly,
    h('section', { class: 'stack', 'aria-labelledby': 'account-title' },
      h('h2', { id: 'account-title' }, t('account.title')),
      accountBlock({ onSignedOut: async () => { await signOut(); location.hash = '#/signin'; } })));
}
