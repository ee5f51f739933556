// The workbench: one page, one URL per view (history API: links can be
// shared and the back button works), a date control and a party control
// that move every view, and the keys every check uses.

import { adoptTokenFromUrl, getJson, token } from './api.js';
import { el, fill, num } from './format.js';
import { trustedKeys } from './verify.js';
import * as views from './views.js';

adoptTokenFromUrl();

const VIEWS = [
  ['overview', 'Overview'],
  ['facilities', 'Facilities'],
  ['notifications', 'Notifications'],
  ['compliance', 'Compliance over time'],
  ['exchange', 'Exchange and witnesses'],
  ['inspections', 'Inspections'],
  ['keys', 'Keys'],
];

const state = { status: null, statusDate: null, keys: null, generation: 0 };
window.__accord = { timings: [], lastDownload: null, ready: false, view: null };

function route() {
  const parts = location.pathname.replace(/^\/workbench\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (location.pathname === '/' || !parts.length) return { view: 'overview', arg: null };
  if (parts[0] === 'items' && parts[1]) return { view: 'item', arg: parts.slice(1).join('/') };
  return { view: parts[0], arg: null };
}

async function status(date) {
  if (!state.status || state.statusDate !== date) {
    state.status = await getJson('/status', date ? { date } : null);
    state.statusDate = date;
  }
  return state.status;
}

async function keys() {
  const k = await getJson('/keys');
  return {
    logs: await trustedKeys(k.logs.map((l) => ({ ...l, name: l.origin }))),
    witnesses: await trustedKeys(k.witnesses),
  };
}

function navigate(url, replace) {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  render();
}

document.addEventListener('click', (ev) => {
  const a = ev.target.closest && ev.target.closest('a[data-nav]');
  if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  ev.preventDefault();
  navigate(a.getAttribute('href'));
});
window.addEventListener('popstate', () => render());
window.addEventListener('accord:navigate', (ev) => navigate(ev.detail));
window.addEventListener('accord:rerender', () => { state.keys = null; render(); });

function header(ctx, r) {
  const nav = document.getElementById('nav');
  fill(nav, VIEWS.map(([id, label]) => el('li', {},
    el('a', { href: views.href(ctx, id), 'data-nav': '', 'aria-current': (r.view === id || (r.view === 'item' && id === 'notifications' && false)) ? 'page' : null }, label))));
  document.getElementById('node-party').textContent = ctx.status.party;
  document.getElementById('treaty').textContent = ctx.status.treaty;
  const size = document.getElementById('tree-size');
  size.textContent = num(ctx.status.tree_size);
  size.dataset.value = ctx.status.tree_size;
  const parties = [ctx.status.party, ...ctx.status.peers.map((p) => p.party)];
  const sel = document.getElementById('party');
  fill(sel, parties.map((p) => el('option', { value: p, selected: p === ctx.party }, p === ctx.status.party ? `${p} (this node)` : `${p} (mirror)`)));
  document.getElementById('date').value = ctx.date;
}

function banner(ctx) {
  const b = document.getElementById('banner');
  const changed = [...ctx.keys.logs, ...ctx.keys.witnesses].filter((k) => k.state === 'changed');
  const unpinned = [...ctx.keys.logs, ...ctx.keys.witnesses].filter((k) => k.state === 'unpinned');
  const bad = [...ctx.keys.logs, ...ctx.keys.witnesses].filter((k) => k.error);
  fill(b,
    changed.length ? el('div', { class: 'alarm', role: 'alert', id: 'key-changed' },
      el('strong', {}, 'KEY CHANGED. '),
      `The node now serves a different key for ${changed.map((k) => k.name).join(', ')} than the one pinned in this browser. `,
      'Everything is verified with the pinned key; anything signed with the new key fails. ',
      views.href ? el('a', { href: views.href(ctx, 'keys'), 'data-nav': '' }, 'Review the keys') : null) : null,
    bad.length ? el('div', { class: 'alarm', role: 'alert' }, `Unusable keys: ${bad.map((k) => `${k.name}: ${k.error}`).join('; ')}`) : null,
    unpinned.length ? el('div', { class: 'caution' }, `${num(unpinned.length)} ${unpinned.length === 1 ? 'key is' : 'keys are'} not pinned in this browser: checks use the key the node serves. `,
      el('a', { href: views.href(ctx, 'keys'), 'data-nav': '' }, 'Pin the keys')) : null,
    !token() ? el('div', { class: 'caution' }, 'Not signed in: only the public views (overview, compliance over time) have data. ',
      el('a', { href: views.href(ctx, 'keys'), 'data-nav': '' }, 'Sign in')) : null);
}

async function render() {
  const gen = ++state.generation;
  const t0 = performance.now();
  window.__accord.ready = false;
  const r = route();
  const params = new URLSearchParams(location.search);
  const main = document.getElementById('view');
  const title = document.getElementById('title');
  try {
    const date = params.get('date') || null;
    const [st, k] = await Promise.all([status(date), state.keys || keys()]);
    state.keys = k;
    if (gen !== state.generation) return;
    const ctx = {
      status: st, keys: state.keys, params, pending: [], verified: new Map(), timings: {},
      party: params.get('party') || st.party,
      date: date || st.date,
    };
    header(ctx, r);
    banner(ctx);
    const names = Object.fromEntries(VIEWS);
    const render = {
      overview: views.overview, facilities: views.facilities, notifications: views.notifications,
      compliance: views.complianceView, exchange: views.exchange, inspections: views.inspections, keys: views.keys,
    }[r.view];
    const heading = r.view === 'item' ? `Item ${r.arg}` : names[r.view] || 'No such view';
    title.textContent = `${heading} · ${ctx.party} · ${ctx.date}`;
    document.title = `${heading} · ${ctx.party} · accord workbench`;
    const nodes = r.view === 'item' ? await views.item(ctx, r.arg)
      : render ? await render(ctx) : [el('p', {}, `There is no view \`${r.view}\`. `, el('a', { href: views.href(ctx, 'overview'), 'data-nav': '' }, 'Overview'))];
    if (gen !== state.generation) return;
    fill(main, nodes);
    const at = performance.now();
    const shown = at - t0;
    await Promise.all(ctx.pending);
    if (gen !== state.generation) return;
    window.__accord.timings.push({ view: r.view, url: location.pathname + location.search, shown_ms: shown, at_ms: at, verified_ms: performance.now() - t0, ...ctx.timings });
    window.__accord.view = r.view;
    window.__accord.ready = true;
    document.getElementById('main').focus({ preventScroll: true });
  } catch (e) {
    if (gen !== state.generation) return;
    fill(main, el('p', { class: 'bad', role: 'alert' }, `Could not load this view: ${e.message}`));
    window.__accord.ready = true;
  }
}

document.getElementById('controls').addEventListener('submit', (ev) => ev.preventDefault());
document.getElementById('date').addEventListener('change', (ev) => {
  const p = new URLSearchParams(location.search);
  if (ev.target.value) p.set('date', ev.target.value); else p.delete('date');
  p.delete('offset');
  navigate(`${location.pathname}?${p}`);
});
document.getElementById('party').addEventListener('change', (ev) => {
  const p = new URLSearchParams(location.search);
  p.set('party', ev.target.value);
  p.delete('offset');
  navigate(`${location.pathname === '/' ? '/workbench/overview' : location.pathname}?${p}`);
});
document.getElementById('find-item').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const id = document.getElementById('item-id').value.trim();
  if (!id) return;
  const p = new URLSearchParams(location.search);
  p.delete('offset');
  const q = new URLSearchParams();
  for (const k of ['party', 'date']) if (p.get(k)) q.set(k, p.get(k));
  navigate(`/workbench/items/${encodeURIComponent(id)}${q.toString() ? `?${q}` : ''}`);
});

render();
