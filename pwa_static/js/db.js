// The phone's own storage: IndexedDB with two stores, `outbox` (writes not yet sent) and `kv`
// (the session, the catalogue, settings and the last answers needed to work offline).
// sw.js opens the same database with the same version; change both together.

const DB_NAME = 'companion';
const DB_VERSION = 1;
let opening = null;

export function openDb() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        if (!db.objectStoreNames.contains('outbox')) db.createObjectStore('outbox', { keyPath: 'id' });
        if (!db.objectStoreNames.contains('kv')) db.createObjectStore('kv');
      };
      request.onsuccess = () => {
        const db = request.result;
        db.onversionchange = () => { db.close(); opening = null; };
        resolve(db);
      };
      request.onerror = () => { opening = null; reject(request.error); };
    });
  }
  return opening;
}

// One request in one transaction; resolves when the transaction has committed.
async function run(storeName, mode, makeRequest) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(storeName, mode);
    const request = makeRequest(tx.objectStore(storeName));
    tx.oncomplete = () => resolve(request ? request.result : undefined);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

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
