/**
 * The node:crypto signature backend against the WebCrypto one: the same answers on real SEV-SNP
 * SEV-SNP and TDX evidence, on fresh keys and signatures, and on every input that must be refused (off-curve
 * points, wrong curves, wrong-length signatures, another backend's keys, wrong PSS salt).
 */
import { describe, expect, it } from 'vitest';
import { concatBytes, toHex } from '../../src/bytes.js';
import { createNodeSignatureBackend } from '../../src/platform/node-signature-backend.js';
import { type SignatureBackend, webCryptoSignatures } from '../../src/verify/signature-backend.js';
import { verifyTdxEvidence } from '../../src/verify/tdx/verify-tdx.js';
import { verifySnpEvidence } from '../../src/verify/verify-snp.js';
import { SNP_SETS } from '../support/vectors.js';
import { AMD_ANCHORS, loadSet, v } from '../verify/support.js';
import { loadTdx, TDX_SETS, type TdxSetName } from '../verify/tdx/support.js';

const node = createNodeSignatureBackend();
const BACKENDS: [string, SignatureBackend][] = [
  ['WebCrypto', webCryptoSignatures],
  ['node:crypto', node],
];

async function ecPair(curve: 'P-256' | 'P-384') {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: curve }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey));
  const point = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  return { pair, spki, point };
}

const DATA = new TextEncoder().encode('sealgate signature backend');

describe.each(BACKENDS)('%s backend', (_name, backend) => {
  it('verifies ECDSA P-256 and P-384 P1363 signatures from SPKI and raw points', async () => {
    for (const [curve, hash] of [
      ['P-256', 'SHA-256'],
      ['P-384', 'SHA-384'],
    ] as const) {
      const { pair, spki, point } = await ecPair(curve);
      const sig = new Uint8Array(
        await crypto.subtle.sign({ name: 'ECDSA', hash }, pair.privateKey, DATA as BufferSource),
      );
      for (const key of [
        await backend.importEcdsaSpki(spki, curve),
        await backend.importEcdsaPoint(point, curve),
      ]) {
        expect(key).not.toBeNull();
        expect(await backend.verifyEcdsa(key!, hash, sig, DATA)).toBe(true);
        const bad = sig.slice();
        bad[5]! ^= 1;
        expect(await backend.verifyEcdsa(key!, hash, bad, DATA)).toBe(false);
        expect(await backend.verifyEcdsa(key!, hash, sig.subarray(1), DATA)).toBe(false);
        expect(await backend.verifyEcdsa(key!, hash, concatBytes(sig, Uint8Array.of(0)), DATA)).toBe(false);
      }
    }
  });

  it('refuses a key of another curve, an off-curve point and a non-EC key', async () => {
    const p256 = await ecPair('P-256');
    expect(await backend.importEcdsaSpki(p256.spki, 'P-384')).toBeNull();
    expect(await backend.importEcdsaPoint(p256.point, 'P-384')).toBeNull();
    const off = p256.point.slice();
    off[64]! ^= 1; // y changed: not on the curve
    expect(await backend.importEcdsaPoint(off, 'P-256')).toBeNull();
    expect(await backend.importEcdsaPoint(p256.point.subarray(1), 'P-256')).toBeNull();
    const rsa = await rsaPair();
    expect(await backend.importEcdsaSpki(rsa.spki, 'P-256')).toBeNull();
    expect(await backend.importRsaPssSpki(p256.spki, 'SHA-384')).toBeNull();
    expect(await backend.importRsaPssSpki(Uint8Array.of(0x30, 0x00), 'SHA-384')).toBeNull();
  });

  it('verifies RSASSA-PSS SHA-384 salt 48 and nothing else', async () => {
    const rsa = await rsaPair();
    const sig = new Uint8Array(
      await crypto.subtle.sign(
        { name: 'RSA-PSS', saltLength: 48 },
        rsa.pair.privateKey,
        DATA as BufferSource,
      ),
    );
    const key = await backend.importRsaPssSpki(rsa.spki, 'SHA-384');
    expect(key).not.toBeNull();
    expect(await backend.verifyRsaPss(key!, 'SHA-384', 48, sig, DATA)).toBe(true);
    expect(await backend.verifyRsaPss(key!, 'SHA-384', 32, sig, DATA)).toBe(false);
    expect(await backend.verifyRsaPss(key!, 'SHA-384', 48, sig, DATA.subarray(1))).toBe(false);
    // An RSA key is not an ECDSA key, whatever the caller claims.
    expect(await backend.verifyEcdsa(key!, 'SHA-384', sig.subarray(0, 96), DATA)).toBe(false);
  });

  it('digests SHA-256 and SHA-384 (FIPS 180-4 "abc" vectors), also of a view into a larger buffer', async () => {
    const abc = new TextEncoder().encode('abc');
    const inside = Uint8Array.of(0xff, ...abc, 0xff).subarray(1, 4);
    for (const data of [abc, inside]) {
      const d256 = await backend.digest('SHA-256', data);
      expect(d256).toBeInstanceOf(Uint8Array);
      expect(toHex(d256)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      expect(toHex(await backend.digest('SHA-384', data))).toBe(
        'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7',
      );
    }
  });
});

async function rsaPair() {
  const pair = (await crypto.subtle.generateKey(
    { name: 'RSA-PSS', modulusLength: 2048, publicExponent: Uint8Array.of(1, 0, 1), hash: 'SHA-384' },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair;
  return { pair, spki: new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey)) };
}

describe('keys do not cross backends (fail closed)', () => {
  it("each backend refuses the other's key", async () => {
    const { pair, spki } = await ecPair('P-256');
    const sig = new Uint8Array(
      await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, DATA as BufferSource),
    );
    const webKey = (await webCryptoSignatures.importEcdsaSpki(spki, 'P-256'))!;
    const nodeKey = (await node.importEcdsaSpki(spki, 'P-256'))!;
    expect(await webCryptoSignatures.verifyEcdsa(webKey, 'SHA-256', sig, DATA)).toBe(true);
    expect(await node.verifyEcdsa(nodeKey, 'SHA-256', sig, DATA)).toBe(true);
    expect(await node.verifyEcdsa(webKey, 'SHA-256', sig, DATA)).toBe(false);
    expect(await webCryptoSignatures.verifyEcdsa(nodeKey, 'SHA-256', sig, DATA)).toBe(false);
  });

  it('the key cache returns the same key for the same SPKI and stays bounded', async () => {
    const small = createNodeSignatureBackend({ cacheLimit: 2 });
    const a = await ecPair('P-256');
    const k1 = await small.importEcdsaSpki(a.spki, 'P-256');
    expect(await small.importEcdsaSpki(a.spki, 'P-256')).toBe(k1);
    await small.importEcdsaSpki((await ecPair('P-256')).spki, 'P-256');
    await small.importEcdsaSpki((await ecPair('P-256')).spki, 'P-256');
    // Evicted (oldest first): a fresh import, still a working key.
    const k2 = await small.importEcdsaSpki(a.spki, 'P-256');
    expect(k2).not.toBe(k1);
    expect(k2).not.toBeNull();
  });
});

describe.skipIf(!v.present)(`real SEV-SNP evidence: same verdict on both backends ${v.skipReason}`, () => {
  for (const name of SNP_SETS) {
    it(name, async () => {
      const s = loadSet(name);
      const input = {
        report: s.report,
        leaf: s.leaf,
        chain: [s.chain],
        trustAnchors: AMD_ANCHORS,
        now: s.at,
      };
      const web = await verifySnpEvidence(input);
      const native = await verifySnpEvidence({ ...input, signatures: node });
      expect(native.violations).toEqual([]);
      expect(native.claims).not.toBeNull();
      expect(native).toEqual(web);
    });
  }
});

describe.skipIf(!v.present)(`real TDX quotes: same verdict on both backends ${v.skipReason}`, () => {
  for (const name of Object.keys(TDX_SETS) as TdxSetName[]) {
    it(name, async () => {
      const s = loadTdx(name);
      const input = { quote: s.quote, collateral: s.collateral, now: s.at };
      const web = await verifyTdxEvidence(input);
      const native = await verifyTdxEvidence({ ...input, signatures: node });
      // Not every set is free of violations (stale collateral, no TCB match): the verdicts agree.
      expect(native).toEqual(web);
      expect(native.violations.some((x) => x.code.includes('signature'))).toBe(false);
    });
  }
});
