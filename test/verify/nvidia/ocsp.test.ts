/**
 * One OCSP response judged for one certificate (src/verify/nvidia/ocsp.ts, RFC 6960), on a
 * simulated NVIDIA-shaped chain whose responses the simulator signs for real: good from the CA
 * and from a delegated responder; revoked (certificateHold too), unknown, stale, not yet valid,
 * without nextUpdate; wrong signers (another CA, a responder without id-kp-OCSPSigning, one issued
 * by another CA, a key impersonating the CA's name); a flipped bit; garbage, cut and error
 * answers; an unknown critical extension; an answer for another certificate; a missing or other
 * nonce. ResponderID by Name and by key hash. Runs in Node and workerd.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { buildOcspRequest, ocspCertId, parseOcspResponse } from '../../../src/der/ocsp.js';
import { makeNvidiaChain } from '../../../src/platform/simulator/nvidia-chain.js';
import { errorOcspResponse, readOcspRequest } from '../../../src/platform/simulator/nvidia-ocsp.js';
import { checkOcspResponse } from '../../../src/verify/nvidia/ocsp.js';
import { AT, HOUR, makeOcspResponderCertificate, type OcspFixture, ocspFixture } from './ocsp-support.js';

const codes = (r: { violations: { code: string }[] }) => r.violations.map((x) => x.code);

describe('OCSP response verification (RFC 6960)', () => {
  let f: OcspFixture;
  beforeAll(async () => {
    f = await ocspFixture();
  });
  const check = (response: Uint8Array, nonce: Uint8Array | null = null, at = AT) =>
    checkOcspResponse({ response, cert: f.certs[0]!, issuer: f.certs[1]!, at, nonce, field: 'chain[0]' });

  it('good, signed by the issuing CA: status good, no violation', async () => {
    const r = await check(await f.answer());
    expect(r.violations).toEqual([]);
    expect(r.status).toBe('good');
    expect(r.nextUpdate).toEqual(new Date(AT.getTime() + 24 * HOUR));
  });

  it('good, signed by a delegated responder with id-kp-OCSPSigning issued by the CA', async () => {
    const signer = await makeOcspResponderCertificate(f.sim.certs[1]!);
    const r = await check(await f.answer({ signer }));
    expect(r.violations).toEqual([]);
    expect(r.status).toBe('good');
  });

  it('ResponderID by key hash (§4.2.2.3): the CA and a delegated responder both found', async () => {
    expect((await check(await f.answer({ responderIdByKey: true }))).status).toBe('good');
    const signer = await makeOcspResponderCertificate(f.sim.certs[1]!);
    expect((await check(await f.answer({ signer, responderIdByKey: true }))).status).toBe('good');
  });

  it('an unknown critical responseExtension is ocsp_invalid; a non-critical one is ignored', async () => {
    const ext = { oid: '1.3.6.1.4.1.99999.1', value: Uint8Array.of(5, 0) };
    const critical = await check(await f.answer({ extensions: [{ ...ext, critical: true }] }));
    expect(codes(critical)).toEqual(['ocsp_invalid']);
    expect(critical.violations[0]!.message).toContain('1.3.6.1.4.1.99999.1');
    expect(codes(await check(await f.answer({ extensions: [{ ...ext, critical: false }] })))).toEqual([]);
  });

  it('a CertID under SHA-1 (what openssl asks by default) matches too', async () => {
    expect((await check(await f.answer({ hash: 'SHA-1' }))).status).toBe('good');
  });

  it('revoked: cert_revoked with the reason; certificateHold is refused as well', async () => {
    const revoked = await check(
      await f.answer({ status: { kind: 'revoked', at: new Date(AT.getTime() - 2 * HOUR), reason: 1 } }),
    );
    expect(codes(revoked)).toEqual(['cert_revoked']);
    expect(revoked.violations[0]!.message).toContain('keyCompromise');
    expect(revoked.status).toBe('revoked');
    const hold = await check(await f.answer({ status: { kind: 'revoked', at: AT, reason: 6 } }));
    expect(codes(hold)).toEqual(['cert_revoked']);
    expect(hold.violations[0]!.actual).toBe('certificateHold');
  });

  it('unknown: ocsp_status_unknown', async () => {
    const r = await check(await f.answer({ status: { kind: 'unknown' } }));
    expect(codes(r)).toEqual(['ocsp_status_unknown']);
  });

  it('outside thisUpdate..nextUpdate, or without nextUpdate: ocsp_expired', async () => {
    const stale = await f.answer({
      thisUpdate: new Date(AT.getTime() - 48 * HOUR),
      nextUpdate: new Date(AT.getTime() - HOUR),
    });
    expect(codes(await check(stale))).toEqual(['ocsp_expired']);
    const future = await f.answer({
      thisUpdate: new Date(AT.getTime() + HOUR),
      nextUpdate: new Date(AT.getTime() + 48 * HOUR),
    });
    expect(codes(await check(future))).toEqual(['ocsp_expired']);
    // Five minutes of responder clock skew are tolerated on thisUpdate, not more.
    const skew = await f.answer({ thisUpdate: new Date(AT.getTime() + 4 * 60_000) });
    expect(codes(await check(skew))).toEqual([]);
    expect(codes(await check(await f.answer({ nextUpdate: null })))).toEqual(['ocsp_expired']);
    // nextUpdate itself is inside the window; one millisecond after is not.
    const good = await f.answer();
    expect(codes(await check(good, null, new Date(AT.getTime() + 24 * HOUR)))).toEqual([]);
    expect(codes(await check(good, null, new Date(AT.getTime() + 24 * HOUR + 1)))).toEqual(['ocsp_expired']);
  });

  it('wrong signers: ocsp_signature_invalid', async () => {
    // The root signs for the leaf: a real NVIDIA-chain key, but not the leaf's issuer.
    const byRoot = await f.answer({ signer: f.sim.certs[2]! });
    expect(codes(await check(byRoot))).toEqual(['ocsp_signature_invalid']);
    // A delegated responder without id-kp-OCSPSigning.
    const noEku = await makeOcspResponderCertificate(f.sim.certs[1]!, { ocspSigning: false });
    const r1 = await check(await f.answer({ signer: noEku }));
    expect(codes(r1)).toEqual(['ocsp_signature_invalid']);
    expect(r1.violations[0]!.message).toContain('id-kp-OCSPSigning');
    // A responder with id-kp-OCSPSigning, issued by another CA of the same name shape.
    const other = await makeNvidiaChain([
      'SIMULATED NVIDIA Root CA',
      'SIMULATED NVIDIA Provisioner ICA',
      'x',
    ]);
    const foreign = await makeOcspResponderCertificate(other.certs[1]!);
    expect(codes(await check(await f.answer({ signer: foreign })))).toEqual(['ocsp_signature_invalid']);
    // Another key under the issuer's very name (ResponderID byName matches the CA): the signature fails.
    const impostor = await f.answer({ issuer: { ...f.sim.certs[1]!, keys: other.certs[1]!.keys } });
    expect(codes(await check(impostor))).toEqual(['ocsp_signature_invalid']);
    // Signed by the CA's key but naming another issuer: not "issued by that CA" (§4.2.2.2).
    const renamed = await makeOcspResponderCertificate(f.sim.certs[1]!, { issuerName: 'CN=Someone else' });
    const r2 = await check(await f.answer({ signer: renamed }));
    expect(codes(r2)).toEqual(['ocsp_signature_invalid']);
    expect(r2.violations[0]!.message).toContain('is not issued by');
    // A delegated responder with a critical extension nobody here understands.
    const strange = await makeOcspResponderCertificate(f.sim.certs[1]!, {
      criticalOid: '1.3.6.1.4.1.99999.2',
    });
    const r3 = await check(await f.answer({ signer: strange }));
    expect(codes(r3)).toEqual(['ocsp_signature_invalid']);
    expect(r3.violations[0]!.message).toContain('unknown critical extension 1.3.6.1.4.1.99999.2');
    // A delegated responder that is expired at the time checked.
    const old = await makeOcspResponderCertificate(f.sim.certs[1]!, {
      notAfter: new Date(AT.getTime() - HOUR),
    });
    expect(codes(await check(await f.answer({ signer: old })))).toEqual(['ocsp_signature_invalid']);
  });

  it('a signature labelled with another algorithm (ecdsa-with-SHA256) is refused', async () => {
    const r = await check(await f.answer({ signatureOid: '1.2.840.10045.4.3.2' }));
    expect(codes(r)).toEqual(['ocsp_signature_invalid']);
    expect(r.violations[0]!.message).toContain('is not ecdsa-with-SHA384');
  });

  it('any flipped bit of the signed ResponseData is refused', async () => {
    const der = await f.answer();
    const tbs = parseOcspResponse(der).tbs;
    const start = indexOf(der, tbs);
    // Every byte of the status, dates and CertID hashes region (the last 150 bytes of tbsResponseData).
    for (let i = start + tbs.length - 150; i < start + tbs.length; i++) {
      const bad = der.slice();
      bad[i]! ^= 0x01;
      const r = await check(bad);
      expect(r.status, `byte ${i}`).not.toBe('good');
      expect(r.violations.length, `byte ${i}`).toBeGreaterThan(0);
    }
  });

  it('garbage, cut, error and foreign answers: ocsp_invalid', async () => {
    expect(codes(await check(new TextEncoder().encode('<html>captive portal</html>')))).toEqual([
      'ocsp_invalid',
    ]);
    const der = await f.answer();
    expect(codes(await check(der.subarray(0, der.length - 5)))).toEqual(['ocsp_invalid']);
    expect(codes(await check(new Uint8Array([...der, 0])))).toEqual(['ocsp_invalid']);
    const tryLater = await check(errorOcspResponse(3));
    expect(codes(tryLater)).toEqual(['ocsp_invalid']);
    expect(tryLater.violations[0]!.message).toContain('responseStatus 3');
    // A good answer, validly signed by the same CA, for another certificate (the intermediate's sibling).
    const sibling = await makeNvidiaChain(['r', 'i', 'sibling']);
    const forOther = await f.answer({ cert: sibling.certs[0]!.der });
    const r = await check(forOther);
    expect(codes(r)).toEqual(['ocsp_invalid']);
    expect(r.violations[0]!.message).toContain('does not answer');
    // Same issuer (names and key hashes equal), another serial: a good answer for a sibling.
    const sibling2 = await makeOcspResponderCertificate(f.sim.certs[1]!);
    const forSibling = await check(await f.answer({ cert: sibling2.der }));
    expect(codes(forSibling)).toEqual(['ocsp_invalid']);
    // Same serial and issuer name, another issuer key (a CA of the same name): not this certificate.
    const otherKey = await check(await f.answer({ certIdKeyFrom: sibling.certs[1]!.der }));
    expect(codes(otherKey)).toEqual(['ocsp_invalid']);
    // Same serial and issuer key, another issuer name hash.
    const otherName = await check(await f.answer({ certIdNameHash: new Uint8Array(48).fill(1) }));
    expect(codes(otherName)).toEqual(['ocsp_invalid']);
  });

  it('a nonce we sent must come back exactly (responseExtensions, RFC 8954)', async () => {
    const nonce = crypto.getRandomValues(new Uint8Array(32));
    expect(codes(await check(await f.answer({ nonce }), nonce))).toEqual([]);
    expect(codes(await check(await f.answer(), nonce))).toEqual(['ocsp_invalid']);
    const other = crypto.getRandomValues(new Uint8Array(32));
    expect(codes(await check(await f.answer({ nonce: other }), nonce))).toEqual(['ocsp_invalid']);
  });

  it('requests: CertID under SHA-384 and the nonce, as a responder reads them', async () => {
    const id = await ocspCertId(f.certs[0]!, f.certs[1]!, 'SHA-384');
    const nonce = crypto.getRandomValues(new Uint8Array(32));
    const req = readOcspRequest(buildOcspRequest(id, nonce));
    expect(req).toEqual({ serialNumber: f.certs[0]!.serialNumber, hashOid: '2.16.840.1.101.3.4.2.2', nonce });
    expect(readOcspRequest(buildOcspRequest(id, null)).nonce).toBeNull();
    expect(() => buildOcspRequest(id, new Uint8Array(33))).toThrow(/1\.\.32/);
  });
});

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error('not found');
}
