// How a catalogue's words are filled in, one copy for the page (i18n.js imports it) and the
// service worker (sw.js loads it with importScripts): each {name} placeholder takes the value of
// that name, and one without a value stays as it is. A classic script with no imports or exports,
// so that a module and a classic service worker can both load it; it sets
// globalThis.companionWords.

(() => {
  const PLACEHOLDER = /\{(\w+)\}/g;

  /** `text` with its {name} placeholders filled from `values`. */
  function fill(text, values) {
    return text.replace(PLACEHOLDER, (match, name) => (name in values ? String(values[name]) : match));
  }

  globalThis.companionWords = { fill };
})();
