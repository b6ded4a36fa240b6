// The scheduler's dead-man switch: /healthz says whether the reminder worker has run lately.
// When it has not ("unhealthy", or "never" since the instance started), a banner at the top of
// every screen says that reminders and alerts are not being sent. Checked on load and every minute.

import { h } from '/static/js/dom.js';
import { t } from './i18n.js';
import { shape } from './ui.js';

const EVERY_MS = 60000;
const DOWN = new Set(['unhealthy', 'never']);
let shown = null; // the state the banner shows now, so that it is announced only on a change

function render(banner, state) {
  if (state === shown) return;
  shown = state;
  if (!DOWN.has(state)) {
    banner.replaceChildren();
    return;
  }
  banner.replaceChildren(h('p', { class: 'health-banner-text' },
    shape('red'), h('strong', {}, t('health.scheduler'))));
}

/** Ask /healthz once; a failed request leaves the banner as it is (the screens say "offline"). */
export async function checkHealth(banner = document.getElementById('scheduler-banner')) {
  if (!banner) return null;
  try {
    const response = await fetch('/healthz', { cache: 'no-store', headers: { Accept: 'application/json' } });
    if (!response.ok) return null;
    const body = await response.json();
    const state = body && body.checks ? body.checks.scheduler : null;
    render(banner, state);
    return state;
  } catch {
    return null;
  }
}

export function startHealthChecks() {
  checkHealth();
  return setInterval(checkHealth, EVERY_MS);
}
