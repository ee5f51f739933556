// Formatting and DOM helpers: numbers with thousands separators and units,
// dates, and elements built without any inline style or script.

const NUM = new Intl.NumberFormat('en-US');

/** A count with thousands separators, and its unit if given. */
export function num(n, unit) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  const s = NUM.format(n);
  return unit ? `${s} ${n === 1 ? unit.replace(/s$/, '') : unit}` : s;
}

/** A percentage with one decimal. */
export function pct(part, whole) {
  if (!whole) return '–';
  return `${(100 * part / whole).toFixed(1)} %`;
}

/** What each limit counts, in words (the unit of its number). */
export const UNITS = {
  deployed_delivery_vehicles: 'delivery vehicles',
  deployed_warheads: 'warheads',
  deployed_and_nondeployed_launchers: 'launchers',
};

export function unitOf(limit) {
  return UNITS[limit] || 'items';
}

/** Words for snake_case names. */
export function words(s) {
  return String(s ?? '').replaceAll('_', ' ');
}

/** `el('td', {class: 'n'}, 'text', child, …)`: an element with attributes
 *  and children (strings become text nodes; null and false are skipped). */
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

/** A table: `head` is a list of column titles (a title ending in `#` is
 *  numeric and right-aligned), `rows` a list of lists of cells. */
export function table(caption, head, rows, attrs) {
  const numeric = head.map((h) => String(h).endsWith('#'));
  return el('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    el('table', attrs || {},
      el('caption', {}, caption),
      el('thead', {}, el('tr', {}, head.map((h, i) =>
        el('th', { scope: 'col', class: numeric[i] ? 'n' : null }, String(h).replace(/#$/, ''))))),
      el('tbody', {}, rows.map((r) => (r instanceof Node ? r : el('tr', {}, r.map((c, i) =>
        (c instanceof Node && c.tagName === 'TD') ? c : el('td', { class: numeric[i] ? 'n' : null }, c))))))));
}

/** Empties a node and fills it with children. */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}
