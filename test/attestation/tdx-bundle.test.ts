/**
 * The Intel TDX evidence bundle end to end on the SIMULATED TDX platform: a TD's quote for the
 * REPORT_DATA binding verifies through `verifyEvidenceBundle` under a manifest that names the
 * simulated SGX root, and is refused — each with its closed code — under a role that accepts only
 * SEV-SNP, under a manifest that trusts only Intel's root, with REPORT_DATA bound to other keys,
 * without collateral, with a revoked PCK, and in wire forms the parser must refuse.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type EvidenceBundle,
  encodeEvidenceBundle,
  parseEvidenceBundle,
} from '../../src/attestation/evidence-bundle.js';
import { computeReportData } from '../../src/attestation/report-data.js';
import { verifyEvidenceBundle } from '../../src/attestation/verify-evidence-bundle.js';
import { toHex, utf8 } from '../../src/bytes.js';
import {
  createTdxDevelopmentEnvironment,
  type TdxDevelopmentEnvironment,
} from '../../src/dev/environment-tdx.js';
import { isSealgateError } from '../../src/errors.js';
import { bundleEvidenceOf } from '../../src/platform/bundle-evidence.js';
import { issueTdxCollateral } from '../../src/platform/simulator/tdx-collateral.js';
import { manifestDigest } from '../../src/policy/manifest-digest.js';
import type { Manifest } from '../../src/policy/manifest-types.js';
import { parseManifest } from '../../src/policy/parse-manifest.js';
import { INTEL_SGX_ROOT_CA_SHA256 } from '../../src/verify/tdx/intel-root.js';

const NOW = new Date('2026-12-01T12:00:00Z');
const ROLE = 'attestation-service' as const;

let env: TdxDevelopmentEnvironment;
const keys = { signing: new Uint8Array(97).fill(4), hpke: new Uint8Array(1216).fill(5) };
const nonce = new Uint8Array(32).fill(7);

beforeAll(async () => {
  env = await createTdxDevelopmentEnvironment({ now: NOW });
});

async function bundleFor(opts: { boundKeys?: Record<string, Uint8Array> } = {}): Promise<EvidenceBundle> {
  const reportData = await computeReportData({
    role: ROLE,
    nonce,
    manifestDigest: env.manifestDigest,
    keys: opts.boundKeys ?? keys,
  });
  const evidence = await bundleEvidenceOf(env.servicePlatform, reportData);
  const wire = encodeEvidenceBundle({
    version: 1,
    role: ROLE,
    ...evidence,
    simulated: true,
    nonce,
    manifest: env.manifestBytes,
    keys,
  });
  // Over the wire and back, as a verifier receives it.
  return parseEvidenceBundle(JSON.parse(JSON.stringify(wire)));
}

/** The environment's manifest edited, with the digest of the edited bytes. */
async function edited(
  edit: (m: Record<string, unknown>) => void,
): Promise<{ manifest: Manifest; digest: string; bytes: Uint8Array }> {
  const m = JSON.parse(env.manifestText) as Record<string, unknown>;
  edit(m);
  const bytes = utf8.encode(JSON.stringify(m));
  return { manifest: parseManifest(bytes), digest: await manifestDigest(bytes), bytes };
}

function verify(bundle: EvidenceBundle, manifest = env.manifest, digest = env.manifestDigest) {
  return verifyEvidenceBundle({ bundle, manifest, manifestDigest: digest, role: ROLE, nonce, now: NOW });
}

const codes = (vs: readonly { code: string }[]) => [...new Set(vs.map((v) => v.code))].sort();

describe('TDX evidence bundle on the simulated platform', () => {
  it('verifies under the manifest that names the simulated SGX root, with TDX claims', async () => {
    const bundle = await bundleFor();
    expect(bundle.platform).toBe('tdx');
    const v = await verify(bundle);
    expect(v.violations).toEqual([]);
    expect(v.verdict).toBe('trusted');
    expect(v.platform).toBe('tdx');
    expect(v.claims).toBeNull();
    expect(v.tdx?.tcb.status).toBe('UpToDate');
    expect(v.tdx?.tcb.tdxModule?.id).toBe('TDX_01');
    expect(v.tdx?.rootSha256).toBe(env.chain.rootSha256);
    expect(v.measurement).toEqual(env.measurements.service);
    expect(v.simulated).toBe(true);
    expect(v.keys).toEqual(keys);
  });

  it('a role that accepts only SEV-SNP refuses TDX evidence: tee_not_allowed', async () => {
    const snpOnly = await edited((m) => {
      const roles = m.roles as Record<string, Record<string, unknown>>;
      roles[ROLE] = {
        snp: {
          measurements: [toHex(env.measurements.service)],
          minimumTcb: { Milan: { bootloader: 0, tee: 0, snp: 0, microcode: 0 } },
        },
      };
    });
    const bundle = { ...(await bundleFor()), manifest: snpOnly.bytes };
    const v = await verify(bundle, snpOnly.manifest, snpOnly.digest);
    expect(v.verdict).toBe('rejected');
    expect(codes(v.violations)).toContain('tee_not_allowed');
    expect(v.keys).toBeNull();
    expect(v.measurement).toBeNull();
  });

  it("simulated TDX evidence never passes a manifest that trusts only Intel's root: root_untrusted", async () => {
    const intelOnly = await edited((m) => {
      delete (m.trustAnchors as Record<string, unknown>).tdx;
    });
    const bundle = { ...(await bundleFor()), manifest: intelOnly.bytes };
    const v = await verify(bundle, intelOnly.manifest, intelOnly.digest);
    expect(v.verdict).toBe('rejected');
    expect(codes(v.violations)).toEqual(['root_untrusted']);
    expect(v.simulated).toBe(false);
  });

  it('REPORT_DATA bound to other keys than the bundle presents: report_data_mismatch', async () => {
    const bundle = await bundleFor({ boundKeys: { ...keys, signing: new Uint8Array(97).fill(9) } });
    const v = await verify(bundle);
    expect(codes(v.violations)).toEqual(['report_data_mismatch']);
    expect(v.keys).toBeNull();
  });

  it('another MRTD than the role names: mrtd_not_allowed', async () => {
    const reportData = await computeReportData({
      role: ROLE,
      nonce,
      manifestDigest: env.manifestDigest,
      keys,
    });
    const evidence = await bundleEvidenceOf(env.workerPlatform, reportData); // the worker's MRTD
    const bundle = parseEvidenceBundle(
      encodeEvidenceBundle({
        version: 1,
        role: ROLE,
        ...evidence,
        simulated: true,
        nonce,
        manifest: env.manifestBytes,
        keys,
      }),
    );
    expect(codes((await verify(bundle)).violations)).toEqual(['mrtd_not_allowed']);
  });

  it('no collateral in the bundle and no PCS to fetch it from: collateral_unavailable', async () => {
    const { collateral: _c, ...bare } = (await bundleFor()) as Extract<EvidenceBundle, { platform: 'tdx' }>;
    const v = await verify(bare);
    expect(codes(v.violations)).toEqual(['collateral_unavailable']);
  });

  it('collateral whose PCK CRL lists the PCK certificate: cert_revoked', async () => {
    const bundle = (await bundleFor()) as Extract<EvidenceBundle, { platform: 'tdx' }>;
    const collateral = await issueTdxCollateral(env.chain, { now: NOW, revokePck: true });
    expect(codes((await verify({ ...bundle, collateral })).violations)).toEqual(['cert_revoked']);
  });

  it('collateral that has expired at verification time: collateral_expired, crl_expired', async () => {
    const bundle = (await bundleFor()) as Extract<EvidenceBundle, { platform: 'tdx' }>;
    const old = await issueTdxCollateral(env.chain, { now: new Date(NOW.getTime() - 40 * 86_400_000) });
    expect(codes((await verify({ ...bundle, collateral: old })).violations)).toEqual([
      'collateral_expired',
      'crl_expired',
    ]);
  });

  it('a TCB level that is OutOfDate is refused under the default UpToDate-only policy', async () => {
    const bundle = (await bundleFor()) as Extract<EvidenceBundle, { platform: 'tdx' }>;
    const collateral = await issueTdxCollateral(env.chain, { now: NOW, tcbStatus: 'OutOfDate' });
    expect(codes((await verify({ ...bundle, collateral })).violations)).toEqual(['tcb_status_not_allowed']);
  });
});

describe('TDX bundle wire form', () => {
  const refuse = (doc: unknown, pattern: RegExp) => {
    try {
      parseEvidenceBundle(doc);
    } catch (e) {
      expect(isSealgateError(e, 'malformed_evidence')).toBe(true);
      expect((e as Error).message).toMatch(pattern);
      return;
    }
    throw new Error('parsed');
  };
  let wire: Record<string, unknown>;
  beforeAll(async () => {
    wire = JSON.parse(JSON.stringify(encodeEvidenceBundle(await bundleFor())));
  });

  it('round-trips quote and collateral exactly', async () => {
    const b = parseEvidenceBundle(wire);
    expect(encodeEvidenceBundle(b)).toEqual(wire);
  });

  it('refuses SEV-SNP members in a TDX bundle, and a TDX bundle without its quote', () => {
    refuse({ ...wire, report: wire.quote }, /unknown field report/);
    refuse({ ...wire, certificates: {} }, /unknown field certificates/);
    const { quote: _q, ...noQuote } = wire;
    refuse(noQuote, /missing field quote/);
  });

  it('refuses a TDX quote member in a SEV-SNP bundle and an unknown platform', () => {
    refuse({ ...wire, platform: 'sev-snp' }, /unknown field (quote|collateral)/);
    refuse({ ...wire, platform: 'sgx' }, /unsupported platform/);
  });

  it('refuses an oversized quote, unknown collateral members and collateral of the wrong shape', () => {
    refuse({ ...wire, quote: 'A'.repeat(50_000) }, /quote must be/);
    refuse(
      { ...wire, collateral: { ...(wire.collateral as object), extra: 1 } },
      /unknown field collateral.extra/,
    );
    refuse({ ...wire, collateral: { tcb_info: 1 } }, /collateral/);
    refuse({ ...wire, collateral: [] }, /collateral must be an object/);
  });
});

describe('manifest trustAnchors.tdx', () => {
  const base = () => JSON.parse(env.manifestText) as { trustAnchors: { tdx: unknown[] } };
  it("refuses a root that is not Intel's without simulated, and Intel's root marked simulated", () => {
    const m1 = base();
    m1.trustAnchors.tdx = [{ sha256: env.chain.rootSha256 }];
    expect(() => parseManifest(m1)).toThrow(/development root needs "simulated": true/);
    const m2 = base();
    m2.trustAnchors.tdx = [{ sha256: INTEL_SGX_ROOT_CA_SHA256, simulated: true }];
    expect(() => parseManifest(m2)).toThrow(/Intel's SGX Root CA, not a simulated root/);
    const m3 = base();
    m3.trustAnchors.tdx = [{ sha256: INTEL_SGX_ROOT_CA_SHA256 }];
    expect(parseManifest(m3).trustAnchors.tdx).toEqual([{ sha256: INTEL_SGX_ROOT_CA_SHA256 }]);
  });
});
