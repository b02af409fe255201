/**
 * The evidence bundle (docs/protocol.md, "Evidence bundle"): what an attested party — the
 * attestation service to the gateway, a worker to the service — sends for a verifier's nonce.
 * It carries everything the verifier needs and nothing it must take on trust: the raw hardware
 * report, the certificates the host delivered with it, the exact manifest bytes the party runs, and
 * the party's public keys, all bound together by REPORT_DATA (`report-data.ts`).
 *
 * Wire form: JSON, binary fields base64url without padding (RFC 4648 §5). Parsing is strict:
 * unknown fields, wrong types and bad encodings are refused with the field's name.
 */
import { fromBase64Url, toBase64Url } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { isRecord } from '../json/object-guards.js';
import { type BundleGpu, encodeBundleGpus, parseBundleGpus } from './gpu-bundle.js';
import { isRole, NONCE_LENGTH, type Role } from './report-data.js';
import {
  encodeTdxBundleEvidence,
  parseTdxBundleEvidence,
  TDX_BUNDLE_FIELDS,
  TDX_BUNDLE_OPTIONAL_FIELDS,
  type TdxBundleEvidence,
} from './tdx-bundle.js';
import { MAX_WORKER_CONFIG_BYTES } from './worker-config.js';

export const EVIDENCE_BUNDLE_VERSION = 1;
/** Certificate slots, as in the GHCB certificate table. */
export const BUNDLE_CERT_NAMES = ['vcek', 'vlek', 'ask', 'ark'] as const;
export type BundleCertName = (typeof BUNDLE_CERT_NAMES)[number];

/** Upper bounds so a hostile peer cannot make us decode megabytes: generous for real evidence. */
const MAX_MANIFEST_BYTES = 256 * 1024;
const MAX_CERT_BYTES = 16 * 1024;
const MAX_KEY_BYTES = 4096;
const MAX_KEYS = 8;

/** The SEV-SNP bundle; the TDX one (tdx-bundle.ts) has the same members but for the evidence. */
export interface SnpEvidenceBundle {
  version: 1;
  role: Role;
  platform: 'sev-snp';
  /** True when the evidence comes from the simulator. Informational: trust comes only from the
   *  manifest's anchors, never from this flag. */
  simulated: boolean;
  nonce: Uint8Array;
  report: Uint8Array;
  certificates: Partial<Record<BundleCertName, Uint8Array>>;
  /** The exact manifest bytes the party runs. */
  manifest: Uint8Array;
  /** Public keys bound into REPORT_DATA, by name. */
  keys: Record<string, Uint8Array>;
  /**
   * A worker's configuration document (canonical bytes, worker-config.ts), bound into REPORT_DATA
   * by digest (`config`). Absent for the attestation service.
   */
  config?: Uint8Array;
  /**
   * The party's GPUs' evidence (gpu-bundle.ts), bound into REPORT_DATA by digest (`gpus`,
   * gpu-binding.ts). Absent: the party presents no GPU.
   */
  gpus?: BundleGpu[];
}

export type TdxEvidenceBundle = Omit<SnpEvidenceBundle, 'platform' | 'report' | 'certificates'> &
  TdxBundleEvidence;
export type EvidenceBundle = SnpEvidenceBundle | TdxEvidenceBundle;

/** The bundle's platform-specific members (`platform` included), as a platform produces them. */
export type BundleEvidence =
  | Pick<SnpEvidenceBundle, 'platform' | 'report' | 'certificates'>
  | TdxBundleEvidence;

function encodeSnpEvidence(b: SnpEvidenceBundle): Record<string, unknown> {
  const certificates: Record<string, string> = {};
  for (const name of BUNDLE_CERT_NAMES) {
    const der = b.certificates[name];
    if (der) certificates[name] = toBase64Url(der);
  }
  return { report: toBase64Url(b.report), certificates };
}

export function encodeEvidenceBundle(b: EvidenceBundle): Record<string, unknown> {
  const keys: Record<string, string> = {};
  for (const [name, value] of Object.entries(b.keys)) keys[name] = toBase64Url(value);
  return {
    version: b.version,
    role: b.role,
    platform: b.platform,
    simulated: b.simulated,
    nonce: toBase64Url(b.nonce),
    ...(b.platform === 'tdx' ? encodeTdxBundleEvidence(b) : encodeSnpEvidence(b)),
    manifest: toBase64Url(b.manifest),
    keys,
    ...(b.config ? { config: toBase64Url(b.config) } : {}),
    ...(b.gpus ? { gpus: encodeBundleGpus(b.gpus) } : {}),
  };
}

function fail(message: string): never {
  throw new SealgateError('malformed_evidence', `evidence bundle: ${message}`);
}

function onlyKeys(obj: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) fail(`unknown field ${where}${k}`);
}

function b64(value: unknown, field: string, max: number, exact?: number): Uint8Array {
  if (typeof value !== 'string') fail(`${field} must be a base64url string`);
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(value);
  } catch {
    fail(`${field} is not valid base64url`);
  }
  if (exact !== undefined && bytes.length !== exact)
    fail(`${field} must be ${exact} bytes, got ${bytes.length}`);
  if (bytes.length === 0 || bytes.length > max) fail(`${field} must be 1..${max} bytes, got ${bytes.length}`);
  return bytes;
}

const TOP_FIELDS = ['version', 'role', 'platform', 'simulated', 'nonce', 'manifest', 'keys'];
/** Per platform: the evidence members, required then optional. */
const PLATFORM_FIELDS = {
  'sev-snp': { required: ['report', 'certificates'], optional: [] as string[] },
  tdx: { required: [...TDX_BUNDLE_FIELDS], optional: [...TDX_BUNDLE_OPTIONAL_FIELDS] },
} as const;
/** Present for some roles only (the verifier says which: verify-evidence-bundle.ts). */
const OPTIONAL_FIELDS = ['config', 'gpus'];

export function parseEvidenceBundle(json: unknown): EvidenceBundle {
  if (!isRecord(json)) fail('must be a JSON object');
  const platform = json.platform;
  if (platform !== 'sev-snp' && platform !== 'tdx') fail(`unsupported platform ${JSON.stringify(platform)}`);
  const own = PLATFORM_FIELDS[platform];
  onlyKeys(json, [...TOP_FIELDS, ...own.required, ...own.optional, ...OPTIONAL_FIELDS], '');
  for (const k of [...TOP_FIELDS, ...own.required]) if (!(k in json)) fail(`missing field ${k}`);
  if (json.version !== EVIDENCE_BUNDLE_VERSION) fail(`unsupported version ${JSON.stringify(json.version)}`);
  if (!isRole(json.role)) fail(`unknown role ${JSON.stringify(json.role)}`);
  if (typeof json.simulated !== 'boolean') fail('simulated must be a boolean');
  const evidence = platform === 'tdx' ? parseTdxBundleEvidence(json) : parseSnpEvidence(json);
  if (!isRecord(json.keys)) fail('keys must be an object');
  const keyNames = Object.keys(json.keys);
  if (keyNames.length > MAX_KEYS) fail(`at most ${MAX_KEYS} keys`);
  const keys: Record<string, Uint8Array> = {};
  for (const name of keyNames) {
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(name)) fail(`bad key name ${JSON.stringify(name)}`);
    keys[name] = b64(json.keys[name], `keys.${name}`, MAX_KEY_BYTES);
  }
  return {
    version: 1,
    role: json.role,
    ...evidence,
    simulated: json.simulated,
    nonce: b64(json.nonce, 'nonce', NONCE_LENGTH, NONCE_LENGTH),
    manifest: b64(json.manifest, 'manifest', MAX_MANIFEST_BYTES),
    keys,
    ...(json.config !== undefined ? { config: b64(json.config, 'config', MAX_WORKER_CONFIG_BYTES) } : {}),
    ...(json.gpus !== undefined ? { gpus: parseBundleGpus(json.gpus) } : {}),
  };
}

function parseSnpEvidence(json: Record<string, unknown>): BundleEvidence {
  if (!isRecord(json.certificates)) fail('certificates must be an object');
  onlyKeys(json.certificates, BUNDLE_CERT_NAMES, 'certificates.');
  const certificates: SnpEvidenceBundle['certificates'] = {};
  for (const name of BUNDLE_CERT_NAMES) {
    const value = json.certificates[name];
    if (value !== undefined) certificates[name] = b64(value, `certificates.${name}`, MAX_CERT_BYTES);
  }
  return { platform: 'sev-snp', report: b64(json.report, 'report', 1184, 1184), certificates };
}
