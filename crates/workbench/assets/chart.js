// SVG charts: time on x, counts on y, with axes, tick labels, limit lines,
// markers (data exchanges), and the values under the pointer (or under the
// arrow keys when the chart has focus). Colours come from CSS classes.

import { num } from './format.js';

const SVG = 'http://www.w3.org/2000/svg';

function s(tag, attrs, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) e.setAttribute(k, String(v));
  for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function day(t) {
  return new Date(t).toISOString().slice(0, 10);
}

/** Ticks on a time axis: years, or months for spans under three years. */
function timeTicks(t0, t1) {
  const out = [];
  const span = (t1 - t0) / (365.25 * 864e5);
  const d = new Date(t0);
  if (span > 3) {
    const step = span > 12 ? 2 : 1;
    for (let y = d.getUTCFullYear(); Date.UTC(y, 0, 1) <= t1; y += step) {
      const t = Date.UTC(y, 0, 1);
      if (t >= t0) out.push({ t, label: String(y) });
    }
  } else {
    const step = span > 1.5 ? 6 : span > 0.5 ? 3 : 1;
    for (let y = d.getUTCFullYear(), m = d.getUTCMonth(); Date.UTC(y, m, 1) <= t1; m += step) {
      const t = Date.UTC(y, m, 1);
      if (t >= t0) out.push({ t, label: new Date(t).toISOString().slice(0, 7) });
    }
  }
  return out;
}

/**
 * A line chart.
 * opts: {title, series: [{name, cls, points: [{date: 'YYYY-MM-DD', value}], step}],
 *        limits: [{value, label, cls}], markers: [{date, label}], unit, width}
 */
export function lineChart(opts) {
  const W = Math.max(320, Math.min(1200, opts.width || 900));
  const narrow = W < 560;
  const H = narrow ? 260 : 320;
  const m = { l: narrow ? 52 : 72, r: narrow ? 12 : 24, t: 34, b: 60 };
  const all = opts.series.flatMap((x) => x.points.map((p) => ({ t: Date.parse(p.date), v: p.value })));
  const ts = all.map((p) => p.t);
  for (const mk of opts.markers || []) ts.push(Date.parse(mk.date));
  let t0 = Math.min(...ts);
  let t1 = Math.max(...ts);
  if (!Number.isFinite(t0)) { t0 = Date.now() - 864e5; t1 = Date.now(); }
  if (t1 === t0) { t0 -= 15 * 864e5; t1 += 15 * 864e5; }
  const vmax = niceMax(Math.max(1, ...all.map((p) => p.v), ...(opts.limits || []).map((l) => l.value || 0)) * 1.05);
  const x = (t) => m.l + (t - t0) / (t1 - t0) * (W - m.l - m.r);
  const y = (v) => H - m.b - v / vmax * (H - m.t - m.b);
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: 'chart', role: 'img', tabindex: '0',
    'aria-label': `${opts.title}. Use the left and right arrow keys to read values.`,
  });
  svg.append(s('title', {}, opts.title));
  // Axes and grid.
  const grid = s('g', { class: 'grid' });
  for (let i = 0; i <= 5; i++) {
    const v = vmax * i / 5;
    grid.append(s('line', { x1: m.l, x2: W - m.r, y1: y(v), y2: y(v) }));
    grid.append(s('text', { x: m.l - 6, y: y(v) + 4, class: 'tick y' }, num(Math.round(v))));
  }
  for (const tk of timeTicks(t0, t1)) {
    grid.append(s('line', { x1: x(tk.t), x2: x(tk.t), y1: m.t, y2: H - m.b, class: 'v' }));
    grid.append(s('text', { x: x(tk.t), y: H - m.b + 16, class: 'tick x' }, tk.label));
  }
  grid.append(s('line', { x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b, class: 'axis' }));
  grid.append(s('line', { x1: m.l, x2: m.l, y1: m.t, y2: H - m.b, class: 'axis' }));
  grid.append(s('text', { x: 4, y: 14, class: 'axis-label' }, opts.unit || ''));
  svg.append(grid);
  // Markers (data exchanges).
  for (const mk of opts.markers || []) {
    const t = Date.parse(mk.date);
    svg.append(s('line', { x1: x(t), x2: x(t), y1: m.t, y2: H - m.b, class: 'marker' },
      s('title', {}, `${mk.label} (${mk.date})`)));
  }
  // Limits.
  for (const l of opts.limits || []) {
    if (l.value === null || l.value === undefined) continue;
    svg.append(s('line', { x1: m.l, x2: W - m.r, y1: y(l.value), y2: y(l.value), class: `limit ${l.cls || ''}` }));
    svg.append(s('text', { x: W - m.r - 4, y: y(l.value) - 4, class: `limit-label ${l.cls || ''}` }, `${l.label} ${num(l.value)}`));
  }
  // Series.
  for (const ser of opts.series) {
    const pts = ser.points.map((p) => [x(Date.parse(p.date)), y(p.value)]);
    let d = '';
    pts.forEach(([px, py], i) => {
      if (i === 0) d += `M${px.toFixed(1)},${py.toFixed(1)}`;
      else if (ser.step) d += `H${px.toFixed(1)}V${py.toFixed(1)}`;
      else d += `L${px.toFixed(1)},${py.toFixed(1)}`;
    });
    svg.append(s('path', { d, class: `series ${ser.cls || ''}` }));
  }
  // Legend.
  const legend = s('g', { class: 'legend' });
  let lx = m.l;
  const ly = H - 10;
  for (const ser of opts.series) {
    const name = ser.short || ser.name;
    legend.append(s('line', { x1: lx, x2: lx + 18, y1: ly - 4, y2: ly - 4, class: `series ${ser.cls || ''}` }));
    legend.append(s('text', { x: lx + 22, y: ly }, name, s('title', {}, ser.name)));
    lx += 34 + name.length * (narrow ? 6.5 : 7.5);
  }
  svg.append(legend);
  // The values under the pointer.
  const dates = [...new Set(opts.series.flatMap((ser) => ser.points.map((p) => p.date)))].sort();
  const cursor = s('line', { x1: 0, x2: 0, y1: m.t, y2: H - m.b, class: 'cursor hidden' });
  const readout = s('text', { x: m.l + 4, y: m.t + 14, class: 'readout' });
  const dots = opts.series.map((ser) => s('circle', { r: 4, cx: -10, cy: -10, class: `dot ${ser.cls || ''}` }));
  svg.append(cursor, ...dots, readout);
  const valueAt = (ser, date) => {
    let v = null;
    for (const p of ser.points) { if (p.date <= date) v = p.value; else break; }
    return v;
  };
  let at = dates.length - 1;
  const show = (i) => {
    if (!dates.length) return;
    at = Math.max(0, Math.min(dates.length - 1, i));
    const date = dates[at];
    const px = x(Date.parse(date));
    cursor.setAttribute('x1', px);
    cursor.setAttribute('x2', px);
    cursor.setAttribute('class', 'cursor');
    const parts = opts.series.map((ser, k) => {
      const v = valueAt(ser, date);
      dots[k].setAttribute('cx', v === null ? -10 : px);
      dots[k].setAttribute('cy', v === null ? -10 : y(v));
      return `${ser.short || ser.name} ${v === null ? '–' : num(v)}`;
    });
    readout.textContent = `${date} · ${parts.join(' · ')}`;
    svg.dataset.readout = readout.textContent;
  };
  svg.addEventListener('mousemove', (ev) => {
    const r = svg.getBoundingClientRect();
    const px = (ev.clientX - r.left) * W / r.width;
    const t = t0 + (px - m.l) / (W - m.l - m.r) * (t1 - t0);
    let best = 0;
    dates.forEach((d, i) => { if (Math.abs(Date.parse(d) - t) < Math.abs(Date.parse(dates[best]) - t)) best = i; });
    show(best);
  });
  svg.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowLeft') { show(at - 1); ev.preventDefault(); }
    if (ev.key === 'ArrowRight') { show(at + 1); ev.preventDefault(); }
  });
  svg.addEventListener('focus', () => show(at));
  svg.show = show;
  svg.dates = dates;
  return svg;
}

/** A horizontal meter: value against a maximum, with the numbers. */
export function meter(value, max, label, cls) {
  const W = 300;
  const H = 14;
  const frac = max ? Math.min(1, value / max) : 0;
  return s('svg', { viewBox: `0 0 ${W} ${H}`, class: `meter ${cls || ''}`, role: 'img', 'aria-label': label, preserveAspectRatio: 'none' },
    s('rect', { x: 0, y: 0, width: W, height: H, class: 'track' }),
    s('rect', { x: 0, y: 0, width: (W * frac).toFixed(1), height: H, class: 'fill' }));
}

export { day };
