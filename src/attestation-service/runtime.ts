/**
 * What the service's routes share: its dependencies (injected: platform, keys, clock, log) and its
 * in-memory state (KEKs, outstanding challenges, registered workers). Nothing here is persisted —
 * a restarted service has new keys, so it must be attested again and sent its KEKs again.
 */

import { fromHex } from '../bytes.js';
import { SealgateError } from '../errors.js';
import type { RandomSource } from '../keys/random.js';
import type { AttestationPlatform } from '../platform/types.js';
import { manifestDigest as digestOf } from '../policy/manifest-digest.js';
import type { Manifest } from '../policy/manifest-types.js';
import { kekContext } from '../service-client/kek-binding.js';
import { type ChainCache, createChainCache } from '../verify/chain-cache.js';
import type { KdsOptions } from '../verify/kds.js';
import { DeviceChainCache } from '../verify/nvidia/device-chain-cache.js';
import type { OcspFetchOptions } from '../verify/nvidia/ocsp-fetch.js';
import type { SignatureBackend } from '../verify/signature-backend.js';
import type { PcsOptions } from '../verify/tdx/pcs.js';
import { createTdxVerifyCache, type TdxVerifyCache } from '../verify/tdx/verify-cache.js';
import { ChallengeIssuer } from './challenges.js';
import { ServiceKeyStore } from './key-store.js';
import {
  AttestationLimiter,
  type AttestationLimits,
  type BucketSpec,
  DEFAULT_ATTESTATION_LIMITS,
  DEFAULT_KEY_WRITE_LIMITS,
  TokenBucket,
} from './rate-limit.js';
import {
  DEFAULT_REGISTRATION_LIMITS,
  RegistrationAdmission,
  type RegistrationLimits,
} from './register-admission.js';
import { type ServiceKeys, servicePublicKeys } from './service-keys.js';
import { WorkerRegistry } from './worker-registry.js';

export type LogLevel = 'info' | 'warn' | 'error';
/** Structured log sink: `event` is a stable name, `detail` is for operators (never sent to callers). */
export type ServiceLog = (level: LogLevel, event: string, detail?: Record<string, unknown>) => void;

export interface ServiceDeps {
  /** The exact manifest bytes loaded at start (sent in every evidence bundle). */
  manifestBytes: Uint8Array;
  manifest: Manifest;
  manifestDigest: string;
  platform: AttestationPlatform;
  keys: ServiceKeys;
  /** The clock (injected: tests move it). */
  now: () => Date;
  log: ServiceLog;
  /** Where worker certificates missing from a bundle are fetched (AMD KDS); absent → none fetched. */
  kds?: KdsOptions;
  /** Where TDX collateral missing from a worker's bundle is fetched (Intel PCS or a PCCS); absent → none. */
  pcs?: PcsOptions;
  /** Signature checks of workers' evidence (src/verify/signature-backend.ts); default WebCrypto. */
  signatures?: SignatureBackend;
  /**
   * Where the workers' GPU certificates are checked for revocation (OCSP responder and cache);
   * absent → nothing is asked, so a role under `gpu.ocsp: "require"` refuses every GPU.
   */
  gpuOcsp?: OcspFetchOptions;
  random?: RandomSource;
  /**
   * Development only: with no `gateway` in the manifest, take unauthenticated uploads instead of
   * refusing them. `startService` allows it on the simulator alone (docs/manifest.md "gateway").
   */
  allowUnpinnedGateway?: boolean;
  /** `POST /v1/attestation` budgets (rate-limit.ts); default DEFAULT_ATTESTATION_LIMITS. */
  attestationLimits?: AttestationLimits;
  /** Registrations in flight and their body deadline (register-admission.ts); default DEFAULT_REGISTRATION_LIMITS. */
  registrationLimits?: RegistrationLimits;
  /** The pinned gateway's key-write budget (key-write-budget.ts); default DEFAULT_KEY_WRITE_LIMITS. */
  keyWriteLimits?: BucketSpec;
}

export interface Prepared {
  publicKeys: { hpke: Uint8Array; signing: Uint8Array };
  kekContext: Uint8Array;
  /** `manifest.gateway.uploadKey` (Ed25519, 32 bytes), or null when the manifest pins none. */
  gatewayKey: Uint8Array | null;
}

export interface ServiceRuntime {
  deps: ServiceDeps;
  /** Resolved once the async checks of the dependencies passed; rejects (→ 500 everywhere) if not. */
  ready: Promise<Prepared>;
  keys: ServiceKeyStore;
  challenges: ChallengeIssuer;
  attestationLimiter: AttestationLimiter;
  /** The same budgets, apart, for signed key lists (`GET /v1/keys?nonce=`). */
  keyListLimiter: AttestationLimiter;
  /** The pinned gateway's budget for `POST /v1/keys` and `POST /v1/keys/retire` (key-write-budget.ts). */
  keyWrites: TokenBucket;
  workers: WorkerRegistry;
  registrations: RegistrationAdmission;
  /** AMD upper chains that verified, for the workers' evidence (src/verify/chain-cache.ts). */
  chainCache: ChainCache;
  /** Verified GPU device chains: every registration asks a worker's GPUs again. */
  gpuChainCache: DeviceChainCache;
  /** Verified Intel chains, collateral and CRLs for TDX workers (src/verify/tdx/verify-cache.ts). */
  tdxCache: TdxVerifyCache;
  /** `deps.now()` in Unix seconds. */
  nowSeconds(): number;
}

export function createRuntime(deps: ServiceDeps): ServiceRuntime {
  const ready = prepare(deps);
  // Surfaced on every request (and logged once) instead of as an unhandled rejection.
  ready.catch((e) => deps.log('error', 'service_misconfigured', { message: (e as Error).message }));
  const budgets = () =>
    new AttestationLimiter(deps.attestationLimits ?? DEFAULT_ATTESTATION_LIMITS, deps.now().getTime());
  return {
    deps,
    ready,
    chainCache: createChainCache(),
    gpuChainCache: new DeviceChainCache(),
    tdxCache: createTdxVerifyCache(),
    keys: new ServiceKeyStore({ lifetimeSeconds: deps.manifest.keyPolicy.lifetimeSeconds }),
    challenges: new ChallengeIssuer(deps.random ? { random: deps.random } : {}),
    attestationLimiter: budgets(),
    keyListLimiter: budgets(),
    keyWrites: new TokenBucket(deps.keyWriteLimits ?? DEFAULT_KEY_WRITE_LIMITS, deps.now().getTime()),
    workers: new WorkerRegistry(),
    registrations: new RegistrationAdmission(deps.registrationLimits ?? DEFAULT_REGISTRATION_LIMITS),
    nowSeconds: () => Math.floor(deps.now().getTime() / 1000),
  };
}

async function prepare(deps: ServiceDeps): Promise<Prepared> {
  // The digest the service binds into REPORT_DATA must be the digest of the bytes it sends, or no
  // verifier could ever accept it; and of the manifest it enforces.
  const [ofBytes, ofManifest] = await Promise.all([digestOf(deps.manifestBytes), digestOf(deps.manifest)]);
  if (ofBytes !== deps.manifestDigest || ofManifest !== deps.manifestDigest) {
    throw new SealgateError('internal', 'attestation service: manifestDigest does not match the manifest');
  }
  const pin = deps.manifest.gateway?.uploadKey;
  return {
    publicKeys: await servicePublicKeys(deps.keys),
    kekContext: kekContext(deps.manifestDigest),
    gatewayKey: pin === undefined ? null : fromHex(pin, 32),
  };
}
