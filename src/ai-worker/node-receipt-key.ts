/**
 * The worker's receipt key (identity.ts) through node:crypto: a P-256 key pair made with
 * `generateKeyPairSync`, signing with `crypto.sign('sha256', …, {dsaEncoding: 'ieee-p1363'})` —
 * ES256's r ‖ s (RFC 7518 §3.4) — on the calling thread. Why: Node runs WebCrypto's `sign` as a
 * libuv thread-pool job and resolves it through the event loop; per answer that hand-off cost more
 * main-thread CPU than the signature (profile, 8 in flight: 0.37 ms/request in `run` for JSON,
 * 1.36 ms for streams, vs ~0.04 ms for the synchronous call) and added a wait before every JSON
 * answer could be sent. Same curve, same signature form: the gateway cannot tell them apart
 * (test/ai-worker/node-receipt-key.node.test.ts).
 *
 * The private KeyObject lives only in this closure: nothing exports it. (A KeyObject, unlike a
 * non-extractable CryptoKey, could be exported by code holding it; none does.)
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import type { ReceiptKeyPair } from './identity.js';

export function nodeReceiptKey(): ReceiptKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return Object.freeze({
    spki: new Uint8Array(spki.buffer, spki.byteOffset, spki.byteLength),
    sign: (data: Uint8Array) => {
      const s = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      return new Uint8Array(s.buffer, s.byteOffset, s.byteLength);
    },
  });
}
