// The app's state: who is signed in, whose care is shown, the catalogue, the settings, and the
// last answers kept on the phone so that the app opens and logs without a connection.

import { api, setCsrf } from './api.js';
import { kv } from './db.js';
import './words-core.js';
import { lang, loadLanguage, tellServerLanguage, tellWorkerLanguage, translateDom } from './i18n.js';

const SETTINGS_KEY = 'companion.settings';
const DEFAULTS = { lang: null, textSize: 'standard', emergencyNumber: '112', patientId: null };

function readSettings() {
  try {
    return { ...DEFAULTS, ...JSON.parse(localStorage.getItem(SETTINGS_KEY) || '{}') };
  } catch {
    return { ...DEFAULTS };
  }
}

export const settings = readSettings();

export function saveSettings(patch) {
  Object.assign(settings, patch);
  try {
    localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings));
  } catch {
    // storage full or blocked: the settings still hold for this visit
  }
  kv.set('settings', { ...settings }).catch(() => {});
}

/**
 * What the server put in the page for a signed-in visit (server/web.py): the session, and the
 * answers the first screen would ask for, keyed by their path. Each is used once, on the first
 * screen only (forgetBoot), so that no later screen shows an answer as old as the page.
 */
const boot = readBoot();

function readBoot() {
  const holder = document.getElementById('boot');
  if (!holder) return { me: null, answers: {}, languages: null };
  holder.remove();
  try {
    const data = JSON.parse(holder.textContent);
    return { me: data.me || null, answers: data.answers || {}, languages: data.languages || null };
  } catch {
    return { me: null, answers: {}, languages: null };
  }
}

/** The signed-in person's own language, when the server put the session in the page. */
export function bootLanguage() {
  return (boot.me && boot.me.user && boot.me.user.language) || null;
}

/** Whether the page came with the session (a signed-in visit online). */
export const cameWithPage = () => Boolean(boot.me);

/** The app's languages ({code: name}) when the page brought them. */
export const pageLanguages = () => boot.languages;

export function forgetBoot() {
  boot.me = null;
  boot.answers = {};
}

export const state = {
  user: null,
  patients: [],
  patientId: null,
  catalogue: null,
  installPrompt: null,
  catalogueReady: Promise.resolve(null),
  patientsReady: Promise.resolve(),
  sessionEnded: false,
};

export function isCaregiver() {
  return state.user?.role === 'caregiver';
}

export function currentPatient() {
  return state.patients.find((p) => p.id === state.patientId) || null;
}

const names = new Map();

/** Remember a patient's name from an answer that carries it (Today's summary). */
export function rememberName(patient) {
  if (patient && patient.id && patient.display_name) names.set(patient.id, patient.display_name);
}

/** The name of the person whose care is shown, when it is known. */
export function personName() {
  const patient = currentPatient();
  return (patient && patient.display_name) || names.get(state.patientId) || null;
}

/** Whose care to show: the patient themself, or the caregiver's last choice. */
export function patientFor(user) {
  if (!user) return null;
  if (user.role === 'patient') return user.patient_id;
  const mine = user.caregiver_of || [];
  return mine.includes(settings.patientId) ? settings.patientId : (mine[0] ?? null);
}

function choosePatient() {
  state.patientId = patientFor(state.user);
}

export function switchPatient(id) {
  state.patientId = id;
  saveSettings({ patientId: id });
}

async function applySession(session) {
  state.user = session.user;
  setCsrf(session.csrf_token);
  choosePatient();
}

let startPatients = null;

/**
 * After sign-in or /api/me: keep the session (the service worker needs the CSRF token).
 * `onUser` runs as soon as the user is known (before the phone's copy is written), so that a
 * screen's answers can be asked for at once; with `patientsLater` the list of patients waits
 * until someone asks for it with whenPatients() (the Today screen does not need it).
 */
export async function rememberSession(session, { onUser, patientsLater = false } = {}) {
  await applySession(session);
  if (onUser) onUser();
  // names and time zones for the switcher and history; Today does not wait for them
  if (patientsLater) {
    state.patientsReady = new Promise((resolve) => {
      startPatients = () => resolve(loadPatients());
    });
  } else {
    startPatients = null;
    state.patientsReady = loadPatients();
  }
  // the phone's copy (offline starts, the service worker's sends): the screen waits for no write
  kv.set('session', session).catch(() => {});
}

/** The list of patients: starts loading it if it was left for later. */
export function whenPatients() {
  if (startPatients) {
    const start = startPatients;
    startPatients = null;
    start();
  }
  return state.patientsReady;
}

export async function forgetSession() {
  state.user = null;
  state.patients = [];
  state.patientId = null;
  setCsrf(null);
  // everything about a person goes; the catalogue and settings stay
  const keys = await kv.keys().catch(() => []);
  for (const key of keys) {
    if (!key.startsWith('catalogue') && key !== 'settings') await kv.del(key).catch(() => {});
  }
}

/**
 * Who is signed in: 'online' (the server said), 'offline' (kept on the phone, no server),
 * or 'none'.
 */
export async function restoreSession(options = {}) {
  if (boot.me) {
    const given = boot.me; // the server said, with the page
    boot.me = null;
    await rememberSession(given, options);
    return 'online';
  }
  try {
    const me = await api('GET', '/api/me');
    await rememberSession(me, options);
    return 'online';
  } catch (error) {
    if (error.isRetryable) {
      const saved = await kv.get('session').catch(() => null);
      if (saved) {
        await applySession(saved);
        state.patients = (await kv.get('patients').catch(() => null)) || [];
        return 'offline';
      }
      return 'none';
    }
    // the session ended: the phone's copy stays until someone signs in, because entries
    // still waiting in the outbox belong to that person
    state.user = null;
    const saved = await kv.get('session').catch(() => null);
    state.sessionEnded = Boolean(saved);
    return 'none';
  }
}

export async function loadPatients() {
  try {
    const answer = await api('GET', '/api/patients');
    state.patients = answer.items || [];
    await kv.set('patients', state.patients);
  } catch {
    state.patients = (await kv.get('patients').catch(() => null)) || state.patients;
  }
}

/**
 * Show the app in `code` (or the browser's first language the app has): its words, the page the
 * server draws (a cookie), the service worker's notifications. `choose` makes it this person's
 * own language on every device they use (kept on the server; it words their pushes too).
 */
export async function useLanguage(code, { choose = false, names = null } = {}) {
  const before = lang;
  const loaded = await loadLanguage(code, { names });
  tellServerLanguage(loaded);
  translateDom();
  tellWorkerLanguage(loaded);
  if (choose) {
    saveSettings({ lang: loaded });
    await keepLanguage(loaded);
  }
  if (loaded !== before && catalogueStarted) {
    state.catalogue = null; // symptom and Bristol words, advice: in the new language
    loadCatalogue();
  }
  return loaded;
}

/** This person's own language, on the server: it words their pushes, on every phone. */
async function keepLanguage(code) {
  if (!state.user) return;
  try {
    const user = await api('PUT', '/api/me/language', { body: { language: code } });
    state.user = { ...state.user, language: user.language };
  } catch {
    // offline: this phone keeps the choice; the next change sends it
  }
}

/**
 * After sign-in or /api/me: the person's own language (chosen on any device) wins over this
 * phone's; someone who never chose one keeps this phone's, now theirs (sent without waiting,
 * through `later`: at the start, once the first screen is painted, since it needs no answer).
 */
export async function followUserLanguage({ later = (work) => work() } = {}) {
  const user = state.user;
  if (!user) return lang;
  if (!user.language) {
    const phone = lang;
    later(() => keepLanguage(phone));
    return lang;
  }
  if (user.language !== lang) {
    saveSettings({ lang: user.language });
    return useLanguage(user.language);
  }
  return lang;
}

const CATALOGUE_MAX_AGE_MS = 24 * 60 * 60 * 1000;
const { symptomCatalogueUrl } = globalThis.companionWords; // words-core.js, imported above

/**
 * The symptom, Bristol and advice catalogue, kept on the phone for offline use: the phone's copy
 * at once; the server's when the copy is missing or a day old (or `fresh` is asked for); with
 * neither (a first start offline), the copy the service worker kept when it was installed.
 */
let catalogueStarted = false;

export function loadCatalogue({ fresh = false } = {}) {
  catalogueStarted = true;
  state.catalogueReady = (async () => {
    const key = `catalogue:${lang}`; // the words are in the language this person chose
    const saved = await kv.get(key).catch(() => null);
    if (saved && !state.catalogue) state.catalogue = saved.data || null;
    if (!fresh && saved && saved.savedAt && Date.now() - saved.savedAt < CATALOGUE_MAX_AGE_MS) {
      return state.catalogue;
    }
    try {
      state.catalogue = await api('GET', symptomCatalogueUrl(lang));
      await kv.set(key, { data: state.catalogue, savedAt: Date.now() });
    } catch {
      if (!state.catalogue) state.catalogue = await workerCatalogue();
    }
    return state.catalogue;
  })();
  return state.catalogueReady;
}

/** The catalogue the service worker keeps (sw.js: English from install, the chosen language
 * when it is chosen): this language's, else English's; null without one. */
async function workerCatalogue() {
  if (typeof caches === 'undefined') return null;
  for (const wanted of new Set([lang, 'en'])) {
    try {
      const kept = await caches.match(symptomCatalogueUrl(wanted), { ignoreVary: true });
      if (kept && kept.ok) return await kept.json();
    } catch {
      // a copy that cannot be read is no copy
    }
  }
  return null;
}

/** For the screens that list symptoms and Bristol types: wait a little, never long. */
export function ensureCatalogue(waitMs = 3000) {
  if (!catalogueStarted) loadCatalogue();
  return Promise.race([state.catalogueReady, new Promise((resolve) => setTimeout(resolve, waitMs))]);
}

/** The phone's copy of an answer (cachedGet keeps them), without asking the server. */
export async function savedAnswer(key) {
  const saved = await kv.get(key).catch(() => null);
  return saved ? saved.data : null;
}

const preloaded = new Map();

/** Today's answers, asked for while the Today screen's code is still loading (one use each). */
export function preloadToday(pid) {
  for (const [key, path] of todayRequests(pid)) {
    const answer = cachedGet(key, path);
    answer.catch(() => {}); // whoever uses it deals with a failure; none is left unhandled
    preloaded.set(key, answer);
  }
}

export function hasPreloaded() {
  return preloaded.size > 0;
}

/** What the Today screen reads: [[cache key, path], ...]. */
export function todayRequests(pid) {
  return [[`summary:${pid}`, `/api/patients/${pid}`], [`doses:${pid}`, `/api/patients/${pid}/doses`]];
}

/** What Today's other medicines' part reads (drawn once Today is shown): [cache key, path]. */
export function medicinesRequest(pid) {
  return [`medicines:${pid}`, `/api/patients/${pid}/medicines`];
}

/**
 * GET with a copy kept on the phone: {data, fresh, savedAt}. Offline (or a server error) gives
 * the last copy; data is null when there is none. Other errors are thrown.
 */
export async function cachedGet(key, path) {
  const early = preloaded.get(key);
  if (early) {
    preloaded.delete(key);
    return early;
  }
  if (boot.answers[path] !== undefined) {
    const data = boot.answers[path];
    delete boot.answers[path];
    const savedAt = Date.now();
    kv.set(key, { data, savedAt }).catch(() => {});
    return { data, fresh: true, savedAt };
  }
  try {
    const data = await api('GET', path);
    kv.set(key, { data, savedAt: Date.now() }).catch(() => {});
    return { data, fresh: true, savedAt: Date.now() };
  } catch (error) {
    if (!error.isRetryable) throw error;
    const saved = await kv.get(key).catch(() => null);
    return { data: saved ? saved.data : null, fresh: false, savedAt: saved ? saved.savedAt : null };
  }
}
