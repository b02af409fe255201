/**
 * A caller that is not type-checked (JavaScript, a JSON-built input) hands the verifiers wrong
 * types: each must be the closed `invalid_argument`, never a TypeError from deep inside (probe:
 * collateral null or {}, roots a string, the input itself null, a GPU chain null all threw
 * TypeErrors before; so did an SNP chain null). Real vectors (phala-v4-uptodate,
 * hopper-545-with-rims-nvtrust, milan-v2-gosevguest).
 */
import { describe, expect, it } from 'vitest';
import { verifyGpuEvidence } from '../../../src/verify/nvidia/verify-gpu.js';
import { verifyTdxEvidence } from '../../../src/verify/tdx/verify-tdx.js';
import { verifySnpEvidence } from '../../../src/verify/verify-snp.js';
import { loadGpuSet } from '../nvidia/support.js';
import { errorCode, loadTdx, v } from './support.js';

describe.skipIf(!v.present)(`verifiers given wrong types ${v.skipReason}`, () => {
  it('verifyTdxEvidence: invalid_argument for each wrong-typed input, the honest one verifies', async () => {
    const s = loadTdx('phala-v4-uptodate');
    const base = { quote: s.quote, collateral: s.collateral, now: s.at };
    expect((await verifyTdxEvidence(base)).violations).toEqual([]);
    const wrong: [string, unknown][] = [
      ['input null', null],
      ['collateral null', { ...base, collateral: null }],
      ['collateral {}', { ...base, collateral: {} }],
      ['tcbInfo a number', { ...base, collateral: { ...s.collateral, tcbInfo: 5 } }],
      ['tcbInfoSignature hex text', { ...base, collateral: { ...s.collateral, tcbInfoSignature: 'ab' } }],
      [
        'qeIdentityIssuerChain bytes',
        { ...base, collateral: { ...s.collateral, qeIdentityIssuerChain: new Uint8Array(3) } },
      ],
      ['rootCaCrl text', { ...base, collateral: { ...s.collateral, rootCaCrl: 'x' } }],
      ['pckCrlIssuerChain a number', { ...base, collateral: { ...s.collateral, pckCrlIssuerChain: 1 } }],
      ['roots a string', { ...base, roots: 'abc' }],
      ['roots [1]', { ...base, roots: [1] }],
      // Without the check, undefined passed the "bytes or null" check and threw a TypeError
      // (the CRLs), or read as a malformed PCK chain, cert_malformed (the CRL issuer chain).
      ['rootCaCrl undefined', { ...base, collateral: { ...s.collateral, rootCaCrl: undefined } }],
      ['pckCrl undefined', { ...base, collateral: { ...s.collateral, pckCrl: undefined } }],
      [
        'pckCrlIssuerChain undefined',
        { ...base, collateral: { ...s.collateral, pckCrlIssuerChain: undefined } },
      ],
    ];
    for (const [what, input] of wrong) {
      expect(await errorCode(() => verifyTdxEvidence(input as never)), what).toBe('invalid_argument');
    }
  });

  it('verifyGpuEvidence: invalid_argument for a chain that is not bytes or a list of bytes', async () => {
    const { input } = loadGpuSet('hopper-545-with-rims-nvtrust');
    expect((await verifyGpuEvidence(input)).violations).toEqual([]);
    for (const chain of [null, undefined, 'pem text', [null], [input.chain, 'x']]) {
      const got = await errorCode(() => verifyGpuEvidence({ ...input, chain } as never));
      expect(got, String(chain)).toBe('invalid_argument');
    }
  });

  it('verifyGpuEvidence: invalid_argument for evidence, RIMs or revocation options of the wrong type', async () => {
    const { input } = loadGpuSet('hopper-545-with-rims-nvtrust');
    const saved = { ...input, revocation: { policy: 'best-effort', saved: [] } };
    expect((await verifyGpuEvidence(saved as never)).violations).toEqual([]);
    // Without the check, each threw a TypeError, read a caller's error as rim_malformed, or
    // (a policy that is neither "require" nor "best-effort") checked revocation as best-effort.
    const wrong: [string, unknown][] = [
      ['evidence null', { ...input, evidence: null }],
      ['rims a string', { ...input, rims: 'rim' }],
      ['rims [null]', { ...input, rims: [null] }],
      ['revocation null', { ...input, revocation: null }],
      ['revocation {}', { ...input, revocation: {} }],
      ['revocation policy "required"', { ...input, revocation: { policy: 'required' } }],
      ['revocation saved a string', { ...input, revocation: { policy: 'require', saved: 'x' } }],
    ];
    for (const [what, given] of wrong) {
      expect(await errorCode(() => verifyGpuEvidence(given as never)), what).toBe('invalid_argument');
    }
  });

  it('verifySnpEvidence: invalid_argument for a chain that is not a list of bytes', async () => {
    const input = {
      report: v.bytes('snp/milan-v2-gosevguest/report.bin'),
      leaf: v.bytes('snp/milan-v2-gosevguest/vcek.der'),
      trustAnchors: [],
      now: new Date('2024-01-01T00:00:00Z'),
    };
    for (const chain of [null, 'pem text', [null], v.bytes('amd-roots/ask_ark_milan.pem')]) {
      const got = await errorCode(() => verifySnpEvidence({ ...input, chain } as never));
      expect(got, String(chain)).toBe('invalid_argument');
    }
  });

  it('verifySnpEvidence: invalid_argument for a leaf, CRL or report that is not bytes (was cert_malformed / crl_invalid)', async () => {
    const pemText = v.text('amd-roots/ask_ark_milan.pem');
    const input = {
      report: v.bytes('snp/milan-v2-gosevguest/report.bin'),
      chain: [v.bytes('amd-roots/ask_ark_milan.pem')],
      trustAnchors: [],
      now: new Date('2024-01-01T00:00:00Z'),
    };
    const wrong: [string, unknown][] = [
      ['leaf as PEM text', { ...input, leaf: pemText }],
      ['leaf as a list of bytes', { ...input, leaf: [v.bytes('snp/milan-v2-gosevguest/vcek.der')] }],
      ['leaf null', { ...input, leaf: null }],
      ['crl as text', { ...input, leaf: v.bytes('snp/milan-v2-gosevguest/vcek.der'), crl: 'x' }],
      ['report as hex text', { ...input, report: 'abcd' }],
    ];
    for (const [what, given] of wrong) {
      expect(await errorCode(() => verifySnpEvidence(given as never)), what).toBe('invalid_argument');
    }
  });
});
