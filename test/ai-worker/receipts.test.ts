/**
 * The worker signs a receipt for every sealed answer (docs/protocol.md "Receipts"), through
 * `app.request()` in Node and workerd: a JSON answer carries it in `x-sealgate-receipt`, a stream
 * in the trailer event after its end frame; both name the certificate sent in
 * `x-sealgate-worker-certificate`, verify under the worker's key, and hash exactly the sealed
 * request bytes sent and the sealed bytes (or frames) received. No certificate yet: 503 not_ready.
 */
import { describe, expect, it } from 'vitest';
import { createWorkerApp } from '../../src/ai-worker/app.js';
import { WorkerKeys } from '../../src/ai-worker/worker-keys.js';
import { issueWorkerCertificate } from '../../src/attestation-service/issue-certificate.js';
import { generateServiceKeys } from '../../src/attestation-service/service-keys.js';
import { fromBase64Url, sha256, toHex, utf8 } from '../../src/bytes.js';
import { BUILTIN_MODEL_ID, createBuiltinModel } from '../../src/model/builtin.js';
import { createStreamHash, parseReceipt, verifyReceiptSignature } from '../../src/receipts/receipt.js';
import { expectError, kekAt, openSse, post, seal, T } from './support.js';

const CHAT = '/v1/chat/completions';
const DIGEST = 'ab'.repeat(32);
const body = { model: BUILTIN_MODEL_ID, messages: [{ role: 'user', content: 'hello' }] };

async function setup(withSigner = true) {
  const kek = await kekAt();
  const keys = new WorkerKeys({ minIntervalMs: 0, clock: () => T * 1000, refresher: async () => undefined });
  await keys.add(kek);
  const signing = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', signing.publicKey));
  const service = await generateServiceKeys();
  const { der } = await issueWorkerCertificate({
    issuer: service.signing,
    workerSigningKey: spki,
    workerHpkeKey: new Uint8Array(1216).fill(1),
    measurement: new Uint8Array(48).fill(2),
    manifestDigest: DIGEST,
    configDigest: 'cf'.repeat(32),
    simulated: true,
    now: new Date(T * 1000),
    lifetimeSeconds: 3600,
  });
  const app = createWorkerApp({
    keys,
    model: createBuiltinModel({ now: () => T }),
    manifestDigest: DIGEST,
    simulated: true,
    certificate: () => der,
    receiptSigner: () => (withSigner ? { key: signing.privateKey, certificate: der } : null),
    clock: () => T * 1000 + 500,
    log: () => undefined,
  });
  return { app, kek, der, signing };
}

describe('worker receipts', () => {
  it('a JSON answer: the receipt header hashes the exact request and response bytes', async () => {
    const { app, kek, der, signing } = await setup();
    const { sealed, context } = await seal(kek, CHAT, body);
    const requestText = JSON.stringify(sealed);
    const res = await post(app, CHAT, requestText);
    expect(res.status).toBe(200);
    expect(fromBase64Url(res.headers.get('x-sealgate-worker-certificate')!)).toEqual(der);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const receipt = parseReceipt(res.headers.get('x-sealgate-receipt'));
    const claims = await verifyReceiptSignature(receipt, der, signing.publicKey);
    expect(claims).toEqual({
      v: 1,
      id: context.requestId,
      route: CHAT,
      model: BUILTIN_MODEL_ID,
      manifestDigest: DIGEST,
      kid: kek.kid,
      requestSha256: toHex(await sha256(utf8.encode(requestText))),
      responseSha256: toHex(await sha256(bytes)),
      stream: false,
      iat: T,
    });
  });

  it('a stream: the trailer after the end frame signs the frame hash', async () => {
    const { app, kek, der, signing } = await setup();
    const { sealed, context } = await seal(kek, CHAT, { ...body, stream: true });
    const res = await post(app, CHAT, sealed);
    expect(fromBase64Url(res.headers.get('x-sealgate-worker-certificate')!)).toEqual(der);
    const opened = await openSse(res, context);
    expect(opened.error).toBeUndefined();
    const hash = createStreamHash();
    hash.update(opened.hashed);
    const claims = await verifyReceiptSignature(parseReceipt(opened.trailer!), der, signing.publicKey);
    expect(claims).toMatchObject({ id: context.requestId, stream: true, responseSha256: hash.digest() });
  });

  it('without a certificate yet the worker answers nothing: 503 not_ready', async () => {
    const { app, kek } = await setup(false);
    const { sealed } = await seal(kek, CHAT, body);
    await expectError(await post(app, CHAT, sealed), 503, 'not_ready');
  });
});
