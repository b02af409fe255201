/**
 * What one crypto call costs inside a workerd request (issue #18 target 3), run by
 * bench/macro/crypto-slope.ts: `GET /?op=<name>&k=<K>` makes K calls of one kind, each awaited in
 * turn as the gateway awaits its own, and answers. The driver reads the workerd process's CPU from
 * /proc per request for several K; the slope over K is a call's real in-request cost, beside which
 * the tight-loop floors (`workerd.floor.*`) and a CPU profile's per-function figures can be judged.
 *
 * Controls: `none` (the loop alone), `promise` (an already-resolved await: a microtask), `timeout0`
 * and `schedwait` (a real event-loop turn). `seq` is the gateway's WebCrypto calls for one sealed
 * JSON answer in its order (envelope/web-crypto.ts, receipts/receipt.ts); `seqNoVerify` the same
 * without the receipt's ES256 verify. The off-WebCrypto equivalents (`node:crypto` under
 * nodejs_compat, @noble/hashes) are synchronous: no await, no promise.
 */
import { createHash, createHmac } from 'node:crypto';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';

const s = crypto.subtle;
const BODY = new Uint8Array(4096).fill(7); // a 4 KiB body, as the floors'
const SIGNED = BODY.subarray(0, 200); // about a receipt's signing input
const IV = new Uint8Array(12);
const NO_SALT = new Uint8Array(0);
const SALT = new Uint8Array(32).fill(1);
const INFO = new TextEncoder().encode('sealgate/v1/response-key');
const RAW = new Uint8Array(32).fill(3);
const HKDF_PARAMS = { name: 'HKDF', hash: 'SHA-256', salt: SALT, info: INFO };
const AES_256 = { name: 'AES-GCM', length: 256 };
const ES256 = { name: 'ECDSA', hash: 'SHA-256' };

interface Keys {
  hkdf: CryptoKey;
  aes: CryptoKey;
  kw: CryptoKey;
  pub: CryptoKey;
  sig: ArrayBuffer;
  ct: ArrayBuffer;
}

let keys: Promise<Keys> | undefined;

async function makeKeys(): Promise<Keys> {
  const aes = await s.importKey('raw', RAW, 'AES-GCM', false, ['encrypt', 'decrypt']);
  const pair = (await s.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  return {
    hkdf: await s.importKey('raw', RAW, 'HKDF', false, ['deriveBits', 'deriveKey']),
    aes,
    kw: await s.importKey('raw', RAW, 'AES-KW', false, ['wrapKey']),
    pub: pair.publicKey,
    sig: await s.sign(ES256, pair.privateKey, SIGNED),
    ct: await s.encrypt({ name: 'AES-GCM', iv: IV }, aes, BODY),
  };
}

/** One sealed JSON answer's WebCrypto calls at the gateway, in order (10 with the verify). */
async function gatewaySequence(k: Keys, verify: boolean): Promise<void> {
  const transient = await s.importKey('raw', RAW, 'AES-GCM', true, ['encrypt']); // sealRequest: wrap
  await s.wrapKey('raw', transient, k.kw, 'AES-KW');
  const dek = await s.importKey('raw', RAW, 'HKDF', false, ['deriveKey']);
  const kReq = await s.deriveKey({ ...HKDF_PARAMS, salt: NO_SALT }, dek, AES_256, false, ['encrypt']);
  await s.encrypt({ name: 'AES-GCM', iv: IV }, kReq, BODY);
  await s.digest('SHA-256', BODY); // requestSha256
  await s.digest('SHA-256', BODY); // responseSha256 (checkJson)
  await s.deriveKey(HKDF_PARAMS, dek, AES_256, false, ['decrypt']); // openResponse: K_resp
  await s.decrypt({ name: 'AES-GCM', iv: IV }, k.aes, k.ct);
  if (verify) await s.verify(ES256, k.pub, k.sig, SIGNED); // the receipt
}

const OPS: Record<string, (k: Keys) => unknown> = {
  none: () => undefined,
  promise: () => Promise.resolve(),
  timeout0: () => new Promise((resolve) => setTimeout(resolve, 0)),
  schedwait: () =>
    (globalThis as unknown as { scheduler: { wait(ms: number): Promise<void> } }).scheduler.wait(0),
  hkdfBits: (k) => s.deriveBits(HKDF_PARAMS, k.hkdf, 256),
  hkdfKey: (k) => s.deriveKey(HKDF_PARAMS, k.hkdf, AES_256, false, ['encrypt', 'decrypt']),
  importAes: () => s.importKey('raw', RAW, 'AES-GCM', false, ['encrypt', 'decrypt']),
  gcmSeal: (k) => s.encrypt({ name: 'AES-GCM', iv: IV }, k.aes, BODY),
  gcmOpen: (k) => s.decrypt({ name: 'AES-GCM', iv: IV }, k.aes, k.ct),
  sha256: () => s.digest('SHA-256', BODY),
  es256: (k) => s.verify(ES256, k.pub, k.sig, SIGNED),
  nodeSha256: () => createHash('sha256').update(BODY).digest(),
  nodeHmac: () => createHmac('sha256', SALT).update(RAW).digest(),
  nobleSha256: () => sha256(BODY),
  nobleHkdf: () => hkdf(sha256, RAW, SALT, INFO, 32),
  seq: (k) => gatewaySequence(k, true),
  seqNoVerify: (k) => gatewaySequence(k, false),
};

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const op = OPS[url.searchParams.get('op') ?? ''];
    const k = Number(url.searchParams.get('k'));
    if (!op || !Number.isSafeInteger(k) || k < 0) return new Response('bad op or k', { status: 400 });
    keys ??= makeKeys();
    const made = await keys;
    let results = 0;
    for (let i = 0; i < k; i++) {
      const r = op(made);
      if (r instanceof Promise) await r; // awaited one by one, as the gateway does
      results++;
    }
    return new Response(String(results));
  },
};
