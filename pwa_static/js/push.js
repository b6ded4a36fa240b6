// Reminders by web push, with explicit states the settings screen explains:
//   unsupported   this browser cannot receive push
//   needs-install iPhone/iPad: push only reaches an app added to the Home Screen
//   denied        the person (or the browser) blocked notifications; only site settings undo it
//   off           allowed or not yet asked, but no subscription
//   on            subscribed, and the server has the subscription
// Permission is only ever asked from a tap (turnOn), never on load.

import { api } from './api.js';
import { isInstalled, isIos } from './dom.js';

export { isInstalled, isIos };

function supported() {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

function keyBytes(base64url) {
  const base64 = (base64url + '='.repeat((4 - (base64url.length % 4)) % 4))
    .replace(/-/g, '+')
    .replace(/_/g, '/');
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

function sameKey(subscription, bytes) {
  const current = subscription.options && subscription.options.applicationServerKey;
  if (!current) return true;
  const a = new Uint8Array(current);
  return a.length === bytes.length && a.every((v, i) => v === bytes[i]);
}

async function registration() {
  return navigator.serviceWorker.ready;
}

export async function state() {
  if (!supported()) return isIos() && !isInstalled() ? 'needs-install' : 'unsupported';
  if (Notification.permission === 'denied') return 'denied';
  const subscription = await (await registration()).pushManager.getSubscription();
  return subscription && Notification.permission === 'granted' ? 'on' : 'off';
}

/** From a tap: ask permission, subscribe, tell the server. Returns the new state. */
export async function turnOn() {
  const permission = await Notification.requestPermission();
  if (permission === 'denied') return 'denied';
  if (permission !== 'granted') return 'off';
  const { key } = await api('GET', '/api/push/vapid-public-key');
  const bytes = keyBytes(key);
  const reg = await registration();
  let subscription = await reg.pushManager.getSubscription();
  if (subscription && !sameKey(subscription, bytes)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  if (!subscription) {
    subscription = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytes });
  }
  await register(reg, subscription, bytes);
  return 'on';
}

/** Tell the server; a subscription another account registered on this phone stays theirs,
 * so this person gets a new one (a new endpoint). */
async function register(reg, subscription, key) {
  try {
    await api('POST', '/api/push/subscriptions', { body: subscription.toJSON() });
  } catch (error) {
    if (error.code !== 'subscription_taken') throw error;
    await subscription.unsubscribe();
    const fresh = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
    await api('POST', '/api/push/subscriptions', { body: fresh.toJSON() });
  }
}

/** Stop reminders on this phone: the server forgets the subscription, the browser drops it. */
export async function turnOff() {
  if (!supported()) return state();
  const reg = await navigator.serviceWorker.getRegistration();
  const subscription = reg && (await reg.pushManager.getSubscription());
  if (subscription) {
    try {
      await api('DELETE', '/api/push/subscriptions', { body: { endpoint: subscription.endpoint } });
    } catch (error) {
      if (error.isRetryable) throw error;
    }
    await subscription.unsubscribe();
  }
  return state();
}

/** After signing in: make sure the server links this phone's subscription to this person. */
export async function resend() {
  if (!supported() || Notification.permission !== 'granted') return;
  const reg = await navigator.serviceWorker.getRegistration();
  const subscription = reg && (await reg.pushManager.getSubscription());
  if (subscription) await register(reg, subscription, subscription.options.applicationServerKey);
}
