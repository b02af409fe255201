/**
 * The gateway's verdict on the attestation service as an EAT Attestation Result (EAR,
 * draft-ietf-rats-ear §3, JWT serialization §4.1), so that a relying party can read it with any EAR
 * library and the appraisal can be checked against the evidence it came with.
 *
 * One submodule, "attestation-service". Its `ear.trustworthiness-vector` uses the AR4SI claims
 * (draft-ietf-rats-ar4si §2.3) that an SEV-SNP or Intel TDX appraisal can speak to (for a TD:
 * MRTD/RTMRs are the executables, TD attributes/XFAM/MRCONFIGID the configuration):
 *
 *   instance-identity  2 recognized instance (REPORT_DATA binds our nonce, digest and its keys) | 96
 *   configuration      2 approved configuration (guest policy, VMPL, host data, same manifest)   | 96
 *   executables        3 approved boot-time executables (launch MEASUREMENT allowed)             | 96
 *   hardware           2 genuine | 32 SIMULATED (trusted by a development manifest only) | 96
 *   runtime-opaque     2 memory encrypted by the hardware | 32 simulated: nothing encrypts it | 96
 *
 * A party that presented GPUs (docs/protocol.md "GPU evidence") gets one more submodule per GPU,
 * "gpu-0", "gpu-1", … in bundle order, present only when the whole appraisal held (GPU claims exist
 * only then): instance-identity 2 (its report answers the nonce derived from ours and the CPU report
 * binds it), configuration 2, executables 3 (measurements compared with RIMs or golden values),
 * hardware and runtime-opaque 2 | 32 when its device root is a simulated one. `sealgate.gpu` says
 * which GPU: architecture, driver, VBIOS and the digest of its measurements (gpu-summary.ts).
 *
 * Tiers (AR4SI §2.3.1): 2–31 affirming, 32–95 warning, 96–127
 * contraindicated. `ear.status` is the worst tier. A rejected appraisal is always
 * `contraindicated` — it is reported, never hidden. `ear.appraisal-policy-id` names the manifest by
 * its digest: the policy the evidence was appraised against.
 *
 * Pure: no I/O; signing is src/gateway/verification/ear-signer.ts, checking is `checkEarClaims` here.
 */
import { canonicalizeJson } from '../json/canonical.js';
import { isRecord } from '../json/object-guards.js';
import type { Violation, ViolationCode } from '../verify/violations.js';
import type { TdxAppraisal } from './tdx-ear.js';

export const EAR_PROFILE = 'tag:github.com,2023:veraison/ear';
export const EAR_SUBMOD = 'attestation-service';
export type EarStatus = 'affirming' | 'warning' | 'contraindicated' | 'none';

export interface TrustworthinessVector {
  'instance-identity': number;
  configuration: number;
  executables: number;
  hardware: number;
  'runtime-opaque': number;
}

export interface EarSubmod {
  'ear.status': EarStatus;
  'ear.trustworthiness-vector': TrustworthinessVector;
  'ear.appraisal-policy-id': string;
  /** Sealgate's extensions (unregistered, §3.2 allows them): what the vector summarizes. */
  'sealgate.simulated': boolean;
  'sealgate.violations': string[];
  'sealgate.measurement': string | null;
  /** Present when the service is a TD whose quote verified: MRTD, RTMRs, TCB status, advisories. */
  'sealgate.tdx'?: TdxAppraisal;
}

/** One GPU's submodule. */
export interface EarGpuSubmod {
  'ear.status': EarStatus;
  'ear.trustworthiness-vector': TrustworthinessVector;
  'ear.appraisal-policy-id': string;
  'sealgate.simulated': boolean;
  'sealgate.gpu': {
    architecture: string;
    driverVersion: string;
    vbiosVersion: string;
    measurementsSha256: string;
  };
}

export interface EarClaims {
  eat_profile: typeof EAR_PROFILE;
  iat: number;
  'ear.verifier-id': { build: string; developer: string };
  eat_nonce: string;
  submods: Record<typeof EAR_SUBMOD, EarSubmod> & Partial<Record<`gpu-${number}`, EarGpuSubmod>>;
}

export const EAR_VERIFIER_ID = {
  build: 'sealgate-gateway 0.1.0',
  developer: 'https://sealgate.dev',
} as const;

const IDENTITY: readonly ViolationCode[] = [
  'report_data_mismatch',
  'nonce_mismatch',
  'role_mismatch',
  'role_unknown',
];
const CONFIGURATION: readonly ViolationCode[] = [
  'manifest_mismatch',
  'host_data_mismatch',
  'debug_not_allowed',
  'migration_agent_not_allowed',
  'smt_not_allowed',
  'single_socket_required',
  'cxl_not_allowed',
  'mem_aes_256_xts_required',
  'rapl_disable_required',
  'ciphertext_hiding_required',
  'page_swap_disable_required',
  'vmpl_not_allowed',
  'guest_svn_below_minimum',
  'id_key_not_allowed',
  'author_key_not_allowed',
  'family_id_mismatch',
  'image_id_mismatch',
  'td_config_mismatch',
  'td_attributes_not_allowed',
  'xfam_not_allowed',
];
const EXECUTABLES: readonly ViolationCode[] = [
  'measurement_not_allowed',
  'mrtd_not_allowed',
  'rtmr_not_allowed',
];
// Everything else — evidence shape, certificates, signatures, TCB, product — is about the hardware.

export interface Appraisal {
  /** Whether the whole verification held (verifyEvidenceBundle's verdict). */
  trusted: boolean;
  /** The chain ended in a root the manifest marks simulated. */
  simulated: boolean;
  violations: readonly Pick<Violation, 'code'>[];
  /** The launch MEASUREMENT, or a TD's MRTD (hex), when the evidence parsed. */
  measurement: string | null;
  /** A TD's verified claims (tdx-ear.ts); absent for SEV-SNP or when verification failed. */
  tdx?: TdxAppraisal;
  /** The party's verified GPUs (only when `trusted`), with whether each device root is simulated. */
  gpus?: readonly (EarGpuSubmod['sealgate.gpu'] & { simulated: boolean })[];
}

function tierOf(value: number): EarStatus {
  if (value >= 96) return 'contraindicated';
  if (value >= 32) return 'warning';
  if (value >= 2) return 'affirming';
  return 'none';
}

const ORDER: EarStatus[] = ['none', 'affirming', 'warning', 'contraindicated'];

export function trustworthinessVector(a: Appraisal): TrustworthinessVector {
  const codes = new Set(a.violations.map((v) => v.code));
  const any = (list: readonly ViolationCode[]) => list.some((c) => codes.has(c));
  const hardwareBad = [...codes].some(
    (c) => !IDENTITY.includes(c) && !CONFIGURATION.includes(c) && !EXECUTABLES.includes(c),
  );
  const vector: TrustworthinessVector = {
    'instance-identity': any(IDENTITY) ? 96 : 2,
    configuration: any(CONFIGURATION) ? 96 : 2,
    executables: any(EXECUTABLES) ? 96 : 3,
    hardware: hardwareBad ? 96 : a.simulated ? 32 : 2,
    'runtime-opaque': hardwareBad ? 96 : a.simulated ? 32 : 2,
  };
  // A rejection whose cause is not mapped above must still be contraindicated, never affirming.
  if (!a.trusted && !Object.values(vector).some((v) => v >= 96)) vector.hardware = 96;
  return vector;
}

export function earStatus(vector: TrustworthinessVector): EarStatus {
  let worst: EarStatus = 'none';
  for (const v of Object.values(vector)) {
    const t = tierOf(v);
    if (ORDER.indexOf(t) > ORDER.indexOf(worst)) worst = t;
  }
  return worst;
}

/** The status a verifier that reached `a` must announce: the same function on both sides. */
export function expectedStatus(a: Appraisal): EarStatus {
  return earStatus(trustworthinessVector(a));
}

export function earClaims(input: {
  appraisal: Appraisal;
  nonceHex: string;
  manifestDigest: string;
  iat: number;
}): EarClaims {
  const vector = trustworthinessVector(input.appraisal);
  return {
    eat_profile: EAR_PROFILE,
    iat: input.iat,
    'ear.verifier-id': { ...EAR_VERIFIER_ID },
    eat_nonce: input.nonceHex,
    submods: {
      [EAR_SUBMOD]: {
        'ear.status': earStatus(vector),
        'ear.trustworthiness-vector': vector,
        'ear.appraisal-policy-id': `sha256:${input.manifestDigest}`,
        'sealgate.simulated': input.appraisal.simulated,
        'sealgate.violations': [...new Set(input.appraisal.violations.map((v) => v.code))],
        'sealgate.measurement': input.appraisal.measurement,
        ...(input.appraisal.tdx ? { 'sealgate.tdx': input.appraisal.tdx } : {}),
      },
      ...gpuSubmods(input.appraisal, input.manifestDigest),
    },
  };
}

/** "gpu-<i>" for each GPU of a trusted appraisal (see the header); none otherwise. */
function gpuSubmods(a: Appraisal, manifestDigest: string): Record<`gpu-${number}`, EarGpuSubmod> {
  const out: Record<`gpu-${number}`, EarGpuSubmod> = {};
  if (!a.trusted) return out;
  for (const [i, g] of (a.gpus ?? []).entries()) {
    const hw = g.simulated ? 32 : 2;
    const vector: TrustworthinessVector = {
      'instance-identity': 2,
      configuration: 2,
      executables: 3,
      hardware: hw,
      'runtime-opaque': hw,
    };
    const { simulated, ...gpu } = g;
    out[`gpu-${i}`] = {
      'ear.status': earStatus(vector),
      'ear.trustworthiness-vector': vector,
      'ear.appraisal-policy-id': `sha256:${manifestDigest}`,
      'sealgate.simulated': simulated,
      'sealgate.gpu': gpu,
    };
  }
  return out;
}

/**
 * What a relying party checks in a (signature-verified) EAR payload: our profile, our nonce, the
 * manifest digest we appraised against, a status equal to the one OUR appraisal gives, and then
 * every other claim equal to what `earClaims` makes of our appraisal — the vector, `sealgate.*`
 * (simulated, violations, measurement, TDX claims) and exactly the submodules we found (no GPU the
 * evidence did not present). A status alone would vouch for an EAR that also says "genuine
 * hardware" or names a GPU nobody attested. Only `iat` (a safe integer) and `ear.verifier-id` (the
 * signer's build) are the signer's own. Returns the status our appraisal gives and the problems
 * in plain words (at most MAX_EAR_PROBLEMS); no problems means the EAR says what we found ourselves.
 */
export function checkEarClaims(
  payload: Record<string, unknown>,
  expected: { nonceHex: string; manifestDigest: string; appraisal: Appraisal },
): EarCheck {
  const status = expectedStatus(expected.appraisal);
  return { status, problems: earClaimProblems(payload, expected, status) };
}

/** What `checkEarClaims` found: the status our own appraisal gives, and how the EAR departs from it. */
export interface EarCheck {
  status: EarStatus;
  problems: string[];
}

function earClaimProblems(
  payload: Record<string, unknown>,
  expected: { nonceHex: string; manifestDigest: string; appraisal: Appraisal },
  status: EarStatus,
): string[] {
  const problems: string[] = [];
  if (payload.eat_profile !== EAR_PROFILE) problems.push(`eat_profile is not ${EAR_PROFILE}`);
  if (payload.eat_nonce !== expected.nonceHex) problems.push('eat_nonce is not our nonce');
  const sub = (payload.submods as Record<string, Record<string, unknown>> | undefined)?.[EAR_SUBMOD];
  if (!sub) return [...problems, `no submodule ${EAR_SUBMOD}`];
  if (sub['ear.appraisal-policy-id'] !== `sha256:${expected.manifestDigest}`) {
    problems.push('ear.appraisal-policy-id is not the manifest digest');
  }
  if (sub['ear.status'] !== status) {
    problems.push(`ear.status is ${String(sub['ear.status'])}, our own appraisal gives ${status}`);
  }
  if (problems.length > 0) return problems;
  const iat = payload.iat;
  if (typeof iat !== 'number' || !Number.isSafeInteger(iat) || iat < 0) return ['iat is not Unix seconds'];
  const ours = earClaims({ ...expected, iat }) as unknown as Record<string, unknown>;
  return claimDifferences(payload, { ...ours, 'ear.verifier-id': payload['ear.verifier-id'] });
}

export const MAX_EAR_PROBLEMS = 8;

/** The claims (and submodules' claims) whose canonical JSON differs, named by path. */
function claimDifferences(got: Record<string, unknown>, want: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const name of union(got, want)) {
    if (name !== 'submods') {
      if (!Object.hasOwn(want, name)) out.push(`claim ${name} is not one our appraisal makes`);
      else if (!Object.hasOwn(got, name) || !same(got[name], want[name]))
        out.push(`claim ${name} differs from our own appraisal`);
      continue;
    }
    const g = isRecord(got.submods) ? got.submods : {};
    const w = want.submods as Record<string, unknown>;
    for (const sub of union(g, w)) {
      if (!Object.hasOwn(w, sub)) out.push(`submodule ${sub} is not one our appraisal has`);
      else if (!Object.hasOwn(g, sub)) out.push(`submodule ${sub} is missing`);
      else if (!same(g[sub], w[sub])) out.push(`submodule ${sub} differs from our own appraisal`);
    }
  }
  return out.slice(0, MAX_EAR_PROBLEMS);
}

function union(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])];
}

/** Equal as RFC 8785 canonical JSON; a value that has none (a lone surrogate) is never equal. */
function same(a: unknown, b: unknown): boolean {
  try {
    return canonicalizeJson(a) === canonicalizeJson(b);
  } catch {
    return false;
  }
}
