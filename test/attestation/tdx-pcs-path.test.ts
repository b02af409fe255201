/**
 * TDX collateral at run time, on the SIMULATED PCS (src/platform/simulator/tdx-pcs.ts): a bundle
 * without collateral verifies when the verifier has a PCS — the FMSPC comes from the quote's PCK
 * certificate, the answers are verified to the manifest's (simulated) SGX root before they are
 * cached, and the next verification is served from the cache without a fetch. A PCS serving
 * collateral the manifest's root did not sign, or nothing, leaves the bundle rejected and the
 * cache empty.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { computeReportData } from '../../src/attestation/report-data.js';
import { verifyTdxAttestation } from '../../src/attestation/verify-tdx-attestation.js';
import {
  createTdxDevelopmentEnvironment,
  type TdxDevelopmentEnvironment,
} from '../../src/dev/environment-tdx.js';
import { createTdxDevChain } from '../../src/platform/simulator/tdx-chain.js';
import {
  SIMULATED_PCS_BASE,
  SIMULATED_ROOT_CA_CRL_URL,
  simulatedPcsFetch,
} from '../../src/platform/simulator/tdx-pcs.js';
import { memoryCollateralCache } from '../../src/verify/tdx/memory-cache.js';
import { type PcsOptions, pcsCacheKey } from '../../src/verify/tdx/pcs.js';

const NOW = new Date('2026-12-01T12:00:00Z');
const KEY = pcsCacheKey(SIMULATED_PCS_BASE, '5A1EA15E0000', 'platform');
let env: TdxDevelopmentEnvironment;
let quote: Uint8Array;
let expectedReportData: Uint8Array;

beforeAll(async () => {
  env = await createTdxDevelopmentEnvironment({ now: NOW });
  expectedReportData = await computeReportData({
    role: 'worker',
    nonce: new Uint8Array(32).fill(3),
    manifestDigest: env.manifestDigest,
    keys: { signing: new Uint8Array(65).fill(2) },
  });
  quote = (await env.workerPlatform.getEvidence(expectedReportData)).quote;
});

function verify(pcs: PcsOptions | undefined) {
  return verifyTdxAttestation({
    quote,
    ...(pcs ? { pcs } : {}),
    manifest: env.manifest,
    role: 'worker',
    expectedReportData,
    now: NOW,
  });
}

describe('TDX collateral fetched from a PCS', () => {
  it('fetched, verified to the simulated root, cached; the second verification fetches nothing', async () => {
    const urls: string[] = [];
    const cache = memoryCollateralCache(() => NOW.getTime());
    const pcs: PcsOptions = {
      fetch: simulatedPcsFetch(env.chain, { now: NOW }, (u) => urls.push(u)),
      baseUrl: SIMULATED_PCS_BASE,
      rootCaCrlUrl: SIMULATED_ROOT_CA_CRL_URL,
      cache,
    };
    const first = await verify(pcs);
    expect(first.violations).toEqual([]);
    expect(first.verdict).toBe('trusted');
    expect(urls).toHaveLength(4);
    expect(await cache.get(KEY)).not.toBeNull();
    expect(urls[0]).toContain(`fmspc=${'5A1EA15E0000'}`);
    const second = await verify(pcs);
    expect(second.verdict).toBe('trusted');
    expect(urls).toHaveLength(4);
  });

  it('collateral signed under another SGX root is refused and never cached', async () => {
    const other = await createTdxDevChain({ now: NOW });
    const cache = memoryCollateralCache(() => NOW.getTime());
    const pcs: PcsOptions = {
      fetch: simulatedPcsFetch(other, { now: NOW }),
      baseUrl: SIMULATED_PCS_BASE,
      rootCaCrlUrl: SIMULATED_ROOT_CA_CRL_URL,
      cache,
    };
    const v = await verify(pcs);
    expect(v.verdict).toBe('rejected');
    expect(v.violations.map((x) => x.code)).toContain('root_untrusted');
    // Nothing went into the cache under the key test 1 shows it is stored at.
    expect(await cache.get(KEY)).toBeNull();
  });

  it('a PCS that does not answer, or no PCS at all: collateral_unavailable', async () => {
    const down: PcsOptions = {
      fetch: async () => {
        throw new Error('connection refused');
      },
      baseUrl: SIMULATED_PCS_BASE,
    };
    const failing: PcsOptions = {
      fetch: async () => new Response('busy', { status: 503 }),
      baseUrl: SIMULATED_PCS_BASE,
    };
    for (const pcs of [down, failing, undefined]) {
      expect((await verify(pcs)).violations.map((x) => x.code)).toEqual(['collateral_unavailable']);
    }
  });

  it('a PCS that answers what is not collateral: collateral_malformed', async () => {
    const garbage: PcsOptions = {
      fetch: async () => new Response('{"not":"collateral"}', { status: 200 }),
      baseUrl: SIMULATED_PCS_BASE,
    };
    expect((await verify(garbage)).violations.map((x) => x.code)).toEqual(['collateral_malformed']);
  });
});
