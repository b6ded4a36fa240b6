// The care team's inline-SVG charts. Each has a text summary (role=img, aria-label) and the page
// lists the same figures as text, so nothing depends on seeing the picture or on colour.
// Doses taken against the plan use the patient app's columns() from /static/js/charts.js.

import { s } from '/static/js/dom.js';

const W = 640;
const H = 240;
const LEFT = 52;
const RIGHT = 16;
const TOP = 16;
const BASE = 200;

/** ANC (cells/uL) over time against a dashed line where each of the patient's bands begins.
 * points: [{at, value, label, band}]; lines: [{value, band, light}], highest first, from the
 * server's anc_band_edges (the bands it reads this patient's results with), never written here. */
export function ancChart(points, summary, lines) {
  const times = points.map((p) => new Date(p.at).getTime());
  const first = Math.min(...times);
  const last = Math.max(...times);
  const span = Math.max(last - first, 24 * 3600 * 1000);
  // room above the highest line (its height x 5/3), or above the highest count
  const top = Math.max(1, ...lines.map((l) => (l.value * 5) / 3), ...points.map((p) => p.value)) * 1.1;
  const x = (time) => (points.length === 1 ? (LEFT + W - RIGHT) / 2 : LEFT + ((time - first) / span) * (W - LEFT - RIGHT - 30) + 15);
  const y = (value) => BASE - (value / top) * (BASE - TOP);
  const parts = [
    s('line', { class: 'axis', x1: LEFT, y1: BASE, x2: W - RIGHT, y2: BASE }),
    s('line', { class: 'axis', x1: LEFT, y1: TOP, x2: LEFT, y2: BASE }),
  ];
  lines.forEach(({ value, band, light }, index) => {
    const data = { 'data-cells-per-ul': value, 'data-band': band, 'data-light': light };
    parts.push(
      s('line', { class: `threshold threshold-${index}`, x1: LEFT, y1: y(value), x2: W - RIGHT, y2: y(value), ...data }),
      s('text', { class: 'chart-label threshold-label', x: LEFT - 6, y: y(value) + 4, 'text-anchor': 'end' }, String(value)),
    );
  });
  let lastLabel = -Infinity;
  const sorted = points.map((p, i) => ({ ...p, time: times[i] })).sort((a, b) => a.time - b.time);
  parts.push(s('polyline', { class: 'trend', points: sorted.map((p) => `${x(p.time)},${y(p.value)}`).join(' ') }));
  sorted.forEach((p, index) => {
    const cx = x(p.time);
    const cy = y(p.value);
    // the band is a shape as well as a label: circle normal, triangle mild/moderate, square severe
    if (p.band === 'severe') parts.push(s('rect', { class: 'point point-low', x: cx - 6, y: cy - 6, width: 12, height: 12 }));
    else if (p.band === 'mild' || p.band === 'moderate') parts.push(s('polygon', { class: 'point point-low', points: `${cx},${cy - 7} ${cx + 7},${cy + 6} ${cx - 7},${cy + 6}` }));
    else parts.push(s('circle', { class: 'point', cx, cy, r: 5 }));
    const near = index > 0 && cx - x(sorted[index - 1].time) < 40;
    parts.push(s('text', { class: 'chart-value', x: cx, y: near ? cy + 22 : cy - 10, 'text-anchor': 'middle' }, String(Math.round(p.value))));
    // a date under the axis unless it would touch the previous one
    if (cx - lastLabel >= 60) {
      lastLabel = cx;
      parts.push(s('text', { class: 'chart-label', x: cx, y: BASE + 18, 'text-anchor': 'middle' }, p.label));
    }
  });
  return s('svg', { class: 'chart care-chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': summary }, parts);
}

/** Bowel movements per day as stacked blocks, each with its Bristol type. days: [{label, types}]. */
export function bowelChart(days, summary) {
  const slot = (W - LEFT - RIGHT) / days.length;
  const block = Math.min(34, slot * 0.8);
  const most = Math.max(3, ...days.map((d) => d.types.length));
  const step = 30;
  const base = TOP + most * step; // as tall as the busiest day needs
  const parts = [s('line', { class: 'axis', x1: LEFT, y1: base, x2: W - RIGHT, y2: base })];
  days.forEach((day, index) => {
    const mid = LEFT + index * slot + slot / 2;
    if (!day.types.length) {
      parts.push(s('text', { class: 'chart-value', x: mid, y: base - 6, 'text-anchor': 'middle' }, '–'));
    }
    day.types.forEach((type, n) => {
      const yTop = base - (n + 1) * step;
      const hard = type <= 2;
      parts.push(s('rect', {
        class: `stool ${hard ? 'stool-hard' : type >= 6 ? 'stool-loose' : 'stool-normal'}`,
        x: mid - block / 2, y: yTop + 1, width: block, height: step - 2, rx: 3,
      }));
      if (hard) parts.push(s('line', { class: 'stool-stripe', x1: mid - block / 2 + 2, y1: yTop + step - 3, x2: mid + block / 2 - 2, y2: yTop + 3 }));
      parts.push(s('text', { class: 'stool-type', x: mid, y: yTop + step / 2 + 5, 'text-anchor': 'middle' }, String(type)));
    });
    parts.push(s('text', { class: 'chart-label', x: mid, y: base + 18, 'text-anchor': 'middle' }, day.label));
  });
  return s('svg', { class: 'chart care-chart', viewBox: `0 0 ${W} ${base + 26}`, role: 'img', 'aria-label': summary }, parts);
}
