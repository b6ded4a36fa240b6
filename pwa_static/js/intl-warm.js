// The browser loads its date, number and plural data on first use, a moment on a slow phone.
// The page runs this module on its own (index.html, async) as soon as it arrives, while the
// rest of the app's code is still on its way; i18n.js imports it too (the care-team app, and a
// page without it), and a module runs once however many ask for it.

new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC' }).format(0);
new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 }).format(0);
new Intl.PluralRules(undefined).select(0);
