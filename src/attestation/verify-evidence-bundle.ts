/**
 * Verifying an evidence bundle (docs/protocol.md, "Evidence bundle"): the one procedure the gateway
 * runs on the attestation service and the service runs on each worker. The verifier trusts only
 * its own inputs — its manifest, its nonce, the role it expects — and learns from the bundle only
 * what the hardware signature covers: REPORT_DATA must equal the binding recomputed from the
 * verifier's own nonce and manifest digest and the bundle's keys, so the keys it returns are keys
 * that exist only inside the attested VM. The binding is the same 64 bytes for SEV-SNP REPORT_DATA
 * and TDX REPORT_DATA; only the hardware verifier differs, chosen by the bundle's `platform`.
 * A party's GPUs are judged in the same pass (check-bundle-gpus.ts): their evidence answers a
 * nonce derived from the verifier's and REPORT_DATA binds its digest.
 */
import { constantTimeEqual, toHex } from '../bytes.js';
import { manifestDigest } from '../policy/manifest-digest.js';
import type { Manifest } from '../policy/manifest-types.js';
import { findSnpTrustAnchor, findTdxTrustAnchor } from '../policy/trust-anchors.js';
import type { ChainCache } from '../verify/chain-cache.js';
import type { KdsOptions } from '../verify/kds.js';
import type { DeviceChainCache } from '../verify/nvidia/device-chain-cache.js';
import type { OcspFetchOptions } from '../verify/nvidia/ocsp-fetch.js';
import type { GpuClaims } from '../verify/nvidia/verify-gpu.js';
import type { SignatureBackend } from '../verify/signature-backend.js';
import type { PcsOptions } from '../verify/tdx/pcs.js';
import type { TdxClaims } from '../verify/tdx/tdx-claims.js';
import type { TdxVerifyCache } from '../verify/tdx/verify-cache.js';
import { type Violation, violation } from '../verify/violations.js';
import { checkBundleConfig } from './check-bundle-config.js';
import { checkBundleGpus } from './check-bundle-gpus.js';
import type { EvidenceBundle, SnpEvidenceBundle, TdxEvidenceBundle } from './evidence-bundle.js';
import { computeReportData, type Role } from './report-data.js';
import { type AttestationVerdict, verifySnpAttestation } from './verify-snp-attestation.js';
import { verifyTdxAttestation } from './verify-tdx-attestation.js';

export interface BundleVerificationInput {
  bundle: EvidenceBundle;
  /** The verifier's own manifest and its digest (computed once at start). */
  manifest: Manifest;
  manifestDigest: string;
  role: Role;
  /** The nonce the verifier sent, exactly 32 bytes. */
  nonce: Uint8Array;
  now: Date;
  kds?: KdsOptions;
  /** Verified AMD upper chains (src/verify/chain-cache.ts); the caller keeps one per isolate/process. */
  chainCache?: ChainCache;
  /** Intel PCS/PCCS for TDX collateral a bundle does not carry (src/verify/tdx/pcs.ts). */
  pcs?: PcsOptions;
  /** Verified GPU device chains (src/verify/nvidia/device-chain-cache.ts), one per process. */
  gpuChainCache?: DeviceChainCache;
  /** Signature checks (src/verify/signature-backend.ts); default WebCrypto, Node passes node:crypto. */
  signatures?: SignatureBackend;
  /** Verified Intel chains, collateral and CRLs (src/verify/tdx/verify-cache.ts), one per isolate/process. */
  tdxCache?: TdxVerifyCache;
  /** OCSP for the GPUs' chains (src/verify/nvidia/ocsp-fetch.ts); absent: "require" refuses GPUs. */
  gpuOcsp?: OcspFetchOptions;
}

/**
 * `claims` and `report` are SEV-SNP's (null for a TDX bundle); `tdx` is a TD's verified claims
 * (null for SEV-SNP). `measurement` and `simulated` say the same for either TEE.
 */
export interface BundleVerdict extends AttestationVerdict {
  platform: EvidenceBundle['platform'];
  tdx: TdxClaims | null;
  /** The launch measurement — SEV-SNP MEASUREMENT or TDX MRTD, 48 bytes — only when trusted. */
  measurement: Uint8Array | null;
  /** The verified chain ends at a root the manifest marks `simulated`. */
  simulated: boolean;
  /** The party's public keys, only when trusted. */
  keys: Record<string, Uint8Array> | null;
  /** SHA-256 (hex) of the worker's configuration document, only when trusted (null for other roles). */
  configDigest: string | null;
  /** Each GPU's verified claims in bundle order, only when trusted ([] when it presents none). */
  gpus: GpuClaims[] | null;
}

/** The bundle is for the role asked about and answers the verifier's nonce. */
function checkRequest(bundle: EvidenceBundle, input: BundleVerificationInput): Violation[] {
  const out: Violation[] = [];
  if (bundle.role !== input.role) {
    out.push(
      violation('role_mismatch', `bundle is for role ${bundle.role}, expected ${input.role}`, {
        field: 'role',
        expected: input.role,
        actual: bundle.role,
      }),
    );
  }
  if (!constantTimeEqual(bundle.nonce, input.nonce)) {
    out.push(
      violation('nonce_mismatch', 'bundle answers another nonce', {
        field: 'nonce',
        expected: toHex(input.nonce),
        actual: toHex(bundle.nonce),
      }),
    );
  }
  return out;
}

/** The party runs the verifier's manifest: the digest of the manifest text it presents is ours. */
async function checkManifest(bundle: EvidenceBundle, input: BundleVerificationInput): Promise<Violation[]> {
  let theirDigest: string | null = null;
  try {
    theirDigest = await manifestDigest(new TextDecoder('utf-8', { fatal: true }).decode(bundle.manifest));
  } catch {
    theirDigest = null;
  }
  if (theirDigest === input.manifestDigest) return [];
  return [
    violation('manifest_mismatch', 'the party runs another manifest', {
      field: 'manifest',
      expected: input.manifestDigest,
      actual: theirDigest ?? 'unparseable',
    }),
  ];
}

/** The GPUs the bundle presents, against the role's `gpu` reference (check-bundle-gpus.ts). */
function checkGpus(
  bundle: EvidenceBundle,
  input: BundleVerificationInput,
): ReturnType<typeof checkBundleGpus> {
  return checkBundleGpus({
    gpus: bundle.gpus,
    manifest: input.manifest,
    role: input.role,
    nonce: input.nonce,
    now: input.now,
    ...(input.gpuChainCache ? { chainCache: input.gpuChainCache } : {}),
    ...(input.gpuOcsp ? { ocsp: input.gpuOcsp } : {}),
  });
}

/**
 * Role, nonce, manifest, configuration and GPUs, then the platform's evidence against the
 * REPORT_DATA they make; trusted only when nothing at all was violated.
 */
export async function verifyEvidenceBundle(input: BundleVerificationInput): Promise<BundleVerdict> {
  const { bundle } = input;
  const pre = [...checkRequest(bundle, input), ...(await checkManifest(bundle, input))];
  const config = await checkBundleConfig(bundle, input.manifest, input.role);
  pre.push(...config.violations);
  const gpus = await checkGpus(bundle, input);
  pre.push(...gpus.violations);
  // Bound to OUR nonce, OUR manifest digest, the keys the bundle presents and the digest of the
  // configuration it presents: evidence made for another nonce, another manifest, other keys or
  // another configuration or other GPU evidence cannot match.
  const expectedReportData = await computeReportData({
    role: input.role,
    nonce: input.nonce,
    manifestDigest: input.manifestDigest,
    keys: bundle.keys,
    digests: { ...config.digests, ...gpus.digests },
  });
  const verdict =
    bundle.platform === 'tdx'
      ? await verifyTdxBundle(bundle, input, expectedReportData)
      : await verifySnpBundle(bundle, input, expectedReportData);
  const violations = [...pre, ...verdict.violations];
  const trusted = violations.length === 0 && (verdict.claims !== null || verdict.tdx !== null);
  return {
    ...verdict,
    verdict: trusted ? 'trusted' : 'rejected',
    violations,
    keys: trusted ? bundle.keys : null,
    configDigest: trusted ? config.configDigest : null,
    gpus: trusted ? gpus.claims : null,
    measurement: trusted ? verdict.measurement : null,
  };
}

type PlatformVerdict = Omit<BundleVerdict, 'keys' | 'configDigest' | 'gpus'>;

async function verifySnpBundle(
  bundle: SnpEvidenceBundle,
  input: BundleVerificationInput,
  expectedReportData: Uint8Array,
): Promise<PlatformVerdict> {
  const verdict = await verifySnpAttestation({
    report: bundle.report,
    ...(bundle.certificates.vcek || bundle.certificates.vlek
      ? { leaf: (bundle.certificates.vcek ?? bundle.certificates.vlek)! }
      : {}),
    ...(bundle.certificates.ask && bundle.certificates.ark
      ? { chain: [bundle.certificates.ask, bundle.certificates.ark] }
      : {}),
    manifest: input.manifest,
    role: input.role,
    expectedReportData,
    now: input.now,
    ...(input.kds ? { kds: input.kds } : {}),
    ...(input.chainCache ? { chainCache: input.chainCache } : {}),
    ...(input.signatures ? { signatures: input.signatures } : {}),
  });
  const root = verdict.claims?.chain.rootSha256;
  return {
    ...verdict,
    platform: 'sev-snp',
    tdx: null,
    measurement: verdict.claims?.report.measurement ?? null,
    simulated: root !== undefined && findSnpTrustAnchor(input.manifest, root)?.simulated === true,
  };
}

async function verifyTdxBundle(
  bundle: TdxEvidenceBundle,
  input: BundleVerificationInput,
  expectedReportData: Uint8Array,
): Promise<PlatformVerdict> {
  const verdict = await verifyTdxAttestation({
    quote: bundle.quote,
    ...(bundle.collateral ? { collateral: bundle.collateral } : {}),
    ...(input.pcs ? { pcs: input.pcs } : {}),
    manifest: input.manifest,
    role: input.role,
    expectedReportData,
    now: input.now,
    ...(input.signatures ? { signatures: input.signatures } : {}),
    ...(input.tdxCache ? { cache: input.tdxCache } : {}),
  });
  const root = verdict.claims?.rootSha256;
  return {
    verdict: verdict.verdict,
    violations: verdict.violations,
    platform: 'tdx',
    claims: null,
    report: null,
    tdx: verdict.claims,
    measurement: verdict.claims?.body.mrTd ?? null,
    simulated: root !== undefined && findTdxTrustAnchor(input.manifest, root)?.simulated === true,
  };
}
