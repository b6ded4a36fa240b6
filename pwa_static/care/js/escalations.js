// "Open escalations": everything not yet resolved, most serious first, then oldest first.
// Each has "Acknowledge" (while new) and "Resolve" (asks for a note in an inline form).

import { h, uid } from '/static/js/dom.js';
import { ago, formatDateTime, formatTime, t, tn } from './i18n.js';
import { call, session } from './session.js';
import { errorBox, failureText, field, ruleTitle, severityTag, symptomName } from './ui.js';

const RANK = { emergency: 0, urgent: 1, routine: 2 };
const POLL_MS = 30000;

export function sortEscalations(list) {
  return [...list].sort((a, b) => (RANK[a.severity] ?? 3) - (RANK[b.severity] ?? 3)
    || new Date(a.opened_at) - new Date(b.opened_at) || a.id - b.id);
}

async function load() {
  // one call: open and acknowledged together, each with the patient's name and the rule's title
  const { escalations } = await call('GET', '/api/escalations?status=unresolved');
  return { items: sortEscalations(escalations) };
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
  const list = h('ul', { class: 'plain escalations' });
  const countLine = h('p', { class: 'lead' });
  let busy = false;

  function card(item) {
    const name = item.patient_name || `#${item.patient_id}`;
    const rule = item.title || ruleTitle(item.rule);
    const titleId = uid('esc');
    const acknowledged = item.status === 'acknowledged';
    const note = h('textarea', { name: 'note', rows: 3, maxlength: 2000 });
    const noteField = field(t('esc.note'), note, { hint: t('esc.noteHint') });
    const formError = errorBox();
    const resolveButton = h('button', {
      type: 'button', class: 'button', 'aria-describedby': titleId, 'aria-expanded': 'false',
    }, t('esc.resolve'));
    const confirm = h('button', { type: 'submit', class: 'button primary' }, t('esc.confirmResolve'));
    const form = h('form', {
      class: 'resolve-form stack', hidden: true, novalidate: true,
      'aria-label': t('esc.resolveTitle', { rule, name }),
      onsubmit: async (event) => {
        event.preventDefault();
        formError.hide();
        if (!note.value.trim()) {
          noteField.setError(t('esc.noteMissing'));
          note.focus();
          return;
        }
        noteField.setError('');
        confirm.disabled = true;
        busy = true;
        try {
          await call('POST', `/api/escalations/${item.id}/resolve`, { body: { note: note.value.trim() } });
          announce.textContent = t('esc.resolvedDone', { rule, name });
          busy = false;
          await refresh(true);
        } catch (error) {
          busy = false;
          formError.show(failureText(error));
          if (error.fields && error.fields.note) noteField.setError(error.fields.note.join(' '));
        } finally {
          confirm.disabled = false;
        }
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
        h('h3', { id: titleId }, `${rule} – ${name}`)),
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
      h('div', { class: 'button-row' }, ackButton, canAct ? resolveButton : null,
        h('a', { href: `#/patients/${item.patient_id}`, class: 'button link-button' }, t('esc.patientLink', { name }))),
      form);
  }

  async function refresh(force = false, focusId = null) {
    if (busy && !force) return;
    try {
      const { items } = await load();
      errors.hide();
      list.replaceChildren(...items.map((item) => card(item)));
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
  const timer = setInterval(() => { if (document.visibilityState === 'visible') refresh(); }, POLL_MS);
  const onVisible = () => { if (document.visibilityState === 'visible') refresh(); };
  document.addEventListener('visibilitychange', onVisible);
  const el = h('section', { class: 'stack' },
    h('h1', { tabindex: '-1' }, t('esc.title')),
    h('p', {}, t('esc.intro')),
    errors.el, countLine, announce,
    h('div', { class: 'button-row' }, h('button', { type: 'button', class: 'button', onclick: () => refresh(true) }, t('action.refresh')), status),
    list);
  return {
    el,
    cleanup() { clearInterval(timer); document.removeEventListener('visibilitychange', onVisible); },
  };
}
