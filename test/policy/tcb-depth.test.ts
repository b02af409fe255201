/**
 * SEV-SNP TCB policy as deep as go-sev-guest's validate defaults: `minimumTcb` holds REPORTED,
 * CURRENT and COMMITTED; `minimumLaunchTcb` defaults to it; the VCEK's TCB does not exceed
 * CURRENT; provisional firmware (COMMITTED ≠ CURRENT, go-sev-guest's PermitProvisionalFirmware)
 * is refused unless the manifest allows it. And `manifest pin` writes what it saw, so a pinned
 * manifest still accepts its own report on every real SNP vector.
 */
import { describe, expect, it } from 'vitest';
import { referenceValuesFor } from '../../src/cli/manifest-pin.js';
import { evaluateSnp } from '../../src/policy/evaluate-snp.js';
import { parseManifest } from '../../src/policy/parse-manifest.js';
import { SNP_SETS, vectors } from '../support/vectors.js';
import { claimsFromVector, syntheticClaims, syntheticReference } from './claims-fixture.js';

const v = vectors();
const MIN = { bootloader: 4, tee: 0, snp: 24, microcode: 217 };

function at(min: typeof MIN) {
  const claims = syntheticClaims();
  for (const k of ['reportedTcb', 'currentTcb', 'committedTcb', 'launchTcb'] as const) claims[k] = { ...min };
  claims.leaf.extensions.tcb = { ...min };
  const ref = syntheticReference(claims);
  ref.minimumTcb = { Milan: { ...min } };
  delete ref.minimumLaunchTcb;
  return { claims, ref };
}

const codes = (vs: { code: string; field?: string }[]) => vs.map((x) => `${x.code}@${x.field}`);

describe('TCB depth', () => {
  it('control: every TCB at the minimum passes', () => {
    const { claims, ref } = at(MIN);
    expect(evaluateSnp(claims, ref)).toEqual([]);
  });

  it('a COMMITTED_TCB below the minimum is refused, even with provisional firmware allowed', () => {
    const { claims, ref } = at(MIN);
    claims.committedTcb = { ...MIN, microcode: 200 };
    claims.report.committedTcb = 1n; // differs from CURRENT in the raw field too
    ref.allowProvisionalFirmware = true;
    expect(codes(evaluateSnp(claims, ref))).toEqual(['tcb_below_minimum@committedTcb.microcode']);
  });

  it('a CURRENT_TCB below the minimum is refused (and the VCEK then exceeds it)', () => {
    const { claims, ref } = at(MIN);
    claims.currentTcb = { ...MIN, snp: 23 };
    claims.committedTcb = { ...MIN, snp: 23 };
    expect(codes(evaluateSnp(claims, ref))).toEqual([
      'tcb_below_minimum@currentTcb.snp',
      'tcb_below_minimum@committedTcb.snp',
      'tcb_above_current@currentTcb.snp',
    ]);
  });

  it('provisional firmware (COMMITTED ≠ CURRENT) is refused unless allowProvisionalFirmware', () => {
    const { claims, ref } = at(MIN);
    claims.currentTcb = { ...MIN, microcode: 220 };
    claims.report.currentTcb = 2n;
    claims.report.committedTcb = 1n;
    expect(codes(evaluateSnp(claims, ref))).toEqual(['provisional_firmware_not_allowed@committedTcb']);
    ref.allowProvisionalFirmware = true;
    expect(evaluateSnp(claims, ref)).toEqual([]);
  });

  it("the VCEK's TCB above CURRENT_TCB is refused", () => {
    const { claims, ref } = at(MIN);
    claims.leaf.extensions.tcb = { ...MIN, microcode: 218 };
    expect(codes(evaluateSnp(claims, ref))).toEqual(['tcb_above_current@currentTcb.microcode']);
  });

  it('minimumLaunchTcb defaults to minimumTcb', () => {
    const { claims, ref } = at(MIN);
    claims.launchTcb = { ...MIN, bootloader: 3 };
    expect(codes(evaluateSnp(claims, ref))).toEqual(['launch_tcb_below_minimum@launchTcb.bootloader']);
    ref.minimumLaunchTcb = { Milan: { ...MIN, bootloader: 3 } };
    expect(evaluateSnp(claims, ref)).toEqual([]);
  });

  it('allowProvisionalFirmware parses as a boolean and nothing else', () => {
    const base = JSON.parse(
      JSON.stringify({
        version: 1,
        name: 'x',
        trustAnchors: { snp: [{ sha256: 'ab'.repeat(32), product: 'Milan', simulated: true }] },
        roles: { worker: { snp: { measurements: ['cd'.repeat(48)], minimumTcb: { Milan: MIN } } } },
        keyPolicy: { rotationIntervalSeconds: 3600, overlapSeconds: 600, lifetimeSeconds: 86400 },
      }),
    );
    base.roles.worker.snp.allowProvisionalFirmware = true;
    expect(parseManifest(JSON.stringify(base)).roles.worker!.snp!.allowProvisionalFirmware).toBe(true);
    base.roles.worker.snp.allowProvisionalFirmware = 'yes';
    expect(() => parseManifest(JSON.stringify(base))).toThrow();
  });
});

describe.skipIf(!v.present)(`manifest pin writes what it saw ${v.skipReason}`, () => {
  it.each(SNP_SETS)('%s: the pinned reference values accept their own report', (set) => {
    const claims = claimsFromVector(v, set);
    const ref = referenceValuesFor(claims, claims.report.policy.debug);
    expect(evaluateSnp(claims, ref)).toEqual([]);
  });
});
