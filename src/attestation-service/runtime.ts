/**
 * What the service's routes share: its dependencies (injected: platform, keys, clock, log) and its
 * in-memory state (KEKs, outstanding challenges, registered workers). Nothing here is persisted —
 * a restarted service has new keys, so it must be attested again and sent its KEKs again.
 */

import { SealgateError } from '../errors.js';
import type { RandomSource } from '../keys/random.js';
import type { AttestationPlatform } from '../platform/types.js';
import { manifestDigest as digestOf } from '../policy/manifest-digest.js';
import type { Manifest } from '../policy/manifest-types.js';
import { kekContext } from '../service-client/kek-binding.js';
import { type ChainCache, createChainCache } from '../verify/chain-cache.js';
import type { KdsOptions } from '../verify/kds.js';
import { ChallengeStore } from './challenges.js';
import { ServiceKeyStore } from './key-store.js';
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
  random?: RandomSource;
}

export interface Prepared {
  publicKeys: { hpke: Uint8Array; signing: Uint8Array };
  kekContext: Uint8Array;
}

export interface ServiceRuntime {
  deps: ServiceDeps;
  /** Resolved once the async checks of the dependencies passed; rejects (→ 500 everywhere) if not. */
  ready: Promise<Prepared>;
  keys: ServiceKeyStore;
  challenges: ChallengeStore;
  workers: WorkerRegistry;
  /** AMD upper chains that verified, for the workers' evidence (src/verify/chain-cache.ts). */
  chainCache: ChainCache;
  /** `deps.now()` in Unix seconds. */
  nowSeconds(): number;
}

export function createRuntime(deps: ServiceDeps): ServiceRuntime {
  const ready = prepare(deps);
  // Surfaced on every request (and logged once) instead of as an unhandled rejection.
  ready.catch((e) => deps.log('error', 'service_misconfigured', { message: (e as Error).message }));
  return {
    deps,
    ready,
    chainCache: createChainCache(),
    keys: new ServiceKeyStore({ lifetimeSeconds: deps.manifest.keyPolicy.lifetimeSeconds }),
    challenges: new ChallengeStore(deps.random ? { random: deps.random } : {}),
    workers: new WorkerRegistry(),
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
  return { publicKeys: await servicePublicKeys(deps.keys), kekContext: kekContext(deps.manifestDigest) };
}
