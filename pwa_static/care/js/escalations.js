// "Open escalations": everything not yet resolved, grouped by patient (the patient with the
// most serious and oldest first; inside, most serious first, then oldest first). Each has
// "Acknowledge" (while new) and "Resolve" (asks for a note in an inline form). The list redraws
// itself when the live pulse says something changed (live.js), keeping the focus where it was
// and never while a resolve form is open; below it, what was resolved lately, with the notes.

import { severityOrder } from '/static/js/clinical.js';
import { h, uid } from '/static/js/dom.js';
import { ago, formatDateTime, formatTime, t, tn } from './i18n.js';
import { call, session } from './session.js';
import { errorBox, failureText, field, ruleTitle, sendingForm, severityTag, symptomName } from './ui.js';

const RESOLVED_HOURS = 72;

export function sortEscalations(list) {
  return [...list].sort((a, b) => severityOrder(a.severity) - severityOrder(b.severity)
    || new Date(a.opened_at) - new Date(b.opened_at) || a.id - b.id);
}

/** Sorted escalations in groups of one patient each, in the order of each group's first. */
export function byPatient(sorted) {
  const groups = new Map();
  for (const item of sorted) {
    if (!groups.has(item.patient_id)) groups.set(item.patient_id, { patientId: item.patient_id, name: item.patient_name || `#${item.patient_id}`, items: [] });
    groups.get(item.patient_id).items.push(item);
  }
  return [...groups.values()];
}

async function load() {
  // open and acknowledged together, each with the patient's name and the rule's title; and
  // what was resolved lately, so that the next shift reads what was done
  const since = new Date(Date.now() - RESOLVED_HOURS * 3600000).toISOString();
  const [open, resolved] = await Promise.all([
    call('GET', '/api/escalations?status=unresolved'),
    call('GET', `/api/escalations?resolved_since=${encodeURIComponent(since)}`),
  ]);
  return { items: sortEscalations(open.escalations), resolved: resolved.escalations };
}

/** "Resolved by Dr Browser, Tue 1 Dec 14:05: phoned the patient." */
export function resolutionText(item) {
  const when = formatDateTime(item.resolved_at);
  const head = item.resolved_by ? t('esc.resolvedBy', { who: item.resolved_by, when }) : t('esc.resolvedAt', { when });
  return item.resolution_note ? `${head}: ${item.resolution_note}` : head;
}

function evidenceLine(item) {
  const parts = [];
  if (item.symptoms && item.symptoms.length) parts.push(item.symptoms.map(symptomName).join(', '));
  if (item.temperature_c !== null && item.temperature_c !== undefined) parts.push(`${item.temperature_c} °C`);
  if (item.value !== undefined && item.value !== null) parts.push(`${item.value}${item.unit ? ` ${item.unit}` : ''}`);
  if (item.reported_by) parts.push(t('esc.reportedBy', { who: t(`who.${item.reported_by}`) }));
  const when = item.at ? formatDateTime(item.at) : '';
  return [when, parts.join(', ')].filter(Boolean).join(': ');
}

export async function render({ go }) {
  const status = h('p', { class: 'hint', role: 'status' });
  const announce = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const errors = errorBox();
  const list = h('ul', { class: 'plain escalation-groups' });
  const resolvedList = h('ul', { class: 'plain resolved-list' });
  const resolvedCount = h('span', {});
  const countLine = h('p', { class: 'lead' });
  let busy = false;

  function card(item) {
    const name = item.patient_name || `#${item.patient_id}`;
    const rule = ruleTitle(item.rule, item.title);
    const titleId = uid('esc');
    const acknowledged = item.status === 'acknowledged';
    const note = h('textarea', { name: 'note', rows: 3, maxlength: 2000 });
    const noteField = field(t('esc.note'), note, { hint: t('esc.noteHint') });
    const formError = errorBox();
    const resolveButton = h('button', {
      type: 'button', class: 'button', 'aria-describedby': titleId, 'aria-expanded': 'false',
    }, t('esc.resolve'));
    const confirm = h('button', { type: 'submit', class: 'button primary' }, t('esc.confirmResolve'));
    const form = sendingForm({
      class: 'resolve-form stack', hidden: true,
      'aria-label': t('esc.resolveTitle', { rule, name }),
      errors: formError,
      button: confirm,
      fields: { note: noteField },
      read: () => {
        if (note.value.trim()) return { note: note.value.trim() };
        noteField.setError(t('esc.noteMissing'));
        note.focus();
        return null;
      },
      work: async (body) => {
        busy = true;
        try {
          await call('POST', `/api/escalations/${item.id}/resolve`, { body });
        } finally {
          busy = false;
        }
        announce.textContent = t('esc.resolvedDone', { rule, name });
        await refresh(true);
      },
    },
    h('h3', {}, t('esc.resolveTitle', { rule, name })),
    formError.el, noteField.el,
    h('div', { class: 'button-row' }, confirm,
      h('button', {
        type: 'button', class: 'button',
        onclick: () => { form.hidden = true; busy = false; resolveButton.setAttribute('aria-expanded', 'false'); resolveButton.focus(); },
      }, t('action.cancel'))));
    resolveButton.addEventListener('click', () => {
      form.hidden = false;
      busy = true;
      resolveButton.setAttribute('aria-expanded', 'true');
      note.focus();
    });
    // only clinicians acknowledge and resolve (an administrator sees the list)
    const canAct = Boolean(session.user && session.user.role === 'clinician');
    const ackButton = acknowledged || !canAct ? null : h('button', {
      type: 'button', class: 'button primary', 'aria-describedby': titleId,
      onclick: async (event) => {
        event.currentTarget.disabled = true;
        errors.hide();
        try {
          await call('POST', `/api/escalations/${item.id}/acknowledge`);
          announce.textContent = t('esc.acknowledgedDone', { rule, name });
          await refresh(true, item.id);
        } catch (error) {
          errors.show(failureText(error));
          event.target.disabled = false;
        }
      },
    }, t('esc.acknowledge'));
    const evidence = (item.evidence || []).slice(-3).map(evidenceLine).filter(Boolean);
    return h('li', { class: `card escalation severity-${item.severity}`, 'data-escalation-id': String(item.id) },
      h('div', { class: 'esc-head' },
        severityTag(item.severity),
        h('h3', { id: titleId }, rule, h('span', { class: 'visually-hidden' }, ` – ${name}`))),
      h('p', {}, item.summary),
      h('p', { class: 'esc-when' },
        h('span', {}, t('esc.opened', { when: formatDateTime(item.opened_at) })), ' · ',
        h('strong', {}, t('esc.waiting', { age: ago(item.opened_at) }))),
      h('p', { class: `esc-status ${acknowledged ? 'is-ack' : 'is-new'}` },
        acknowledged
          ? (item.acknowledged_by
            ? t('esc.statusAcknowledgedBy', { who: item.acknowledged_by, when: formatDateTime(item.acknowledged_at) })
            : t('esc.statusAcknowledged', { when: formatDateTime(item.acknowledged_at) }))
          : t('esc.statusOpen')),
      item.clinician_advice ? h('p', { class: 'esc-advice' }, h('strong', {}, t('esc.advice')), ' ', item.clinician_advice) : null,
      evidence.length ? h('details', {}, h('summary', {}, t('esc.evidence')), h('ul', {}, evidence.map((line) => h('li', {}, line)))) : null,
      h('div', { class: 'button-row' }, ackButton, canAct ? resolveButton : null),
      form);
  }

  function group({ patientId, name, items }) {
    const headingId = uid('group');
    return h('li', { class: 'patient-group', 'data-patient-id': String(patientId), 'aria-labelledby': headingId },
      h('div', { class: 'group-head' },
        h('h2', { id: headingId }, name),
        h('span', { class: 'hint' }, tn('esc.groupCount', items.length)),
        h('a', { href: `#/patients/${patientId}`, class: 'button link-button' }, t('esc.patientLink', { name }))),
      h('ul', { class: 'plain escalations' }, items.map((item) => card(item))));
  }

  function resolvedLine(item) {
    const name = item.patient_name || `#${item.patient_id}`;
    return h('li', { class: 'resolved-item' },
      h('p', {}, h('strong', {}, `${ruleTitle(item.rule, item.title)} – ${name}`), ` (${t(`severity.${item.severity}`)})`),
      h('p', { class: 'resolution-note' }, resolutionText(item)));
  }

  async function refresh(force = false, focusId = null) {
    if (busy && !force) return;
    try {
      const { items, resolved } = await load();
      errors.hide();
      // an automatic redraw keeps the focus on the same button of the same escalation
      const active = document.activeElement;
      const keep = !force && active && list.contains(active) ? {
        id: active.closest('[data-escalation-id]') ? active.closest('[data-escalation-id]').dataset.escalationId : null,
        text: active.textContent,
      } : null;
      list.replaceChildren(...byPatient(items).map((g) => group(g)));
      resolvedList.replaceChildren(...resolved.map((item) => resolvedLine(item)));
      resolvedCount.textContent = ` (${resolved.length})`;
      if (keep && keep.id) {
        const again = [...list.querySelectorAll(`[data-escalation-id="${keep.id}"] button, [data-escalation-id="${keep.id}"] a`)]
          .find((b) => b.textContent === keep.text);
        if (again) again.focus();
      }
      countLine.textContent = items.length ? tn('esc.count', items.length) : t('esc.none');
      status.textContent = t('esc.updated', { time: formatTime(new Date()) });
      if (focusId) {
        const button = list.querySelector(`[data-escalation-id="${focusId}"] button`);
        if (button) button.focus();
      } else if (force) {
        document.querySelector('main h1').focus();
      }
    } catch (error) {
      errors.show(failureText(error));
    }
  }

  await refresh();
  const onPulse = () => refresh();
  window.addEventListener('care:pulse', onPulse);
  const el = h('section', { class: 'stack' },
    h('h1', { tabindex: '-1' }, t('esc.title')),
    h('p', {}, t('esc.intro')),
    errors.el, countLine, announce,
    h('div', { class: 'button-row' }, h('button', { type: 'button', class: 'button', onclick: () => refresh(true) }, t('action.refresh')), status),
    list,
    h('details', { class: 'card resolved-recently' },
      h('summary', {}, t('esc.resolvedTitle', { hours: RESOLVED_HOURS }), resolvedCount),
      h('p', { class: 'hint' }, t('esc.resolvedIntro')),
      resolvedList));
  return {
    el,
    cleanup() { window.removeEventListener('care:pulse', onPulse); },
  };
}
