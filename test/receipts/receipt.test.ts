/**
 * Receipts offline (src/receipts): a real bundle — the simulator's service evidence from the REAL
 * service app, a worker certificate issued with the service's key, a receipt signed with the
 * worker's key — verifies through every link; any single altered byte of the receipt, any sampled
 * byte of every field of the bundle, a receipt of another worker, a certificate of an unattested
 * issuer, an expired certificate and a wrong manifest all fail. Node and workerd.
 */
import fc from 'fast-check';
import { compactVerify, importSPKI } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateServiceKeys } from '../../src/attestation-service/service-keys.js';
import { toBase64, toBase64Url, toHex, utf8 } from '../../src/bytes.js';
import { canonicalizeJson } from '../../src/json/canonical.js';
import { encodeReceiptBundle } from '../../src/receipts/bundle.js';
import {
  checkedHeaderCount,
  claimsJson,
  createStreamHash,
  parseReceipt,
  signReceipt,
} from '../../src/receipts/receipt.js';
import { verifyReceiptBundle } from '../../src/receipts/verify-receipt.js';
import { makeWorkerIdentity, T0 } from '../attestation-service/support.js';
import { claimsFor, ENV_TIMEOUT_MS, type Fixture, issueFor, makeFixture } from './support.js';

let f: Fixture;
beforeAll(async () => {
  f = await makeFixture();
}, ENV_TIMEOUT_MS);

const B64U = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function withReceipt(receipt: string): Record<string, unknown> {
  return { ...f.bundle, receipt };
}

async function failedStep(bundle: unknown, manifestText?: string): Promise<string | null> {
  const v = await verifyReceiptBundle({ bundle, ...(manifestText !== undefined ? { manifestText } : {}) });
  if (v.verdict === 'verified') return null;
  return v.steps.find((s) => s.status === 'failed')!.step;
}

describe('receipt format', () => {
  it('is a JWS (ES256, explicit typ) any JOSE library verifies with the worker key', async () => {
    const [h, p] = f.receipt.split('.');
    expect(
      JSON.parse(
        utf8.decode(Uint8Array.from(atob(h!.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))),
      ),
    ).toEqual({
      alg: 'ES256',
      typ: 'sealgate-receipt+jws',
      'x5t#S256': expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    const pem = `-----BEGIN PUBLIC KEY-----\n${toBase64(f.worker.signingSpki)}\n-----END PUBLIC KEY-----`;
    const { payload, protectedHeader } = await compactVerify(f.receipt, await importSPKI(pem, 'ES256'));
    expect(protectedHeader.typ).toBe('sealgate-receipt+jws');
    expect(JSON.parse(utf8.decode(payload))).toEqual(f.claims);
    expect(p).toBeDefined();
  });

  it('refuses claims outside their domain when signing', async () => {
    await expect(
      signReceipt({
        key: f.worker.signing.privateKey,
        certificateDer: f.certificate,
        claims: claimsFor(f.dev, { requestSha256: 'XYZ' }),
      }),
    ).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('writes the claims as RFC 8785 canonical JSON, whatever the strings hold', () => {
    const hex = fc.stringMatching(/^[0-9a-f]{64}$/);
    const model = fc
      .string({
        unit: fc.oneof(
          fc.constantFrom('"', '\\', '/', 'é', '👋', '\u2028', '\u007f', 'a'),
          fc.string({ unit: 'binary', maxLength: 1 }),
        ),
        minLength: 1,
        maxLength: 40,
      })
      .filter((m) => m.length > 0 && !/\p{Cc}/u.test(m) && !/\p{Cs}/u.test(m));
    const claims = fc.record({
      v: fc.constant(1 as const),
      id: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,20}$/),
      route: fc.stringMatching(/^\/[\x21-\x7e]{0,30}$/),
      model,
      manifestDigest: hex,
      kid: fc.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      requestSha256: hex,
      responseSha256: hex,
      stream: fc.boolean(),
      iat: fc.integer({ min: 0, max: 2 ** 40 }),
    });
    fc.assert(
      fc.property(claims, (c) => {
        expect(claimsJson(c)).toBe(canonicalizeJson(c));
      }),
      { numRuns: 1000 },
    );
  });

  it('defines the stream hash as SHA-256 of the body bytes, however they are split', async () => {
    const body = utf8.encode('SGS3 header, records, the end record: bytes as sent');
    const expected = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', body.slice())));
    for (const cut of [0, 1, 7, body.length]) {
      const h = createStreamHash();
      h.update(body.subarray(0, cut));
      h.update(body.subarray(cut));
      expect(h.digest()).toBe(expected);
    }
    const h = createStreamHash();
    h.update(body);
    h.digest();
    expect(() => h.update(body)).toThrow('stream hash: already finished');
  });
});

describe('offline verification', () => {
  it('verifies every link of a real bundle, and says the hardware is simulated', async () => {
    const v = await verifyReceiptBundle({ bundle: JSON.stringify(f.bundle) });
    expect(v.steps.map((s) => [s.step, s.status])).toEqual([
      ['receipt', 'ok'],
      ['signature', 'ok'],
      ['certificate', 'ok'],
      ['service', 'ok'],
      ['manifest', 'ok'],
    ]);
    expect(v.verdict).toBe('verified');
    expect(v.simulated).toBe(true);
    expect(v.manifestDigest).toBe(f.dev.manifestDigest);
    expect(v.claims).toEqual(f.claims);
    // With the caller's own copy of the manifest too.
    const own = await verifyReceiptBundle({ bundle: f.bundle, manifestText: f.dev.manifestText });
    expect([own.verdict, own.ownManifest]).toEqual(['verified', true]);
  });

  it('fails for every single-character alteration of the receipt (two per position)', async () => {
    const r = f.receipt;
    let tried = 0;
    const passed: string[] = [];
    for (let i = 0; i < r.length; i++) {
      const c = r.charCodeAt(i);
      const alts = new Set([String.fromCharCode(c ^ 1), B64U[(B64U.indexOf(r[i]!) + 17) % 64]!]);
      alts.delete(r[i]!);
      for (const alt of alts) {
        const altered = r.slice(0, i) + alt + r.slice(i + 1);
        const step = await failedStep(withReceipt(altered));
        tried++;
        // Nothing gets past the receipt itself: it does not parse, or its signature fails.
        if (step !== 'receipt' && step !== 'signature') passed.push(`${i}:${alt}:${step}`);
      }
    }
    expect(passed).toEqual([]);
    expect(tried).toBeGreaterThan(2 * r.length - 10);
  });

  it('fails for a systematic sample of single-byte alterations over every field of the bundle', async () => {
    const text = JSON.stringify(f.bundle);
    // Every position outside long base64url runs; inside them the first and last 4 and every 61st.
    const positions: number[] = [];
    const runs = [...text.matchAll(/[A-Za-z0-9_-]{200,}/g)].map((m) => [m.index!, m.index! + m[0].length]);
    for (let i = 0; i < text.length; i++) {
      const run = runs.find(([a, b]) => i >= a! && i < b!);
      if (!run || i - run[0]! < 4 || run[1]! - i <= 4 || (i - run[0]!) % 61 === 0) positions.push(i);
    }
    const accepted: string[] = [];
    for (const i of positions) {
      const c = text.charCodeAt(i);
      const alt = B64U.includes(text[i]!)
        ? B64U[(B64U.indexOf(text[i]!) + 1) % 64]!
        : String.fromCharCode(c ^ 1);
      const altered = text.slice(0, i) + alt + text.slice(i + 1);
      const v = await verifyReceiptBundle({ bundle: altered });
      if (v.verdict === 'verified') accepted.push(`${i} (${text.slice(Math.max(0, i - 20), i + 5)})`);
    }
    expect(accepted).toEqual([]);
    expect(positions.length).toBeGreaterThan(300);
  });

  it('fails for a receipt of another worker, under either certificate', async () => {
    const other = await makeWorkerIdentity();
    const otherCert = await issueFor(f, f.service.keys.signing, other);
    const otherReceipt = await signReceipt({
      key: other.signing.privateKey,
      certificateDer: otherCert,
      claims: f.claims,
    });
    // Its own pair verifies (same service, same manifest) ...
    expect(
      await failedStep(
        encodeReceiptBundle({
          receipt: otherReceipt,
          workerCertificate: otherCert,
          serviceEvidence: f.serviceEvidence,
        }),
      ),
    ).toBeNull();
    // ... but neither receipt verifies with the other's certificate.
    expect(await failedStep(withReceipt(otherReceipt))).toBe('signature');
    expect(
      await failedStep(
        encodeReceiptBundle({
          receipt: f.receipt,
          workerCertificate: otherCert,
          serviceEvidence: f.serviceEvidence,
        }),
      ),
    ).toBe('signature');
    // A receipt signed by another key that claims our certificate's thumbprint.
    const forged = await signReceipt({
      key: other.signing.privateKey,
      certificateDer: f.certificate,
      claims: f.claims,
    });
    expect(await failedStep(withReceipt(forged))).toBe('signature');
  });

  it("fails when the certificate's simulated flag is not the anchor's (real-looking on a simulated chain)", async () => {
    const cert = await issueFor(f, f.service.keys.signing, f.worker, { simulated: false });
    const receipt = await signReceipt({
      key: f.worker.signing.privateKey,
      certificateDer: cert,
      claims: f.claims,
    });
    expect(
      await failedStep(
        encodeReceiptBundle({ receipt, workerCertificate: cert, serviceEvidence: f.serviceEvidence }),
      ),
    ).toBe('manifest');
  });

  it('fails for a certificate issued by a key the attested service does not hold', async () => {
    const rogue = await generateServiceKeys();
    const cert = await issueFor(f, rogue.signing, f.worker);
    const receipt = await signReceipt({
      key: f.worker.signing.privateKey,
      certificateDer: cert,
      claims: f.claims,
    });
    expect(
      await failedStep(
        encodeReceiptBundle({ receipt, workerCertificate: cert, serviceEvidence: f.serviceEvidence }),
      ),
    ).toBe('certificate');
  });

  it('fails for a receipt signed outside its certificate’s validity', async () => {
    const receipt = await signReceipt({
      key: f.worker.signing.privateKey,
      certificateDer: f.certificate,
      claims: claimsFor(f.dev, { iat: Math.floor(T0.getTime() / 1000) + 7200 }),
    });
    expect(await failedStep(withReceipt(receipt))).toBe('certificate');
  });

  it('fails under a wrong manifest: the caller’s, the receipt’s or the certificate’s', async () => {
    const otherManifest = f.dev.manifestText.replace('"name": "', '"name": "another ');
    expect(otherManifest).not.toBe(f.dev.manifestText);
    expect(await failedStep(f.bundle, otherManifest)).toBe('service');
    const wrongDigest = await signReceipt({
      key: f.worker.signing.privateKey,
      certificateDer: f.certificate,
      claims: claimsFor(f.dev, { manifestDigest: 'c'.repeat(64) }),
    });
    expect(await failedStep(withReceipt(wrongDigest))).toBe('certificate');
    const certElsewhere = await issueFor(f, f.service.keys.signing, f.worker, {
      manifestDigest: 'c'.repeat(64),
    });
    const receipt = await signReceipt({
      key: f.worker.signing.privateKey,
      certificateDer: certElsewhere,
      claims: claimsFor(f.dev, { manifestDigest: 'c'.repeat(64) }),
    });
    const v = await verifyReceiptBundle({
      bundle: encodeReceiptBundle({
        receipt,
        workerCertificate: certElsewhere,
        serviceEvidence: f.serviceEvidence,
      }),
    });
    expect(v.verdict).toBe('rejected');
    expect(v.steps.find((s) => s.status === 'failed')!.step).toBe('manifest');
  });

  it('parses strictly: one spelling per receipt', () => {
    expect(parseReceipt(f.receipt).claims).toEqual(f.claims);
    expect(() => parseReceipt(`${f.receipt}.x`)).toThrow(/compact/);
    expect(() => parseReceipt(f.receipt.replace('.', '=.'))).toThrow();
  });

  // parseReceipt keeps the header parts that passed, by their exact text (one per certificate).
  it('takes a header from its cache only for the exact text that passed, a bounded few', async () => {
    const [header, payload, signature] = f.receipt.split('.') as [string, string, string];
    const first = parseReceipt(f.receipt).certificateSha256;
    // A caller that scribbles on its copy does not change what the next parse sees.
    first.fill(0);
    expect(toHex(parseReceipt(f.receipt).certificateSha256)).not.toBe(toHex(first));
    const json = utf8.decode(
      Uint8Array.from(atob(header.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0)),
    );
    const spelled = (text: string) => `${toBase64Url(utf8.encode(text))}.${payload}.${signature}`;
    // The same header JSON spelled otherwise, after the canonical one was cached: checked in full.
    for (const text of [
      ` ${json}`,
      json.replace('"alg":', '"alg" :'),
      json.replace('"ES256"', '"\\u0045S256"'),
    ]) {
      expect(JSON.parse(text)).toEqual(JSON.parse(json));
      expect(() => parseReceipt(spelled(text)), text).toThrow(/not canonical JSON/);
    }
    expect(() => parseReceipt(spelled(json.replace('ES256', 'ES384')))).toThrow(/alg must be/);
    // Other certificates' headers: each its own thumbprint; the cache stays bounded.
    for (let i = 0; i < 40; i++) {
      const thumb = toBase64Url(new Uint8Array(32).fill(i));
      const other = canonicalizeJson({ alg: 'ES256', typ: 'sealgate-receipt+jws', 'x5t#S256': thumb });
      expect(toBase64Url(parseReceipt(spelled(other)).certificateSha256)).toBe(thumb);
      expect(checkedHeaderCount()).toBeLessThanOrEqual(32);
    }
    expect(checkedHeaderCount()).toBe(32);
  });

  it('refuses a part whose last character sets unused bits (same bytes, another spelling)', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const parts = f.receipt.split('.');
    let refused = 0;
    parts.forEach((part, i) => {
      const rem = part.length % 4;
      if (rem === 0) return; // no unused bits to set
      const last = alphabet.indexOf(part[part.length - 1]!);
      const other = `${part.slice(0, -1)}${alphabet[last | 1]}`;
      const altered = parts.map((x, j) => (j === i ? other : x)).join('.');
      expect(() => parseReceipt(altered)).toThrow(/not canonical base64url/);
      refused++;
    });
    // The signature (64 bytes: 86 characters) always has unused bits.
    expect(refused).toBeGreaterThanOrEqual(1);
  });
});

describe('hostile signers and payloads', () => {
  const ES256 = { name: 'ECDSA', hash: 'SHA-256' } as const;
  const webSign = async (data: Uint8Array) =>
    new Uint8Array(await crypto.subtle.sign(ES256, f.worker.signing.privateKey, data as BufferSource));

  it('a signing function must give exactly the 64-byte r || s, or nothing is issued', async () => {
    const base = { certificateDer: f.certificate, claims: f.claims };
    const wrong: ((d: Uint8Array) => unknown)[] = [
      async (d) => (await webSign(d)).subarray(0, 63),
      async (d) => Uint8Array.of(...(await webSign(d)), 0),
      async () => new Uint8Array(72), // a DER-encoded ECDSA signature's length
      async (d) => (await webSign(d)).buffer, // an ArrayBuffer, not bytes
      () => '',
    ];
    for (const key of wrong) {
      await expect(signReceipt({ ...base, key: key as never })).rejects.toMatchObject({ code: 'internal' });
    }
    // A correct signature in a view at an offset of a larger buffer: exactly those 64 bytes.
    const offset = async (d: Uint8Array) => {
      const big = new Uint8Array(80);
      big.set(await webSign(d), 8);
      return big.subarray(8, 72);
    };
    const receipt = await signReceipt({ ...base, key: offset });
    const pem = `-----BEGIN PUBLIC KEY-----\n${toBase64(f.worker.signingSpki)}\n-----END PUBLIC KEY-----`;
    const { payload } = await compactVerify(receipt, await importSPKI(pem, 'ES256'));
    expect(utf8.decode(payload)).toBe(claimsJson(f.claims));
  });

  it('a correctly signed payload that is not RFC 8785 canonical is refused', async () => {
    const [header] = f.receipt.split('.');
    const canonical = claimsJson(f.claims);
    const model = JSON.stringify(f.claims.model);
    const escaped = `"${[...f.claims.model].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`;
    expect(JSON.parse(escaped)).toBe(f.claims.model);
    const variants = [
      canonical.replace(`"model":${model}`, `"model":${escaped}`), // same string, escaped
      canonical.replace('{"iat":', '{ "iat":'), // whitespace
      canonical.replace(`"iat":${f.claims.iat}`, `"iat":${f.claims.iat}.0`), // another number spelling
      canonical.replace(/^\{("iat":\d+),(.*)\}$/, '{$2,$1}'), // member order
      canonical.replace(/^\{("iat":\d+),/, '{$1,$1,'), // a member twice
      `${canonical}\n`,
    ];
    for (const text of variants) {
      expect(text).not.toBe(canonical);
      expect(JSON.parse(text)).toEqual(JSON.parse(canonical));
      const signingInput = `${header}.${toBase64Url(utf8.encode(text))}`;
      const signature = await webSign(utf8.encode(signingInput));
      const receipt = `${signingInput}.${toBase64Url(signature)}`;
      expect(() => parseReceipt(receipt), text).toThrow(/not canonical JSON/);
      expect(await failedStep(withReceipt(receipt)), text).not.toBeNull();
    }
  });
});
