/**
 * Stage 2 of parse → verify → evaluate for one NVIDIA Hopper GPU: cryptography and binding only.
 * Given NVML's attestation report, the device certificate chain and the nonce the verifier chose,
 * establish that a GPU whose identity chains to NVIDIA's Device Identity CA signed these exact
 * measurements for this nonce. Policy — how many GPUs, which driver and VBIOS, reference
 * measurements — is stage 3 (src/policy/evaluate-gpu.ts).
 *
 * Order (docs/verification.md, "NVIDIA GPU evidence", has the table):
 *   1. parse the evidence                                     report_malformed
 *   2. parse the chain (PEM, leaf first, root last)           cert_missing, cert_malformed
 *   3. the chain (ecdsa-chain.ts), five certificates          root_untrusted, cert_chain_invalid, cert_expired
 *   4. the architecture CA (next to the root) is GH100        gpu_architecture_unsupported
 *   5. FWID: the report's equals the leaf's FWID extension,
 *      whose device key is the issuer's (nvtrust skips this
 *      when the report has no FWID, before R550; so do we)  gpu_fwid_mismatch, cert_chain_invalid
 *   6. the SPDM signature under the leaf's key                report_signature_invalid
 *   7. the request nonce is the verifier's                     nonce_mismatch
 *   8. RIMs given: both verified, every active index compared
 *      (verify-rims.ts)                                       rim_*, gpu_measurement_mismatch, chain codes
 *   9. `revocation` given: OCSP for the device chain (but its
 *      leaf) and each verified RIM chain (revocation.ts)      ocsp_*, cert_revoked
 *  10. claims, only when nothing above was violated
 * Bad evidence never throws; throws are for caller errors (a nonce that is not 32 bytes, a bad `at`).
 */
import { constantTimeEqual, isBytes, sha256, toHex } from '../../bytes.js';
import { type Certificate, parseX509Certificate } from '../../der/certificate.js';
import { decodeCertificates } from '../../der/pem.js';
import { isSealgateError, SealgateError } from '../../errors.js';
import { gpuEvidenceBytes } from '../../evidence/nvidia/evidence-text.js';
import { parseGpuEvidence } from '../../evidence/nvidia/parse-evidence.js';
import type { GpuEvidence } from '../../evidence/nvidia/types.js';
import { isOptionalFinite, isOptionalWith } from '../input-shape.js';
import { type Violation, violation } from '../violations.js';
import type { DeviceChainCache, VerifiedDeviceChain } from './device-chain-cache.js';
import { importP384Key, verifyEcdsaChain } from './ecdsa-chain.js';
import { certificateFwid } from './fwid.js';
import type { GpuRoots } from './nvidia-roots.js';
import type { OcspFetchOptions } from './ocsp-fetch.js';
import {
  type CertificateRevocation,
  type ChainToCheck,
  checkRevocation,
  OCSP_POLICIES,
  type OcspPolicy,
  type RevocationOptions,
} from './revocation.js';
import { verifySpdmSignature } from './spdm-signature.js';
import { type VerifiedRim, verifyRims } from './verify-rims.js';

/** Certificates in a Hopper device chain (nvtrust `HopperSettings.MAX_CERT_CHAIN_LENGTH`). */
export const HOPPER_CHAIN_LENGTH = 5;

/** Subject CN of the architecture CA (the certificate the root signs) → architecture. */
const ARCHITECTURE_CAS: Readonly<Record<string, GpuArchitecture>> = { 'NVIDIA GH100 Identity': 'hopper' };

export type GpuArchitecture = 'hopper';

export interface GpuEvidenceInput {
  /** NVML's attestation report: raw bytes or hex text. */
  evidence: Uint8Array;
  /** The device chain: PEM (leaf first, root last), or the certificates one by one (DER or PEM). */
  chain: Uint8Array | readonly Uint8Array[];
  /** The 32-byte nonce the verifier put in GET_MEASUREMENTS. */
  nonce: Uint8Array;
  /** The time certificates are checked at. */
  at: Date;
  /** NVIDIA RIMs (SWID tag XML) for the driver and the VBIOS, when measurements are to be compared. */
  rims?: readonly Uint8Array[];
  roots: GpuRoots;
  /** Device chains that verified before (device-chain-cache.ts); the caller keeps one per process. */
  chainCache?: DeviceChainCache;
  /** OCSP for the device and RIM chains under a policy; absent: revocation is not checked. */
  revocation?: RevocationOptions;
}

/** What OCSP said, when it was asked (claims.revocation). */
export interface GpuRevocationClaims {
  policy: OcspPolicy;
  certificates: CertificateRevocation[];
  /** Certificates best-effort left unchecked, and why. */
  warnings: string[];
}

export interface GpuClaims {
  architecture: GpuArchitecture;
  driverVersion: string;
  vbiosVersion: string;
  /** The request nonce (equal to the verifier's). */
  nonce: Uint8Array;
  /** Every measurement block, by its 1-based index. */
  measurements: readonly { index: number; value: Uint8Array }[];
  /** The FWID both the report and the certificate carry, or null when the report has none. */
  fwid: Uint8Array | null;
  project: string | null;
  projectSku: string | null;
  chipSku: string | null;
  /** The attestation-key certificate. */
  leaf: { subject: string; serialNumber: string; sha256: string };
  rootSha256: string;
  /**
   * The driver and VBIOS RIMs that verified, when RIMs were given: then every active RIM
   * measurement equals the report's. Null: the measurements were not compared here.
   */
  rims: { driver: VerifiedRim; vbios: VerifiedRim } | null;
  /** OCSP results; null: revocation was not checked. */
  revocation: GpuRevocationClaims | null;
}

export interface GpuVerification {
  /** Only when `violations` is empty. */
  claims: GpuClaims | null;
  /** The parsed evidence when it parsed, whatever else failed. */
  evidence: GpuEvidence | null;
  violations: Violation[];
}

function text(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function isBytesList(value: unknown): boolean {
  return Array.isArray(value) && value.every((v) => isBytes(v));
}

/** `revocation` absent, or a known policy (an unknown one would read as best-effort: fail open). */
function isRevocationOptions(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Partial<Record<keyof RevocationOptions, unknown>>;
  return (
    (OCSP_POLICIES as readonly unknown[]).includes(r.policy) &&
    (r.saved === undefined || isBytesList(r.saved)) &&
    (r.fetch === undefined || isOcspFetchOptions(r.fetch))
  );
}

/** A poster, and optionally a cache, a responder URL and a lifetime (ocsp-fetch.ts OcspFetchOptions). */
function isOcspFetchOptions(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const f = value as Partial<Record<keyof OcspFetchOptions, unknown>>;
  return (
    typeof f.post === 'function' &&
    isOptionalWith(f.cache, ['get', 'put']) &&
    (f.url === undefined || typeof f.url === 'string') &&
    isOptionalFinite(f.ttlSeconds)
  );
}

const isHexList = (value: unknown): boolean =>
  Array.isArray(value) && value.every((v) => typeof v === 'string');

/**
 * The caller's input has the types `GpuEvidenceInput` says, or `invalid_argument`: a caller that
 * is not type-checked gets the closed error, never a TypeError from deep inside or evidence codes
 * for its own mistake (fail closed).
 */
function checkInput(input: GpuEvidenceInput): void {
  const bad = (what: string) => new SealgateError('invalid_argument', `verifyGpuEvidence: ${what}`);
  if (typeof input !== 'object' || input === null) throw bad('expected an input object');
  if (!isBytes(input.evidence)) throw bad('evidence must be bytes');
  if (!(input.at instanceof Date) || Number.isNaN(input.at.getTime())) throw bad('at must be a valid Date');
  if (!(input.nonce instanceof Uint8Array) || input.nonce.length !== 32) throw bad('nonce must be 32 bytes');
  if (!(isBytes(input.chain) || isBytesList(input.chain)))
    throw bad('chain must be bytes or a list of bytes');
  if (!isHexList(input.roots?.device) || !isHexList(input.roots?.rim)) {
    throw bad('roots must list device and rim roots (SHA-256 hex)');
  }
  if (input.rims !== undefined && !isBytesList(input.rims)) throw bad('rims must be a list of bytes');
  if (!isRevocationOptions(input.revocation)) {
    throw bad(
      `revocation.policy must be one of ${OCSP_POLICIES.join(', ')}; saved a list of bytes; fetch a poster`,
    );
  }
  // `{}` or a cache whose get is not a function threw a TypeError once the chain had been read.
  if (!isOptionalWith(input.chainCache, ['get', 'set'])) throw bad('chainCache must have get and set');
}

function parse(bytes: Uint8Array): { evidence: GpuEvidence } | { violation: Violation } {
  try {
    return { evidence: parseGpuEvidence(gpuEvidenceBytes(bytes)) };
  } catch (e) {
    if (!isSealgateError(e, 'malformed_evidence')) throw e;
    const field = typeof e.detail?.field === 'string' ? e.detail.field : 'evidence';
    return { violation: violation('report_malformed', e.message, { field }) };
  }
}

async function parseChain(chain: GpuEvidenceInput['chain'], out: Violation[]): Promise<Certificate[] | null> {
  const parts = chain instanceof Uint8Array ? [chain] : [...chain];
  try {
    const ders = parts.flatMap((p) => decodeCertificates(p));
    // Counted before any is parsed or hashed (as the TDX chains): a 16 KiB chain of 21 copies of a
    // certificate cost 25–30 ms in parses, key imports and signature checks, 3–4× an honest
    // verification with its report signature; refused on the count, 0.2–0.5 ms. (None: cert_missing.)
    if (ders.length > 0 && ders.length !== HOPPER_CHAIN_LENGTH) {
      const text = `the chain has ${ders.length} certificates, expected ${HOPPER_CHAIN_LENGTH}`;
      const detail = { field: 'chain', expected: HOPPER_CHAIN_LENGTH, actual: ders.length };
      out.push(violation('cert_chain_invalid', text, detail));
      return null;
    }
    return await Promise.all(ders.map((d) => parseX509Certificate(d)));
  } catch (e) {
    if (!isSealgateError(e)) throw e;
    const code = parts.length === 0 ? 'cert_missing' : 'cert_malformed';
    out.push(violation(code, `device chain: ${e.message}`, { field: 'chain' }));
    return null;
  }
}

/** Step 5: the report's FWID against the leaf's extension; [] when they agree. */
function checkFwid(evidence: GpuEvidence, certs: readonly Certificate[]): Violation[] {
  const reportFwid = evidence.response.opaque.fwid;
  let ext: ReturnType<typeof certificateFwid>;
  try {
    ext = certificateFwid(certs[0]!);
  } catch (e) {
    return [violation('cert_malformed', `attestation-key certificate: ${text(e)}`, { field: 'chain[0]' })];
  }
  const out: Violation[] = [];
  if (ext !== null && certs[1] !== undefined && !constantTimeEqual(ext.deviceIdKey, certs[1].spki)) {
    out.push(
      violation(
        'cert_chain_invalid',
        "the leaf's FWID extension names a device key other than its issuer's",
        {
          field: 'chain[0]',
        },
      ),
    );
  }
  if (reportFwid === null) return out;
  if (ext === null) {
    out.push(
      violation(
        'gpu_fwid_mismatch',
        'the report carries a FWID but the attestation-key certificate has no FWID extension',
        {
          field: 'fwid',
          actual: toHex(reportFwid),
        },
      ),
    );
  } else if (!constantTimeEqual(ext.fwid, reportFwid)) {
    out.push(
      violation('gpu_fwid_mismatch', "the report's FWID differs from the attestation-key certificate's", {
        field: 'fwid',
        expected: toHex(ext.fwid),
        actual: toHex(reportFwid),
      }),
    );
  }
  return out;
}

/** The cache key of a chain input: the SHA-256 of each part, in order. */
async function chainKey(chain: GpuEvidenceInput['chain']): Promise<string> {
  const parts = chain instanceof Uint8Array ? [chain] : [...chain];
  return (await Promise.all(parts.map(async (p) => toHex(await sha256(p))))).join(':');
}

/** A cached chain counts only under the caller's roots and at the caller's time (dates inclusive). */
function cachedHolds(entry: VerifiedDeviceChain, input: GpuEvidenceInput): boolean {
  const t = input.at.getTime();
  return (
    input.roots.device.includes(entry.certs[entry.certs.length - 1]!.sha256) &&
    entry.certs.every((c) => t >= c.notBefore.getTime() && t <= c.notAfter.getTime())
  );
}

/** Steps 2–3: the parsed chain and its leaf key once trusted, or null (violations added). */
async function deviceChain(
  input: GpuEvidenceInput,
  violations: Violation[],
): Promise<{ certs: readonly Certificate[]; leafKey: CryptoKey | null } | null> {
  const key = input.chainCache ? await chainKey(input.chain) : '';
  const hit = input.chainCache?.get(key);
  if (hit && cachedHolds(hit, input)) return hit;
  const certs = await parseChain(input.chain, violations);
  if (certs === null) return null;
  const chain = await verifyEcdsaChain({
    certs,
    anchors: input.roots.device,
    at: input.at,
    field: 'chain',
    expectedLength: HOPPER_CHAIN_LENGTH,
  });
  violations.push(...chain.violations);
  if (!chain.leafKeyTrusted) return null;
  const leafKey = await importP384Key(certs[0]!.spki);
  // Only a chain with no finding at all is remembered (device-chain-cache.ts).
  if (input.chainCache && leafKey !== null && chain.violations.length === 0) {
    input.chainCache.set(key, { certs, leafKey });
  }
  return { certs, leafKey };
}

function architectureOf(certs: readonly Certificate[]): GpuArchitecture | null {
  const ca = certs[certs.length - 2];
  return ca?.subjectCn ? (ARCHITECTURE_CAS[ca.subjectCn] ?? null) : null;
}

/** Step 4: the architecture CA (the certificate the root signs) is one this verifier knows: GH100. */
function checkArchitecture(certs: readonly Certificate[]): Violation[] {
  if (architectureOf(certs) !== null) return [];
  const text = `architecture CA ${JSON.stringify(certs[certs.length - 2]?.subjectCn)} is not GH100 (Hopper)`;
  return [violation('gpu_architecture_unsupported', text, { field: 'chain' })];
}

/** Step 6: the MEASUREMENTS signature (DSP0274 1.1, "MEASUREMENTS response") under the leaf's key. */
async function checkReportSignature(evidence: GpuEvidence, leafKey: CryptoKey | null): Promise<Violation[]> {
  if (leafKey !== null) return verifySpdmSignature(evidence, leafKey);
  return [
    violation('cert_malformed', 'the attestation-key certificate has no P-384 key', { field: 'chain[0]' }),
  ];
}

/** Step 7: the nonce of the signed request (DSP0274 1.1, "GET_MEASUREMENTS request") is the verifier's. */
function checkNonce(evidence: GpuEvidence, nonce: Uint8Array): Violation[] {
  if (constantTimeEqual(evidence.request.nonce, nonce)) return [];
  return [
    violation('nonce_mismatch', 'the GET_MEASUREMENTS nonce is not the one the verifier chose', {
      field: 'request.nonce',
      expected: toHex(nonce),
      actual: toHex(evidence.request.nonce),
    }),
  ];
}

interface RimFindings {
  violations: Violation[];
  verified: GpuClaims['rims'];
  /** The device chain (but its leaf) and each RIM chain that verified: what step 9 asks OCSP about. */
  chains: ChainToCheck[];
}

/** Step 8: when RIMs are given, both verify and every active measurement equals the report's. */
async function checkRims(
  input: GpuEvidenceInput,
  evidence: GpuEvidence,
  certs: readonly Certificate[],
): Promise<RimFindings> {
  const chains: ChainToCheck[] = [{ certs, field: 'chain', skipLeaf: true }];
  if (input.rims === undefined || input.rims.length === 0) return { violations: [], verified: null, chains };
  const r = await verifyRims(input.rims, evidence, input.roots.rim, input.at);
  for (const c of r.chains) chains.push({ certs: c.certs, field: `rims.${c.kind}.chain`, skipLeaf: false });
  return { violations: r.violations, verified: r.verified, chains };
}

/** Step 9: when `revocation` is given, OCSP for every chain step 8 left to check. */
async function checkChainRevocation(
  input: GpuEvidenceInput,
  chains: ChainToCheck[],
): Promise<{ violations: Violation[]; claims: GpuRevocationClaims | null }> {
  if (input.revocation === undefined) return { violations: [], claims: null };
  const r = await checkRevocation(chains, input.at, input.revocation);
  const claims = { policy: input.revocation.policy, certificates: r.certificates, warnings: r.warnings };
  return { violations: r.violations, claims };
}

/** Step 10: what verified, for the policy (stage 3); built only when steps 1–9 found nothing. */
function claimsOf(
  evidence: GpuEvidence,
  certs: readonly Certificate[],
  architecture: GpuArchitecture,
  rims: GpuClaims['rims'],
  revocation: GpuRevocationClaims | null,
): GpuClaims {
  const o = evidence.response.opaque;
  const leaf = certs[0]!;
  return {
    architecture,
    driverVersion: o.driverVersion,
    vbiosVersion: o.vbiosVersion,
    nonce: evidence.request.nonce,
    measurements: evidence.response.blocks.map((b) => ({ index: b.index, value: b.value })),
    fwid: o.fwid,
    project: o.project,
    projectSku: o.projectSku,
    chipSku: o.chipSku,
    leaf: { subject: leaf.subjectText, serialNumber: leaf.serialNumber, sha256: leaf.sha256 },
    rootSha256: certs[certs.length - 1]!.sha256,
    rims,
    revocation,
  };
}

/** Steps 1–10 of the header, in that order; claims only when no step found anything. */
export async function verifyGpuEvidence(input: GpuEvidenceInput): Promise<GpuVerification> {
  checkInput(input);
  const parsed = parse(input.evidence);
  if ('violation' in parsed) return { claims: null, evidence: null, violations: [parsed.violation] };
  const { evidence } = parsed;
  const violations: Violation[] = [];
  const device = await deviceChain(input, violations);
  if (device === null) return { claims: null, evidence, violations };
  const { certs } = device;
  violations.push(...checkArchitecture(certs), ...checkFwid(evidence, certs));
  violations.push(...(await checkReportSignature(evidence, device.leafKey)));
  violations.push(...checkNonce(evidence, input.nonce));
  const rims = await checkRims(input, evidence, certs);
  violations.push(...rims.violations);
  const revocation = await checkChainRevocation(input, rims.chains);
  violations.push(...revocation.violations);
  const architecture = architectureOf(certs);
  if (violations.length > 0 || architecture === null) return { claims: null, evidence, violations };
  return {
    claims: claimsOf(evidence, certs, architecture, rims.verified, revocation.claims),
    evidence,
    violations,
  };
}
