// The care-team app's entry point: strings, session, and the routes
// #/escalations, #/patients, #/patients/<id>, #/enrol, #/settings and #/signin; the banner
// that says when the scheduler has stopped (health.js); and new escalations as they arrive,
// in the title and a banner (live.js).

import { h } from '/static/js/dom.js';
import { startHealthChecks } from './health.js';
import { loadStrings, t, translateDom } from './i18n.js';
import * as live from './live.js';
import { restore, session, signInForm, signOut } from './session.js';

const ROUTES = {
  escalations: () => import('./escalations.js'),
  patients: () => import('./patients.js'),
  enrol: () => import('./enrol.js'),
  settings: () => import('./settings.js'),
};

const main = document.getElementById('main');
let renderCount = 0;
let firstRender = true;
let cleanup = null;

export function go(path) {
  const target = `#/${path}`;
  if (location.hash === target) show();
  else location.hash = target;
}

function parseHash() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  return { name: parts[0] || 'escalations', params: parts.slice(1) };
}

function signInView() {
  return h('section', { class: 'stack narrow' },
    h('h1', { tabindex: '-1' }, t('signin.title')),
    h('p', {}, t('signin.intro')),
    signInForm({
      onDone: () => {
        const { name } = parseHash();
        go(name === 'signin' ? 'escalations' : location.hash.replace(/^#\//, '') || 'escalations');
      },
    }));
}

async function show() {
  const { name, params } = parseHash();
  const count = ++renderCount;
  if (cleanup) { cleanup(); cleanup = null; }
  let view;
  let current = name;
  if (!session.user) {
    view = signInView();
    current = 'signin';
  } else if (name === 'signin') {
    history.replaceState(null, '', '#/escalations');
    return show();
  } else {
    const load = ROUTES[name] || ROUTES.escalations;
    if (!ROUTES[name]) current = 'escalations';
    try {
      const module = await load();
      const result = await module.render({ params, go, refresh: show });
      view = result.el || result;
      cleanup = result.cleanup || null;
    } catch (error) {
      console.error(error);
      view = h('section', { class: 'stack' }, h('h1', { tabindex: '-1' }, t('error.screenTitle')),
        h('p', {}, error && error.message ? t('error.generic', { message: error.message }) : t('error.network')),
        h('button', { type: 'button', class: 'button', onclick: () => show() }, t('action.tryAgain')));
    }
  }
  if (count !== renderCount) return undefined;
  main.replaceChildren(view);
  updateShell(current === 'patients' && params.length ? 'patients' : current);
  const title = main.querySelector('h1');
  live.setTitle(title ? `${title.textContent} – ${t('app.name')}` : t('app.name'));
  if (session.user) live.start(); else live.stop();
  if (!firstRender && title) title.focus();
  firstRender = false;
  return undefined;
}

function updateShell(current) {
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  nav.hidden = !session.user;
  who.textContent = session.user ? t('nav.signedInAs', { name: session.user.display_name || session.user.email }) : '';
  for (const link of nav.querySelectorAll('a[data-route]')) {
    if (link.dataset.route === current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

async function start() {
  await loadStrings();
  translateDom();
  startHealthChecks();
  document.getElementById('sign-out').addEventListener('click', async () => {
    await signOut();
    live.stop();
    go('signin');
  });
  try {
    await restore();
  } catch {
    // offline or server down: the sign-in screen says so when it is used
  }
  window.addEventListener('hashchange', show);
  await show();
}

start();
