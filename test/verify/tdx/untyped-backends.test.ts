/**
 * The objects a caller hands the verifiers — caches, signature backends, fetchers — are
 * interfaces, unchecked at run time until this change: `{}` as a cache or a backend, a cache whose
 * `get` is not a function, threw a TypeError from inside the verification (after the evidence had
 * parsed). Each is now `invalid_argument` before any check runs; the honest objects still verify.
 * Real vectors (phala-v4-uptodate, hopper-545-with-rims-nvtrust, milan-v2-gosevguest).
 */
import { describe, expect, it } from 'vitest';
import { createChainCache } from '../../../src/verify/chain-cache.js';
import { DeviceChainCache } from '../../../src/verify/nvidia/device-chain-cache.js';
import { verifyGpuEvidence } from '../../../src/verify/nvidia/verify-gpu.js';
import { webCryptoSignatures } from '../../../src/verify/signature-backend.js';
import { createTdxVerifyCache } from '../../../src/verify/tdx/verify-cache.js';
import { verifyTdxEvidence } from '../../../src/verify/tdx/verify-tdx.js';
import { verifySnpEvidence } from '../../../src/verify/verify-snp.js';
import { loadGpuSet } from '../nvidia/support.js';
import { AMD_ANCHORS, fakeKds, loadSet } from '../support.js';
import { errorCode, loadTdx, v } from './support.js';

async function expectEachRefused(verify: (input: never) => Promise<unknown>, wrong: [string, unknown][]) {
  const got = [];
  for (const [what, input] of wrong) got.push([what, await errorCode(() => verify(input as never))]);
  expect(got).toEqual(wrong.map(([what]) => [what, 'invalid_argument']));
}

/** A signature backend with one method missing (or not a function). */
const backendWithout = (name: keyof typeof webCryptoSignatures, value: unknown = undefined) => ({
  ...webCryptoSignatures,
  [name]: value,
});

describe.skipIf(!v.present)(`verifiers given wrongly-shaped caches and backends ${v.skipReason}`, () => {
  it('verifyTdxEvidence: invalid_argument for a cache or backend of the wrong shape', async () => {
    const s = loadTdx('phala-v4-uptodate');
    const base = { quote: s.quote, collateral: s.collateral, now: s.at };
    const honest = { ...base, cache: createTdxVerifyCache(), signatures: webCryptoSignatures };
    expect((await verifyTdxEvidence(honest)).violations).toEqual([]);
    await expectEachRefused(verifyTdxEvidence, [
      ['cache {}', { ...base, cache: {} }],
      ['cache null', { ...base, cache: null }],
      ['cache.get not a function', { ...base, cache: { get: 1, set: () => {} } }],
      ['signatures {}', { ...base, signatures: {} }],
      ['signatures null', { ...base, signatures: null }],
      ['signatures without digest', { ...base, signatures: backendWithout('digest') }],
      ['signatures.verifyEcdsa a string', { ...base, signatures: backendWithout('verifyEcdsa', 'x') }],
    ]);
  });

  it('verifyGpuEvidence: invalid_argument for a chain cache, OCSP fetcher or roots of the wrong shape', async () => {
    const { input } = loadGpuSet('hopper-545-with-rims-nvtrust');
    const cached = { ...input, chainCache: new DeviceChainCache() };
    expect((await verifyGpuEvidence(cached)).violations).toEqual([]);
    expect((await verifyGpuEvidence(cached)).violations).toEqual([]);
    const revocation = (fetch: unknown) => ({ ...input, revocation: { policy: 'require', fetch } });
    await expectEachRefused(verifyGpuEvidence, [
      ['chainCache {}', { ...input, chainCache: {} }],
      ['chainCache null', { ...input, chainCache: null }],
      ['chainCache.set a string', { ...input, chainCache: { get: () => undefined, set: 'x' } }],
      ['revocation.fetch {}', revocation({})],
      ['revocation.fetch.cache {}', revocation({ post: async () => new Uint8Array(), cache: {} })],
      ['revocation.fetch.url a number', revocation({ post: async () => new Uint8Array(), url: 1 })],
      ['roots.device [1]', { ...input, roots: { ...input.roots, device: [1] } }],
    ]);
  });

  it('verifySnpEvidence: invalid_argument for a chain cache, backend or KDS options of the wrong shape', async () => {
    const s = loadSet('milan-v2-gosevguest');
    const base = { report: s.report, leaf: s.leaf, chain: [s.chain], trustAnchors: AMD_ANCHORS, now: s.at };
    const honest = { ...base, chainCache: createChainCache(), signatures: webCryptoSignatures };
    expect((await verifySnpEvidence(honest)).violations).toEqual([]);
    const { fetch } = fakeKds({});
    await expectEachRefused(verifySnpEvidence, [
      ['chainCache {}', { ...base, chainCache: {} }],
      ['chainCache without noteSource', { ...base, chainCache: { get: () => undefined, set: () => {} } }],
      [
        'chainCache without leaf methods',
        {
          ...base,
          chainCache: {
            get: () => undefined,
            set: () => {},
            keyOfSource: () => undefined,
            noteSource: () => {},
          },
        },
      ],
      ['signatures {}', { ...base, signatures: {} }],
      ['signatures without importRsaPssSpki', { ...base, signatures: backendWithout('importRsaPssSpki') }],
      ['kds {}', { ...base, kds: {} }],
      ['kds.cache {}', { ...base, kds: { fetch, cache: {} } }],
      ['kds.revocation "yes"', { ...base, kds: { fetch, revocation: 'yes' } }],
    ]);
  });
});
