/**
 * A certificate's frame (der/certificate.ts `readCertificateFrame`) is the start of its parse, not
 * another reading of it: on every real AMD certificate (VCEKs, VLEK, ASKs, ASVK, ARKs) the frame
 * then `completeCertificate` gives exactly what `parseX509Certificate` gives, and the frame's key and
 * signed bytes are the parse's. A certificate broken past its frame reads a frame and then throws
 * `malformed_certificate`; one broken inside its frame throws at the frame.
 */
import { describe, expect, it } from 'vitest';
import {
  completeCertificate,
  parseX509Certificate,
  readCertificateFrame,
} from '../../src/der/certificate.js';
import { decodeCertificates } from '../../src/der/pem.js';
import { isSealgateError } from '../../src/errors.js';
import { SNP_SETS } from '../support/vectors.js';
import { leafMalformedPastFrame } from './overlap-suite.js';
import { loadSet, v } from './support.js';

function allCertificates(): Uint8Array[] {
  return SNP_SETS.flatMap((name) => {
    const s = loadSet(name);
    return [...decodeCertificates(s.leaf), ...decodeCertificates(s.chain)];
  });
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  return null;
}

describe.skipIf(!v.present)(`certificate frames ${v.skipReason}`, () => {
  it('frame then completion equals the whole parse, on every real AMD certificate', async () => {
    const certs = allCertificates();
    expect(certs.length).toBeGreaterThanOrEqual(SNP_SETS.length * 3);
    for (const der of certs) {
      const frame = readCertificateFrame(der);
      const whole = await parseX509Certificate(der);
      expect(await completeCertificate(frame)).toEqual(whole);
      expect(frame.spki).toEqual(whole.spki);
      expect(frame.tbs).toEqual(whole.tbs);
    }
  });

  it('broken past the frame: the frame reads, the completion throws malformed_certificate', async () => {
    const leaf = leafMalformedPastFrame(loadSet('genoa-v3-azure-trustee').leaf);
    const frame = readCertificateFrame(leaf);
    const e = await rejection(completeCertificate(frame));
    expect(isSealgateError(e, 'malformed_certificate')).toBe(true);
    expect(isSealgateError(await rejection(parseX509Certificate(leaf)), 'malformed_certificate')).toBe(true);
  });

  it('broken inside the frame (the outer SEQUENCE cut short): the frame throws', () => {
    const der = decodeCertificates(loadSet('genoa-v3-azure-trustee').leaf)[0]!;
    let thrown: unknown = null;
    try {
      readCertificateFrame(der.subarray(0, der.length - 1));
    } catch (e) {
      thrown = e;
    }
    expect(isSealgateError(thrown, 'malformed_certificate')).toBe(true);
  });
});
