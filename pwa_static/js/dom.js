// Building the page without innerHTML: every piece of data goes in as a text node; and what kind
// of device the page is on (for the push client's states, push.js, in both apps).

const SVG_NS = 'http://www.w3.org/2000/svg';
let counter = 0;

function setProps(el, props) {
  if (!props) return;
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'value' || key === 'checked') {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** An HTML element with attributes, listeners (onclick: fn) and children (text or nodes). */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  setProps(el, props);
  append(el, children);
  return el;
}

/** An SVG element, for the pictures and charts drawn inline. */
export function s(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setProps(el, props);
  append(el, children);
  return el;
}

/** A page-unique id for label/for and aria-describedby pairs. */
export function uid(prefix = 'id') {
  counter += 1;
  return `${prefix}-${counter}`;
}

// --- the device ------------------------------------------------------------------------------

export function isIos() {
  return /iphone|ipad|ipod/i.test(navigator.userAgent)
    || (navigator.platform === 'MacIntel' && navigator.maxTouchPoints > 1);
}

export function isInstalled() {
  return window.matchMedia('(display-mode: standalone)').matches || navigator.standalone === true;
}

// --- the first screen on the display ---------------------------------------------------------

const SHOWN_AT_LATEST_MS = 1000;
let resolveShown;
const shown = new Promise((resolve) => { resolveShown = resolve; });
let drawn = false;

/**
 * The app has put its first screen in the page: what that screen does not need (the list of
 * patients, the language kept on the server, the medicines part, the manifest) waits until it is
 * on the display, so that on a slow connection the screen's own requests go first. The browser
 * says when by reporting the screen's largest paint; where no report comes (a browser without
 * it, or a screen with nothing larger than the one before), a second after drawing.
 */
export function firstScreenDrawn() {
  if (drawn) return;
  drawn = true;
  const drawnAt = performance.now();
  const reported = (PerformanceObserver.supportedEntryTypes || []).includes('largest-contentful-paint');
  const observer = reported ? new PerformanceObserver((list) => {
    if (list.getEntries().some((entry) => entry.startTime >= drawnAt)) done();
  }) : null;
  function done() {
    if (observer) observer.disconnect();
    setTimeout(resolveShown, 0);
  }
  setTimeout(done, SHOWN_AT_LATEST_MS);
  if (observer) observer.observe({ type: 'largest-contentful-paint', buffered: true });
}

/** `work`, once the first screen is on the display (at once after that). */
export function afterFirstScreen(work) {
  return shown.then(() => work());
}
