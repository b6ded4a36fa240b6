// How a catalogue's words are filled in, one copy for the page (i18n.js imports it) and the
// service worker (sw.js loads it with importScripts): each {name} placeholder takes the value of
// that name, and one without a value stays as it is; and the address of the server's symptom
// catalogue in a language, which the worker keeps and the page reads when it has no copy. A
// classic script with no imports or exports, so that a module and a classic service worker can
// both load it; it sets globalThis.companionWords.

(() => {
  const PLACEHOLDER = /\{(\w+)\}/g;

  /** `text` with its {name} placeholders filled from `values`. */
  function fill(text, values) {
    return text.replace(PLACEHOLDER, (match, name) => (name in values ? String(values[name]) : match));
  }

  /** The server's symptom, Bristol and advice catalogue in `lang`: the URL names the language,
   * so the copy kept offline is that language's. */
  function symptomCatalogueUrl(lang) {
    return `/api/catalogue?lang=${encodeURIComponent(lang)}`;
  }

  globalThis.companionWords = { fill, symptomCatalogueUrl };
})();
