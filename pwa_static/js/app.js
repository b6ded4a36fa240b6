// The app's entry point: starts the language, the session and the outbox, routes between
// screens (#/today, #/bowel, ...), and registers the service worker.

import { holdDatabase, kv } from './db.js';
import { afterFirstScreen, firstScreenDrawn, h } from './dom.js';
import { t, tn } from './i18n.js';
import * as store from './store.js';

// A screen's module and the shared modules it imports are fetched together, not one after the
// other (a dynamic import only discovers its imports once it has arrived).
const withShared = (view, ...shared) => () => Promise.all([view(), ...shared.map((load) => load())]).then(([module]) => module);
const ui = () => import('./ui.js');
const outboxCode = () => import('./outbox.js');
const parts = () => import('./parts.js');
const ROUTES = {
  signin: { load: withShared(() => import('./views/signin.js'), ui), open: true },
  activate: { load: withShared(() => import('./views/signin.js'), ui), open: true, entry: 'renderActivate' },
  reset: { load: withShared(() => import('./views/reset.js'), ui), open: true, entry: 'renderReset' },
  today: { load: withShared(() => import('./views/today.js'), ui, outboxCode, parts) },
  bowel: { load: withShared(() => import('./views/bowel.js'), ui, outboxCode, parts, () => import('./pictures.js'), () => import('./views/when.js')) },
  symptom: { load: withShared(() => import('./views/symptom.js'), ui, outboxCode, parts) },
  history: { load: withShared(() => import('./views/history.js'), ui, outboxCode, parts, () => import('./charts.js')), nav: 'history' },
  guidance: { load: withShared(() => import('./views/guidance.js'), ui), nav: 'guidance' },
  settings: { load: withShared(() => import('./views/settings.js'), ui, outboxCode, () => import('./push.js')), nav: 'settings' },
  medicines: { load: withShared(() => import('./views/medicines.js'), ui, outboxCode) },
};

const main = document.getElementById('main');
let outboxModule = null;

/** The outbox is only needed once someone is signed in: the sign-in screen loads without it. */
function loadOutbox() {
  if (!outboxModule) {
    outboxModule = import('./outbox.js').then((outbox) => {
      outbox.subscribe(() => updateStatus());
      return outbox;
    });
  }
  return outboxModule;
}
let started = false;
let renderCount = 0;
let firstRender = true;
let announceTimer = null;

function go(path) {
  const target = `#/${path}`;
  if (location.hash === target) show();
  else location.hash = target;
}

// #/history/blood, and the forms the server's notifications use: #today, #today?patient=3
function parseHash() {
  const [path, query] = location.hash.replace(/^#\/?/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { name: parts[0] || 'today', params: parts.slice(1), query: new URLSearchParams(query || '') };
}

async function show() {
  const { name, params, query } = parseHash();
  let route = ROUTES[name] ? name : 'today';
  if (!ROUTES[route].open && !store.state.user) route = 'signin';
  if (ROUTES[route].open && store.state.user) route = 'today';
  const wanted = Number(query.get('patient'));
  if (wanted && store.state.user && (store.state.user.caregiver_of || []).includes(wanted)) {
    store.switchPatient(wanted); // a caregiver's notification about one of the people they help
  }
  if (route !== name || query.toString()) {
    history.replaceState(null, '', `#/${(route === name ? [route, ...params] : [route]).map(encodeURIComponent).join('/')}`);
  }
  const count = ++renderCount;
  const spec = ROUTES[route];
  const before = fieldValues(main);
  let view;
  try {
    const module = await spec.load();
    // what a screen may ask of the app; screens never import this module
    view = await module[spec.entry || 'render']({ params, go, refresh: show, flushNow, afterSignIn, applyTextSize });
  } catch (error) {
    console.error(error);
    view = h('section', {}, h('h1', { tabindex: '-1' }, t('error.screenTitle')), h('p', {}, t('error.screen')),
      h('button', { type: 'button', class: 'button', onclick: () => show() }, t('action.tryAgain')));
  }
  if (count !== renderCount) return;
  keepTyping(before, view);
  main.replaceChildren(view);
  updateShell(ROUTES[route].nav || route);
  const title = main.querySelector('h1');
  document.title = title ? `${title.textContent} – ${t('app.name')}` : t('app.name');
  if (!firstRender && title) title.focus();
  firstRender = false;
  window.scrollTo(0, 0);
}

// Typing goes on while the next screen loads (its code can take a moment on a slow phone): what
// was typed on the screen being left after the new one was asked for is carried into the same
// field of the new screen (by name, passwords never), rather than drawn away; so is the email of
// a sign-in form, the same on all of them (sign in, a code, a reset).
const CARRIED = 'input[name]:not([type=password]):not([type=checkbox]):not([type=radio]):not([type=hidden]), textarea[name]';

function fieldValues(root) {
  return new Map([...root.querySelectorAll(CARRIED)].map((field) => [field, field.value]));
}

function keepTyping(before, view) {
  for (const [field, value] of fieldValues(main)) {
    const typedSince = value !== (before.get(field) ?? '');
    if (!value || !(typedSince || field.autocomplete === 'username')) continue;
    const target = view.querySelector(`[name="${CSS.escape(field.name)}"]`);
    if (target && target.matches(CARRIED) && !target.value) target.value = value;
  }
}

function updateShell(current) {
  const signedIn = Boolean(store.state.user);
  const nav = document.getElementById('nav');
  nav.hidden = !signedIn;
  for (const link of nav.querySelectorAll('a')) {
    if (link.dataset.route === current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  renderPatientSwitch();
  updateStatus();
}

function renderPatientSwitch() {
  const holder = document.getElementById('patient-switch');
  const mine = store.state.user && store.state.user.role === 'caregiver' ? store.state.user.caregiver_of || [] : [];
  if (mine.length < 2) {
    holder.hidden = true;
    holder.replaceChildren();
    return;
  }
  const select = h('select', {
    id: 'patient-select',
    onchange: (event) => {
      store.switchPatient(Number(event.target.value));
      show();
    },
  }, mine.map((id) => {
    const patient = store.state.patients.find((p) => p.id === id);
    return h('option', { value: String(id), selected: id === store.state.patientId }, patient ? patient.display_name : t('patient.unnamed', { id }));
  }));
  holder.replaceChildren(h('label', { for: 'patient-select' }, t('patient.switch')), select);
  holder.hidden = false;
}

/** The status line under the header: offline, and how many entries wait on this phone. */
let lastWaiting = 0;

async function updateStatus(extra) {
  const line = document.getElementById('status');
  const user = store.state.user;
  const list = user ? await loadOutbox().then((outbox) => outbox.entries(user.id)).catch(() => []) : [];
  const waiting = list.filter((entry) => entry.state === 'pending').length;
  const failed = list.filter((entry) => entry.state === 'failed').length;
  if (lastWaiting > 0 && waiting === 0 && !failed && !extra) {
    // sent from here or by the service worker, every one of them: say so, for a few seconds
    lastWaiting = 0;
    announce(t('status.allSent'));
    return;
  }
  lastWaiting = waiting;
  const parts = [];
  if (!navigator.onLine) parts.push(t('status.offline'));
  if (waiting) parts.push(tn('status.waiting', waiting));
  if (failed) parts.push(tn('status.failed', failed));
  if (extra) parts.push(extra);
  line.textContent = parts.join(' ');
}

function announce(text) {
  updateStatus(text);
  clearTimeout(announceTimer);
  announceTimer = setTimeout(() => updateStatus(), 6000);
}

async function flushNow() {
  const user = store.state.user;
  if (!user) return;
  const outbox = await loadOutbox();
  const results = await outbox.flush(user.id).catch(() => []);
  const sent = results.filter((r) => r.outcome === 'sent').length;
  if (sent) announce(tn('status.sent', sent));
  if (results.some((r) => r.outcome === 'signin')) sessionEnded();
}

function sessionEnded() {
  if (!store.state.user) return;
  store.state.user = null;
  store.state.sessionEnded = true;
  go('signin');
}

/** A notification tap asked for a screen of this app. */
function openUrl(url) {
  const target = new URL(url, location.origin);
  if (target.origin !== location.origin) return;
  if (target.pathname === '/' && target.hash) {
    location.hash = target.hash;
  } else if (target.pathname !== location.pathname) {
    location.assign(target.href);
  }
}

/**
 * The manifest (installing the app on the Home Screen), named once the first screen is shown: the
 * browser fetches it, and the icon it names, as soon as the page names it, before the screen's
 * own code on a slow connection.
 */
function linkManifest() {
  if (document.querySelector('link[rel="manifest"]')) return;
  document.head.append(h('link', { rel: 'manifest', href: '/manifest.webmanifest' }));
}

function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  const hadController = Boolean(navigator.serviceWorker.controller);
  const register = () => navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {});
  if (document.readyState === 'complete') register();
  else window.addEventListener('load', register, { once: true });
  navigator.serviceWorker.addEventListener('message', (event) => {
    const message = event.data || {};
    if (message.type === 'outbox-changed') loadOutbox().then((outbox) => outbox.notifyChanged({ type: 'worker' }));
    if (message.type === 'navigate' && message.url) openUrl(message.url);
  });
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (!hadController) return;
    const notice = document.getElementById('update');
    notice.replaceChildren(
      h('p', {}, t('update.ready')),
      h('button', { type: 'button', class: 'button', onclick: () => location.reload() }, t('update.reload')),
    );
    notice.hidden = false;
  });
}

function applyTextSize() {
  const root = document.documentElement;
  root.classList.remove('text-large', 'text-largest');
  if (store.settings.textSize === 'large') root.classList.add('text-large');
  if (store.settings.textSize === 'largest') root.classList.add('text-largest');
}

function wireShell() {
  document.querySelector('.skip-link').addEventListener('click', (event) => {
    event.preventDefault();
    main.focus();
  });
  // before start() has shown the first screen, it reads the new address itself
  window.addEventListener('hashchange', () => { if (started) show(); });
  window.addEventListener('online', () => {
    updateStatus();
    flushNow();
  });
  window.addEventListener('offline', () => updateStatus());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') flushNow();
  });
  window.addEventListener('companion:signed-out', sessionEnded);
  window.addEventListener('beforeinstallprompt', (event) => {
    event.preventDefault();
    store.state.installPrompt = event;
  });
}

/** After a successful sign-in (signin.js): send what was waiting, fetch the catalogue. */
async function afterSignIn() {
  store.state.sessionEnded = false;
  await store.followUserLanguage();
  whenIdle(() => store.loadCatalogue());
  flushNow();
  import('./push.js').then((push) => push.resend()).catch(() => {});
}

async function start() {
  applyTextSize();
  wireShell();
  // someone signed in on this phone before: fetch the screen's code while the words and the
  // session load, not after (a first visit goes to the sign-in screen and needs none of it)
  const route = ROUTES[parseHash().name] ? parseHash().name : 'today';
  // a page that came with the session and the first answers: the first screen is drawn before
  // the phone's database is opened (what it keeps is written, and read, just after)
  const withPage = store.cameWithPage();
  const releaseDatabase = withPage ? holdDatabase() : () => {};
  if (!withPage) kv.get('session').then((saved) => {
    if (!saved) return;
    ROUTES[route].load();
    const pid = store.patientFor(saved.user);
    if (route === 'today' && pid) store.preloadToday(pid);
  }).catch(() => {});
  const preloadToday = () => {
    if (store.state.user && !ROUTES[route].open) ROUTES[route].load(); // the screen's code, at once
    if (store.state.user && store.state.patientId && route === 'today' && !store.hasPreloaded()) {
      store.preloadToday(store.state.patientId); // in parallel with the words and the screen's code
    }
  };
  try {
    await Promise.all([
      store.useLanguage(store.bootLanguage() || store.settings.lang, { names: store.pageLanguages() }),
      // Today's answers are asked for the moment /api/me says who this is; the list of patients
      // (for the switcher and history) waits until Today is on the screen
      store.restoreSession({ onUser: preloadToday, patientsLater: route === 'today' }),
    ]);
    // the words this person chose, on whichever phone (this phone's, kept once Today is shown)
    await store.followUserLanguage({ later: afterFirstScreen });
    preloadToday(); // kept on the phone, without a connection
    started = true;
    await show();
  } finally {
    firstScreenDrawn();
    afterFirstScreen(releaseDatabase);
  }
  store.forgetBoot(); // what came with the page is for the first screen only
  afterFirstScreen(linkManifest);
  afterFirstScreen(() => store.whenPatients().then(renderPatientSwitch));
  registerServiceWorker();
  if (store.state.user) {
    flushNow();
    whenIdle(() => store.loadCatalogue());
  }
}

/** Work that can wait until the first screen is shown and the phone is not busy. */
function whenIdle(work) {
  afterFirstScreen(() => {
    if ('requestIdleCallback' in window) window.requestIdleCallback(work, { timeout: 5000 });
    else setTimeout(work, 1000);
  });
}

start();
