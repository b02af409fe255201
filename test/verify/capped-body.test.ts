/**
 * Answers of collateral and revocation servers (AMD's KDS, Intel's PCS, OCSP responders) are read
 * with a byte cap counted as the bytes arrive (src/verify/capped-body.ts): a server — or whoever is
 * on the path to one reached over plain HTTP — that sends a body without end is refused after the
 * cap, not read whole before the size check.
 */
import { describe, expect, it } from 'vitest';
import { kdsGet } from '../../src/verify/kds.js';
import { type ChainToCheck, checkRevocation } from '../../src/verify/nvidia/revocation.js';
import { fetchCollateral } from '../../src/verify/tdx/pcs.js';
import { AT, type OcspFixture, ocspFixture } from './nvidia/ocsp-support.js';
import { loadTdx, v } from './tdx/support.js';

const CHUNK = 64 * 1024;
/** Far past every cap (KDS and OCSP 64 KiB, PCS 256 KiB); a flood would be endless. */
const FLOOD = 8 * 1024 * 1024;

/** A 200 answer whose body streams FLOOD bytes on demand; `pulled` counts what the reader took. */
function flood(headers: Record<string, string> = {}) {
  const state = { pulled: 0 };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled >= FLOOD) return controller.close();
      state.pulled += CHUNK;
      controller.enqueue(new Uint8Array(CHUNK));
    },
  });
  return { state, response: new Response(body, { status: 200, headers }) };
}

describe('a server that floods its answer is refused at the cap', () => {
  it('KDS', async () => {
    const { state, response } = flood();
    const r = await kdsGet(
      { fetch: async () => response },
      'https://kdsintf.amd.com/vcek/v1/Milan/cert_chain',
    );
    expect(r.ok).toBe(false);
    expect(state.pulled).toBeLessThanOrEqual(64 * 1024 + 2 * CHUNK);
  });

  it('OCSP', async () => {
    const f: OcspFixture = await ocspFixture();
    const chain: ChainToCheck = { certs: f.certs, field: 'rims.driver.chain', skipLeaf: false };
    const floods: ReturnType<typeof flood>[] = [];
    const post = async () => {
      const next = flood({ 'content-type': 'application/ocsp-response' });
      floods.push(next);
      return next.response;
    };
    const r = await checkRevocation([chain], AT, { policy: 'require', fetch: { post } });
    expect(r.violations.map((v) => v.code)).toContain('ocsp_unavailable');
    expect(floods.length).toBeGreaterThan(0);
    for (const f of floods) expect(f.state.pulled).toBeLessThanOrEqual(64 * 1024 + 2 * CHUNK);
  });

  it.skipIf(!v.present)(`PCS ${v.skipReason}`, async () => {
    const s = loadTdx('phala-v4-uptodate');
    const floods: ReturnType<typeof flood>[] = [];
    const fetch = async () => {
      const next = flood();
      floods.push(next);
      return next.response;
    };
    const r = await fetchCollateral({ fetch }, s.quote, s.at);
    expect(r.ok).toBe(false);
    expect(floods.length).toBeGreaterThan(0);
    for (const f of floods) expect(f.state.pulled).toBeLessThanOrEqual(256 * 1024 + 2 * CHUNK);
  });
});
