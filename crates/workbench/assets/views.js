// The views. Each takes the context (party, date, the URL's parameters, the
// node's status, the keys) and returns the nodes of the page's main part;
// each number it shows comes from the node's answer, and everything that
// comes from a log is verified here before it is marked verified.

import { getJson, getBytes, getText, download, token, setToken, ApiError } from './api.js';
import { el, fill, num, pct, table, unitOf, words } from './format.js';
import { lineChart, meter } from './chart.js';
import { Tiles, verifyCheckpoint, verifyEntry, utf8, pin, unpin } from './verify.js';

const LIMIT_SHORT = {
  deployed_delivery_vehicles: 'delivery vehicles',
  deployed_warheads: 'warheads',
  deployed_and_nondeployed_launchers: 'launchers',
};

/** A link to a view, keeping the party and date. */
export function href(ctx, path, extra) {
  const p = new URLSearchParams();
  if (ctx.party && ctx.party !== ctx.status.party) p.set('party', ctx.party);
  if (ctx.date) p.set('date', ctx.date);
  for (const [k, v] of Object.entries(extra || {})) {
    if (v !== null && v !== undefined && v !== '') p.set(k, v);
  }
  const q = p.toString();
  return `/workbench/${path}${q ? `?${q}` : ''}`;
}

function link(ctx, path, extra, ...text) {
  return el('a', { href: href(ctx, path, extra), 'data-nav': '' }, ...text);
}

function needToken() {
  return el('div', { class: 'notice' },
    el('p', {}, 'This view lists the log\'s entries, which are confidential between the parties: sign in with an operator or reader token of this node.'),
    tokenForm());
}

export function tokenForm() {
  const input = el('input', { id: 'token-input', type: 'password', autocomplete: 'off', name: 'token', required: true });
  const f = el('form', { class: 'token-form', id: 'token-form' },
    el('label', { for: 'token-input' }, 'Operator or reader token'),
    input,
    el('button', { type: 'submit' }, 'Sign in'));
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    setToken(input.value.trim());
    window.dispatchEvent(new Event('accord:rerender'));
  });
  return f;
}

function errorBox(e) {
  if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return needToken();
  return el('p', { class: 'bad', role: 'alert' }, `The node answered: ${e.message}`);
}

// ------------------------------------------------------- verification

/** The key a party's log is verified with (the pinned one if pinned). */
function logKey(ctx, party) {
  const k = ctx.keys.logs.find((x) => x.party === party);
  return k ? k.key : null;
}

function witnessKeys(ctx) {
  return ctx.keys.witnesses.map((w) => w.key).filter(Boolean);
}

/** Verifies a checkpoint once per page. */
function checkpointOf(ctx, party, note) {
  const key = `${party}\n${note}`;
  if (!ctx.verified.has(key)) {
    ctx.verified.set(key, note ? verifyCheckpoint(note, logKey(ctx, party), witnessKeys(ctx))
      : Promise.resolve({ ok: false, problems: ['no signed checkpoint yet'], cosignatures: [] }));
  }
  return ctx.verified.get(key);
}

/** A badge for a checkpoint, filled in when it is verified. */
export function checkpointBadge(ctx, party, note) {
  const box = el('div', { class: 'verify pending', role: 'status', 'data-checkpoint': party }, `Checkpoint of ${party}: checking in this browser…`);
  Promise.resolve(note).then((n) => checkpointOf(ctx, party, n)).then((r) => {
    const k = ctx.keys.logs.find((x) => x.party === party);
    const how = k && k.state === 'pinned' ? 'with the pinned key' : k && k.state === 'changed' ? 'with the PINNED key (the node now serves another)' : 'with the key the node serves (not pinned)';
    const cos = r.cosignatures.map((c) => (c.ok === true
      ? el('li', { class: 'ok' }, `✓ cosigned by ${c.name}${c.time ? ` at ${new Date(c.time * 1000).toISOString().replace('.000Z', 'Z')}` : ''}`)
      : c.ok === false ? el('li', { class: 'bad' }, `✗ the cosignature of ${c.name} does not verify`)
        : el('li', { class: 'muted' }, `? ${c.name}: ${c.note}`)));
    if (r.ok) {
      box.className = 'verify ok';
      fill(box, el('strong', {}, `✓ Verified in this browser: `),
        `checkpoint of ${r.checkpoint.origin} at size ${num(r.checkpoint.size, 'entries')}, signed by its log key (${how}).`,
        cos.length ? el('ul', {}, cos) : el('span', { class: 'muted' }, ' No cosignature on it yet.'));
    } else {
      box.className = 'verify bad';
      box.setAttribute('role', 'alert');
      fill(box, el('strong', {}, '✗ Verification failed in this browser: '), r.problems.join('; '), cos.length ? el('ul', {}, cos) : null);
    }
  });
  return box;
}

/** Verifies the rows of a log page and marks each. `cells` maps a log index
 *  to its mark cell; `rows` are the node's rows with their entries. */
function verifyRows(ctx, head, rows, cells) {
  const done = (async () => {
    const cp = await checkpointOf(ctx, head.party, head.checkpoint);
    if (!cp.ok || !cp.checkpoint) {
      for (const r of rows) mark(cells.get(r.index), false, `not verified: the checkpoint failed (${cp.problems.join('; ')})`);
      return;
    }
    const size = cp.checkpoint.size;
    const tiles = new Tiles((path) => getBytes(`/workbench/api/tile/${encodeURIComponent(head.party)}/${path.replace(/^tile\//, '')}`), size);
    await Promise.all(rows.map(async (r) => {
      const cell = cells.get(r.index);
      const columns = columnsAgree(r);
      if (columns) { mark(cell, false, columns); return; }
      if (r.index >= size) { mark(cell, false, `entry ${r.index} is not under the checkpoint of size ${size}`); return; }
      const v = await verifyEntry(tiles, r.index, utf8(r.entry), cp.checkpoint.root);
      mark(cell, v.ok, v.ok ? `entry ${r.index}: included in the signed tree of size ${num(size)}` : v.problem);
    }));
  })();
  ctx.pending.push(done);
  return done;
}

/** Whether the node's columns say what the entry says (else what differs). */
function columnsAgree(r) {
  let e;
  try { e = JSON.parse(r.entry); } catch (_) { return `entry ${r.index}: not JSON`; }
  const kind = e.record || (e.event && e.event.kind);
  const checks = [
    ['kind', kind, r.kind],
    ['date', e.date, r.date],
    ['number', e.number ?? null, r.number ?? null],
    ['sent', e.sent ?? null, r.sent ?? null],
    ['item', e.event ? (e.event.item ?? null) : null, r.item ?? null],
  ];
  const bad = checks.filter(([, a, b]) => a !== b).map(([f]) => f);
  return bad.length ? `entry ${r.index}: the node's ${bad.join(', ')} differ from the entry's` : null;
}

function mark(cell, ok, why) {
  if (!cell) return;
  cell.className = ok ? 'v ok' : 'v bad';
  cell.dataset.verified = ok ? 'true' : 'false';
  fill(cell, el('span', { 'aria-hidden': 'true' }, ok ? '✓ ' : '✗ '), ok ? 'verified in this browser' : why);
  cell.title = why;
}

function pendingCell(index) {
  return el('td', { class: 'v pending', 'data-index': index }, 'checking…');
}

/** A table of log entries, each verified here. */
function entryTable(ctx, caption, page, opts) {
  const cells = new Map();
  const rows = page.rows.map((r) => {
    const e = JSON.parse(r.entry);
    const ev = e.event || {};
    const cell = pendingCell(r.index);
    cells.set(r.index, cell);
    const item = r.item ? link(ctx, `items/${encodeURIComponent(r.item)}`, {}, r.item) : '';
    const other = r.other_item ? [' → ', link(ctx, `items/${encodeURIComponent(r.other_item)}`, {}, r.other_item)] : '';
    const fac = r.facility ? link(ctx, 'notifications', { facility: r.facility }, r.facility) : '';
    const what = e.record === 'inspection'
      ? `inspection ${e.id} (${words(e.inspection_type)}) of ${e.inspected_party} by ${e.inspecting_party}`
      : ev.kind === 'data_exchange' ? Object.entries(ev.counts || {}).map(([k, v]) => `${LIMIT_SHORT[k] || words(k)} ${num(v)}`).join(', ')
        : ev.kind === 'facility_declared' ? `${ev.name} (${words(ev.facility_kind)})`
          : ev.status ? words(ev.status) : ev.reentry_vehicles !== undefined ? num(ev.reentry_vehicles, 'reentry vehicles') : '';
    return el('tr', { 'data-index': r.index, class: r.late ? 'late' : null },
      el('td', { class: 'n' }, num(r.index)),
      el('td', { class: 'n' }, e.number !== undefined ? num(e.number) : '–'),
      el('td', {}, words(e.record || ev.kind)),
      el('td', {}, e.date),
      el('td', {}, e.sent || '–'),
      el('td', {}, r.deadline || '–', r.late ? el('span', { class: 'bad' }, ' late') : ''),
      el('td', {}, fac),
      el('td', {}, item, other),
      el('td', { class: 'what' }, what),
      cell);
  });
  const t = table(caption, ['Log index#', 'Number#', 'Kind', 'Date', 'Sent', 'Deadline', 'Facility', 'Item', 'Details', 'Verified'], rows, { class: 'entries' });
  verifyRows(ctx, page.head, page.rows, cells);
  return t;
}

function synthetic(flag) {
  return flag ? el('p', { class: 'synthetic' }, el('strong', {}, 'SYNTHETIC'), ' — generated, seeded data for exercises; not any party\'s real holdings.') : null;
}

function compliance(ctx) {
  if (ctx.party === ctx.status.party) return ctx.status.compliance;
  const p = ctx.status.peers.find((x) => x.party === ctx.party);
  return p ? p.compliance : null;
}

async function checkpointNote(ctx) {
  // The node's own checkpoint with the witnesses' cosignatures.
  if (ctx.party === ctx.status.party) return getText('/checkpoint');
  const p = ctx.status.peers.find((x) => x.party === ctx.party);
  return p ? p.checkpoint : null;
}

// ------------------------------------------------------------ views

export async function overview(ctx) {
  const c = compliance(ctx);
  if (!c) return [el('p', { class: 'bad' }, `No compliance for ${ctx.party}.`)];
  const limits = c.limits.map((l) => {
    const over = l.exceeded;
    return el('section', { class: `limit-card ${over ? 'over' : ''}`, 'data-limit': l.id },
      el('h3', {}, l.name),
      el('p', { class: 'big' },
        el('span', { class: 'value', id: `value-${c.party}-${l.id}`, 'data-value': l.value }, num(l.value)),
        ' of ', l.max === null ? 'no limit yet' : num(l.max), ` ${unitOf(l.id)}`),
      meter(l.value, l.max || l.value, `${num(l.value)} of ${l.max === null ? 'no limit' : num(l.max)} ${unitOf(l.id)}`, over ? 'over' : ''),
      el('p', { class: 'muted' }, l.max ? `${pct(l.value, l.max)} of the limit · ` : '',
        l.binding ? 'binding' : `binding from ${l.binding_from}`, over ? el('strong', { class: 'bad' }, ' · EXCEEDED') : ''));
  });
  const findings = c.findings.length
    ? table(`Findings against ${c.party} on ${c.date}`, ['Date', 'Kind', 'What', 'Cause'], c.findings.map((f) => [
      f.date, words(f.kind), f.message,
      el('td', {},
        f.item ? link(ctx, `items/${encodeURIComponent(f.item)}`, {}, `item ${f.item}`) : null,
        f.item && f.notification ? ' · ' : null,
        f.notification ? link(ctx, 'notifications', { number: f.notification }, `notification ${num(f.notification)}`) : null,
        !f.item && !f.notification && f.kind.startsWith('inspection') ? link(ctx, 'inspections', {}, 'inspections') : null,
        !f.item && !f.notification && f.kind === 'late_delivery' ? link(ctx, 'exchange', {}, 'exchange') : null,
        !f.item && !f.notification && f.kind === 'limit_exceeded' ? link(ctx, 'compliance', {}, 'compliance over time') : null,
        !f.item && !f.notification && f.kind === 'missing_data_exchange' ? link(ctx, 'notifications', { kind: 'data_exchange' }, 'data exchanges') : null)]))
    : el('p', { class: 'ok' }, `No findings against ${c.party} on ${c.date}.`);
  return [
    synthetic(c.synthetic),
    el('p', {}, `${c.party} under ${c.treaty} on ${c.date}: ${c.in_force ? 'the treaty is in force' : 'the treaty is not in force'}.`),
    el('div', { class: 'cards' }, limits),
    el('h2', {}, 'Findings'),
    findings,
    el('h2', {}, 'The log'),
    checkpointBadge(ctx, ctx.party, checkpointNote(ctx)),
  ];
}

export async function facilities(ctx) {
  if (!token()) return [needToken()];
  let d;
  try { d = await getJson('/workbench/api/facilities', { party: ctx.party, date: ctx.date }); } catch (e) { return [errorBox(e)]; }
  const cat = (id) => d.categories.find((c) => c.id === id);
  const ex = d.exchange;
  const asof = ex ? ex.date : d.date;
  const totals = table(`${d.party}: every category on ${asof}, the items against the data exchange`, ['Category', `Items add up to on ${asof}#`, 'Data exchange declared#', 'Difference#'],
    d.totals.map((t) => el('tr', { class: t.declared !== null && t.declared !== t.found ? 'mismatch' : null, 'data-category': t.id },
      el('td', {}, cat(t.id).name),
      el('td', { class: 'n', 'data-found': t.found }, num(t.found, unitOf(t.id))),
      el('td', { class: 'n' }, t.declared === null ? '–' : num(t.declared, unitOf(t.id))),
      el('td', { class: 'n' }, t.declared === null ? '–' : t.declared === t.found ? 'none' : num(t.found - t.declared)))));
  const rows = d.facilities.map((f) => el('tr', { class: f.mismatch ? 'mismatch' : null, 'data-facility': f.id },
    el('th', { scope: 'row' }, link(ctx, 'notifications', { facility: f.id }, f.id), el('br'), el('span', { class: 'muted' }, `${f.name} · ${words(f.kind)}`)),
    el('td', {}, f.items.length ? el('ul', { class: 'items' }, f.items.map((i) => el('li', {}, `${num(i.count)} × ${i.item_type} (${words(i.kind)}, ${words(i.status)})`))) : el('span', { class: 'muted' }, 'no items')),
    f.categories.map((c) => el('td', { class: `n ${c.declared !== null && c.declared !== c.found ? 'bad' : ''}`, 'data-category': c.id, 'data-found': c.found },
      num(c.found), c.declared !== null ? el('span', { class: 'muted' }, ` / declared ${num(c.declared)}`) : null)),
    el('td', { class: 'n' }, num(f.in_transit_from))));
  const head = [`Facility`, `Items on ${d.date} by type and status`, ...d.facility_categories.map((c) => `${c.name} on ${asof}#`), `In transit from it on ${d.date}#`];
  return [
    synthetic(d.synthetic),
    el('p', {}, ex
      ? `Compared with the data exchange as of ${ex.date} (notification ${num(ex.number)}), the latest on or before ${d.date}: the categories count the items as they stood on ${ex.date}. ${ex.per_facility ? 'It declares numbers for each facility: a facility whose items add up differently is highlighted.' : 'It declares totals only (no numbers by facility), so each facility shows what its items add up to, and the totals are compared.'}`
      : `No data exchange on or before ${d.date}: the items alone.`),
    totals,
    table(`${d.party}: ${num(d.facilities.length, 'facilities')} on ${d.date}`, head, rows, { class: 'facilities' }),
  ];
}

export async function item(ctx, id) {
  if (!token()) return [needToken()];
  let d;
  try { d = await getJson('/workbench/api/item', { party: ctx.party, id, date: ctx.date }); } catch (e) { return [errorBox(e)]; }
  const st = d.state;
  const state = st ? el('dl', { class: 'state', id: 'item-state' },
    el('dt', {}, 'Kind, type'), el('dd', {}, `${words(st.kind)}, ${st.item_type}`),
    el('dt', {}, 'Status'), el('dd', { 'data-status': st.status }, words(st.status)),
    el('dt', {}, 'Where'), el('dd', { 'data-facility': st.facility || '' }, st.facility ? link(ctx, 'notifications', { facility: st.facility }, st.facility) : `in transit from ${st.in_transit_from}`),
    st.launcher ? [el('dt', {}, 'Emplaced in'), el('dd', {}, link(ctx, `items/${encodeURIComponent(st.launcher)}`, {}, st.launcher))] : null,
    st.payload ? [el('dt', {}, 'Holds'), el('dd', {}, link(ctx, `items/${encodeURIComponent(st.payload)}`, {}, st.payload))] : null,
    el('dt', {}, 'Declared reentry vehicles'), el('dd', {}, num(st.reentry_vehicles)))
    : el('p', { id: 'item-state', class: 'muted' }, `${d.id} is not in ${d.head.party}'s registry on ${d.date}.`);
  return [
    synthetic(d.synthetic),
    el('h2', {}, `On ${d.date}`),
    state,
    el('h2', {}, `History: ${num(d.total, 'entries')}`),
    checkpointBadge(ctx, d.head.party, d.head.checkpoint),
    entryTable(ctx, `Every entry of ${d.head.party}'s log that names ${d.id}, oldest first`, { head: d.head, rows: d.history }),
  ];
}

const PAGE = 50;

export async function notifications(ctx) {
  if (!token()) return [needToken()];
  const q = ctx.params;
  const filter = {
    party: ctx.party,
    kind: q.get('kind'), from: q.get('from'), to: q.get('to'),
    facility: q.get('facility'), item: q.get('item'), late: q.get('late'), number: q.get('number'),
  };
  const offset = Math.max(0, parseInt(q.get('offset') || '0', 10) || 0);
  let d;
  const t0 = performance.now();
  try { d = await getJson('/workbench/api/notifications', { ...filter, offset, limit: PAGE }); } catch (e) { return [filterForm(ctx, null), errorBox(e)]; }
  ctx.timings.query_ms = performance.now() - t0;
  const pages = Math.max(1, Math.ceil(d.total / PAGE));
  const pageNo = Math.floor(offset / PAGE) + 1;
  const keep = Object.fromEntries(Object.entries(filter).filter(([k, v]) => k !== 'party' && v));
  const nav = el('nav', { class: 'pager', 'aria-label': 'Pages' },
    offset > 0 ? link(ctx, 'notifications', { ...keep, offset: Math.max(0, offset - PAGE) }, '← Newer') : el('span', { class: 'muted' }, '← Newer'),
    el('span', { id: 'page-of' }, ` page ${num(pageNo)} of ${num(pages)} · ${num(d.total, 'entries')} match `),
    offset + PAGE < d.total ? link(ctx, 'notifications', { ...keep, offset: offset + PAGE }, 'Older →') : el('span', { class: 'muted' }, 'Older →'));
  const dl = (format) => el('button', {
    type: 'button', class: 'download', 'data-format': format,
    onclick: async (ev) => {
      const b = ev.currentTarget;
      b.disabled = true;
      try {
        const blob = await download('/workbench/api/notifications', { ...filter, format }, `${d.head.party}-notifications.${format}`);
        window.__accord.lastDownload = { format, text: await blob.text() };
      } catch (e) { b.after(errorBox(e)); }
      b.disabled = false;
    },
  }, `Download ${num(d.total, 'rows')} as ${format.toUpperCase()}`);
  return [
    synthetic(d.synthetic),
    filterForm(ctx, d),
    el('div', { class: 'toolbar' }, nav, el('span', { class: 'downloads' }, dl('csv'), ' ', dl('json'))),
    checkpointBadge(ctx, d.head.party, d.head.checkpoint),
    entryTable(ctx, `${d.head.party}'s log entries, newest first (${num(d.rows.length)} shown of ${num(d.total)})`, d),
  ];
}

function filterForm(ctx, d) {
  const q = ctx.params;
  const kinds = d ? d.kinds : [];
  const field = (id, label, input) => el('div', { class: 'field' }, el('label', { for: id }, label), input);
  const f = el('form', { class: 'filters', id: 'filters', role: 'search' },
    field('f-kind', 'Kind', el('select', { id: 'f-kind', name: 'kind' },
      el('option', { value: '' }, 'any kind'),
      kinds.map((k) => el('option', { value: k.kind, selected: q.get('kind') === k.kind }, `${words(k.kind)} (${num(k.count)})`)))),
    field('f-from', 'From', el('input', { id: 'f-from', name: 'from', type: 'date', value: q.get('from') || '' })),
    field('f-to', 'To', el('input', { id: 'f-to', name: 'to', type: 'date', value: q.get('to') || '' })),
    field('f-facility', 'Facility', el('input', { id: 'f-facility', name: 'facility', value: q.get('facility') || '', size: 14 })),
    field('f-item', 'Item', el('input', { id: 'f-item', name: 'item', value: q.get('item') || '', size: 14 })),
    field('f-late', 'Sent', el('select', { id: 'f-late', name: 'late' },
      el('option', { value: '' }, 'on time or late'),
      el('option', { value: 'true', selected: q.get('late') === 'true' }, 'late only'),
      el('option', { value: 'false', selected: q.get('late') === 'false' }, 'on time only'))),
    el('div', { class: 'field' }, el('button', { type: 'submit' }, 'Filter'), ' ',
      el('a', { href: href(ctx, 'notifications'), 'data-nav': '' }, 'Clear')));
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const extra = {};
    for (const [k, v] of new FormData(f)) if (v) extra[k] = v;
    window.dispatchEvent(new CustomEvent('accord:navigate', { detail: href(ctx, 'notifications', extra) }));
  });
  return f;
}

export async function complianceView(ctx) {
  let h;
  try { h = await getJson('/history', { party: ctx.party === ctx.status.party ? null : ctx.party, to: ctx.date }); } catch (e) { return [errorBox(e)]; }
  let markers = [];
  if (token()) {
    try {
      const ex = await getJson('/workbench/api/notifications', { party: ctx.party, kind: 'data_exchange', to: ctx.date, order: 'oldest', limit: 500 });
      markers = ex.rows.map((r) => ({ date: r.date, label: `data exchange, notification ${r.number}` }));
    } catch (_) { /* markers need a token */ }
  }
  const ids = (h.limits || []).map((l) => l.id);
  const series = ids.map((id, i) => ({
    name: (h.limits[i] && h.limits[i].name) || id, short: LIMIT_SHORT[id] || id, cls: `s${i}`,
    points: h.points.map((p) => ({ date: p.date, value: p.values[id] ?? 0 })),
  }));
  const limits = (h.limits || []).map((l, i) => ({ value: l.max, label: `limit (${LIMIT_SHORT[l.id] || l.id})`, cls: `s${i}` }));
  const width = Math.min(1200, (document.getElementById('main')?.clientWidth || 900) - 8);
  const chart = lineChart({ title: `${h.party}: the three aggregates against the limits, monthly to ${ctx.date}`, series, limits, markers, unit: 'count (items; warheads for the warhead limit)', width });
  return [
    el('p', {}, `${h.party}'s aggregates on the first of each month and on ${ctx.date}; the limits as they stand on that date; `,
      markers.length ? `${num(markers.length, 'data exchanges')} marked as dashed lines.` : token() ? 'no data exchange yet.' : 'sign in to mark the data exchanges.'),
    el('figure', { class: 'chart-box' }, chart, el('figcaption', { id: 'chart-readout', 'aria-live': 'polite' }, 'Point at the chart, or focus it and use the arrow keys, to read the values.')),
    el('details', {}, el('summary', {}, 'The values as a table'),
      table(`${h.party}'s aggregates`, ['Date', ...ids.map((id) => `${LIMIT_SHORT[id] || id}#`)], h.points.map((p) => [p.date, ...ids.map((id) => num(p.values[id] ?? 0))]))),
  ];
}

export async function exchange(ctx) {
  if (!token()) return [needToken()];
  let tl;
  try { tl = await getJson('/workbench/api/exchange'); } catch (e) { return [errorBox(e)]; }
  const width = Math.min(1200, (document.getElementById('main')?.clientWidth || 900) - 8);
  const chart = lineChart({
    title: 'Both logs\' sizes over time: the node\'s own by the date entries were sent, each mirror by the date this node received them',
    series: tl.logs.map((l, i) => ({ name: i === 0 ? `${l.party} (own log)` : `${l.party} (mirror)`, short: l.party, cls: `s${i}`, step: true, points: l.points.map((p) => ({ date: p.date, value: p.size })) })),
    unit: 'entries', width,
  });
  const own = tl.logs[0];
  const witnesses = tl.witnesses.length ? table('Witnesses and peers: the size each cosigned or acknowledged', ['Target', 'Cosigner', 'Acknowledged#', 'Of the log', 'Cosignature', 'Last error'],
    tl.witnesses.map((w) => [w.url, w.cosigner || '–', num(w.acknowledged, 'entries'),
      el('td', {}, meter(w.acknowledged, own.tree_size, `${num(w.acknowledged)} of ${num(own.tree_size)} entries`), ` ${pct(w.acknowledged, own.tree_size)}`),
      w.cosignature ? (w.verified ? 'verified by this node' : 'not verified (no key)') : '–', w.last_error || '']))
    : el('p', { class: 'muted' }, 'No witnesses or peers are pushed to.');
  const late = tl.logs.flatMap((l) => l.late.map((f) => [l.party, f.date, f.message]));
  const evidence = tl.logs.flatMap((l) => l.evidence.map((e) => el('li', { class: 'bad' }, `${l.party}: ${words(e.kind)} found ${new Date(e.found_at * 1000).toISOString().slice(0, 10)}: ${e.reason}`)));
  return [
    el('figure', { class: 'chart-box' }, chart, el('figcaption', { 'aria-live': 'polite' }, `Sizes now: ${tl.logs.map((l) => `${l.party} ${num(l.tree_size, 'entries')}`).join(' · ')}.`)),
    el('h2', {}, 'Checkpoints'),
    tl.logs.map((l) => checkpointBadge(ctx, l.party, l.party === ctx.status.party ? ctx.status.checkpoint : (ctx.status.peers.find((p) => p.party === l.party) || {}).checkpoint)),
    el('h2', {}, 'Witnesses'),
    witnesses,
    el('h2', {}, 'Evidence'),
    evidence.length ? el('ul', { class: 'evidence' }, evidence) : el('p', { class: 'ok' }, 'No evidence held against any peer.'),
    el('h2', {}, 'Late deliveries'),
    late.length ? table('Notifications that reached this node after their deadline', ['Sender', 'Received', 'What'], late) : el('p', { class: 'ok' }, 'None.'),
    el('h2', {}, `Receipts: ${num(tl.receipts_size, 'receipts')} logged`),
    tl.receipts.length ? table('The latest receipts this node logged, newest first', ['Receipt#', 'Log', 'Entries', 'Checked against size#', 'Received', 'Late'],
      tl.receipts.map((r) => [num(r.index), r.receipt.origin, `${num(r.receipt.first)} to ${num(r.receipt.end - 1)}`, num(r.receipt.checkpoint_size), r.receipt.received, r.receipt.late.length ? r.receipt.late.map((n) => num(n)).join(', ') : 'none']))
      : el('p', { class: 'muted' }, 'No receipts yet.'),
  ];
}

export async function inspections(ctx) {
  if (!token()) return [needToken()];
  let d;
  try { d = await getJson('/workbench/api/inspections', { party: ctx.party, date: ctx.date }); } catch (e) { return [errorBox(e)]; }
  const q = d.quota;
  const quota = q.treaty_year ? table(`Quota use in treaty year ${q.treaty_year} (${q.from} to ${q.to}), up to ${d.date}`, ['Inspecting party', 'Type', 'Used#', 'Quota#', 'Use'],
    q.parties.flatMap((p) => p.types.map((t) => [p.inspecting_party, t.name, num(t.used), num(t.quota),
      el('td', {}, meter(t.used, t.quota, `${t.used} of ${t.quota}`, t.used > t.quota ? 'over' : ''), ` ${pct(t.used, t.quota)}`)])), { id: 'quota' })
    : el('p', { class: 'muted' }, `${d.date} is outside the treaty's life: no quota.`);
  const recs = d.records.map((x) => x.record);
  return [
    el('h2', {}, 'Quotas'),
    quota,
    el('h2', {}, `Inspections by or of ${d.party}: ${num(recs.length)}`),
    recs.length ? table(`Inspections by or of ${d.party} up to ${d.date}`, ['Id', 'Type', 'By → of', 'Site', 'Announced', 'Date', 'Items selected#', 'Undeclared#', 'Ambiguities'],
      recs.map((r) => [r.id, words(r.inspection_type), `${r.inspecting_party} → ${r.inspected_party}`,
        el('td', {}, link(ctx, 'notifications', { facility: r.site, party: r.inspected_party }, r.site)), r.announced, r.date,
        num(r.items_selected.length), num(r.undeclared_items), r.ambiguities.join('; ') || 'none']))
      : el('p', { class: 'muted' }, 'None recorded.'),
    el('h2', {}, 'Findings from inspections'),
    d.findings.length ? table(`Findings against ${d.party} from inspections`, ['Date', 'Kind', 'What'], d.findings.map((f) => [f.date, words(f.kind), f.message]))
      : el('p', { class: 'ok' }, `None against ${d.party}.`),
    el('h2', {}, 'Draw transcripts'),
    d.transcripts.length ? el('ul', {}, d.transcripts.map((t) => el('li', {}, JSON.stringify(t))))
      : el('p', { class: 'muted', id: 'transcripts' }, 'No draw transcripts logged yet. When inspections are drawn with commitments (issue 14), each draw\'s transcript is shown and checked here.'),
  ];
}

export async function keys(ctx) {
  const rows = [...ctx.keys.logs.map((k) => ({ ...k, what: k.own ? `${k.party}'s log (this node)` : `${k.party}'s log (mirrored)` })),
    ...ctx.keys.witnesses.map((k) => ({ ...k, what: k.own ? 'witness run by this node' : `witness at ${k.url}` }))];
  const rerender = () => window.dispatchEvent(new Event('accord:rerender'));
  return [
    el('p', {}, 'Every check on this page uses these keys. Pin a key to keep it in this browser: if the node later serves another key under the same name, the page warns you and keeps verifying with the pinned one.'),
    table('Verifier keys', ['Key', 'For', 'Key ID', 'Fingerprint (SHA-256 of the public key)', 'State', ''],
      rows.map((k) => el('tr', { class: k.state === 'changed' ? 'mismatch' : null, 'data-key': k.name },
        el('td', {}, el('code', {}, k.name)), el('td', {}, k.what),
        el('td', {}, el('code', {}, k.served ? k.served.id.toString(16).padStart(8, '0') : '–')),
        el('td', {}, el('code', { class: 'fp' }, k.served ? k.served.fingerprint : k.error)),
        el('td', { class: k.state === 'changed' ? 'bad' : k.state === 'pinned' ? 'ok' : 'warn', 'data-state': k.state },
          k.state === 'pinned' ? `pinned ${k.pinnedOn}` : k.state === 'changed' ? `CHANGED since pinned ${k.pinnedOn}: the pinned key is used` : 'not pinned'),
        el('td', {}, k.state === 'pinned'
          ? el('button', { type: 'button', onclick: () => { unpin(k.name); rerender(); } }, `Unpin ${k.name}`)
          : el('button', { type: 'button', class: 'pin', onclick: () => { pin(k.name, k.vkey); rerender(); } }, k.state === 'changed' ? `Accept the new key of ${k.name}` : `Pin ${k.name}`))))),
    el('p', {}, el('button', { type: 'button', id: 'pin-all', onclick: () => { for (const k of rows) if (k.state === 'unpinned') pin(k.name, k.vkey); rerender(); } }, 'Pin every key not yet pinned')),
    el('h2', {}, 'Token'),
    token() ? el('p', {}, 'Signed in (the token is kept in this tab only). ',
      el('button', { type: 'button', onclick: () => { setToken(null); rerender(); } }, 'Sign out')) : tokenForm(),
  ];
}
