// New escalations reach an open care-team page at once, without a reload: every few seconds the
// page asks GET /api/escalations/pulse (one small query; "changed" says whether anything moved).
// A change puts the count of unacknowledged emergency and urgent escalations in the tab title
// ("(2) Open escalations – ..."), shows a banner for each new emergency (role=alert: read out
// by screen readers, focus stays where the clinician is typing), plays a sound when the
// clinician chose one, and tells the open screen (the event "care:pulse") to refresh itself.
// Web Push (alerts.js) covers a closed tab or a sleeping computer.

import { api } from '/static/js/api.js';
import { h } from '/static/js/dom.js';
import { t } from './i18n.js';
import { shape } from './ui.js';

const EVERY_MS = 3000;
const SOUND_KEY = 'care.alertSound';

let timer = null;
let version = null;
let seen = null; // ids of emergencies already shown (or there when the page opened)
let waitingCount = 0;
let baseTitle = document.title;
let audio = null;

/** The tab title without the badge; the badge is put in front of it. */
export function setTitle(title) {
  baseTitle = title;
  drawTitle();
}

function drawTitle() {
  document.title = waitingCount ? `(${waitingCount}) ${baseTitle}` : baseTitle;
}

export function soundOn() {
  try { return localStorage.getItem(SOUND_KEY) === 'on'; } catch { return false; }
}

/** From a tap (browsers allow sound only after one): remember the choice and play a sample. */
export function setSound(on) {
  try { localStorage.setItem(SOUND_KEY, on ? 'on' : 'off'); } catch { /* private mode */ }
  if (on) chime();
}

function chime() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  try {
    audio = audio || new Context();
    if (audio.state === 'suspended') audio.resume().catch(() => {});
    const start = audio.currentTime;
    for (const [offset, pitch] of [[0, 880], [0.25, 660], [0.5, 880]]) {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = pitch;
      gain.gain.setValueAtTime(0.0001, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.3, start + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.2);
      tone.connect(gain).connect(audio.destination);
      tone.start(start + offset);
      tone.stop(start + offset + 0.22);
    }
  } catch {
    // no sound on this computer: the banner and the title still say it
  }
}

function banner() {
  return document.getElementById('alert-banner');
}

function showBanner(items) {
  const holder = banner();
  if (!holder || !items.length) return;
  const lines = items.map((item) => h('li', {}, t('live.newEmergency', { rule: item.title, name: item.patient_name })));
  const dismiss = h('button', {
    type: 'button', class: 'button',
    onclick: () => holder.replaceChildren(),
  }, t('live.dismiss'));
  holder.replaceChildren(h('div', { class: 'alert-banner-text' }, shape('red'),
    h('div', { class: 'stack' },
      h('p', { class: 'alert-banner-title' }, items.length === 1 ? t('live.titleOne') : t('live.titleMany', { count: items.length })),
      h('ul', { class: 'plain' }, lines),
      h('div', { class: 'button-row' },
        h('a', { href: '#/escalations', class: 'button primary', onclick: () => holder.replaceChildren() }, t('live.open')),
        dismiss))));
}

async function beat() {
  let answer;
  try {
    answer = await api('GET', `/api/escalations/pulse${version ? `?since=${encodeURIComponent(version)}` : ''}`);
  } catch (error) {
    if (error && error.needsSignIn) stop();
    return; // offline or the server restarting: the next beat asks again
  }
  const first = version === null;
  if (!first && !answer.changed) return;
  version = answer.version;
  waitingCount = (answer.waiting.emergency || 0) + (answer.waiting.urgent || 0);
  drawTitle();
  const emergencies = answer.new.filter((item) => item.severity === 'emergency');
  if (first) {
    seen = new Set(emergencies.map((item) => item.id));
    return;
  }
  const fresh = emergencies.filter((item) => !seen.has(item.id));
  for (const item of fresh) seen.add(item.id);
  if (fresh.length) {
    showBanner(fresh);
    if (soundOn()) chime();
  }
  window.dispatchEvent(new CustomEvent('care:pulse', { detail: answer }));
}

/** Start asking (after sign-in); safe to call twice. */
export function start() {
  if (timer) return;
  version = null;
  beat();
  timer = setInterval(beat, EVERY_MS);
}

/** Stop asking (sign-out): the badge and the banner go. */
export function stop() {
  clearInterval(timer);
  timer = null;
  version = null;
  waitingCount = 0;
  drawTitle();
  if (banner()) banner().replaceChildren();
}
