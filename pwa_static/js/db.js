// The phone's own storage: IndexedDB with two stores, `outbox` (writes not yet sent) and `kv`
// (the session, the catalogue, settings and the last answers needed to work offline). The
// database itself is outbox-core.js's, which the service worker loads too.

import './outbox-core.js';

const core = globalThis.companionOutboxCore;
let opening = null;

export function openDb() {
  if (!opening) {
    opening = core.openDatabase().then((db) => {
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
