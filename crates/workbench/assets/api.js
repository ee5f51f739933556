// The node's queries. The operator or reader token is read once from the
// URL fragment (`#token=…`) or from the sign-in form, kept in this tab's
// sessionStorage, and removed from the URL at once with
// history.replaceState: it is never left in the address bar or history.

const TOKEN_KEY = 'accord.token';

/** Takes a token from the fragment, if there is one, and strips it. */
export function adoptTokenFromUrl() {
  const h = location.hash.replace(/^#/, '');
  if (!h) return;
  const params = new URLSearchParams(h);
  const t = params.get('token');
  if (t) {
    sessionStorage.setItem(TOKEN_KEY, t);
    params.delete('token');
    const rest = params.toString();
    history.replaceState(history.state, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(t) {
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** An error the node answered, with its status, message and field. */
export class ApiError extends Error {
  constructor(status, message, field) {
    super(field ? `${message} (field ${field})` : message);
    this.status = status;
    this.field = field;
  }
}

function headers() {
  const t = token();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

async function check(r, path) {
  if (r.ok) return r;
  let message = `${r.status} ${r.statusText} for ${path}`;
  let field;
  try {
    const b = await r.json();
    if (b && b.error) { message = b.error.message; field = b.error.field; }
  } catch (_) { /* not the documented body */ }
  throw new ApiError(r.status, message, field);
}

/** GET a JSON answer. */
export async function getJson(path, params) {
  const q = params ? `?${new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ''))}` : '';
  const r = await check(await fetch(path + q, { headers: headers(), cache: 'no-store' }), path);
  return r.json();
}

/** GET raw bytes (tiles). */
export async function getBytes(path) {
  const r = await check(await fetch(path, { headers: headers() }), path);
  return new Uint8Array(await r.arrayBuffer());
}

/** GET text (checkpoints). */
export async function getText(path) {
  const r = await check(await fetch(path, { headers: headers(), cache: 'no-store' }), path);
  return r.text();
}

/** Downloads an answer as a file (the token goes in a header, so the file
 *  is fetched here and handed to the browser as a blob). */
export async function download(path, params, filename) {
  const q = `?${new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ''))}`;
  const r = await check(await fetch(path + q, { headers: headers(), cache: 'no-store' }), path);
  const blob = await r.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  return blob;
}
