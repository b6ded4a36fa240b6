// The one fetch wrapper: JSON in and out, the CSRF header, Idempotency-Key, and the contract's
// error shape {"error": {"code", "message", "fields"?}} turned into an ApiError.

import { lang } from './i18n.js';
import './outbox-core.js';

// what an answer means, as the outbox and the service worker read it
const { isRetryable, needsSignIn } = globalThis.companionOutboxCore;

let csrfToken = null;

export function setCsrf(token) {
  csrfToken = token || null;
}

export class ApiError extends Error {
  constructor(status, code, message, fields = null) {
    super(message || code);
    this.status = status; // 0 when the request never reached the server
    this.code = code;
    this.fields = fields;
  }

  get isNetwork() {
    return this.status === 0;
  }

  /** Sending again later may work: offline, timeouts, rate limits and server errors. */
  get isRetryable() {
    return isRetryable(this.status);
  }

  /** The session has ended (or its CSRF token is stale): sign in again, keep the entry. */
  get needsSignIn() {
    return needsSignIn(this.status, this.code);
  }
}

export async function api(method, path, { body, key, timeout = 20000 } = {}) {
  // the server's words (advice, guidance, labels) in the language this person chose
  const headers = { Accept: 'application/json', 'Accept-Language': lang };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  if (key) headers['Idempotency-Key'] = key;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeout);
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: controller.signal,
    });
  } catch {
    throw new ApiError(0, 'network', '');
  } finally {
    clearTimeout(timer);
  }
  let data = null;
  if ((response.headers.get('Content-Type') || '').includes('json')) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    const failure = new ApiError(
      response.status,
      error.code || `http_${response.status}`,
      error.message || '',
      error.fields || null,
    );
    if (failure.status === 401 && path !== '/api/session' && path !== '/api/me') {
      window.dispatchEvent(new CustomEvent('companion:signed-out', { detail: failure }));
    }
    throw failure;
  }
  return data;
}
