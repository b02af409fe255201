/**
 * verifyChain on AMD's real certificates, broken one way at a time: a flipped signature at each
 * level, a leaf whose signature AlgorithmIdentifier is not AMD's RSASSA-PSS SHA-384 / salt 48,
 * a chain handed in reversed.
 */
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/bytes.js';
import { decodeCertificates } from '../../src/der/pem.js';
import { checkTrustAnchors } from '../../src/verify/amd-roots.js';
import { parseCertificate } from '../../src/verify/certificates.js';
import { verifyChain } from '../../src/verify/verify-chain.js';
import { AMD_ANCHORS, codes, loadSet, v } from './support.js';

const anchors = checkTrustAnchors(AMD_ANCHORS);

async function chainOf(name: string, edit: { leaf?: Uint8Array; ask?: Uint8Array; ark?: Uint8Array } = {}) {
  const s = loadSet(name);
  const [ask, ark] = decodeCertificates(s.chain);
  const leafDer = decodeCertificates(s.leaf)[0]!;
  return {
    at: s.at,
    leaf: await parseCertificate(edit.leaf ?? leafDer),
    intermediate: await parseCertificate(edit.ask ?? ask!),
    root: await parseCertificate(edit.ark ?? ark!),
    der: { leaf: leafDer, ask: ask!, ark: ark! },
  };
}

/** The DER with its last byte (inside signatureValue) flipped. */
function flipLast(der: Uint8Array): Uint8Array {
  const out = der.slice();
  out[out.length - 1]! ^= 1;
  return out;
}

/** Replace the last occurrence of `from` with `to` (same length). */
function replaceLast(der: Uint8Array, from: string, to: string): Uint8Array {
  const hex = toHex(der);
  const i = hex.lastIndexOf(from);
  expect(i).toBeGreaterThan(0);
  return fromHex(hex.slice(0, i) + to + hex.slice(i + from.length));
}

describe.skipIf(!v.present)(`verifyChain on real AMD chains ${v.skipReason}`, () => {
  it('the genuine Genoa chain: trusted at both levels, no violations', async () => {
    const c = await chainOf('genoa-v3-azure-trustee');
    const r = await verifyChain({ ...c, trustAnchors: anchors, now: c.at });
    expect(r.violations).toEqual([]);
    expect(r.intermediateTrusted).toBe(true);
    expect(r.leafKeyTrusted).toBe(true);
    expect(r.product).toBe('Genoa');
    expect(r.leafKind).toBe('vcek');
  });

  it('a flipped leaf signature: cert_chain_invalid, the ASK/ARK still trusted', async () => {
    const base = await chainOf('genoa-v3-azure-trustee');
    const c = await chainOf('genoa-v3-azure-trustee', { leaf: flipLast(base.der.leaf) });
    const r = await verifyChain({ ...c, trustAnchors: anchors, now: c.at });
    expect(codes(r.violations)).toEqual(['cert_chain_invalid']);
    expect(r.violations[0]!.field).toBe('chain.leaf');
    expect(r.leafKeyTrusted).toBe(false);
    expect(r.intermediateTrusted).toBe(true);
  });

  it('a flipped ASK signature: cert_chain_invalid, nothing trusted', async () => {
    const base = await chainOf('turin-v5-oak');
    const c = await chainOf('turin-v5-oak', { ask: flipLast(base.der.ask) });
    const r = await verifyChain({ ...c, trustAnchors: anchors, now: c.at });
    expect(codes(r.violations)).toContain('cert_chain_invalid');
    expect(r.violations.some((x) => x.field === 'chain.intermediate')).toBe(true);
    expect(r.intermediateTrusted).toBe(false);
    expect(r.leafKeyTrusted).toBe(false);
  });

  it('a flipped ARK signature: its fingerprint is no anchor and its self-signature fails', async () => {
    const base = await chainOf('milan-v2-virtee');
    const c = await chainOf('milan-v2-virtee', { ark: flipLast(base.der.ark) });
    const r = await verifyChain({ ...c, trustAnchors: anchors, now: c.at });
    expect(codes(r.violations)).toEqual(expect.arrayContaining(['root_untrusted', 'cert_chain_invalid']));
    expect(r.violations.some((x) => x.message.includes('self-signature'))).toBe(true);
  });

  it('a leaf whose outer AlgorithmIdentifier says salt 32 is not an AMD signature', async () => {
    const base = await chainOf('milan-v2-virtee');
    // "[2] INTEGER 48" → "[2] INTEGER 32" in the outer signatureAlgorithm only.
    const leaf = replaceLast(base.der.leaf, 'a203020130', 'a203020120');
    const c = await chainOf('milan-v2-virtee', { leaf });
    expect(c.leaf.signatureAlgorithmIsAmdPss).toBe(false);
    const r = await verifyChain({ ...c, trustAnchors: anchors, now: c.at });
    expect(codes(r.violations)).toEqual(['cert_chain_invalid']);
  });

  it('ASK and ARK swapped: rejected', async () => {
    const c = await chainOf('genoa-v3-azure-trustee');
    const r = await verifyChain({
      leaf: c.leaf,
      intermediate: c.root,
      root: c.intermediate,
      trustAnchors: anchors,
      now: c.at,
    });
    expect(codes(r.violations)).toEqual(expect.arrayContaining(['root_untrusted', 'cert_chain_invalid']));
    expect(r.leafKeyTrusted).toBe(false);
  });
});
