// The guidance library: the list of pages and one page, built from the API's blocks with text
// nodes only. Pages read once are kept on the phone so they can be read again offline.

import { h } from '../dom.js';
import { formatDate, lang, t } from '../i18n.js';
import { cachedGet } from '../store.js';
import { backLink, heading, messageFor } from '../ui.js';

function spans(list) {
  return (list || []).map((span) => (span.bold ? h('strong', {}, span.text) : span.text));
}

function block(item) {
  if (item.type === 'h2') return h('h2', {}, item.text);
  if (item.type === 'p') return h('p', {}, spans(item.spans));
  if (item.type === 'ul') return h('ul', {}, (item.items || []).map((entry) => h('li', {}, spans(entry))));
  return null;
}

function sourceText(source) {
  if (typeof source === 'string') return source;
  return source.title || source.name || source.url || '';
}

function reviewed(date) {
  return /^\d{4}-\d{2}-\d{2}$/.test(date || '') ? formatDate(date) : date;
}

async function article(slug) {
  const answer = await cachedGet(`guide:${lang}:${slug}`, `/api/guidance/${encodeURIComponent(slug)}`);
  const page = answer.data;
  if (!page) {
    return h('section', { class: 'stack' }, backLink('#/guidance', t('guidance.back')), heading(t('guidance.title')),
      h('p', {}, t('guidance.offline')));
  }
  const list = await cachedGet(`guidance:${lang}`, '/api/guidance?audience=patient').catch(() => ({ data: null }));
  const titles = new Map(((list.data && list.data.items) || []).map((item) => [item.slug, item.title]));
  const related = (page.related || []).map((item) => (typeof item === 'string' ? { slug: item, title: titles.get(item) || item } : item));
  return h('article', { class: 'stack guide' },
    backLink('#/guidance', t('guidance.back')),
    heading(page.title),
    page.summary ? h('p', { class: 'lead' }, page.summary) : null,
    (page.blocks || []).map(block),
    related.length ? h('section', { class: 'stack', 'aria-labelledby': 'related-title' },
      h('h2', { id: 'related-title' }, t('guidance.related')),
      h('ul', {}, related.map((item) => h('li', {}, h('a', { href: `#/guidance/${encodeURIComponent(item.slug)}` }, item.title || item.slug))))) : null,
    h('footer', { class: 'hint stack' },
      page.awaiting_review ? h('p', { class: 'notice' }, t('guidance.awaitingReview')) : null,
      page.reviewed ? h('p', {}, t('guidance.reviewed', { date: reviewed(page.reviewed) })) : null,
      (page.sources || []).length ? h('p', {}, t('guidance.sources', { sources: page.sources.map(sourceText).join('; ') })) : null));
}

export async function render({ params }) {
  try {
    if (params[0]) return await article(params[0]);
    const answer = await cachedGet(`guidance:${lang}`, '/api/guidance?audience=patient');
    const items = (answer.data && answer.data.items) || [];
    return h('section', { class: 'stack' },
      heading(t('guidance.title')),
      h('p', { class: 'lead' }, t('guidance.intro')),
      !answer.data ? h('p', { class: 'notice' }, t('guidance.offline')) : null,
      h('ul', { class: 'plain menu' }, items.map((item) => h('li', {},
        h('a', { href: `#/guidance/${encodeURIComponent(item.slug)}`, class: 'menu-link' },
          h('span', { class: 'menu-title' }, item.title),
          item.summary ? h('span', { class: 'hint' }, item.summary) : null)))));
  } catch (error) {
    return h('section', { class: 'stack' }, heading(t('guidance.title')), h('p', { class: 'error-box' }, messageFor(error)));
  }
}
