/**
 * The worker's receipt key through node:crypto (src/ai-worker/node-receipt-key.ts), as server.ts
 * uses it: its SPKI is a P-256 key WebCrypto and jose import; receipts it signs through the worker
 * app verify at the gateway's check (`verifyReceiptSignature`, WebCrypto) and in jose, and nowhere
 * under another key; a signer that returns anything but a 64-byte r ‖ s makes signing fail, not
 * a receipt that would be refused later.
 */
import { compactVerify, importSPKI } from 'jose';
import { describe, expect, it } from 'vitest';
import { createWorkerApp, createWorkerExchange, type WorkerAppDeps } from '../../src/ai-worker/app.js';
import { createWorkerIdentity, webReceiptKey } from '../../src/ai-worker/identity.js';
import { nodeBase64Url } from '../../src/ai-worker/node-base64url.js';
import { nodeEnvelopeCrypto } from '../../src/ai-worker/node-envelope-crypto.js';
import { nodeReceiptKey } from '../../src/ai-worker/node-receipt-key.js';
import { nodeSha256, nodeSha256Hex } from '../../src/ai-worker/node-sha256.js';
import { exchangeSealed } from '../../src/ai-worker/sealed-exchange.js';
import { WorkerKeys } from '../../src/ai-worker/worker-keys.js';
import { issueWorkerCertificate } from '../../src/attestation-service/issue-certificate.js';
import { generateServiceKeys } from '../../src/attestation-service/service-keys.js';
import { concatBytes, sha256, toBase64, toHex, utf8 } from '../../src/bytes.js';
import { BUILTIN_MODEL_ID, createBuiltinModel } from '../../src/model/builtin.js';
import {
  createStreamHash,
  importWorkerKey,
  parseReceipt,
  signReceipt,
  verifyReceiptSignature,
} from '../../src/receipts/receipt.js';
import { kekAt, openSse, post, seal, T } from './support.js';

const CHAT = '/v1/chat/completions';
const DIGEST = 'ab'.repeat(32);
const body = { model: BUILTIN_MODEL_ID, messages: [{ role: 'user', content: 'hello' }] };

async function certificateFor(spki: Uint8Array): Promise<Uint8Array> {
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
  return der;
}

async function setup() {
  const kek = await kekAt();
  const keys = new WorkerKeys({ minIntervalMs: 0, clock: () => T * 1000, refresher: async () => undefined });
  await keys.add(kek);
  const identity = await createWorkerIdentity(nodeReceiptKey);
  const der = await certificateFor(identity.signingSpki);
  const deps: WorkerAppDeps = {
    keys,
    model: createBuiltinModel({ now: () => T }),
    manifestDigest: DIGEST,
    simulated: true,
    certificate: () => der,
    receiptSigner: () => ({ key: identity.signing, certificate: der }),
    envelopeCrypto: nodeEnvelopeCrypto,
    sha256: nodeSha256,
    sha256Hex: nodeSha256Hex,
    clock: () => T * 1000 + 500,
    log: () => undefined,
  };
  return { app: createWorkerApp(deps), exchange: createWorkerExchange(deps), kek, der, identity };
}

/** A receipt's claims for signing tests (the request and answer hashes are placeholders). */
function claimsFor(model: string) {
  return {
    v: 1 as const,
    id: 'req-1',
    route: CHAT,
    model,
    manifestDigest: DIGEST,
    kid: 'A'.repeat(22),
    requestSha256: 'cd'.repeat(32),
    responseSha256: 'ef'.repeat(32),
    stream: false,
    iat: T,
  };
}

const pem = (spki: Uint8Array) => `-----BEGIN PUBLIC KEY-----\n${toBase64(spki)}\n-----END PUBLIC KEY-----`;

describe('receipts signed through node:crypto', () => {
  it('the SPKI is a P-256 key in the form WebCrypto exports', async () => {
    const node = nodeReceiptKey();
    const web = await webReceiptKey();
    // Same DER layout (RFC 5480: id-ecPublicKey, prime256v1, uncompressed point): only the point differs.
    expect(node.spki.length).toBe(91);
    expect(toHex(node.spki.subarray(0, 27))).toBe(toHex(web.spki.subarray(0, 27)));
    await expect(importWorkerKey(node.spki)).resolves.toBeInstanceOf(CryptoKey);
    expect(nodeReceiptKey().spki).not.toEqual(node.spki); // a fresh key pair each time
  });

  it('a JSON answer: the receipt verifies under the certificate key (WebCrypto and jose)', async () => {
    const { app, kek, der, identity } = await setup();
    const { sealed, context } = await seal(kek, CHAT, body);
    const requestText = JSON.stringify(sealed);
    const res = await post(app, CHAT, requestText);
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const compact = res.headers.get('x-sealgate-receipt')!;
    const claims = await verifyReceiptSignature(parseReceipt(compact), der, identity.signingSpki);
    expect(claims).toMatchObject({
      id: context.requestId,
      requestSha256: toHex(await sha256(utf8.encode(requestText))),
      responseSha256: toHex(await sha256(bytes)),
      stream: false,
    });
    const { protectedHeader } = await compactVerify(
      compact,
      await importSPKI(pem(identity.signingSpki), 'ES256'),
    );
    expect(protectedHeader.alg).toBe('ES256');
    // Under another worker's key it does not verify.
    const other = nodeReceiptKey();
    await expect(verifyReceiptSignature(parseReceipt(compact), der, other.spki)).rejects.toMatchObject({
      code: 'attestation_rejected',
    });
  });

  it("spelled with Buffer's base64url: the same header and payload, and it verifies", async () => {
    const key = nodeReceiptKey();
    const der = await certificateFor(key.spki);
    const claims = claimsFor('modèle 😀');
    const js = await signReceipt({ key: key.sign, certificateDer: der, claims });
    const node = await signReceipt({
      key: key.sign,
      certificateDer: der,
      claims,
      base64url: nodeBase64Url.encode,
    });
    // ECDSA signatures differ per signing; header and payload are deterministic.
    expect(node.split('.').slice(0, 2)).toEqual(js.split('.').slice(0, 2));
    await expect(verifyReceiptSignature(parseReceipt(node), der, key.spki)).resolves.toMatchObject(claims);
  });

  it('a stream: the trailer receipt verifies and signs the frame hash', async () => {
    const { app, kek, der, identity } = await setup();
    const { sealed, context } = await seal(kek, CHAT, { ...body, stream: true });
    const opened = await openSse(await post(app, CHAT, sealed), context);
    expect(opened.error).toBeUndefined();
    const hash = createStreamHash();
    hash.update(opened.hashed);
    const claims = await verifyReceiptSignature(parseReceipt(opened.trailer!), der, identity.signingSpki);
    expect(claims).toMatchObject({ id: context.requestId, stream: true, responseSha256: hash.digest() });
  });

  it('a stream whose header went out alone (header()): the trailer signs it too, first', async () => {
    const { exchange, kek, der, identity } = await setup();
    const { sealed, context } = await seal(kek, CHAT, { ...body, stream: true });
    const text = utf8.encode(JSON.stringify(sealed));
    const answer = await exchangeSealed(exchange, CHAT, {
      contentType: 'application/json',
      contentLength: String(text.length),
      plainCoding: true,
      readBody: async () => text,
      signal: new AbortController().signal,
    });
    if (!('stream' in answer)) throw new Error('not a stream');
    const header = answer.header!()!; // as node-listener.ts takes it before the first event
    expect(header).toHaveLength(36);
    expect(answer.header!()).toBeUndefined();
    const chunks = [header];
    const reader = answer.stream.getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) chunks.push(next.value);
    const opened = await openSse(
      new Response(concatBytes(...chunks) as BodyInit, { headers: answer.headers }),
      context,
    );
    expect(opened.error).toBeUndefined();
    const hash = createStreamHash();
    hash.update(opened.hashed); // header..end record, as the gateway hashes it
    const claims = await verifyReceiptSignature(parseReceipt(opened.trailer!), der, identity.signingSpki);
    expect(claims).toMatchObject({ id: context.requestId, stream: true, responseSha256: hash.digest() });
  });

  it('a signer that does not return 64 bytes fails the signing (internal), no receipt comes out', async () => {
    const key = nodeReceiptKey();
    const der = await certificateFor(key.spki);
    const claims = claimsFor(BUILTIN_MODEL_ID);
    await expect(signReceipt({ key: key.sign, certificateDer: der, claims })).resolves.toMatch(
      /^[\w-]+\.[\w-]+\.[\w-]{86}$/,
    );
    for (const bad of [new Uint8Array(63), new Uint8Array(72), 'sig' as unknown as Uint8Array]) {
      await expect(signReceipt({ key: () => bad, certificateDer: der, claims })).rejects.toMatchObject({
        code: 'internal',
      });
    }
  });
});
