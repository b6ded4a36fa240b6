// Simple drawings of the seven Bristol types, drawn inline (no image requests). Each type has
// its own shape, so the pictures work without colour; they are decoration next to the words.

import { s } from './dom.js';

const SHAPES = {
  1: () => [[18, 30, 8], [40, 20, 7], [38, 44, 8], [62, 31, 8], [86, 21, 7], [84, 45, 8], [105, 33, 7]]
    .map(([cx, cy, r]) => s('circle', { cx, cy, r })),
  2: () => [20, 36, 52, 68, 84, 100].map((cx, i) => s('circle', { cx, cy: i % 2 ? 28 : 32, r: 13 })),
  3: () => [
    s('rect', { x: 8, y: 17, width: 104, height: 26, rx: 13 }),
    s('path', { class: 'crack', d: 'M30 17l4 7M50 17l-3 8M70 17l4 7M90 17l-3 7M40 43l3-7M80 43l-4-7' }),
  ],
  4: () => [s('path', { class: 'smooth', d: 'M14 38C34 14 54 46 78 28S104 22 108 30' })],
  5: () => [[24, 30, 17, 11], [60, 27, 15, 10], [96, 32, 17, 11]]
    .map(([cx, cy, rx, ry]) => s('ellipse', { cx, cy, rx, ry })),
  6: () => [s('path', {
    d: 'M14 38q3-15 14-9q4-13 14-5q6-11 15-3q8-9 13 2q11-7 13 4q12 1 8 11q-5 9-16 5q-8 7-17 1q-8 6-17 0q-10 5-16-2q-12 2-11-4z',
  })],
  7: () => [
    s('path', { d: 'M8 42q10-9 25-5q15-7 30-2q18-7 31 0q16 2 17 8q-5 9-26 8q-20 3-40 0q-21 3-31-2q-9-3-6-7z' }),
    s('circle', { cx: 30, cy: 24, r: 3 }),
    s('circle', { cx: 70, cy: 20, r: 3 }),
    s('circle', { cx: 96, cy: 26, r: 2.5 }),
  ],
};

export function bristolPicture(type) {
  return s('svg', {
    class: 'bristol-picture',
    viewBox: '0 0 120 60',
    width: '120',
    height: '60',
    'aria-hidden': 'true',
    focusable: 'false',
  }, SHAPES[type]());
}
