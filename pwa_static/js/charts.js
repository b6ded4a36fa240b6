// Small inline-SVG charts. Every chart has a text summary (aria-label) and the screens list the
// same figures as text, so nothing depends on seeing the picture or telling colours apart.

import { s } from './dom.js';

const WIDTH = 320;
const HEIGHT = 150;
const BASE = 120; // y of the axis; labels go below it

/**
 * Columns, one per item: {label, value, total?, text?}. With `total`, the column shows an outline
 * for the total and a solid part for the value (e.g. doses taken out of doses planned).
 */
export function columns(items, summary) {
  const max = Math.max(1, ...items.map((item) => Math.max(item.total || 0, item.value || 0)));
  const slot = WIDTH / items.length;
  const bar = Math.min(28, slot * 0.6);
  const scale = (BASE - 22) / max;
  const parts = [s('line', { class: 'axis', x1: 0, y1: BASE, x2: WIDTH, y2: BASE })];
  items.forEach((item, index) => {
    const x = index * slot + (slot - bar) / 2;
    const mid = index * slot + slot / 2;
    if (item.total) {
      const full = item.total * scale;
      parts.push(s('rect', { class: 'bar-outline', x, y: BASE - full, width: bar, height: full }));
    }
    const height = (item.value || 0) * scale;
    if (height > 0) parts.push(s('rect', { class: 'bar', x, y: BASE - height, width: bar, height }));
    const top = BASE - Math.max(height, (item.total || 0) * scale) - 6;
    parts.push(s('text', { class: 'chart-value', x: mid, y: top, 'text-anchor': 'middle' }, item.text ?? String(item.value)));
    parts.push(s('text', { class: 'chart-label', x: mid, y: BASE + 18, 'text-anchor': 'middle' }, item.label));
  });
  return s('svg', {
    class: 'chart', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': summary,
    preserveAspectRatio: 'xMidYMid meet',
  }, parts);
}

/** Points joined by a line, with an optional dashed reference line ({value, label}). */
export function line(points, summary, reference) {
  const values = points.map((p) => p.value).concat(reference ? [reference.value] : []);
  const low = Math.min(...values) - 0.5;
  const high = Math.max(...values) + 0.5;
  const y = (v) => BASE - ((v - low) / (high - low)) * (BASE - 20);
  const step = points.length > 1 ? (WIDTH - 40) / (points.length - 1) : 0;
  const x = (i) => 20 + i * step;
  const parts = [s('line', { class: 'axis', x1: 0, y1: BASE, x2: WIDTH, y2: BASE })];
  if (reference) {
    parts.push(
      s('line', { class: 'reference', x1: 0, y1: y(reference.value), x2: WIDTH, y2: y(reference.value) }),
      s('text', { class: 'chart-label', x: 4, y: y(reference.value) - 5, 'text-anchor': 'start' }, reference.label),
    );
  }
  parts.push(s('polyline', { class: 'trend', points: points.map((p, i) => `${x(i)},${y(p.value)}`).join(' ') }));
  points.forEach((p, i) => {
    parts.push(s('circle', { class: 'point', cx: x(i), cy: y(p.value), r: 5 }));
    parts.push(s('text', { class: 'chart-label', x: x(i), y: BASE + 18, 'text-anchor': 'middle' }, p.label));
  });
  return s('svg', { class: 'chart', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': summary }, parts);
}
