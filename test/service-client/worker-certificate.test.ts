/**
 * The worker certificate format, in Node and workerd: what the issuer writes is what the reader
 * reads, the UUID-arc OIDs are encoded exactly (a 128-bit arc, which @peculiar's ASN.1 layer cannot
 * round-trip), and verification refuses another issuer, a changed byte, expiry and another manifest.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  issueWorkerCertificate,
  type WorkerCertificateInput,
} from '../../src/attestation-service/issue-certificate.js';
import { generateServiceKeys, type ServiceKeys } from '../../src/attestation-service/service-keys.js';
import { fromHex, sha256, toHex } from '../../src/bytes.js';
import { ecdsaDerToP1363, ecdsaP1363ToDer } from '../../src/der/ecdsa-signature.js';
import { oidContent as encodeOidContent } from '../../src/der/write.js';
import {
  parseWorkerCertificate,
  SEALGATE_OID_ARC,
  verifyWorkerCertificate,
  WORKER_CERT_OIDS,
} from '../../src/service-client/worker-certificate.js';
import { expectSealgateError } from '../keys/support.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const DIGEST = 'ab'.repeat(32);
let service: ServiceKeys;
let worker: ServiceKeys;
let workerSpki: Uint8Array;

beforeAll(async () => {
  [service, worker] = await Promise.all([generateServiceKeys(), generateServiceKeys()]);
  // A worker's receipt key is P-256 (src/ai-worker/identity.ts); its hpke key is the service's kind.
  const receiptKey = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ]);
  workerSpki = new Uint8Array(await crypto.subtle.exportKey('spki', receiptKey.publicKey));
});

const CONFIG_DIGEST = 'cf'.repeat(32);

const issue = (over: Partial<WorkerCertificateInput> = {}) =>
  issueWorkerCertificate({
    issuer: service.signing,
    workerSigningKey: workerSpki,
    workerHpkeKey: worker.hpke.publicKey,
    measurement: new Uint8Array(48).fill(7),
    manifestDigest: DIGEST,
    configDigest: CONFIG_DIGEST,
    simulated: true,
    now: NOW,
    lifetimeSeconds: 900,
    ...over,
  });

describe('OID encoding (X.690 §8.19)', () => {
  it('encodes small and 128-bit arcs', () => {
    expect(toHex(encodeOidContent('2.5.29.19'))).toBe('551d13');
    expect(toHex(encodeOidContent('1.2.840.10045.4.3.3'))).toBe('2a8648ce3d040303');
    // 2.25 → 0x69; the 128-bit UUID integer in base 128 (checked independently with Python and
    // `openssl asn1parse`, which prints this certificate's OIDs in full).
    expect(toHex(encodeOidContent(`${SEALGATE_OID_ARC}.1.1`))).toBe(
      '6983f6b3e4b6da89c2abb1bfd69ba3b387d4fd270101',
    );
  });

  it('refuses what is not a dotted OID', () => {
    for (const bad of ['', '3.1', '1.40', '1.2.03', '1..2']) {
      expect(() => encodeOidContent(bad)).toThrow(/^der: (not a dotted OID|bad second arc)/);
    }
  });
});

describe('ECDSA signature encoding (RFC 3279 §2.2.3)', () => {
  it('round-trips, adding and removing the sign byte', () => {
    const p1363 = new Uint8Array(96);
    p1363[0] = 0x80; // r needs a leading 0x00 in DER
    p1363[95] = 1; // s = 1: leading zeros dropped
    const der = ecdsaP1363ToDer(p1363);
    expect(toHex(der)).toBe(`3036023100${'80'.padEnd(96, '0')}020101`);
    expect(ecdsaDerToP1363(der, 48)).toEqual(p1363);
  });

  it('refuses non-minimal and negative integers', () => {
    expect(() => ecdsaDerToP1363(fromHex('3008020200010202007f'), 48)).toThrow('not minimal');
    expect(() => ecdsaDerToP1363(fromHex('300602018002017f'), 48)).toThrow('not positive');
  });
});

describe('issue → parse → verify', () => {
  it('carries the worker key, measurement, manifest digest, hpke key hash, simulated flag and config digest', async () => {
    const issued = await issue();
    const cert = await verifyWorkerCertificate({
      certificate: issued.der,
      issuerKey: new Uint8Array(await crypto.subtle.exportKey('spki', service.signing.publicKey)),
      now: NOW,
      manifestDigest: DIGEST,
    });
    expect(cert).toMatchObject({
      serialNumber: issued.serialNumber,
      notBefore: NOW,
      notAfter: new Date(NOW.getTime() + 900_000),
      signingKeySpki: workerSpki,
      measurement: new Uint8Array(48).fill(7),
      manifestDigest: DIGEST,
      hpkeKeySha256: await sha256(worker.hpke.publicKey),
      simulated: true,
      configDigest: CONFIG_DIGEST,
      gpus: [],
    });
    expect(issued.serialNumber).toMatch(/^[0-7][0-9a-f]{31}$/);
    expect((await parseWorkerCertificate(issued.der)).simulated).toBe(true);
    expect((await parseWorkerCertificate((await issue({ simulated: false })).der)).simulated).toBe(false);
    // The extension OIDs are in the DER exactly (tag 06, length 22); `gpus` only for a worker with GPUs.
    for (const [name, oid] of Object.entries(WORKER_CERT_OIDS)) {
      if (name === 'gpus') continue;
      expect(toHex(issued.der)).toContain(`0616${toHex(encodeOidContent(oid))}`);
    }
  });

  it('is valid for min(24 h, the key lifetime)', async () => {
    const long = await issue({ lifetimeSeconds: 7 * 86400 });
    expect(long.notAfter.getTime() - long.notBefore.getTime()).toBe(86_400_000);
  });

  it('refuses another issuer, a changed byte, expiry and another manifest', async () => {
    const issued = await issue();
    const key = service.signing.publicKey;
    await expectSealgateError(
      verifyWorkerCertificate({ certificate: issued.der, issuerKey: worker.signing.publicKey, now: NOW }),
      'attestation_rejected',
      'worker certificate: not signed by the attestation service’s key',
    );
    const tampered = issued.der.slice();
    const at = toHex(tampered).indexOf(toHex(new Uint8Array(48).fill(7))) / 2;
    tampered[at] = 8; // a measurement byte
    await expectSealgateError(
      verifyWorkerCertificate({ certificate: tampered, issuerKey: key, now: NOW }),
      'attestation_rejected',
    );
    await expectSealgateError(
      verifyWorkerCertificate({ certificate: issued.der, issuerKey: key, now: issued.notAfter }),
      'attestation_rejected',
      'worker certificate: not valid now',
    );
    await expectSealgateError(
      verifyWorkerCertificate({
        certificate: issued.der,
        issuerKey: key,
        now: new Date(NOW.getTime() - 1000),
      }),
      'attestation_rejected',
    );
    await expectSealgateError(
      verifyWorkerCertificate({
        certificate: issued.der,
        issuerKey: key,
        now: NOW,
        manifestDigest: 'cd'.repeat(32),
      }),
      'attestation_rejected',
      'worker certificate: issued under another manifest',
    );
  });

  it('malformed_certificate for bytes that are not one', async () => {
    const issued = await issue();
    await expectSealgateError(parseWorkerCertificate(new Uint8Array(0)), 'malformed_certificate');
    await expectSealgateError(parseWorkerCertificate(issued.der.subarray(0, 100)), 'malformed_certificate');
    const trailing = new Uint8Array([...issued.der, 0]);
    await expectSealgateError(parseWorkerCertificate(trailing), 'malformed_certificate');
  });

  it('refuses a worker key that is not P-256 (receipts are ES256) and a bad digest', async () => {
    await expectSealgateError(issue({ workerSigningKey: new Uint8Array(10) }), 'invalid_argument');
    const p384 = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, [
      'sign',
      'verify',
    ]);
    const p384Spki = new Uint8Array(await crypto.subtle.exportKey('spki', p384.publicKey));
    await expectSealgateError(issue({ workerSigningKey: p384Spki }), 'invalid_argument');
    await expectSealgateError(issue({ manifestDigest: 'AB'.repeat(32) }), 'invalid_argument');
  });
});
