/**
 * The development environment: a manifest that passes the real parser, trusts ONLY the simulated
 * root, says DEVELOPMENT — SIMULATED HARDWARE, and whose two simulated guests pass as exactly
 * their own role through the real verifier. Node and workerd.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { verifySnpAttestation } from '../../src/attestation/verify-snp-attestation.js';
import { toHex } from '../../src/bytes.js';
import {
  createDevelopmentEnvironment,
  DEV_MEASUREMENT_LABELS,
  type DevelopmentEnvironment,
  developmentManifestText,
} from '../../src/dev/environment.js';
import { measurementFor } from '../../src/platform/simulator/measurement.js';
import { manifestDigest } from '../../src/policy/manifest-digest.js';
import { parseManifest } from '../../src/policy/parse-manifest.js';
import { ENV_TIMEOUT_MS, T0 } from './support.js';

let env: DevelopmentEnvironment;

beforeAll(async () => {
  env = await createDevelopmentEnvironment({ now: T0 });
}, ENV_TIMEOUT_MS);

describe('createDevelopmentEnvironment', () => {
  it('makes a parseable manifest that says what it is and trusts only the simulated root', async () => {
    expect(parseManifest(env.manifestBytes)).toEqual(env.manifest);
    expect(env.manifest.name).toContain('DEVELOPMENT — SIMULATED HARDWARE');
    expect(env.manifest.trustAnchors.snp).toEqual([
      expect.objectContaining({ sha256: env.chain.arkSha256, product: 'Milan', simulated: true }),
    ]);
    expect(env.manifestDigest).toBe(await manifestDigest(env.manifestBytes));
    expect(new TextDecoder().decode(env.manifestBytes)).toBe(env.manifestText);
    expect(env.manifest.roles['attestation-service']!.snp!.measurements).toEqual([
      toHex(await measurementFor(DEV_MEASUREMENT_LABELS.service)),
    ]);
    expect(env.manifest.roles.worker!.snp!.measurements).toEqual([
      toHex(await measurementFor(DEV_MEASUREMENT_LABELS.worker)),
    ]);
    const { rotationIntervalSeconds, overlapSeconds, lifetimeSeconds } = env.manifest.keyPolicy;
    expect(rotationIntervalSeconds + overlapSeconds).toBeLessThanOrEqual(lifetimeSeconds);
    expect(lifetimeSeconds).toBeLessThanOrEqual(3600);
  });

  it('is deterministic for a chain: same chain, same manifest bytes', async () => {
    expect(await developmentManifestText(env.chain)).toBe(env.manifestText);
    const again = await createDevelopmentEnvironment({ now: T0, chain: env.chain });
    expect(again.manifestDigest).toBe(env.manifestDigest);
  });

  it.each([
    ['servicePlatform', 'attestation-service', 'worker'],
    ['workerPlatform', 'worker', 'attestation-service'],
  ] as const)('%s passes as %s and not as %s', async (platform, role, otherRole) => {
    const p = env[platform];
    expect(p.simulated).toBe(true);
    expect(p.kind).toBe('sev-snp');
    expect(p.description).toContain('SIMULATED');
    const evidence = await p.getEvidence(new Uint8Array(64).fill(1));
    const verify = (r: string) =>
      verifySnpAttestation({
        report: evidence.report,
        leaf: evidence.certificates.vcek!,
        chain: [evidence.certificates.ask!, evidence.certificates.ark!],
        manifest: env.manifest,
        role: r,
        expectedReportData: new Uint8Array(64).fill(1),
        now: T0,
      });
    expect((await verify(role)).violations).toEqual([]);
    expect((await verify(otherRole)).violations.map((v) => v.code)).toEqual(['measurement_not_allowed']);
  });

  it('refuses an invalid now and a chain/product disagreement', async () => {
    await expect(createDevelopmentEnvironment({ now: new Date(Number.NaN) })).rejects.toThrow(
      'now must be a valid Date',
    );
    await expect(
      createDevelopmentEnvironment({ now: T0, chain: env.chain, product: 'Genoa' }),
    ).rejects.toThrow('chain and product disagree');
  });
});
