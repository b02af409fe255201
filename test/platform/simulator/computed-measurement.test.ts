/**
 * A manifest made from a computed measurement (`sealgate measure` → `manifest pin --measurement`)
 * trusts exactly the guests launched from that image: a simulated report whose platform was told the
 * computed launch digest verifies `trusted` through the real path (verifySnpAttestation), and the
 * report whose platform values the pin came from — another image — is `measurement_not_allowed`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { verifySnpAttestation } from '../../../src/attestation/verify-snp-attestation.js';
import { toHex } from '../../../src/bytes.js';
import { manifestFromClaims } from '../../../src/cli/manifest-pin.js';
import { computeSnpLaunchDigest } from '../../../src/evidence/snp/measure/measure.js';
import { createDevChain, type DevChain } from '../../../src/platform/simulator/dev-chain.js';
import { measurementFor } from '../../../src/platform/simulator/measurement.js';
import { SimulatedSnpPlatform } from '../../../src/platform/simulator/platform.js';
import { parseManifest } from '../../../src/policy/parse-manifest.js';
import { verifySnpEvidence } from '../../../src/verify/verify-snp.js';
import { syntheticOvmf } from '../../evidence/snp/measure/synthetic-ovmf.js';

const NOW = new Date('2026-11-20T10:00:00Z');
const LATER = new Date('2026-11-21T10:00:00Z');
const REPORT_DATA = new Uint8Array(64).fill(0x5a);
// RSA-4096 key generation takes seconds; workerd's default hook timeout is 10 s.
const CHAIN_TIMEOUT_MS = 180_000;

let chain: DevChain;
beforeAll(async () => {
  chain = await createDevChain({
    product: 'Genoa',
    now: NOW,
    tcb: { bootloader: 10, tee: 0, snp: 23, microcode: 84 },
  });
}, CHAIN_TIMEOUT_MS);

const computed = computeSnpLaunchDigest({
  ovmf: syntheticOvmf(),
  vcpus: 2,
  vcpuSignature: 0xa10f10,
  directBoot: { kernel: new Uint8Array(32).fill(1), initrd: new Uint8Array(8), cmdline: 'console=ttyS0' },
});

async function evidenceFor(measurement: Uint8Array) {
  return new SimulatedSnpPlatform(chain, { measurement }).getReport(REPORT_DATA);
}

function attest(e: Awaited<ReturnType<typeof evidenceFor>>, manifest: ReturnType<typeof parseManifest>) {
  return verifySnpAttestation({
    report: e.report,
    leaf: e.certificates.vcek,
    chain: [e.certificates.ask, e.certificates.ark],
    manifest,
    role: 'worker',
    now: LATER,
  });
}

describe('a manifest pinned from a computed measurement', () => {
  it('trusts the report of a guest launched with it, and only that', async () => {
    // Platform values (root, TCB, policy) from a verified report of another image.
    const platform = await evidenceFor(await measurementFor('some other image'));
    const verified = await verifySnpEvidence({
      report: platform.report,
      leaf: platform.certificates.vcek,
      chain: [platform.certificates.ask, platform.certificates.ark],
      trustAnchors: [chain.trustAnchor],
      now: LATER,
    });
    expect(verified.violations).toEqual([]);
    const { manifest, warnings } = manifestFromClaims(verified.claims!, chain.trustAnchor, {
      role: 'worker',
      allowDebug: false,
      measurements: [toHex(computed)],
    });
    expect(warnings.join('\n')).toMatch(/not one of the computed measurements/);
    const parsed = parseManifest(JSON.stringify(manifest));
    expect(parsed.roles.worker!.snp!.measurements).toEqual([toHex(computed)]);

    const launched = await attest(await evidenceFor(computed), parsed);
    expect(launched.violations).toEqual([]);
    expect(launched.verdict).toBe('trusted');
    expect(launched.claims!.report.measurement).toEqual(computed);

    const other = await attest(platform, parsed);
    expect(other.verdict).toBe('rejected');
    expect(other.violations.map((v) => v.code)).toEqual(['measurement_not_allowed']);
  });
});
