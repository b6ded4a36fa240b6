// Every log is written here first (IndexedDB), then sent. Each entry has a client-made id that
// travels as the Idempotency-Key, so sending it twice (a lost answer, the page and the service
// worker at once) still records it once. Entries keep the time they were made (in their body).
// sw.js sends the same entries on Background Sync; both take the lock, the tag and the meaning
// of an answer from outbox-core.js.

import { api } from './api.js';
import { outboxStore } from './db.js';

const { SYNC_TAG, changedByTeam, outcomeOf, withLock } = globalThis.companionOutboxCore; // loaded by db.js
const listeners = new Set();
let retryTimer = null;
let retryDelay = 15000;

export function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Be told when entries are added, sent or fail (here or in the service worker). */
export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Whether a refusal means the care team changed the dose since the phone showed it
 * (outbox-core.js): Today is drawn again to say what to do instead. */
export function refusedAsChangedByTeam(error) {
  return Boolean(error && changedByTeam(error.code));
}

export function notifyChanged(detail = { type: 'changed' }) {
  for (const listener of listeners) listener(detail);
}

/** This user's entries, oldest first: state 'pending' (not sent yet) or 'failed' (refused). */
export async function entries(userId) {
  const all = await outboxStore.all();
  return all
    .filter((entry) => entry.userId === userId)
    .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
}

// One send, under the lock. Outcomes: sent (with the answer), pending (try later), signin
// (the session ended: keep it until the same person signs in again), failed (refused for good).
async function attempt(entry) {
  const current = await outboxStore.get(entry.id);
  if (!current) return { outcome: 'sent', data: null };
  if (current.state !== 'pending') return { outcome: current.state, error: current.error };
  try {
    const data = await api('POST', current.path, { body: current.body, key: current.id });
    await outboxStore.del(current.id);
    return { outcome: 'sent', data };
  } catch (error) {
    const outcome = outcomeOf(error.status, error.code, current.kind);
    if (outcome === 'already') {
      await outboxStore.del(current.id);
      return { outcome: 'sent', data: null, already: true };
    }
    if (outcome === 'signin' || outcome === 'pending') return { outcome, error };
    const refused = { status: error.status, code: error.code, message: error.message, fields: error.fields };
    await outboxStore.put({ ...current, state: 'failed', error: refused });
    return { outcome: 'failed', error };
  }
}

function registerSync() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.getRegistration()
    .then((registration) => registration && registration.sync && registration.sync.register(SYNC_TAG))
    .catch(() => {});
}

function afterAttempts(results, userId) {
  if (results.some((r) => r.outcome === 'pending')) {
    registerSync();
    if (!retryTimer) {
      retryTimer = setTimeout(() => {
        retryTimer = null;
        flush(userId);
      }, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 5 * 60 * 1000);
    }
  } else if (results.some((r) => r.outcome === 'sent')) {
    retryDelay = 15000;
  }
}

/**
 * Save a log on the phone, then try to send it at once.
 * Returns {entry, outcome, data?, error?}; outcome 'pending' means "saved on this phone".
 */
export async function submit({ kind, userId, patientId, path, body }) {
  const entry = {
    id: newId(),
    kind,
    userId,
    patientId,
    path,
    body,
    createdAt: new Date().toISOString(),
    state: 'pending',
  };
  await outboxStore.put(entry);
  notifyChanged({ type: 'added', entry });
  const result = await withLock(() => attempt(entry));
  afterAttempts([result], userId);
  notifyChanged({ type: 'attempted', entry, result });
  return { entry, ...result };
}

/** Send whatever is waiting, oldest first. Stops at the first sign of no connection. */
export async function flush(userId) {
  if (!userId) return [];
  const results = await withLock(async () => {
    const done = [];
    for (const entry of await entries(userId)) {
      if (entry.state !== 'pending') continue;
      const result = await attempt(entry);
      done.push({ entry, ...result });
      if (result.outcome === 'signin') break;
      if (result.outcome === 'pending' && result.error && result.error.isNetwork) break;
    }
    return done;
  });
  afterAttempts(results, userId);
  if (results.length) notifyChanged({ type: 'flushed', results });
  return results;
}

/** Forget a refused entry once its message has been read. */
export async function dismiss(id) {
  await outboxStore.del(id);
  notifyChanged({ type: 'dismissed', id });
}

/** Drop everything waiting for this user (signing out on purpose). */
export async function discardAll(userId) {
  for (const entry of await entries(userId)) await outboxStore.del(entry.id);
  notifyChanged({ type: 'discarded' });
}
