// The phone's own storage: IndexedDB with two stores, `outbox` (writes not yet sent) and `kv`
// (the session, the catalogue, settings and the last answers needed to work offline). The
// database itself is outbox-core.js's, which the service worker loads too.

import './outbox-core.js';

const core = globalThis.companionOutboxCore;
let opening = null;
let held = null;

/**
 * Opening the database is a moment of a slow phone's start: a page that came with its answers
 * draws its first screen first. Until the returned function is called, reads and writes wait.
 */
export function holdDatabase() {
  let release;
  held = new Promise((resolve) => { release = resolve; });
  return () => {
    held = null;
    release();
  };
}

/** Whether the database waits for the first screen (what is read from it comes after). */
export const databaseHeld = () => held !== null;

export function openDb() {
  if (!opening) {
    opening = (held || Promise.resolve()).then(() => core.openDatabase()).then((db) => {
      db.onversionchange = () => { db.close(); opening = null; };
      return db;
    }, (error) => {
      opening = null;
      throw error;
    });
  }
  return opening;
}

const run = (storeName, mode, makeRequest) => openDb().then((db) => core.runIn(db, storeName, mode, makeRequest));

export const kv = {
  get: (key) => run('kv', 'readonly', (store) => store.get(key)),
  set: (key, value) => run('kv', 'readwrite', (store) => store.put(value, key)),
  del: (key) => run('kv', 'readwrite', (store) => store.delete(key)),
  keys: () => run('kv', 'readonly', (store) => store.getAllKeys()),
};

export const outboxStore = {
  all: () => run('outbox', 'readonly', (store) => store.getAll()),
  get: (id) => run('outbox', 'readonly', (store) => store.get(id)),
  put: (entry) => run('outbox', 'readwrite', (store) => store.put(entry)),
  del: (id) => run('outbox', 'readwrite', (store) => store.delete(id)),
};
