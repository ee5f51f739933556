// Verification in this browser: nothing here trusts the node it came from.
//
// - Keys: C2SP verifier keys `name+hex(key ID)+base64(type || key)`, the
//   key ID checked (first 4 bytes of SHA-256(name || 0x0A || type || key)),
//   shown with a fingerprint (SHA-256 of the 32-byte Ed25519 public key) and
//   pinned in localStorage: a key that later differs from its pin is a loud
//   warning, and the pinned key is the one used.
// - Checkpoints: C2SP signed notes; the log's Ed25519 signature over the
//   note text, and each witness's `cosignature/v1` (Ed25519 over
//   "cosignature/v1\ntime T\n" + text), verified with WebCrypto.
// - Entries: RFC 9162 §2.1.3 inclusion proofs, computed here from the log's
//   C2SP tlog-tiles (hash tiles of 256 hashes at heights 0, 8, 16, …) and
//   verified against the signed root with SHA-256 (WebCrypto). The leaf is
//   SHA-256(0x00 || entry bytes); an interior node SHA-256(0x01 || l || r).

const enc = new TextEncoder();

export function b64decode(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function b64encode(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function concat(...parts) {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function equal(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

const LEAF = new Uint8Array([0]);
const NODE = new Uint8Array([1]);

export function leafHash(entryBytes) {
  return sha256(concat(LEAF, entryBytes));
}

export function nodeHash(l, r) {
  return sha256(concat(NODE, l, r));
}

/** A verification failure, naming what failed. */
export class VerifyError extends Error {}

// ---------------------------------------------------------------- keys

/** Parses and checks a verifier key. */
export async function parseVkey(text) {
  // The name has no '+'; the base64 may.
  const t = String(text);
  const i = t.indexOf('+');
  const j = t.indexOf('+', i + 1);
  if (i <= 0 || j !== i + 9) throw new VerifyError(`key \`${t}\`: expected name+hexid+base64`);
  const [name, idHex, b64] = [t.slice(0, i), t.slice(i + 1, j), t.slice(j + 1)];
  const raw = b64decode(b64);
  if (raw.length !== 33 || (raw[0] !== 1 && raw[0] !== 4)) {
    throw new VerifyError(`key ${name}: expected type 0x01 or 0x04 and a 32-byte Ed25519 key`);
  }
  const alg = raw[0];
  const key = raw.slice(1);
  const id = await keyId(name, alg, key);
  if (id !== parseInt(idHex, 16) || !/^[0-9a-f]{8}$/.test(idHex)) {
    throw new VerifyError(`key ${name}: its key ID ${idHex} is not the hash of its name and key`);
  }
  const fp = hex(await sha256(key));
  return { name, alg, key, id, text, fingerprint: fp.match(/.{4}/g).join(' ') };
}

/** The C2SP key ID: the first 4 bytes of SHA-256(name || 0x0A || type || key). */
export async function keyId(name, alg, key) {
  const h = await sha256(concat(enc.encode(name), new Uint8Array([0x0a, alg]), key));
  return ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
}

const PINS = 'accord.pins';

/** The pinned keys: name → {vkey, pinned (ISO date)}. */
export function pins() {
  try { return JSON.parse(localStorage.getItem(PINS) || '{}'); } catch (_) { return {}; }
}

export function pin(name, vkey) {
  const p = pins();
  p[name] = { vkey, pinned: new Date().toISOString().slice(0, 10) };
  localStorage.setItem(PINS, JSON.stringify(p));
}

export function unpin(name) {
  const p = pins();
  delete p[name];
  localStorage.setItem(PINS, JSON.stringify(p));
}

/** Each served key against its pin: `pinned`, `unpinned` or `changed`.
 *  For a changed key the pinned one is used. */
export async function trustedKeys(served) {
  const p = pins();
  const out = [];
  for (const s of served) {
    const pinnedText = p[s.name] && p[s.name].vkey;
    const state = !pinnedText ? 'unpinned' : pinnedText === s.vkey ? 'pinned' : 'changed';
    const use = state === 'changed' ? pinnedText : s.vkey;
    let key = null;
    let error = null;
    try { key = await parseVkey(use); } catch (e) { error = e.message; }
    let servedKey = null;
    try { servedKey = await parseVkey(s.vkey); } catch (e) { error = error || e.message; }
    out.push({ ...s, state, key, served: servedKey, pinnedOn: p[s.name] && p[s.name].pinned, error });
  }
  return out;
}

// ---------------------------------------------------------------- notes

/** Splits a signed note into its text and signature lines. */
export function parseNote(note) {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new VerifyError('the checkpoint has no blank line before its signatures');
  const text = note.slice(0, split + 1);
  const sigs = note.slice(split + 2).split('\n').filter((l) => l !== '');
  const lines = sigs.map((line) => {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m) throw new VerifyError(`\`${line}\` is not a signature line`);
    const raw = b64decode(m[2]);
    if (raw.length < 5) throw new VerifyError(`the signature of ${m[1]} is too short`);
    return {
      name: m[1],
      id: ((raw[0] << 24) | (raw[1] << 16) | (raw[2] << 8) | raw[3]) >>> 0,
      sig: raw.slice(4),
      line,
    };
  });
  return { text, lines };
}

/** Parses a checkpoint's note text: origin, size, root hash. */
export function parseCheckpoint(text) {
  const lines = text.replace(/\n$/, '').split('\n');
  if (lines.length < 3) throw new VerifyError('the checkpoint has fewer than three lines');
  if (!/^(0|[1-9][0-9]*)$/.test(lines[1])) throw new VerifyError(`size \`${lines[1]}\` is not a decimal`);
  const size = Number(lines[1]);
  if (!Number.isSafeInteger(size)) throw new VerifyError('the size is too large for this page');
  const root = b64decode(lines[2]);
  if (root.length !== 32) throw new VerifyError('the root hash is not 32 bytes');
  return { origin: lines[0], size, root };
}

async function ed25519(key, sig, msg) {
  const k = await crypto.subtle.importKey('raw', key, { name: 'Ed25519' }, false, ['verify']);
  return crypto.subtle.verify({ name: 'Ed25519' }, k, sig, msg);
}

/** Verifies a signed checkpoint with the log's key and any witness keys.
 *  Returns {ok, checkpoint, signature, cosignatures, problems}. */
export async function verifyCheckpoint(note, logKey, witnessKeys) {
  const problems = [];
  const result = { ok: false, checkpoint: null, signature: false, cosignatures: [], problems };
  let parsed;
  try {
    parsed = parseNote(note);
    result.checkpoint = parseCheckpoint(parsed.text);
  } catch (e) {
    problems.push(`the checkpoint is malformed: ${e.message}`);
    return result;
  }
  if (!logKey) {
    problems.push('no key for this log');
    return result;
  }
  if (result.checkpoint.origin !== logKey.name) {
    problems.push(`the checkpoint is of ${result.checkpoint.origin}, not ${logKey.name}`);
    return result;
  }
  const text = enc.encode(parsed.text);
  for (const s of parsed.lines) {
    if (s.name === logKey.name && s.id === logKey.id) {
      result.signature = s.sig.length === 64 && await ed25519(logKey.key, s.sig, text);
      if (!result.signature) problems.push(`the log's signature (${logKey.name}) does not verify`);
      continue;
    }
    const w = [];
    for (const k of witnessKeys) {
      if (k && k.name === s.name && (await keyId(k.name, 4, k.key)) === s.id) w.push(k);
    }
    if (!w.length) {
      result.cosignatures.push({ name: s.name, ok: null, note: 'no key known for this cosigner' });
      continue;
    }
    let ok = false;
    let time = null;
    if (s.sig.length === 72) {
      const t = new DataView(s.sig.buffer, s.sig.byteOffset, 8).getBigUint64(0);
      time = Number(t);
      const msg = enc.encode(`cosignature/v1\ntime ${t}\n${parsed.text}`);
      ok = await ed25519(w[0].key, s.sig.slice(8), msg);
    }
    if (!ok) problems.push(`the cosignature of ${s.name} does not verify`);
    result.cosignatures.push({ name: s.name, ok, time });
  }
  if (!parsed.lines.some((s) => s.name === logKey.name && s.id === logKey.id)) {
    problems.push(`no signature by ${logKey.name} (key ${logKey.id.toString(16).padStart(8, '0')})`);
  }
  result.ok = result.signature && problems.length === 0;
  return result;
}

// ---------------------------------------------------------------- tiles

/** The C2SP tlog-tiles path of a tile: `tile/L/x001/234[.p/W]`. */
export function tilePath(level, index, width) {
  const parts = [];
  let rest = index;
  do {
    parts.unshift(String(rest % 1000).padStart(3, '0'));
    rest = Math.floor(rest / 1000);
  } while (rest > 0);
  const n = parts.map((p, i) => (i < parts.length - 1 ? `x${p}` : p)).join('/');
  return `tile/${level}/${n}${width < 256 ? `.p/${width}` : ''}`;
}

/** Reads hashes from a log's tiles at a tree size, fetching each tile once. */
export class Tiles {
  /** `fetch(path)` returns the bytes of `tile/...`. */
  constructor(fetch, size) {
    this.fetch = fetch;
    this.size = size;
    this.cache = new Map();
    this.used = new Set();
    this.memo = new Map();
  }

  tile(level, index) {
    const span = 2 ** (8 * level);
    const complete = Math.floor(this.size / span);
    const width = Math.min(256, complete - index * 256);
    if (width <= 0) throw new VerifyError(`tile ${level}/${index} is beyond the tree of size ${this.size}`);
    const path = tilePath(level, index, width);
    this.used.add(path);
    if (!this.cache.has(path)) {
      this.cache.set(path, this.fetch(path).then((b) => {
        if (b.length !== width * 32) throw new VerifyError(`${path} is ${b.length} bytes, not ${width * 32}`);
        return b;
      }));
    }
    return this.cache.get(path);
  }

  /** The hash of the complete subtree at height `h`, index `k` (each
   *  computed once). */
  hashAt(h, k) {
    const key = `${h}/${k}`;
    if (!this.memo.has(key)) this.memo.set(key, this.computeAt(h, k));
    return this.memo.get(key);
  }

  async computeAt(h, k) {
    const level = Math.floor(h / 8);
    const r = h - 8 * level;
    const first = k * 2 ** r;
    const t = Math.floor(first / 256);
    const bytes = await this.tile(level, t);
    let hashes = [];
    for (let i = 0; i < 2 ** r; i++) {
      const o = (first - t * 256 + i) * 32;
      hashes.push(bytes.subarray(o, o + 32));
    }
    while (hashes.length > 1) {
      const next = [];
      for (let i = 0; i < hashes.length; i += 2) next.push(await nodeHash(hashes[i], hashes[i + 1]));
      hashes = next;
    }
    return hashes[0];
  }

  /** The hash of leaves [start, end) as RFC 9162 defines it. */
  async subtree(start, end) {
    const n = end - start;
    if (2 ** Math.round(Math.log2(n)) === n && start % n === 0) {
      return this.hashAt(Math.log2(n), start / n);
    }
    const k = largestPow2Below(n);
    return nodeHash(await this.subtree(start, start + k), await this.subtree(start + k, end));
  }

  /** The RFC 9162 inclusion proof of leaf `m` in the tree of this size. */
  async proof(m, start = 0, end = this.size) {
    const n = end - start;
    if (n === 1) return [];
    const k = largestPow2Below(n);
    if (m - start < k) {
      const [p, s] = await Promise.all([this.proof(m, start, start + k), this.subtree(start + k, end)]);
      return [...p, s];
    }
    const [p, s] = await Promise.all([this.proof(m, start + k, end), this.subtree(start, start + k)]);
    return [...p, s];
  }
}

function largestPow2Below(n) {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** RFC 9162 §2.1.3.2: the root an inclusion proof leads to. */
export async function rootFromProof(index, size, leaf, proof) {
  if (index >= size) throw new VerifyError(`index ${index} is not below size ${size}`);
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) throw new VerifyError('the proof is too long');
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new VerifyError('the proof is too short');
  return r;
}

/** Verifies that `entry` (its bytes) is leaf `index` of the tree whose
 *  signed root is `root`, with a proof computed from `tiles`. Returns
 *  {ok, problem}. */
export async function verifyEntry(tiles, index, entryBytes, root) {
  try {
    const leaf = await leafHash(entryBytes);
    const proof = await tiles.proof(index);
    const got = await rootFromProof(index, tiles.size, leaf, proof);
    if (equal(got, root)) return { ok: true };
    // Which failed: the entry, or the tiles? The tile's own leaf hash tells.
    const logged = await tiles.hashAt(0, index);
    const viaTile = await rootFromProof(index, tiles.size, logged, proof);
    if (!equal(leaf, logged) && equal(viaTile, root)) {
      return { ok: false, problem: `entry ${index}: its bytes are not the logged entry (their leaf hash differs from the signed tree's)` };
    }
    return { ok: false, problem: `entry ${index}: the inclusion proof from the tiles (${[...tiles.used].sort().join(', ')}) does not reach the signed root` };
  } catch (e) {
    return { ok: false, problem: `entry ${index}: ${e.message}` };
  }
}

export function utf8(s) {
  return enc.encode(s);
}
