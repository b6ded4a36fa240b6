// Today: while the care team has paused clozapine, what to do instead comes first (and no dose is
// offered as "Taken"); then today's doses, the next one marked, with its tablets and a big
// "Taken" only while the server would accept it; open red flags one line each (opened to read
// the advice); "Call my care team" beside the emergency button; the two logging buttons, what
// is saved on this phone but not sent yet, and the next blood test. This is the only drawing of
// Today: a signed-in page carries the answers it starts from (server/web.py, store.js's boot),
// so it is drawn as soon as its code is in, without waiting for the API.

import { severityOrder } from '../clinical.js';
import { afterFirstScreen, h, uid } from '../dom.js';
import { formatDate, formatDateTime, formatNumber, formatTime, isoDate, t, tn } from '../i18n.js';
import * as outbox from '../outbox.js';
import { api } from '../api.js';
import { databaseHeld } from '../db.js';
import {
  cachedGet, currentPatient, isCaregiver, medicinesRequest, rememberName, saveSettings, settings, state,
  todayRequests,
} from '../store.js';
import { callButton, describeEntry, heading, isInstalled, isIos, messageFor } from '../ui.js';
import { contactSection, say, tabletsLine } from '../parts.js';

const SKIP_REASONS = ['unwell', 'ranOut', 'told', 'other'];
const SNOOZE_MINUTES = [10, 30, 60];
const DAY_MS = 24 * 60 * 60 * 1000;
// the code the server reads (ran_out tells the care team: server/domain/supply.py)
const REASON_CODES = { unwell: 'unwell', ranOut: 'ran_out', told: 'told', other: 'other' };
// the other medicines' part and "I have run out": their code comes once Today is on the screen
const medicines = () => import('./medicines.js');

function nowIso() {
  return new Date().toISOString();
}

/**
 * Open red flags, one line each (what, since when, and "Seen by your team" once a clinician
 * has acknowledged it), opened to read the advice; the most severe first.
 */
function redFlags(summary, tz) {
  const flags = [...((summary && summary.open_red_flags) || [])]
    .sort((a, b) => severityOrder(a.severity) - severityOrder(b.severity));
  if (!flags.length) return null;
  return h('section', { class: 'stack flags', 'aria-labelledby': 'flags-title' },
    h('h2', { id: 'flags-title' }, t('today.flagsTitle')),
    h('ul', { class: 'plain flag-list' }, flags.map((flag) => h('li', {},
      h('details', { class: `flag severity-${flag.severity || 'routine'}` },
        h('summary', {},
          h('span', { class: 'flag-mark', 'aria-hidden': 'true' }, '!'), ' ',
          h('span', { class: 'flag-title' }, flag.title || t('today.flagUntitled')),
          flag.opened_at ? h('span', { class: 'flag-when' }, ` · ${t('flag.since', { date: formatDate(isoDate(new Date(flag.opened_at), tz), 'short') })}`) : null,
          flag.status === 'acknowledged' ? h('span', { class: 'flag-seen' }, ` · ${t('flag.seen')}`) : null),
        h('div', { class: 'stack flag-body' },
          h('p', { class: 'severity' }, t(`severity.${flag.severity || 'routine'}`)),
          h('p', {}, (isCaregiver() && flag.caregiver_advice) || flag.advice || ''),
          flag.call_now ? callButton() : null))))));
}

/**
 * RULES.md 6: while the treatment course withholds doses (interrupted, held, needs
 * re-titration, stopped), a card that says what to do instead. The words are the care team's
 * (content/treatment.toml through the API): the patient's own, or the helper's for a caregiver;
 * a planned restart's date is shown in the phone's own format.
 */
function treatmentCard(summary) {
  const advice = summary && summary.treatment_advice;
  const restart = summary && summary.status ? summary.status.restart_on : null;
  let text = advice ? (isCaregiver() ? advice.caregiver : advice.patient) : t('treatment.fallback');
  if (advice && restart) text = text.split(restart).join(formatDate(restart));
  return h('section', { class: 'card stack treatment-card', 'aria-labelledby': 'treatment-title' },
    h('h2', { id: 'treatment-title' },
      h('span', { class: 'flag-mark', 'aria-hidden': 'true' }, '!'), ' ', advice ? advice.title : t('treatment.fallbackTitle')),
    h('p', { class: 'lead' }, text));
}

/** Whether the course withholds today's doses, by either answer (the safe side when they differ). */
function dosesWithheld(summary, doses) {
  return Boolean((summary && summary.status && summary.status.doses_withheld) || (doses && doses.doses_withheld));
}

function bloodTest(summary) {
  const next = summary && summary.next_blood_test;
  const section = h('section', { class: 'card stack', 'aria-labelledby': 'blood-title' },
    h('h2', { id: 'blood-title' }, t('today.bloodTitle')));
  if (!next || !next.due_date) {
    section.append(h('p', {}, t('today.bloodNone')));
  } else {
    const days = Number(next.days_away);
    let when;
    if (next.status === 'overdue' || days < 0) when = tn('today.bloodOverdue', Math.abs(days || 0));
    else if (days === 0) when = t('today.bloodToday');
    else if (days === 1) when = t('today.bloodTomorrow');
    else when = tn('today.bloodInDays', days);
    section.append(
      h('p', { class: 'big' }, formatDate(next.due_date)),
      h('p', { class: next.status === 'overdue' ? 'strong-note' : '' }, when),
    );
    if (next.status === 'overdue') section.append(h('p', {}, say('today.bloodOverdueHelp')));
  }
  section.append(h('p', {}, h('a', { href: '#/history/blood' }, t('today.bloodLink'))));
  return section;
}

/** A dose the course withholds (or one not taken while it does): never offered as one to take. */
function isWithheldRow(dose, context) {
  return dose.status === 'withheld' || (context.withheld && dose.status !== 'taken' && dose.status !== 'skipped');
}

function doseStatusText(status, entry, tz) {
  if (entry && entry.state === 'failed') {
    return `${say(`dose.status.${status}`)} ${t('dose.notSaved', { message: messageFor(entry.error) })}`;
  }
  if (entry) {
    const done = entry.body.status === 'taken' ? t('dose.takenAt', { time: formatTime(entry.body.at, tz) }) : t('dose.skipped');
    return `${done} ${t('saved.notSent')}`;
  }
  return say(`dose.status.${status}`);
}

/** A time as the dose times are written (24-hour, the patient's zone). */
function clockTime(instant, tz) {
  return new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: tz })
    .format(new Date(instant));
}

/**
 * Whether the server would accept marking this dose now: its answer says from when until when
 * (`mark_from`, `mark_until`), read against this phone's clock so that a screen left open, or
 * drawn from the phone's copy offline, still offers only what will be accepted.
 */
function markable(dose, withheld, now = Date.now()) {
  if (withheld || !(dose.status === 'pending' || dose.status === 'missed')) return false;
  // a copy kept from before the server said (an older version of the app): as it was then
  if (!dose.mark_from || !dose.mark_until) return dose.can_mark !== false;
  return Date.parse(dose.mark_from) <= now && now <= Date.parse(dose.mark_until);
}

/** The next dose to take: the first not yet marked that can still be. */
export function nextDoseId(doses) {
  const found = (doses || []).find((d) => d.status === 'pending');
  return found ? found.id : null;
}

function doseRow(dose, entry, context) {
  const titleId = uid('dose');
  const status = h('p', { class: 'dose-status', tabindex: '-1' });
  const actions = h('div', { class: 'dose-actions' });
  // a withheld dose shows no amount: nothing on the screen reads as a dose to take
  const withheld = isWithheldRow(dose, context);
  const isNext = !withheld && dose.id === context.nextId;
  const row = h('li', { class: `dose card${withheld ? ' withheld' : ''}${isNext ? ' next' : ''}` },
    h('h3', { id: titleId },
      h('span', { class: 'dose-time' }, dose.local_time || formatTime(dose.scheduled_at, context.tz)),
      ' ',
      withheld
        ? h('span', { class: 'dose-stop' }, t('dose.doNotTake'))
        : h('span', { class: 'dose-mg' }, t('dose.mg', { mg: formatNumber(dose.mg, 2) })),
      isNext ? h('span', { class: 'dose-next' }, t('dose.next')) : null),
    withheld ? null : tabletsLine(dose),
    status,
    actions);

  let lastEntry = entry;
  let opensTimer = null;

  function show(currentEntry, message) {
    lastEntry = currentEntry;
    const waiting = currentEntry && currentEntry.state === 'pending' ? currentEntry : null;
    const paused = isWithheldRow(dose, context);
    row.dataset.status = waiting ? waiting.body.status : paused ? 'withheld' : dose.status;
    status.textContent = message || doseStatusText(paused && !currentEntry ? 'withheld' : dose.status, currentEntry, context.tz);
    const unmarked = !paused && !waiting && (dose.status === 'pending' || dose.status === 'missed');
    actions.replaceChildren();
    clearTimeout(opensTimer);
    if (!unmarked) return;
    if (!markable(dose, paused)) {
      // offered only when the server would accept it: say from when, and offer it then
      const opens = Date.parse(dose.mark_from);
      if (Date.now() < opens) {
        actions.append(h('p', { class: 'hint' }, t('dose.notYet', { time: clockTime(dose.mark_from, context.tz) })));
        if (opens - Date.now() < DAY_MS) opensTimer = setTimeout(() => { if (row.isConnected) show(lastEntry); }, opens - Date.now() + 1000);
      } else {
        actions.append(h('p', { class: 'hint' }, t('dose.tooLate')));
      }
      return;
    }
    actions.append(
      h('button', {
        type: 'button',
        class: 'button primary big',
        'aria-describedby': titleId,
        onclick: () => record('taken'),
      }, dose.status === 'missed' ? say('dose.tookLate') : t('dose.taken')),
      h('button', {
        type: 'button',
        class: 'button',
        'aria-describedby': titleId,
        onclick: () => skipForm(),
      }, t('dose.skip')),
    );
    // the reminder has come (the dose time has passed): it can be moved from here too
    if (dose.status === 'pending' && Date.parse(dose.scheduled_at) <= Date.now()) {
      actions.append(h('button', {
        type: 'button',
        class: 'button',
        'aria-describedby': titleId,
        onclick: () => snoozeChoices(),
      }, t('dose.snooze')));
    }
  }

  function snoozeChoices() {
    const legendId = uid('snooze');
    const group = h('div', { class: 'stack snooze', role: 'group', 'aria-labelledby': legendId },
      h('p', { id: legendId }, t('dose.snoozeQuestion')),
      SNOOZE_MINUTES.map((minutes) => h('button', {
        type: 'button',
        class: 'button',
        onclick: () => snooze(minutes),
      }, t(`dose.snoozeIn${minutes}`))),
      h('button', { type: 'button', class: 'button', onclick: () => { show(lastEntry); actions.querySelector('button').focus(); } }, t('action.cancel')));
    actions.replaceChildren(group);
    group.querySelector('button').focus();
  }

  async function snooze(minutes) {
    for (const button of actions.querySelectorAll('button')) button.disabled = true;
    try {
      const answer = await api('POST', `/api/patients/${context.pid}/doses/${dose.id}/snooze`, { body: { minutes } });
      show(lastEntry, t('dose.snoozed', { time: clockTime(answer.snoozed_until, context.tz) }));
    } catch (error) {
      show(lastEntry, error.isNetwork ? t('dose.snoozeOffline') : messageFor(error));
    }
    status.focus();
  }

  async function record(kind, reason, reasonCode) {
    const body = { dose_id: dose.id, status: kind, at: nowIso() };
    if (reason) body.reason = reason;
    if (reasonCode) body.reason_code = REASON_CODES[reasonCode];
    for (const button of actions.querySelectorAll('button')) button.disabled = true;
    const result = await outbox.submit({
      kind: 'dose',
      userId: state.user.id,
      patientId: context.pid,
      path: `/api/patients/${context.pid}/dose-events`,
      body,
    });
    if (result.outcome === 'sent') {
      dose.status = kind;
      show(null, kind === 'taken'
        ? (result.already ? t('dose.already') : t('dose.takenAt', { time: formatTime(body.at, context.tz) }))
        : t('dose.skipped'));
    } else if (result.outcome === 'failed' && outbox.refusedAsChangedByTeam(result.error)) {
      // the care team paused clozapine, or changed this dose, meanwhile: Today says what to do
      context.refresh();
      return;
    } else if (result.outcome === 'failed') {
      show(null, `${say(`dose.status.${dose.status}`)} ${t('dose.notSaved', { message: messageFor(result.error) })}`);
    } else {
      show({ ...result.entry, state: 'pending' });
    }
    // "I have run out": what to do now, sent or still on the phone
    if (kind === 'skipped' && reasonCode === 'ranOut') {
      const advice = await medicines().then((m) => m.ranOutAdvice(result.outcome === 'sent'), () => null);
      if (advice) row.append(advice);
    }
    status.focus();
  }

  function skipForm() {
    const name = uid('reason');
    const details = h('textarea', { id: uid('details'), rows: '2', maxlength: '500' });
    const legend = h('legend', {}, say('skip.question'));
    const form = h('form', {
      class: 'stack skip-form',
      onsubmit: (event) => {
        event.preventDefault();
        const chosen = form.querySelector(`input[name="${name}"]:checked`);
        const parts = [chosen ? t(`skip.reason.${chosen.value}`) : '', details.value.trim()].filter(Boolean);
        record('skipped', parts.join(': ') || undefined, chosen ? chosen.value : undefined);
      },
    },
    h('fieldset', {}, legend,
      SKIP_REASONS.map((reason) => {
        const id = uid('skip');
        return h('div', { class: 'choice-line' },
          h('input', { type: 'radio', name, id, value: reason }),
          h('label', { for: id }, t(`skip.reason.${reason}`)));
      })),
    h('div', { class: 'field' }, h('label', { for: details.id }, t('skip.details')), details),
    h('p', { class: 'hint' }, say('skip.warning')),
    h('button', { type: 'submit', class: 'button primary' }, t('skip.confirm')),
    h('button', {
      type: 'button',
      class: 'button',
      onclick: () => {
        show(null);
        actions.querySelector('button').focus();
      },
    }, t('action.cancel')));
    actions.replaceChildren(form);
    form.querySelector('input').focus();
  }

  function update(current) {
    if (current) {
      show(current);
    } else if (lastEntry && lastEntry.state === 'pending') {
      dose.status = lastEntry.body.status; // it was sent
      show(null);
    }
  }

  show(entry);
  return { row, update };
}

function doseSection(answer, waitingByDose, context) {
  const section = h('section', { class: 'stack', 'aria-labelledby': 'doses-title' },
    h('h2', { id: 'doses-title', tabindex: '-1' }, t('today.doses')));
  const rows = new Map();
  if (!answer) {
    section.append(h('p', {}, t('today.dosesOffline')));
  } else if (!answer.doses.length) {
    section.append(h('p', {}, t('today.dosesNone')));
  } else {
    const list = h('ul', { class: 'doses plain' });
    for (const dose of answer.doses) {
      const made = doseRow(dose, waitingByDose.get(dose.id), context);
      rows.set(dose.id, made);
      list.append(made.row);
    }
    section.append(list);
  }
  return { section, rows };
}

/**
 * Where the other medicines' part goes: its answer is read now (the page's answers are for the
 * first screen only), its code (views/medicines.js, which draws it) comes once Today is shown.
 */
function otherMedicines(context) {
  const slot = h('div', { hidden: true });
  const reading = cachedGet(...medicinesRequest(context.pid));
  reading.catch(() => {}); // the part is left out without it
  afterFirstScreen(medicines)
    .then((m) => slot.replaceWith(m.otherMedicinesSection(context, reading)))
    .catch(() => {});
  return slot;
}

function waitingSection(flushNow) {
  const section = h('section', { class: 'card stack waiting', 'aria-labelledby': 'waiting-title', hidden: true });
  async function refresh() {
    const list = await outbox.entries(state.user.id).catch(() => []);
    const mine = list.filter((entry) => entry.patientId === state.patientId);
    const pending = mine.filter((entry) => entry.state === 'pending');
    const failed = mine.filter((entry) => entry.state === 'failed');
    section.hidden = !mine.length;
    section.replaceChildren(h('h2', { id: 'waiting-title' }, pending.length ? t('today.waitingTitle') : t('today.failedTitle')));
    if (pending.length) {
      section.append(
        h('p', {}, tn('today.waitingCount', pending.length)),
        h('ul', {}, pending.map((entry) => h('li', {}, `${describeEntry(entry)}. ${t('saved.notSent')}`))),
        h('button', {
          type: 'button',
          class: 'button',
          onclick: () => flushNow(),
        }, t('today.sendNow')),
      );
    }
    for (const entry of failed) {
      section.append(h('div', { class: 'problem' },
        h('p', {}, t('today.failed', { what: describeEntry(entry), message: messageFor(entry.error) })),
        h('button', { type: 'button', class: 'button', onclick: () => outbox.dismiss(entry.id) }, t('today.dismiss'))));
    }
    return list;
  }
  return { section, refresh };
}

/** Once, until dismissed: put the app on the Home Screen (on iPhone, reminders need it). */
function installHint() {
  if (settings.installHintDismissed || isInstalled() || !(state.installPrompt || isIos())) return null;
  const hint = h('section', { class: 'card stack', 'aria-labelledby': 'install-title' },
    h('h2', { id: 'install-title' }, t('install.hintTitle')),
    h('p', {}, isIos() ? t('install.hintIos') : t('install.intro')),
    h('a', { href: '#/settings', class: 'button' }, t('install.hintHow')),
    h('button', {
      type: 'button',
      class: 'button',
      onclick: () => {
        saveSettings({ installHintDismissed: true });
        hint.remove();
        document.getElementById('doses-title').focus();
      },
    }, t('install.hintDismiss')));
  return hint;
}

export async function render({ refresh, flushNow } = {}) {
  const pid = state.patientId;
  if (!pid) {
    return h('section', { class: 'stack' }, heading(t('today.title')), h('p', {}, t('today.noPatient')));
  }
  // the summary and the doses in parallel: the summary knows the name and the time zone, and
  // the doses without a date are the patient's today
  // what waits on this phone: read before drawing, unless the page came with the answers and the
  // phone's database opens after the first screen (then the rows are brought up to date after)
  const later = databaseHeld();
  const [summaryAnswer, dosesAnswer, waitingList] = await Promise.all([
    ...todayRequests(pid).map(([key, path]) => cachedGet(key, path).catch(() => ({ data: null, fresh: false }))),
    later ? [] : outbox.entries(state.user.id).catch(() => []),
  ]);
  const patient = summaryAnswer.data || currentPatient();
  rememberName(patient);
  const tz = patient ? patient.timezone : undefined;
  // the patient's date now, asked of Intl only when the answers do not say (its first use with
  // a time zone costs the phone a moment before Today is on the screen)
  const today = () => isoDate(new Date(), tz);
  const title = isCaregiver() && patient ? t('today.titleFor', { name: patient.display_name }) : t('today.title');
  let doses = dosesAnswer.data;
  if (doses && !dosesAnswer.fresh && doses.date !== today()) doses = null; // an old day's list is no use
  const withheld = dosesWithheld(summaryAnswer.data, doses);
  const context = { pid, tz, withheld, nextId: withheld ? null : nextDoseId(doses && doses.doses), refresh: refresh || (() => {}) };
  const waitingByDose = new Map(waitingList
    .filter((entry) => entry.kind === 'dose' && entry.patientId === pid)
    .map((entry) => [entry.body.dose_id, entry]));

  const root = h('div', { class: 'stack today' }, heading(title), h('p', { class: 'lead' }, formatDate(doses ? doses.date : today())));
  if (!summaryAnswer.fresh || !dosesAnswer.fresh) {
    const saved = summaryAnswer.savedAt || dosesAnswer.savedAt;
    root.append(h('p', { class: 'notice' }, saved ? t('today.stale', { when: formatDateTime(saved) }) : t('today.offline')));
  }
  const dosePart = doseSection(doses, waitingByDose, context);
  const waiting = waitingSection(flushNow);
  // Today's parts, in order: the next dose first, then the warnings (one line each), who to
  // call, the two logging buttons, what waits on this phone, the next blood test.
  const sections = [
    withheld ? treatmentCard(summaryAnswer.data) : null,
    dosePart.section,
    otherMedicines(context),
    redFlags(summaryAnswer.data, tz),
    contactSection(summaryAnswer.data),
    h('div', { class: 'stack actions' },
      h('button', { type: 'button', class: 'button primary big', onclick: () => { location.hash = '#/bowel'; } }, t('today.logBowel')),
      h('button', { type: 'button', class: 'button primary big', onclick: () => { location.hash = '#/symptom'; } }, t('today.reportSymptom'))),
    waiting.section,
    bloodTest(summaryAnswer.data),
    installHint(),
  ];
  root.append(...sections.filter(Boolean));
  const shown = waiting.refresh();
  if (later) {
    shown.then((list) => {
      const byDose = new Map(list.filter((e) => e.kind === 'dose' && e.patientId === pid).map((e) => [e.body.dose_id, e]));
      for (const [doseId, row] of dosePart.rows) row.update(byDose.get(doseId));
    });
  } else {
    await shown;
  }

  const stop = outbox.subscribe(async (detail) => {
    if (!root.isConnected) {
      stop();
      return;
    }
    // a dose marked on this phone and refused because the care team paused clozapine, or
    // changed the dose (a newer plan), meanwhile: Today is drawn again to say what to do instead
    const refused = detail && detail.type === 'flushed' && detail.results.filter((r) => r.outcome === 'failed'
      && outbox.refusedAsChangedByTeam(r.error) && r.entry.patientId === pid);
    const paused = refused && refused.some((r) => r.error.code === 'dose_withheld');
    const replaced = refused && refused.some((r) => r.error.code === 'dose_replaced');
    if ((paused && !context.withheld) || replaced) {
      stop();
      context.refresh();
      return;
    }
    const list = await waiting.refresh();
    const byDose = new Map(list.filter((e) => e.kind === 'dose').map((e) => [e.body.dose_id, e]));
    for (const [doseId, row] of dosePart.rows) row.update(byDose.get(doseId));
  });
  return root;
}
