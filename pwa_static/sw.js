/* The service worker of the clozapine companion's patient app.
 *
 * - The app shell is cached under a versioned name: VERSION is a fingerprint of the SHELL files
 *   (`scripts/shell_version.py --write`; a test fails when it is stale); old caches are
 *   deleted on activate.
 * - Navigations go to the network first; without one, the app shell ("/") is served from the
 *   cache so logging works offline, and any other page falls back to the offline page. A page
 *   marked no-store (a signed-in "/", which carries that person's first answers) is never cached.
 * - Static assets are served cache-first. /api/ is never cached: health data stays off disk caches.
 *   The one exception is kept, not served: the public symptom catalogue (`/api/catalogue`, no
 *   person's data), English's from install and the chosen language's, which the page reads
 *   when it starts offline before it ever had its own copy (store.js).
 * - push always shows a notification; dose notifications carry "Taken" and "Snooze" actions that
 *   work without opening a window; a plain tap opens the payload's URL. A payload carries a
 *   message code and its parameters in the recipient's language (`lang`); the words are that
 *   language's catalogue (i18n/<lang>.json, `push.<code>.title` and `.body`), kept in the shell
 *   cache from install and whenever the app chooses a language, so they need no connection.
 * - Background Sync sends the IndexedDB outbox: the database, the lock and what an answer means
 *   come from js/outbox-core.js, which the page's outbox uses too.
 *
 * A classic script (not a module) so that it runs in every browser that has service workers.
 */

const VERSION = 'aaaacdbe524b';
const SHELL_CACHE = `companion-shell-${VERSION}`;
const SHELL = [
  '/',
  '/static/offline.html',
  '/manifest.webmanifest',
  '/static/css/app.css',
  '/static/i18n/en.json',
  '/static/i18n/languages.json',
  '/static/icons/icon-192.png',
  '/static/js/app.js',
  '/static/js/api.js',
  '/static/js/charts.js',
  '/static/js/clinical.js',
  '/static/js/db.js',
  '/static/js/dom.js',
  '/static/js/i18n.js',
  '/static/js/intl-warm.js',
  '/static/js/outbox.js',
  '/static/js/outbox-core.js',
  '/static/js/parts.js',
  '/static/js/pictures.js',
  '/static/js/push.js',
  '/static/js/store.js',
  '/static/js/ui.js',
  '/static/js/views/bowel.js',
  '/static/js/views/guidance.js',
  '/static/js/views/history.js',
  '/static/js/views/medicines.js',
  '/static/js/views/reset.js',
  '/static/js/views/settings.js',
  '/static/js/views/signin.js',
  '/static/js/views/symptom.js',
  '/static/js/views/today.js',
  '/static/js/views/when.js',
  '/static/js/words-core.js',
];
const APP_ASSETS = /^\/static\/(js|css|i18n|icons)\/|^\/static\/offline\.html$|^\/manifest\.webmanifest$/;
const CARE_APP = /^\/care(\/|$)|^\/static\/care\//;
const NAVIGATION_TIMEOUT_MS = 6000;
importScripts('/static/js/outbox-core.js', '/static/js/words-core.js');
const core = self.companionOutboxCore;
const { SYNC_TAG } = core;
const { fill, symptomCatalogueUrl } = self.companionWords;

// --- install, activate ---------------------------------------------------------------------

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    // without the cookie: a signed-in "/" carries that person's data (server/web.py), the
    // cached shell must not
    await cache.addAll([...SHELL, symptomCatalogueUrl('en')]
      .map((url) => new Request(url, { cache: 'reload', credentials: 'omit' })));
    await keepCatalogue(await chosenLanguage()).catch(() => {}); // the notifications' words
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names
      .filter((name) => name.startsWith('companion-') && name !== SHELL_CACHE)
      .map((name) => caches.delete(name)));
    if (self.registration.navigationPreload) await self.registration.navigationPreload.enable();
    await self.clients.claim();
  })());
});

// --- fetch ---------------------------------------------------------------------------------

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname === '/healthz') return; // never cached
  if (CARE_APP.test(url.pathname)) return; // the care-team app is not this worker's business
  if (request.mode === 'navigate') {
    event.respondWith(navigate(event, url));
  } else if (APP_ASSETS.test(url.pathname)) {
    event.respondWith(cacheFirst(request));
  }
});

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    promise.then((value) => { clearTimeout(timer); resolve(value); },
      (error) => { clearTimeout(timer); reject(error); });
  });
}

async function navigate(event, url) {
  const isApp = url.pathname === '/' || url.pathname === '/index.html';
  const cache = await caches.open(SHELL_CACHE);
  try {
    const response = await withTimeout(
      Promise.resolve(event.preloadResponse).then((preloaded) => preloaded || fetch(event.request)),
      NAVIGATION_TIMEOUT_MS,
    );
    if (isApp && response.ok && !isNoStore(response)) {
      // a signed-in page carries health data and says no-store: it is never kept
      event.waitUntil(cache.put('/', response.clone()));
    } else if (isApp && response.status >= 500) {
      return (await cache.match('/')) || response;
    }
    return response;
  } catch {
    const fallback = (isApp && await cache.match('/')) || await cache.match('/static/offline.html');
    return fallback || Response.error();
  }
}

function isNoStore(response) {
  return /(^|[\s,])no-store([\s,]|$)/i.test(response.headers.get('Cache-Control') || '');
}

async function cacheFirst(request) {
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && response.type === 'basic') await cache.put(request, response.clone());
  return response;
}

// --- IndexedDB (outbox-core.js: the same database, lock and answers as the page) ---------------

async function idb(storeName, mode, makeRequest) {
  const db = await core.openDatabase();
  try {
    return await core.runIn(db, storeName, mode, makeRequest);
  } finally {
    db.close();
  }
}

const kvGet = (key) => idb('kv', 'readonly', (store) => store.get(key));
const outboxAll = () => idb('outbox', 'readonly', (store) => store.getAll());
const outboxGet = (id) => idb('outbox', 'readonly', (store) => store.get(id));
const outboxPut = (entry) => idb('outbox', 'readwrite', (store) => store.put(entry));
const outboxDel = (id) => idb('outbox', 'readwrite', (store) => store.delete(id));

const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

function catalogueUrl(lang) {
  return `/static/i18n/${LANGUAGE.test(lang || '') ? lang : 'en'}.json`;
}

/** The language this phone's person chose (the app keeps it in the settings). */
async function chosenLanguage() {
  try {
    const settings = await kvGet('settings');
    return (settings && settings.lang) || 'en';
  } catch {
    return 'en';
  }
}

/** Keep the words of `lang` in the shell cache, the app's and the server's symptom catalogue
 * (English's are kept at install). */
async function keepCatalogue(lang) {
  if (!lang || lang === 'en' || !LANGUAGE.test(lang)) return;
  const cache = await caches.open(SHELL_CACHE);
  for (const url of [catalogueUrl(lang), symptomCatalogueUrl(lang)]) {
    if (await cache.match(url, { ignoreVary: true })) continue;
    await cache.add(new Request(url, { credentials: 'omit' }));
  }
}

self.addEventListener('message', (event) => {
  const message = event.data || {};
  if (message.type === 'language') event.waitUntil(keepCatalogue(message.lang).catch(() => {}));
});

async function catalogue(url) {
  try {
    const response = await caches.match(url) || await fetch(url);
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

/** English's words, and those of `lang` (the chosen language when none is given; null when
 * neither the cache nor the network has them). */
async function catalogues(lang) {
  const wanted = lang || await chosenLanguage();
  // English's words are in the shell cache: this worker was not installed without them
  const english = (await catalogue(catalogueUrl('en'))) || {};
  return { english, words: wanted === 'en' ? english : await catalogue(catalogueUrl(wanted)) };
}

/** The words of `lang` (the chosen language when none is given), over English's. */
async function strings(lang) {
  const { english, words } = await catalogues(lang);
  return { ...english, ...words };
}

/** A notification's words from its code and parameters. */
function worded(text, key, params) {
  const found = text[key];
  return typeof found === 'string' ? fill(found, params) : null;
}

async function tellClients(message) {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  for (const client of windows) client.postMessage(message);
}

function newId() {
  if (self.crypto.randomUUID) return self.crypto.randomUUID();
  return `${Date.now().toString(16)}-${Math.random().toString(16).slice(2)}-${Math.random().toString(16).slice(2)}`;
}

// --- the outbox ----------------------------------------------------------------------------

async function postJson(path, body, token, key) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (token) headers['X-CSRF-Token'] = token;
  if (key) headers['Idempotency-Key'] = key;
  return fetch(path, { method: 'POST', headers, body: JSON.stringify(body), credentials: 'same-origin', cache: 'no-store' });
}

async function errorOf(response) {
  try {
    const data = await response.json();
    return (data && data.error) || {};
  } catch {
    return {};
  }
}

// Send one entry: 'sent', 'pending' (try later), 'signin' (session ended) or 'failed'.
async function sendEntry(entry, token) {
  const current = await outboxGet(entry.id);
  if (!current || current.state !== 'pending') return 'sent';
  let response;
  try {
    response = await postJson(current.path, current.body, token, current.id);
  } catch {
    return 'offline';
  }
  const error = response.ok ? {} : await errorOf(response);
  const outcome = core.outcomeOf(response.status, error.code, current.kind);
  if (outcome === 'sent' || outcome === 'already') {
    await outboxDel(current.id);
    return 'sent';
  }
  if (outcome !== 'failed') return outcome;
  await outboxPut({ ...current, state: 'failed', error: { status: response.status, code: error.code, message: error.message, fields: error.fields } });
  return 'failed';
}

async function flushOutbox() {
  const outcomes = await core.withLock(async () => {
    const session = await kvGet('session');
    if (!session || !session.user) return [];
    const entries = (await outboxAll())
      .filter((entry) => entry.state === 'pending' && entry.userId === session.user.id)
      .sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1));
    const done = [];
    for (const entry of entries) {
      const outcome = await sendEntry(entry, session.csrf_token);
      done.push(outcome);
      if (outcome === 'offline' || outcome === 'signin') break;
    }
    return done;
  });
  if (outcomes.length) await tellClients({ type: 'outbox-changed' });
  if (outcomes.includes('offline') || outcomes.includes('pending')) {
    throw new Error('some entries are still waiting'); // the browser retries the sync later
  }
}

self.addEventListener('sync', (event) => {
  if (event.tag === SYNC_TAG) event.waitUntil(flushOutbox());
});

// --- push ----------------------------------------------------------------------------------

function readPayload(event) {
  if (!event.data) return {};
  try {
    return event.data.json() || {};
  } catch {
    try {
      return { body: event.data.text() };
    } catch {
      return {};
    }
  }
}

self.addEventListener('push', (event) => {
  // Always show a notification: browsers revoke push from apps that receive silently.
  event.waitUntil((async () => {
    const payload = readPayload(event);
    const { english, words } = await catalogues(payload.lang);
    const text = { ...english, ...words };
    const params = payload.params && typeof payload.params === 'object' ? payload.params : {};
    const code = typeof payload.code === 'string' ? payload.code : null;
    // the recipient's catalogue; else the words the sender made in their language; else English
    const say = (part) => (code && words && worded(words, `push.${code}.${part}`, params))
      || payload[part] || (code && worded(english, `push.${code}.${part}`, params));
    const title = say('title') || text['push.defaultTitle'];
    const body = say('body') || text['push.defaultBody'];
    const wanted = (payload.actions || []).map((a) => (typeof a === 'string' ? a : a && a.action));
    const isDose = payload.kind === 'dose' && payload.dose_id && payload.patient_id;
    const actions = [];
    if (isDose && (wanted.length === 0 || wanted.includes('taken'))) actions.push({ action: 'taken', title: text['push.actionTaken'] });
    if (isDose && (wanted.length === 0 || wanted.includes('snooze'))) actions.push({ action: 'snooze', title: text['push.actionSnooze'] });
    await self.registration.showNotification(title, {
      body,
      tag: payload.tag || undefined,
      renotify: Boolean(payload.tag),
      icon: '/static/icons/icon-192.png',
      badge: '/static/icons/icon-192.png',
      requireInteraction: payload.kind === 'escalation',
      actions,
      data: {
        url: payload.url || '/',
        kind: payload.kind,
        dose_id: payload.dose_id,
        patient_id: payload.patient_id,
        lang: payload.lang,
      },
    });
  })());
});

function safeUrl(url) {
  try {
    const target = new URL(url || '/', self.location.origin);
    return target.origin === self.location.origin ? target : new URL('/', self.location.origin);
  } catch {
    return new URL('/', self.location.origin);
  }
}

async function openApp(url) {
  const target = safeUrl(url);
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const app = windows.find((client) => {
    const path = new URL(client.url).pathname;
    return path === '/' || path === '/index.html';
  });
  if (app && target.pathname === '/') {
    await app.focus();
    app.postMessage({ type: 'navigate', url: target.href });
    return;
  }
  // a care-team alert: an open care page already shows it (care/js/live.js), so bring it forward
  const care = CARE_APP.test(target.pathname) && windows.find((client) => CARE_APP.test(new URL(client.url).pathname));
  if (care) {
    await care.focus();
    return;
  }
  await self.clients.openWindow(target.href);
}

async function confirm(notification, body, text) {
  await self.registration.showNotification(notification.title || text['push.defaultTitle'], {
    body,
    tag: notification.tag || undefined,
    silent: true,
    icon: '/static/icons/icon-192.png',
    data: notification.data,
  });
}

async function doseAction(action, notification) {
  const data = notification.data || {};
  const text = await strings(data.lang);
  const session = await kvGet('session');
  if (!session || !data.dose_id || !data.patient_id) {
    await openApp(data.url);
    return;
  }
  const base = `/api/patients/${encodeURIComponent(data.patient_id)}`;
  if (action === 'taken') {
    const entry = {
      id: newId(),
      kind: 'dose',
      userId: session.user.id,
      patientId: Number(data.patient_id),
      path: `${base}/dose-events`,
      body: { dose_id: data.dose_id, status: 'taken', at: new Date().toISOString() },
      createdAt: new Date().toISOString(),
      state: 'pending',
    };
    await outboxPut(entry);
    const outcome = await withLock(() => sendEntry(entry, session.csrf_token));
    await tellClients({ type: 'outbox-changed' });
    if (outcome === 'sent') {
      await confirm(notification, text['push.takenDone'], text);
    } else if (outcome === 'offline' || outcome === 'pending') {
      if (self.registration.sync) await self.registration.sync.register(SYNC_TAG).catch(() => {});
      await confirm(notification, text['push.takenSaved'], text);
    } else {
      await openApp('/#/today');
    }
    return;
  }
  try {
    const response = await postJson(`${base}/doses/${encodeURIComponent(data.dose_id)}/snooze`, { minutes: 30 }, session.csrf_token);
    if (response.ok) {
      await confirm(notification, text['push.snoozed'], text);
      return;
    }
  } catch {
    // offline: say so below
  }
  await confirm(notification, text['push.openApp'], text);
}

self.addEventListener('notificationclick', (event) => {
  const notification = event.notification;
  notification.close();
  if (event.action === 'taken' || event.action === 'snooze') {
    event.waitUntil(doseAction(event.action, notification));
  } else {
    event.waitUntil(openApp((notification.data || {}).url));
  }
});

function keyBytes(base64url) {
  const base64 = (base64url + '='.repeat((4 - (base64url.length % 4)) % 4)).replace(/-/g, '+').replace(/_/g, '/');
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

self.addEventListener('pushsubscriptionchange', (event) => {
  event.waitUntil((async () => {
    const session = await kvGet('session');
    if (!session) return;
    const old = event.oldSubscription;
    let subscription = event.newSubscription;
    if (!subscription) {
      let key = old && old.options && old.options.applicationServerKey;
      if (!key) {
        const response = await fetch('/api/push/vapid-public-key', { cache: 'no-store' });
        key = keyBytes((await response.json()).key);
      }
      subscription = await self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
    }
    await postJson('/api/push/subscriptions', subscription.toJSON(), session.csrf_token);
    if (old && old.endpoint !== subscription.endpoint) {
      await fetch('/api/push/subscriptions', {
        method: 'DELETE',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf_token },
        body: JSON.stringify({ endpoint: old.endpoint }),
        credentials: 'same-origin',
      }).catch(() => {});
    }
  })());
});
