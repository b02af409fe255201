/**
 * A second, independent implementation of the sealed-request protocol, written from docs/protocol.md
 * with @noble primitives only (no WebCrypto, none of src/envelope or src/keys). The vectors are
 * checked against it as well as against the real code, so a drift between the spec, the code and the
 * vectors shows up as a failing test rather than as a self-consistent mistake.
 */
import { aeskw, gcm } from '@noble/ciphers/aes.js';
import { expand, extract, hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ml_kem768_x25519 } from '@noble/post-quantum/hybrid.js';

const te = (s: string): Uint8Array => new TextEncoder().encode(s);

export function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** u32be(len) ‖ bytes, for each part; strings as UTF-8, numbers as u64be. */
export function lp(...parts: (Uint8Array | string | number)[]): Uint8Array {
  return cat(
    ...parts.flatMap((p) => {
      const bytes = typeof p === 'string' ? te(p) : typeof p === 'number' ? u64(p) : p;
      const len = new Uint8Array(4);
      new DataView(len.buffer).setUint32(0, bytes.length);
      return [len, bytes];
    }),
  );
}

export function u64(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

export function refKid(key: Uint8Array): string {
  return b64u(sha256(cat(te('sealgate/v1/kid'), key)).subarray(0, 16));
}

export function b64u(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function unb64u(s: string): Uint8Array {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export const refHkdf = (ikm: Uint8Array, salt: Uint8Array, info: string): Uint8Array =>
  hkdf(sha256, ikm, salt, te(info), 32);
export const refWrap = (kek: Uint8Array, dek: Uint8Array): Uint8Array => aeskw(kek).encrypt(dek);
export const refUnwrap = (kek: Uint8Array, wk: Uint8Array): Uint8Array => aeskw(kek).decrypt(wk);
export const refGcmSeal = (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array): Uint8Array =>
  gcm(key, nonce, aad).encrypt(pt);
export const refGcmOpen = (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ct: Uint8Array): Uint8Array =>
  gcm(key, nonce, aad).decrypt(ct);

export const refRequestAad = (f: { kid: string; rid: string; ts: number; route: string; plainJcs: string }) =>
  lp('sealgate/v1/request', f.kid, f.rid, f.ts, f.route, f.plainJcs);
export const refResponseAad = (f: { kid: string; rid: string; route: string; plainJcs: string }) =>
  lp('sealgate/v1/response', f.kid, f.rid, f.route, f.plainJcs);
export const refFrameAad = (
  f: { kid: string; rid: string; route: string; seq: number; end: boolean },
  label = 'sealgate/v3/stream',
) => lp(label, f.kid, f.rid, f.route, f.seq, new Uint8Array([f.end ? 1 : 0]));
export const refFrameNonce = (seq: number): Uint8Array => cat(new Uint8Array(4), u64(seq));

/**
 * RFC 9180 §5.1 KeySchedule in mode_base for suite (X-Wing 0x647a, HKDF-SHA256 0x0001, AES-256-GCM
 * 0x0002), with X-Wing's shared secret from @noble/post-quantum (not from @hpke).
 */
export function refHpkeKeySchedule(sharedSecret: Uint8Array, info: Uint8Array) {
  const suiteId = cat(te('HPKE'), new Uint8Array([0x64, 0x7a, 0x00, 0x01, 0x00, 0x02]));
  const labeledExtract = (salt: Uint8Array, label: string, ikm: Uint8Array) =>
    extract(sha256, cat(te('HPKE-v1'), suiteId, te(label), ikm), salt);
  const labeledExpand = (prk: Uint8Array, label: string, ctx: Uint8Array, len: number) => {
    const l = new Uint8Array([len >> 8, len & 0xff]);
    return expand(sha256, prk, cat(l, te('HPKE-v1'), suiteId, te(label), ctx), len);
  };
  const empty = new Uint8Array(0);
  const pskIdHash = labeledExtract(empty, 'psk_id_hash', empty);
  const infoHash = labeledExtract(empty, 'info_hash', info);
  const context = cat(new Uint8Array([0x00]), pskIdHash, infoHash);
  const secret = labeledExtract(sharedSecret, 'secret', empty);
  return {
    key: labeledExpand(secret, 'key', context, 32),
    baseNonce: labeledExpand(secret, 'base_nonce', context, 12),
  };
}

export const refXWing = ml_kem768_x25519;

/** A RandomSource that hands out the given buffers in order, each exactly once. */
export function fixedRandom(...buffers: Uint8Array[]): (n: number) => Uint8Array {
  const queue = [...buffers];
  return (n) => {
    const next = queue.shift();
    if (!next || next.length !== n) throw new Error(`fixedRandom: asked for ${n} bytes, had ${next?.length}`);
    return next.slice();
  };
}

export const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
export const unhex = (s: string): Uint8Array =>
  Uint8Array.from(s.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
/** n bytes counting up from `start` (mod 256): recognisable, fixed key material for vectors. */
export const ramp = (start: number, n: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);
