// The outbox's core, one copy for the page (js/db.js and js/outbox.js import it) and the service
// worker (sw.js loads it with importScripts): the phone's database and its two stores, the Web
// Lock and the Background Sync tag both senders use, and what the server's answer to a sent
// entry means (js/api.js reads its errors' meaning here too). A classic script with no imports
// or exports, so that a module and a classic service worker can both load it; it sets
// globalThis.companionOutboxCore.

(() => {
  const DB_NAME = 'companion';
  const DB_VERSION = 1;
  const LOCK_NAME = 'companion-outbox';
  const SYNC_TAG = 'companion-outbox';

  /** The database, made or upgraded to this version: `outbox` (writes not yet sent, by id) and
   * `kv` (the session, the catalogue, settings and the last answers kept for offline use). */
  function openDatabase() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        if (!db.objectStoreNames.contains('outbox')) db.createObjectStore('outbox', { keyPath: 'id' });
        if (!db.objectStoreNames.contains('kv')) db.createObjectStore('kv');
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  /** One request in one transaction; resolves when the transaction has committed. */
  function runIn(db, storeName, mode, makeRequest) {
    return new Promise((resolve, reject) => {
      const tx = db.transaction(storeName, mode);
      const request = makeRequest(tx.objectStore(storeName));
      tx.oncomplete = () => resolve(request ? request.result : undefined);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }

  /** Sending is done under one Web Lock, so the page and the service worker never send the
   * same entry at once (the Idempotency-Key would still record it once). */
  function withLock(work) {
    const locks = globalThis.navigator && globalThis.navigator.locks;
    return locks ? locks.request(LOCK_NAME, work) : work();
  }

  /** The refusals of a dose that mean the care team changed it since the phone showed it: the
   * course paused or stopped (dose_withheld), or a newer plan replaced the dose (dose_replaced).
   * The person must be told (Today says what to do), never "already recorded". */
  const CHANGED_BY_TEAM = ['dose_withheld', 'dose_replaced'];

  function changedByTeam(code) {
    return CHANGED_BY_TEAM.includes(code);
  }

  /** What the answer to a sent entry means (status 0: no answer at all):
   * 'sent'; 'already' (a dose already recorded: what was wanted; but not a dose the care team
   * changed since, changedByTeam, which the person must be told of); 'signin' (the session
   * ended: keep the entry for the same person); 'pending' (try again later); 'failed' (refused
   * for good). */
  function outcomeOf(status, code, kind) {
    if (status >= 200 && status < 300) return 'sent';
    if (status === 409 && kind === 'dose' && !changedByTeam(code)) return 'already';
    if (needsSignIn(status, code)) return 'signin';
    if (isRetryable(status)) return 'pending';
    return 'failed';
  }

  /** Sending again later may work: no answer, a timeout, a rate limit or a server error (the
   * page's API errors say it too, js/api.js). */
  function isRetryable(status) {
    return status === 0 || status === 408 || status === 429 || status >= 500;
  }

  /** The session has ended (or its CSRF token is stale): sign in again, keep the entry. */
  function needsSignIn(status, code) {
    return status === 401 || (status === 403 && code === 'csrf_failed');
  }

  globalThis.companionOutboxCore = {
    LOCK_NAME, SYNC_TAG, openDatabase, runIn, withLock, outcomeOf, changedByTeam, isRetryable,
    needsSignIn,
  };
})();
