/**
 * The pinned AMD fingerprints equal the real cert_chain files (SOURCES.md "amd-roots"), and the
 * trust-anchor rules: an anchor that is not an AMD root must say `simulated: true`; an AMD root
 * must not; fingerprints are lower-case hex and unique.
 */
import { describe, expect, it } from 'vitest';
import { sha256, toHex } from '../../src/bytes.js';
import { decodeCertificates } from '../../src/der/pem.js';
import { isSealgateError } from '../../src/errors.js';
import {
  AMD_INTERMEDIATES,
  AMD_ROOTS,
  checkTrustAnchors,
  type TrustAnchor,
} from '../../src/verify/amd-roots.js';
import { v } from './support.js';

const FILES = {
  Milan: { ask: 'amd-roots/ask_ark_milan.pem', asvk: 'amd-roots/ask_ark_milan_vlek.pem' },
  Genoa: { ask: 'amd-roots/ask_ark_genoa.pem', asvk: 'amd-roots/ask_ark_genoa_vlek.pem' },
  Turin: { ask: 'amd-roots/ask_ark_turin_vcek.pem', asvk: 'amd-roots/ask_ark_turin_vlek.pem' },
} as const;

describe.skipIf(!v.present)(`AMD pins match the real cert_chain files ${v.skipReason}`, () => {
  it('each ARK and ASK/ASVK fingerprint is the SHA-256 of the DER in the file', async () => {
    for (const ic of AMD_INTERMEDIATES) {
      const [inter, ark] = decodeCertificates(v.bytes(FILES[ic.product][ic.kind]));
      expect(toHex(await sha256(inter!))).toBe(ic.sha256);
      expect(toHex(await sha256(ark!))).toBe(AMD_ROOTS.find((r) => r.product === ic.product)!.sha256);
    }
    expect(AMD_ROOTS.map((r) => r.product)).toEqual(['Milan', 'Genoa', 'Turin']);
    expect(AMD_INTERMEDIATES.length).toBe(6);
  });
});

function refused(anchors: TrustAnchor[], pattern: RegExp): void {
  let caught: unknown;
  try {
    checkTrustAnchors(anchors);
  } catch (e) {
    caught = e;
  }
  expect(isSealgateError(caught, 'invalid_argument')).toBe(true);
  expect((caught as Error).message).toMatch(pattern);
}

describe('checkTrustAnchors', () => {
  const milan = AMD_ROOTS[0]!;
  const dev = 'ab'.repeat(32);

  it('accepts AMD roots, and a development root marked simulated', () => {
    const ok = checkTrustAnchors([
      ...AMD_ROOTS.map((r) => ({ sha256: r.sha256, product: r.product })),
      { sha256: dev, product: 'Genoa', simulated: true },
    ]);
    expect(ok.length).toBe(4);
    expect(Object.isFrozen(ok)).toBe(true);
  });

  it('refuses an unpinned root without simulated: true', () => {
    refused(
      [{ sha256: dev, product: 'Milan' }],
      /is not an AMD root; a development root needs simulated: true/,
    );
    refused([{ sha256: dev, product: 'Milan', simulated: false }], /is not an AMD root/);
  });

  it("refuses an AMD root marked simulated, or under another product's name", () => {
    refused(
      [{ sha256: milan.sha256, product: 'Milan', simulated: true }],
      /is AMD's ARK-Milan but says simulated/,
    );
    refused([{ sha256: milan.sha256, product: 'Genoa' }], /is AMD's ARK-Milan, not a Genoa root/);
  });

  it('refuses malformed fingerprints, unknown products and duplicates', () => {
    refused([{ sha256: milan.sha256.toUpperCase(), product: 'Milan' }], /64 lower-case hex/);
    refused([{ sha256: milan.sha256.slice(2), product: 'Milan' }], /64 lower-case hex/);
    refused([{ sha256: milan.sha256, product: 'Rome' as 'Milan' }], /product must be Milan, Genoa or Turin/);
    refused(
      [
        { sha256: milan.sha256, product: 'Milan' },
        { sha256: milan.sha256, product: 'Milan' },
      ],
      /repeats fingerprint/,
    );
  });
});
