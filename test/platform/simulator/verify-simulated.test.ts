/**
 * The point of the simulator: its evidence goes through the real verifier (`verifySnpEvidence`,
 * the path AMD's evidence takes) and passes with zero violations when — and only when — the
 * manifest's trust anchors name the simulated root.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createDevChain, type DevChain } from '../../../src/platform/simulator/dev-chain.js';
import { measurementFor } from '../../../src/platform/simulator/measurement.js';
import {
  type PlatformEvidence,
  type SimulatedLaunchConfig,
  SimulatedSnpPlatform,
} from '../../../src/platform/simulator/platform.js';
import { AMD_ROOTS } from '../../../src/verify/amd-roots.js';
import { type SnpVerification, verifySnpEvidence } from '../../../src/verify/verify-snp.js';

const NOW = new Date('2026-11-20T10:00:00Z');
const LATER = new Date('2026-11-21T10:00:00Z');
const TCBS = {
  Milan: { bootloader: 4, tee: 0, snp: 24, microcode: 217 },
  Turin: { fmc: 1, bootloader: 1, tee: 0, snp: 2, microcode: 71 },
  Genoa: { bootloader: 10, tee: 0, snp: 23, microcode: 84 },
} as const;

let chains: Record<'milan' | 'turin' | 'genoaVlek', DevChain>;

// RSA-4096 key generation takes seconds (more on a loaded machine); workerd's default hook
// timeout is 10 s, so the chains get their own budget.
const CHAIN_TIMEOUT_MS = 180_000;

beforeAll(async () => {
  const [milan, turin, genoaVlek] = await Promise.all([
    createDevChain({ product: 'Milan', now: NOW, tcb: TCBS.Milan }),
    createDevChain({ product: 'Turin', now: NOW, tcb: TCBS.Turin }),
    createDevChain({ product: 'Genoa', now: NOW, tcb: TCBS.Genoa, signingKey: 'vlek' }),
  ]);
  chains = { milan, turin, genoaVlek };
}, CHAIN_TIMEOUT_MS);

async function evidence(
  chain: DevChain,
  extra: Partial<SimulatedLaunchConfig> = {},
): Promise<PlatformEvidence> {
  const platform = new SimulatedSnpPlatform(chain, { measurement: await measurementFor('worker'), ...extra });
  return platform.getReport(new Uint8Array(64).fill(0x5a));
}

function verify(e: PlatformEvidence, trustAnchors: Parameters<typeof verifySnpEvidence>[0]['trustAnchors']) {
  return verifySnpEvidence({
    report: e.report,
    leaf: e.certificates.vcek,
    chain: [e.certificates.ask, e.certificates.ark],
    trustAnchors,
    now: LATER,
  });
}

const codes = (r: SnpVerification) => r.violations.map((x) => x.code);

describe('verifySnpEvidence on simulated evidence', () => {
  it.each(['milan', 'turin', 'genoaVlek'] as const)(
    '%s: zero violations with the simulated anchor',
    async (name) => {
      const chain = chains[name];
      const result = await verify(await evidence(chain), [chain.trustAnchor]);
      expect(result.violations).toEqual([]);
      expect(result.claims).not.toBeNull();
      expect(result.claims!.product).toBe(chain.product);
      expect(result.claims!.signingKey).toBe(chain.signingKey);
      expect(result.claims!.reportedTcb).toEqual(chain.tcb);
      expect(result.claims!.chain.rootSha256).toBe(chain.arkSha256);
      expect(result.claims!.report.measurement).toEqual(await measurementFor('worker'));
    },
  );

  it('root_untrusted without the anchor, or with only AMD roots', async () => {
    const e = await evidence(chains.milan);
    for (const anchors of [[], AMD_ROOTS.map((r) => ({ sha256: r.sha256, product: r.product }))]) {
      const result = await verify(e, anchors);
      expect(codes(result)).toContain('root_untrusted');
      expect(result.claims).toBeNull();
    }
  });

  it("another simulated chain's anchor does not do either", async () => {
    const result = await verify(await evidence(chains.milan), [chains.turin.trustAnchor]);
    expect(codes(result)).toContain('root_untrusted');
  });

  it('cert_tcb_mismatch when the platform reports a TCB the VCEK was not issued for', async () => {
    const e = await evidence(chains.turin, { tcb: { ...TCBS.Turin, snp: 3 } });
    const result = await verify(e, [chains.turin.trustAnchor]);
    expect(codes(result)).toEqual(['cert_tcb_mismatch']);
  });

  it('cert_hwid_mismatch when CHIP_ID is not the VCEK hwID', async () => {
    const e = await evidence(chains.milan, { chipId: new Uint8Array(64).fill(1) });
    const result = await verify(e, [chains.milan.trustAnchor]);
    expect(codes(result)).toEqual(['cert_hwid_mismatch']);
  });

  it('report_signature_invalid when a signed byte changes in transit', async () => {
    const e = await evidence(chains.genoaVlek);
    e.report[0x50] = e.report[0x50]! ^ 0xff; // REPORT_DATA[0]
    const result = await verify(e, [chains.genoaVlek.trustAnchor]);
    expect(codes(result)).toEqual(['report_signature_invalid']);
  });
});
