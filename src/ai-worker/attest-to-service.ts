/**
 * The worker's lifecycle towards the attestation service (docs/services.md, "AI worker"):
 *
 *   0. attest     — the service's evidence for OUR fresh nonce, verified against our manifest
 *                   (src/service-client/attest-service.ts, the gateway's code): until it verifies,
 *                   the worker sends no evidence and takes no key; it keeps the service's attested
 *                   `signing` key, which must have signed the certificate it is issued;
 *   1. challenge  — `POST /v1/workers/challenge` → the service's single-use nonce;
 *   2. evidence   — with GPUs, first each GPU's evidence for gpuNonce = deriveGpuNonce(nonce)
 *                   (src/attestation/gpu-binding.ts), asked anew at every registration and so at
 *                   every renewal; then REPORT_DATA = computeReportData({role: "worker", nonce,
 *                   manifestDigest, keys: {hpke, signing}, digests: {config, gpus}}) asked of the
 *                   platform (hardware or simulator); the bundle carries the configuration
 *                   document and the GPU evidence themselves;
 *   3. register   — `POST /v1/workers/register` {bundle} → our certificate and the active KEKs sealed
 *                   to our `hpke` key (purpose `kek-release`), opened into the key ring;
 *   4. follow     — `POST /v1/workers/keys` {certificate, nonce} every `pollIntervalMs` (and at once
 *                   when a request names a key id we do not know: `WorkerKeys`); a 401 means the
 *                   service no longer accepts our certificate (the service restarted), so we attest
 *                   again from step 1 — as we do, unasked, in the last minute before it expires.
 *
 * The certificate is read before it is used: it must be signed by the attested service's key and
 * name our own `signing` key, our `hpke` key (by SHA-256), our manifest and our configuration, or
 * the service is not the one we think and nothing it sends is taken.
 * Every key answer (register, poll) must carry the attested service key's signature over its keys,
 * our certificate and a nonce — the challenge we answered, or the fresh one we sent with the poll
 * (src/service-client/kek-delivery.ts): an unsigned, mis-signed, replayed or re-addressed answer
 * is refused before anything in it is opened, so a man in the middle on this hop cannot hand us
 * a key of its choosing sealed to our (public) `hpke` key.
 * Released KEKs are opened with the manifest digest as HPKE context (docs/protocol.md, "Sealed
 * KEK"; `kekContext`), so a key released under another manifest does not open here.
 *
 * A refused attestation is logged with what the service said (its code; *why* is in the service's
 * log, never told to the worker) and retried with exponential backoff; the worker meanwhile stays
 * not ready. Nothing here reads a clock or a timer directly: both are injected.
 */
import { encodeEvidenceBundle } from '../attestation/evidence-bundle.js';
import { deriveGpuNonce, GPU_DIGEST_NAME, gpuEvidenceDigest } from '../attestation/gpu-binding.js';
import type { BundleGpu } from '../attestation/gpu-bundle.js';
import { computeReportData } from '../attestation/report-data.js';
import {
  CONFIG_DIGEST_NAME,
  workerConfigDigest,
  workerConfigDigestHex,
} from '../attestation/worker-config.js';
import { constantTimeEqual, sha256 } from '../bytes.js';
import { isSealgateError, SealgateError } from '../errors.js';
import { openKek } from '../keys/kek-transport.js';
import { bundleEvidenceOf } from '../platform/bundle-evidence.js';
import type { GpuEvidenceProvider } from '../platform/gpu-types.js';
import type { AttestationPlatform } from '../platform/types.js';
import type { Manifest } from '../policy/manifest-types.js';
import { parseManifest } from '../policy/parse-manifest.js';
import { attestService } from '../service-client/attest-service.js';
import { kekContext } from '../service-client/kek-binding.js';
import {
  KEY_POLL_NONCE_LENGTH,
  type KekDeliveryBinding,
  verifyKekDelivery,
} from '../service-client/kek-delivery.js';
import { keyPollBytes } from '../service-client/key-poll-proof.js';
import { verifyWorkerCertificate } from '../service-client/worker-certificate.js';
import type { SignatureBackend } from '../verify/signature-backend.js';
import type { PcsOptions } from '../verify/tdx/pcs.js';
import {
  createWorkerIdentity,
  presentedKeys,
  type ReceiptKeyFactory,
  type WorkerIdentity,
} from './identity.js';
import { consoleLog, errorDetail, type WorkerLog } from './log.js';
import type { ReceiptSigner } from './receipt-signer.js';
import { ServiceApi, serviceFailureStatus } from './service-api.js';
import { WorkerKeys } from './worker-keys.js';

export interface WorkerSessionOptions {
  serviceUrl: string;
  platform: AttestationPlatform;
  /** TDX collateral for the service's quote when its bundle lacks it (Intel PCS or a PCCS). */
  pcs?: PcsOptions;
  /** Signature checks of the service's evidence (src/verify/signature-backend.ts); default WebCrypto. */
  signatures?: SignatureBackend;
  /** The VM's GPUs, when it has any: their evidence is presented and bound at every registration. */
  gpus?: GpuEvidenceProvider;
  /** The exact manifest bytes the worker runs (they go into the evidence bundle). */
  manifest: Uint8Array;
  /** Its digest (`manifestDigest`), bound into REPORT_DATA. */
  manifestDigest: string;
  /** The canonical configuration document (src/attestation/worker-config.ts), bound by digest. */
  config: Uint8Array;
  /** Made at start when absent. */
  identity?: WorkerIdentity;
  /** How that identity's receipt key is made (default WebCrypto; the Node server: node:crypto). */
  receiptKey?: ReceiptKeyFactory;
  fetch?: typeof fetch;
  /** Milliseconds (Date.now by default). */
  clock?: () => number;
  /** An abortable sleep; the default uses setTimeout. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Key polling interval. Default 10 s. */
  pollIntervalMs?: number;
  /** Backoff after a failure: first delay, doubling up to the maximum. Default 1 s … 60 s. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Minimum time between two refreshes (see WorkerKeys). Default 1 s. */
  minRefreshIntervalMs?: number;
  /** Timeout of each call to the service. Default 30 s. */
  serviceTimeoutMs?: number;
  log?: WorkerLog;
}

export type SessionState = 'starting' | 'registered' | 'closed';

/** Our certificate as registered, with what checks the service's key answers for it. */
interface HeldCertificate {
  bytes: Uint8Array;
  /** As sent (base64url), for `POST /v1/workers/keys`. */
  text: string;
  /** SHA-256 of `bytes`: the addressee every key answer is signed for. */
  sha256: Uint8Array;
  notAfter: number;
  /** The attested service's `signing` key (SPKI): it signed the certificate and signs key answers. */
  serviceKey: Uint8Array;
}

/** Attest again this long before the certificate expires. */
const RENEW_BEFORE_MS = 60_000;

const abortableSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export class WorkerSession {
  readonly keys: WorkerKeys;
  readonly #opts: WorkerSessionOptions;
  readonly #api: ServiceApi;
  readonly #clock: () => number;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #log: WorkerLog;
  readonly #stop = new AbortController();
  #identity: WorkerIdentity | undefined;
  #manifest: Manifest | undefined;
  #certificate: HeldCertificate | undefined;
  #state: SessionState = 'starting';
  #loop: Promise<void> | undefined;
  #markReady!: () => void;
  /** Resolves once the worker holds a usable key (never rejects; stays pending if it never does). */
  readonly ready: Promise<void>;

  constructor(options: WorkerSessionOptions) {
    this.#opts = options;
    this.#api = new ServiceApi({
      serviceUrl: options.serviceUrl,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.serviceTimeoutMs ? { timeoutMs: options.serviceTimeoutMs } : {}),
    });
    this.#clock = options.clock ?? Date.now;
    this.#sleep = options.sleep ?? abortableSleep;
    this.#log = options.log ?? consoleLog;
    this.#identity = options.identity;
    this.ready = new Promise((resolve) => {
      this.#markReady = resolve;
    });
    this.keys = new WorkerKeys({
      refresher: () => this.#refresh(),
      minIntervalMs: options.minRefreshIntervalMs ?? 1000,
      clock: this.#clock,
      sleep: (ms) => this.#sleep(ms, this.#stop.signal),
    });
  }

  get state(): SessionState {
    return this.#state;
  }

  /** Our certificate (DER) once registered. */
  get certificate(): Uint8Array | null {
    return this.#certificate?.bytes ?? null;
  }

  /**
   * The certificate and the private key it certifies, together (receipts are signed with it,
   * docs/protocol.md "Receipts"); null before registration.
   */
  get receiptSigner(): ReceiptSigner | null {
    const cert = this.#certificate;
    const identity = this.#identity;
    return cert && identity ? { key: identity.signing, certificate: cert.bytes } : null;
  }

  get nowSeconds(): number {
    return Math.floor(this.#clock() / 1000);
  }

  /** Starts attesting and polling in the background (idempotent). */
  start(): void {
    this.#loop ??= this.#run();
  }

  async close(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    this.#state = 'closed';
  }

  async #run(): Promise<void> {
    const initial = this.#opts.retryInitialMs ?? 1000;
    const max = this.#opts.retryMaxMs ?? 60_000;
    let delay = initial;
    while (!this.#stop.signal.aborted) {
      try {
        await this.keys.refresh();
        delay = initial;
        await this.#sleep(this.#opts.pollIntervalMs ?? 10_000, this.#stop.signal);
      } catch {
        // #refresh logged it. Back off: a worker the service refuses must not hammer it.
        await this.#sleep(delay, this.#stop.signal);
        delay = Math.min(max, delay * 2);
      }
    }
  }

  /** One refresh: register if we have no (accepted) certificate, else fetch the active keys. */
  async #refresh(): Promise<void> {
    if (this.#stop.signal.aborted) return;
    try {
      let sealed: unknown[];
      if (!this.#certificate || this.#clock() >= this.#certificate.notAfter - RENEW_BEFORE_MS) {
        sealed = await this.#register();
      } else {
        try {
          sealed = await this.#poll(this.#certificate);
        } catch (e) {
          if (serviceFailureStatus(e)?.status !== 401) throw e;
          this.#log('warn', 'attestation service no longer accepts our certificate: attesting again', {
            ...errorDetail(e),
          });
          this.#certificate = undefined;
          this.#state = 'starting';
          sealed = await this.#register();
        }
      }
      await this.#openKeys(sealed);
    } catch (e) {
      const failure = serviceFailureStatus(e);
      this.#log(
        'error',
        isSealgateError(e, 'attestation_rejected')
          ? 'attestation rejected by the attestation service; not ready, will retry'
          : 'cannot get keys from the attestation service; will retry',
        { ...errorDetail(e), ...(failure ? { status: failure.status, serviceCode: failure.code } : {}) },
      );
      throw e;
    }
  }

  /** One key poll with a fresh nonce; the keys only when the service signed them for it and us. */
  async #poll(cert: HeldCertificate): Promise<unknown[]> {
    const nonce = crypto.getRandomValues(new Uint8Array(KEY_POLL_NONCE_LENGTH));
    // Signed by our attested key: the certificate alone is public (key-poll-proof.ts).
    const proof = await this.#identity!.signing(keyPollBytes(this.#opts.manifestDigest, cert.sha256, nonce));
    const answer = await this.#api.keys(cert.text, nonce, proof);
    return await verifyKekDelivery(cert.serviceKey, this.#binding('keys', cert.sha256, nonce), answer);
  }

  #binding(kind: KekDeliveryBinding['kind'], certificateSha256: Uint8Array, nonce: Uint8Array) {
    return { kind, manifestDigest: this.#opts.manifestDigest, certificateSha256, nonce };
  }

  /** The service's evidence for our own nonce, against our manifest; its attested signing key. */
  async #attestService(): Promise<Uint8Array> {
    this.#manifest ??= parseManifest(this.#opts.manifest);
    const f = this.#opts.fetch ?? ((input, init) => fetch(input, init));
    const service = await attestService({
      baseUrl: this.#api.baseUrl,
      fetch: (url, init) => f(url, init),
      manifest: this.#manifest,
      manifestDigest: this.#opts.manifestDigest,
      now: new Date(this.#clock()),
      ...(this.#opts.pcs ? { pcs: this.#opts.pcs } : {}),
      signal: AbortSignal.timeout(this.#opts.serviceTimeoutMs ?? 30_000),
      ...(this.#opts.signatures ? { signatures: this.#opts.signatures } : {}),
    });
    return service.signingKey;
  }

  async #register(): Promise<unknown[]> {
    const serviceKey = await this.#attestService();
    this.#identity ??= await createWorkerIdentity(this.#opts.receiptKey);
    const keys = presentedKeys(this.#identity);
    const { nonce } = await this.#api.challenge();
    const config = this.#opts.config;
    const gpus = await this.#gpuEvidence(nonce);
    const reportData = await computeReportData({
      role: 'worker',
      nonce,
      manifestDigest: this.#opts.manifestDigest,
      keys,
      digests: {
        [CONFIG_DIGEST_NAME]: await workerConfigDigest(config),
        ...(gpus ? { [GPU_DIGEST_NAME]: await gpuEvidenceDigest(gpus) } : {}),
      },
    });
    const evidence = await bundleEvidenceOf(this.#opts.platform, reportData);
    const bundle = encodeEvidenceBundle({
      version: 1,
      role: 'worker',
      ...evidence,
      simulated: this.#opts.platform.simulated,
      nonce,
      manifest: this.#opts.manifest,
      keys,
      config,
      ...(gpus ? { gpus } : {}),
    });
    const registration = await this.#api.register(bundle);
    const notAfter = await this.#checkCertificate(registration.certificate, this.#identity, serviceKey);
    const certificateSha256 = await sha256(registration.certificate);
    // Before the certificate is kept: the keys were signed for it and the challenge we answered.
    const released = await verifyKekDelivery(
      serviceKey,
      this.#binding('register', certificateSha256, nonce),
      registration,
    );
    this.#certificate = {
      bytes: registration.certificate,
      text: registration.certificateText,
      sha256: certificateSha256,
      notAfter,
      serviceKey,
    };
    this.#state = 'registered';
    this.#log('info', 'attested to the attestation service and registered', {
      service: this.#api.baseUrl,
      keys: released.length,
    });
    return released;
  }

  /** Our GPUs' evidence for this challenge (fresh every time: never cached), or undefined without GPUs. */
  async #gpuEvidence(challenge: Uint8Array): Promise<BundleGpu[] | undefined> {
    const provider = this.#opts.gpus;
    if (!provider) return undefined;
    const gpus = await provider.getGpuEvidence(await deriveGpuNonce(challenge));
    if (gpus.length === 0) {
      throw new SealgateError('fetch_failed', `GPU provider ${provider.description} found no GPU`);
    }
    return gpus.map((g) => ({ evidence: g.evidence, chain: g.chain, ...(g.rims ? { rims: g.rims } : {}) }));
  }

  /**
   * The certificate must be signed by the attested service's key, valid now, and about us and our
   * manifest; returns its notAfter (ms).
   */
  async #checkCertificate(
    der: Uint8Array,
    identity: WorkerIdentity,
    serviceKey: Uint8Array,
  ): Promise<number> {
    let cert: Awaited<ReturnType<typeof verifyWorkerCertificate>>;
    try {
      cert = await verifyWorkerCertificate({
        certificate: der,
        issuerKey: serviceKey,
        now: new Date(this.#clock()),
        manifestDigest: this.#opts.manifestDigest,
      });
    } catch (cause) {
      throw new SealgateError(
        'fetch_failed',
        'attestation service: certificate does not verify under the attested service key',
        undefined,
        { cause },
      );
    }
    const ours =
      constantTimeEqual(cert.signingKeySpki, identity.signingSpki) &&
      constantTimeEqual(cert.hpkeKeySha256, await sha256(identity.hpke.publicKey)) &&
      cert.manifestDigest === this.#opts.manifestDigest &&
      cert.configDigest === (await workerConfigDigestHex(this.#opts.config));
    if (!ours) {
      throw new SealgateError(
        'fetch_failed',
        'attestation service: certificate names other keys, manifest or configuration',
      );
    }
    return cert.notAfter.getTime();
  }

  /** Opens each released KEK we do not hold yet; a key that does not open is logged and skipped. */
  async #openKeys(sealed: unknown[]): Promise<void> {
    const identity = this.#identity!;
    for (const item of sealed) {
      const kid = (item as { kid?: unknown } | null)?.kid;
      if (typeof kid === 'string' && this.keys.ring.has(kid)) continue;
      try {
        const kek = await openKek(identity.hpke.privateKey, item, {
          purpose: 'kek-release',
          context: kekContext(this.#opts.manifestDigest),
        });
        await this.keys.add(kek);
        this.#log('info', 'key received', { kid: kek.kid, notBefore: kek.notBefore, notAfter: kek.notAfter });
      } catch (e) {
        this.#log('error', 'a released key did not open; skipped', { ...errorDetail(e) });
      }
    }
    const dropped = this.keys.ring.prune(this.nowSeconds);
    if (dropped.length > 0) this.#log('info', 'expired keys dropped', { kids: dropped });
    if (this.keys.count(this.nowSeconds) > 0) this.#markReady();
  }
}
