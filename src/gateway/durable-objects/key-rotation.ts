/**
 * The key-rotation Durable Object: one per manifest digest (`idFromName(digest)`), the single
 * writer of the gateway's keys (docs/architecture.md "Rotation"). On each alarm it
 *
 *   1. attests the attestation service with a fresh nonce (`attestService`; KDS certificates
 *      cached in KV) and records the verified result in KV (`att:<digest>:<nonce>` + `:current`)
 *      with a TTL bounded by the VCEK's notAfter and the rotation interval;
 *   2. retires at the service the keys its signed list names that this object does not hold
 *      (orphans, `retireOrphans`), and re-uploads any of our live keys the service no longer
 *      lists (it keeps keys in memory only, so a restarted service has lost them);
 *   3. when the newest key is within `overlapSeconds` of its successor's start, creates that
 *      successor (window [newest.notBefore + interval, … + lifetime)), stores it unconfirmed, and
 *      only then uploads it ahead of time;
 *   4. confirms with `confirmServiceKeys` (the service's list, signed by its attested key for our
 *      nonce) and promotes — publishes to KV for the request isolates — only keys the service
 *      confirmed. The previous key stays published until its own notAfter:
 *      that is the overlap during which requests sealed under it still open.
 *
 * If the service is unreachable or its evidence is refused, nothing already published is touched:
 * the gateway keeps sealing under the current key until its notAfter, after which `KeyRing.current`
 * has no key and every request fails closed (503). The alarm retries with backoff meanwhile.
 *
 * A request never waits for any of this: the request path only reads what was published
 * (`publishedKeys`), and may ask for the alarm to run soon (`ensureAlarm`, `recheckSoon`). These
 * and `state` are the object's Workers RPC methods; callers hold a
 * `DurableObjectNamespace<KeyRotation>` stub (rotation-client.ts).
 *
 * Keys in storage and KV are wrapped under GATEWAY_SECRET (kv/at-rest.ts).
 */
import { DurableObject } from 'cloudflare:workers';
import { toBase64Url, toHex } from '../../bytes.js';
import { isSealgateError } from '../../errors.js';
import type { GatewayKey } from '../../keys/gateway-key.js';
import { createKek, type Kek } from '../../keys/kek.js';
import { type AttestedService, attestService } from '../../service-client/attest-service.js';
import { MAX_RETIRE_KIDS } from '../../service-client/kek-retire.js';
import {
  confirmServiceKeys,
  type RetireKeysOptions,
  retireServiceKeys,
  uploadKek,
} from '../../service-client/keys.js';
import { createChainCache } from '../../verify/chain-cache.js';
import { nowMs, nowSeconds } from '../clock.js';
import { type GatewayConfig, type GatewayEnv, loadConfig } from '../config.js';
import { gatewayIdentity } from '../gateway-identity.js';
import { type StoredKek, unwrapKek, wrapKek } from '../kv/at-rest.js';
import {
  type AttestationRecord,
  KV_MIN_TTL_SECONDS,
  kvCertificateCache,
  kvCollateralCache,
  type PublishedKeys,
  putAttestation,
  putPublishedKeys,
} from '../kv/kv-store.js';
import { recordServiceForReceipts } from '../kv/receipt-store.js';
import { log } from '../log.js';
import { attestedEvidence } from './attested-evidence.js';

/** A stored key and whether the service confirmed holding it (only confirmed keys are published). */
export interface RotationKey extends StoredKek {
  confirmed: boolean;
}

export interface RotationState {
  manifestDigest: string | null;
  keys: Omit<RotationKey, 'wrapped'>[];
  lastAttestation: { nonce: string; verifiedAt: number; expiresAt: number } | null;
  lastError: { at: number; code: string; message: string } | null;
  failures: number;
  alarm: number | null;
}

const RETRY_INITIAL_SECONDS = 5;
const RETRY_MAX_SECONDS = 300;
/** Never schedule the next alarm sooner than this (a busy loop helps nobody). */
const MIN_ALARM_SECONDS = 5;
/** A recheck asked by the request path runs at most this often. */
const RECHECK_MIN_SECONDS = 15;

const upstreamFetch = (url: string, init?: RequestInit) => fetch(url, init);
/** AMD upper chains that verified in this isolate: a re-attestation skips re-verifying ARK → ASK. */
const chainCache = createChainCache();

export class KeyRotation extends DurableObject<GatewayEnv> {
  /**
   * The rotation running now, if any. While `alarm()` runs, `getAlarm()` reads null, so a caller of
   * `ensureAlarm` or `recheckSoon` would schedule another alarm — and workerd may start it while the
   * first still awaits the service (the DO's input gate opens during outgoing fetches). Two
   * rotations at once would each see no key and each upload one. Invariant: at most one rotation
   * runs, and no alarm is scheduled while one runs.
   */
  #running: Promise<void> | undefined;

  /** The published key set for the request path (schedules an alarm if none is pending). */
  async publishedKeys(): Promise<PublishedKeys | null> {
    await this.ensureAlarm();
    return (await this.ctx.storage.get<PublishedKeys>('published')) ?? null;
  }

  /** What the DO holds, without key material (operators, tests). */
  async state(): Promise<RotationState> {
    const s = this.ctx.storage;
    const keys = (await s.get<RotationKey[]>('keys')) ?? [];
    return {
      manifestDigest: (await s.get<string>('manifestDigest')) ?? null,
      keys: keys.map(({ wrapped: _wrapped, ...meta }) => meta),
      lastAttestation: (await s.get<RotationState['lastAttestation']>('lastAttestation')) ?? null,
      lastError: (await s.get<RotationState['lastError']>('lastError')) ?? null,
      failures: (await s.get<number>('failures')) ?? 0,
      alarm: await s.getAlarm(),
    };
  }

  async alarm(): Promise<void> {
    if (this.#running) return await this.#running; // it schedules the next alarm itself
    this.#running = this.#alarm().finally(() => {
      this.#running = undefined;
    });
    return await this.#running;
  }

  async #alarm(): Promise<void> {
    const loaded = await loadConfig(this.env);
    const s = this.ctx.storage;
    if (!loaded.ok) {
      log('error', 'rotation_misconfigured', { reason: loaded.reason });
      await s.setAlarm(nowMs() + RETRY_MAX_SECONDS * 1000);
      return;
    }
    const config = loaded.config;
    // One object per manifest (named by its digest), and one writer of `keys:<digest>`. An object
    // of a manifest the gateway no longer serves may still hold a pending alarm (after a deploy that
    // changed the manifest, or persisted dev state): run, it would rotate for the *current* manifest
    // beside that manifest's own object — two writers, two uploads per rotation. So it retires: no
    // rotation, no next alarm; a request naming its manifest wakes it again.
    const mine = await s.get<string>('manifestDigest');
    if (mine !== undefined && mine !== config.manifestDigest) {
      log('info', 'rotation_retired', { manifestDigest: mine, serving: config.manifestDigest });
      return;
    }
    if (mine === undefined) await s.put('manifestDigest', config.manifestDigest);
    try {
      const next = await this.#rotate(config);
      await s.put('failures', 0);
      await s.delete('lastError');
      await s.setAlarm(next * 1000);
    } catch (e) {
      const failures = ((await s.get<number>('failures')) ?? 0) + 1;
      const code = isSealgateError(e) ? e.code : 'internal';
      const message = (e as Error)?.message ?? String(e);
      const status = isSealgateError(e) ? (e.detail?.status ?? null) : null;
      log('error', 'rotation_failed', {
        code,
        status,
        message,
        failures,
        manifestDigest: config.manifestDigest,
      });
      await s.put('failures', failures);
      await s.put('lastError', { at: nowSeconds(), code, message });
      await s.setAlarm(nowMs() + retryDelaySeconds(e, failures) * 1000);
    }
  }

  /** One rotation step; returns when (Unix seconds) the next one is due. Throws on any failure. */
  async #rotate(config: GatewayConfig): Promise<number> {
    const { manifestDigest, secret } = config;
    const policy = config.manifest.keyPolicy;
    const s = this.ctx.storage;
    const now = nowSeconds();
    const gatewayKey = await gatewayIdentity(secret, config.manifest);
    const service = await this.#attest(config, gatewayKey, now);

    const call = { baseUrl: config.serviceUrl, fetch: upstreamFetch, service, manifestDigest, gatewayKey };
    // What the attested service holds, signed by its attested key for our nonce (keys-held.ts): a
    // list anyone on the hop could forge must not promote a key the service never received.
    const heldNow = async () =>
      new Set((await confirmServiceKeys({ ...call, now: new Date(nowMs()) })).map((k) => k.kid));
    const { live, opened } = await this.#liveKeys(config, now);
    const held = await heldNow();
    await retireOrphans(call, held, live);
    const upload = (kek: Kek) => uploadKek({ ...call, kek });
    for (const stored of live) {
      if (held.has(stored.kid)) continue;
      await upload(opened.get(stored.kid)!);
      log('warn', 'rotation_reuploaded', { kid: stored.kid });
    }
    const newest = live.reduce<RotationKey | undefined>(
      (a, k) => (!a || k.notBefore > a.notBefore ? k : a),
      undefined,
    );
    const dueAt = (k: RotationKey) => k.notBefore + policy.rotationIntervalSeconds - policy.overlapSeconds;
    if (!newest || now >= dueAt(newest)) {
      const notBefore = newest ? Math.max(now, newest.notBefore + policy.rotationIntervalSeconds) : now;
      const kek = await createKek({ notBefore, notAfter: notBefore + policy.lifetimeSeconds });
      // Invariant: a key is in storage before the service can hold it. A lost answer or
      // confirmation then leaves a key the next alarm re-uploads and confirms — not an orphan in one
      // of the service's 16 slots (docs/protocol.md "Retiring orphan keys").
      live.push({ ...(await wrapKek(secret, manifestDigest, kek)), confirmed: false });
      await s.put('keys', live);
      await upload(kek);
      log('info', 'rotation_key_created', { kid: kek.kid, notBefore, notAfter: kek.notAfter });
    }
    // Promote only what the service says it holds now.
    const confirmed = await heldNow();
    const keys = live.map((k) => ({ ...k, confirmed: confirmed.has(k.kid) }));
    await s.put('keys', keys);
    const missing = keys.filter((k) => !k.confirmed).map((k) => k.kid);
    const published: PublishedKeys = {
      v: 1,
      manifestDigest,
      updatedAt: now,
      keys: keys.filter((k) => k.confirmed).map(({ confirmed: _c, ...k }) => k),
    };
    await s.put('published', published);
    await putPublishedKeys(this.env.SEALGATE_KV, secret, published, now);
    if (missing.length > 0) throw new Error(`service did not confirm keys ${missing.join(', ')}`);
    const latest = keys.reduce((a, k) => (k.notBefore > a.notBefore ? k : a));
    return Math.max(now + MIN_ALARM_SECONDS, Math.min(dueAt(latest), now + policy.rotationIntervalSeconds));
  }

  /** Step 1: the service attested for a fresh nonce, and recorded (KV) for the request path and receipts. */
  async #attest(config: GatewayConfig, gatewayKey: GatewayKey, now: number): Promise<AttestedService> {
    const { manifestDigest, secret } = config;
    const service = await attestService({
      gatewayKey,
      baseUrl: config.serviceUrl,
      fetch: upstreamFetch,
      manifest: config.manifest,
      manifestDigest,
      now: new Date(nowMs()),
      kds: { fetch: (url) => fetch(url), cache: kvCertificateCache(this.env.SEALGATE_KV), revocation: true },
      pcs: {
        fetch: (url) => fetch(url),
        baseUrl: config.pcsBaseUrl,
        ...(config.pcsRootCaCrlUrl ? { rootCaCrlUrl: config.pcsRootCaCrlUrl } : {}),
        cache: kvCollateralCache(this.env.SEALGATE_KV),
      },
      chainCache,
    });
    if (service.simulated && !config.simulated) {
      // Cannot happen with a consistent manifest; refuse rather than trust a simulated root silently.
      throw new Error('service chain ends in a simulated root the configuration does not allow');
    }
    await this.#recordAttestation(config, service, now);
    // Receipts name this service's evidence; its key checks worker certificates (kv/receipt-store.ts).
    await recordServiceForReceipts(this.env.SEALGATE_KV, secret, {
      manifestDigest,
      bundle: service.bundle,
      signingKey: service.signingKey,
      now,
      simulated: service.simulated,
    });
    return service;
  }

  /**
   * The stored keys not yet past their notAfter, opened. Keys that no longer open under
   * GATEWAY_SECRET (the secret was changed) are orphans: dropped here, so the rotation makes new
   * ones rather than failing from now on.
   */
  async #liveKeys(
    config: GatewayConfig,
    now: number,
  ): Promise<{ live: RotationKey[]; opened: Map<string, Kek> }> {
    const live: RotationKey[] = [];
    const opened = new Map<string, Kek>();
    const stored = (await this.ctx.storage.get<RotationKey[]>('keys')) ?? [];
    for (const key of stored.filter((k) => k.notAfter > now)) {
      try {
        opened.set(key.kid, await unwrapKek(config.secret, config.manifestDigest, key));
        live.push(key);
      } catch (e) {
        if (!isSealgateError(e, 'decryption_failed')) throw e;
        log('warn', 'rotation_key_orphaned', { kid: key.kid, reason: 'does not open under GATEWAY_SECRET' });
      }
    }
    return { live, opened };
  }

  async #recordAttestation(config: GatewayConfig, service: AttestedService, now: number): Promise<void> {
    const interval = config.manifest.keyPolicy.rotationIntervalSeconds;
    const evidence = attestedEvidence(service, now, interval);
    const { leafNotAfter } = evidence;
    // No longer than the evidence allows (the VCEK's validity) and no longer than one interval, so
    // the cache never claims a verification older than the rotation that would redo it.
    const ttl = Math.min(leafNotAfter - now, interval);
    const record: AttestationRecord = {
      v: 1,
      manifestDigest: config.manifestDigest,
      nonce: toHex(service.nonce),
      verifiedAt: now,
      expiresAt: now + ttl,
      simulated: service.simulated,
      ...evidence,
      hpke: toBase64Url(service.hpkePublicKey),
      signing: toBase64Url(service.signingKey),
    };
    await this.ctx.storage.put('lastAttestation', {
      nonce: record.nonce,
      verifiedAt: now,
      expiresAt: record.expiresAt,
    });
    if (ttl < KV_MIN_TTL_SECONDS) {
      // KV cannot hold it that briefly; not caching is the safe side of "no longer than allowed".
      log('warn', 'attestation_not_cached', { reason: 'evidence valid for less than 60 s', ttl });
      return;
    }
    await putAttestation(this.env.SEALGATE_KV, config.secret, record, ttl);
  }

  /**
   * No worker could serve with our key (e.g. the attestation service restarted and lost the keys it
   * held in memory): run the rotation step soon — it re-attests the service and re-uploads every
   * live key it no longer lists — instead of waiting for the next interval. At most once per
   * RECHECK_MIN_SECONDS, so a worker outage cannot turn into an attestation storm: counted from the
   * last attestation that verified and from the last alarm a recheck moved (`lastRecheck`), as a
   * rotation that fails records no attestation — else every call (a public `/readyz` round, 2 s per
   * isolate) would pull a failing rotation's backoff (`retryDelaySeconds`, a service's 429
   * `retry-after`) back to now.
   */
  async recheckSoon(): Promise<void> {
    if (this.#running) return; // a rotation (an attestation first) is under way
    const s = this.ctx.storage;
    const now = nowSeconds();
    const last = await s.get<RotationState['lastAttestation']>('lastAttestation');
    if (last && now - last.verifiedAt < RECHECK_MIN_SECONDS) return;
    const asked = await s.get<number>('lastRecheck');
    if (asked !== undefined && now - asked < RECHECK_MIN_SECONDS) return;
    const alarm = await s.getAlarm();
    if (alarm !== null && alarm <= nowMs() + RECHECK_MIN_SECONDS * 1000) return;
    await s.put('lastRecheck', now);
    await s.setAlarm(nowMs());
  }

  /** Schedules an alarm now if none is pending (first start, or after a lost alarm). */
  async ensureAlarm(): Promise<void> {
    if (this.#running) return; // the running rotation sets the next alarm
    const s = this.ctx.storage;
    if ((await s.getAlarm()) === null) await s.setAlarm(nowMs());
  }
}

/**
 * When a failed rotation runs again: backoff from RETRY_INITIAL_SECONDS doubling to
 * RETRY_MAX_SECONDS, and no sooner than a `retry-after` the service answered (its `429
 * rate_limited` of an exhausted budget: key writes, attestations; src/service-client/http.ts
 * `detail.retryAfter`), capped at RETRY_MAX_SECONDS. A 429 is never fatal: like every failure here
 * it leaves what is published alone and the rotation tries again.
 */
function retryDelaySeconds(e: unknown, failures: number): number {
  const backoff = Math.min(RETRY_MAX_SECONDS, RETRY_INITIAL_SECONDS * 2 ** Math.min(failures - 1, 10));
  const asked = isSealgateError(e) ? e.detail?.retryAfter : undefined;
  return typeof asked === 'number' ? Math.max(backoff, Math.min(asked, RETRY_MAX_SECONDS)) : backoff;
}

/**
 * Step 2a: the keys the service holds (`held`, from its signed list) that this object does not
 * (`live`) are orphans — uploaded by a rotation whose storage was lost, by a gateway before keys
 * were stored ahead of their upload, or no longer opening under GATEWAY_SECRET. Nothing seals under
 * them (only stored, confirmed keys are published), yet each fills one of the service's 16 slots
 * until its notAfter: retire them (src/service-client/kek-retire.ts). `held` must come from a
 * verified signed list, so a forged list can neither name a key for us to retire nor hide ours.
 * A failed retire is logged, not thrown: the slots may still suffice, and the upload that follows
 * fails on its own when they do not.
 */
async function retireOrphans(
  call: Omit<RetireKeysOptions, 'kids'>,
  held: ReadonlySet<string>,
  live: readonly RotationKey[],
): Promise<void> {
  const ours = new Set(live.map((k) => k.kid));
  const kids = [...held].filter((kid) => !ours.has(kid)).slice(0, MAX_RETIRE_KIDS);
  if (kids.length === 0) return;
  try {
    const retired = await retireServiceKeys({ ...call, kids });
    log('warn', 'rotation_orphans_retired', { kids, retired });
  } catch (e) {
    const code = isSealgateError(e) ? e.code : 'internal';
    log('error', 'rotation_retire_failed', { kids, code, message: (e as Error)?.message ?? String(e) });
  }
}
