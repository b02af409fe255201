/**
 * The gateway's side of receipts (docs/protocol.md "Receipts", docs/gateway.md): before any of an
 * answer is released, the worker certificate it came with must be signed by the signing key of an
 * attestation service the key-rotation DO verified (`rcpt-svc:`), issued for our manifest; before
 * the answer's end is released (the JSON body, or a stream's `[DONE]`), the worker's receipt must
 * verify under that certificate's key and state exactly what we sent and received — our request
 * id, route, model, key id and manifest, the hash of the sealed request we sent and of the sealed
 * bytes or frames we got. Then it goes to the client with the answer as a kept receipt
 * (receipts/kept-receipt.ts: a header, or a stream's last comment line) and, only when the operator
 * turned storage on (`RECEIPT_STORAGE=kv`), is also stored (`rcpt:<id>`) for `GET /v1/receipts/{id}`:
 * by default no KV write is on the request path.
 *
 * A missing or wrong receipt is `attestation_rejected` / `malformed_evidence` (the caller answers
 * 502 `upstream_tampered`); it is never dropped silently.
 */
import { fromBase64Url, sha256, toBase64Url, toHex } from '../../bytes.js';
import type { RequestContext } from '../../envelope/data-key.js';
import { SealgateError } from '../../errors.js';
import { encodeKeptReceipt } from '../../receipts/kept-receipt.js';
import {
  bodySha256,
  importWorkerKey,
  parseReceipt,
  type ReceiptClaims,
  verifyReceiptSignature,
  WORKER_CERTIFICATE_HEADER,
} from '../../receipts/receipt.js';
import { verifyWorkerCertificate } from '../../service-client/worker-certificate.js';
import type { KvNamespace } from '../cf-types.js';
import { nowMs, nowSeconds } from '../clock.js';
import { putReceipt, type ReceiptService, readReceiptServices, spkiOf } from '../kv/receipt-store.js';
import { log } from '../log.js';
import { type StreamSha256, streamSha256 } from './native-sha256.js';

/** A receipt's iat may differ from our clock by this much (the worker's clock, a long answer). */
const MAX_CLOCK_SKEW_SECONDS = 300;
const SERVICES_REFRESH_SECONDS = 30;
const MAX_CACHED_CERTIFICATES = 32;

interface TrustedWorker {
  der: Uint8Array;
  /** The certificate as it came (canonical base64url: checked on arrival). */
  b64u: string;
  /** SHA-256 of `der`: every receipt names its certificate so (x5t#S256); hashed once, not per answer. */
  sha256: Uint8Array;
  key: CryptoKey;
  notAfterMs: number;
  evidenceSha256: string;
}

let services: { digest: string; list: ReceiptService[]; loadedAt: number } | undefined;
const workers = new Map<string, TrustedWorker>();

/** For tests: forget the isolate's copies. */
export function resetReceiptCache(): void {
  services = undefined;
  workers.clear();
}

function tampered(message: string): SealgateError {
  return new SealgateError('attestation_rejected', `receipt: ${message}`);
}

function simulatedMismatch(certificateSays: boolean): SealgateError {
  return new SealgateError(
    'attestation_rejected',
    `receipt: the worker certificate says simulated=${certificateSays}, the anchor its issuer's evidence chains to says otherwise`,
    { reason: 'simulated_mismatch' },
  );
}

async function serviceList(
  kv: KvNamespace,
  secret: string,
  digest: string,
  maxAgeSeconds: number,
  fresh: boolean,
): Promise<ReceiptService[]> {
  const now = nowSeconds();
  if (
    fresh ||
    !services ||
    services.digest !== digest ||
    now - services.loadedAt >= SERVICES_REFRESH_SECONDS
  ) {
    const list = await readReceiptServices(kv, secret, digest, { now, maxAgeSeconds });
    services = { digest, list, loadedAt: now };
  }
  return services.list;
}

/**
 * The worker certificate of an answer (header `x-sealgate-worker-certificate`), checked against the
 * services the DO verified; cached per isolate by its exact text. Throws `unknown_key` when no
 * verified service is known yet, `attestation_rejected` / `malformed_*` for a bad certificate.
 */
async function trustedWorker(
  kv: KvNamespace,
  secret: string,
  digest: string,
  maxAgeSeconds: number,
  header: string | null,
): Promise<TrustedWorker> {
  if (!header || header.length > 32 * 1024) throw tampered('the answer carries no worker certificate');
  // Looked up before the character check: only text that passed it and verified is ever a key.
  const cached = workers.get(header);
  if (cached && nowMs() < cached.notAfterMs) return cached;
  if (!/^[A-Za-z0-9_-]+$/.test(header)) throw tampered('the answer carries no worker certificate');
  const der = fromBase64Url(header);
  let failure: unknown;
  for (const fresh of [false, true]) {
    const list = await serviceList(kv, secret, digest, maxAgeSeconds, fresh);
    for (const service of list) {
      try {
        const cert = await verifyWorkerCertificate({
          certificate: der,
          issuerKey: spkiOf(service),
          now: new Date(nowMs()),
          manifestDigest: digest,
        });
        // The certificate's `simulated` extension must say what the anchor the issuing service's
        // evidence chains to says (the DO's verdict): a certificate claiming real hardware from a
        // simulated service, or the reverse, is a lying or broken issuer (as verify-receipt).
        if (cert.simulated !== service.simulated) throw simulatedMismatch(cert.simulated);
        const trusted: TrustedWorker = {
          der,
          b64u: toBase64Url(der),
          sha256: await sha256(der),
          key: await importWorkerKey(cert.signingKeySpki),
          notAfterMs: cert.notAfter.getTime(),
          evidenceSha256: service.evidenceSha256,
        };
        if (workers.size >= MAX_CACHED_CERTIFICATES) workers.delete(workers.keys().next().value!);
        workers.set(header, trusted);
        return trusted;
      } catch (e) {
        failure = e;
      }
    }
    if (list.length === 0 && fresh) {
      throw new SealgateError('unknown_key', 'receipts: no verified attestation service key yet');
    }
  }
  throw failure instanceof SealgateError ? failure : tampered('worker certificate does not verify');
}

/** Each check resolves with the kept receipt's text (kept-receipt.ts) once the receipt verified. */
export interface AnswerReceipt {
  /** Checks the receipt of a sealed JSON answer (`body` exactly as received). */
  checkJson(body: Uint8Array, compact: string | null): Promise<string>;
  /**
   * Feeds the stream hash the next bytes of a stream's body as received, the header through the
   * end record (envelope/stream.ts `StreamProgress.hashed`).
   */
  hash(bytes: Uint8Array): void;
  /** Checks the receipt trailer's compact JWS after the end record (undefined: none came). */
  checkStream(trailer: string | undefined): Promise<string>;
}

/** What one answer's receipt is checked against, and where a checked receipt goes. */
export interface ReceiptInput {
  kv: KvNamespace;
  /** GATEWAY_SECRET: `rcpt-svc:` is an authenticated KV entry (kv/receipt-store.ts). */
  secret: string;
  manifestDigest: string;
  /** A `rcpt-svc:` list whose newest service was verified longer ago than this is stale. */
  maxServiceAgeSeconds: number;
  /** SHA-256 (hex) of the requesting API key, stored as the receipt's owner. */
  owner: string;
  response: Response;
  context: RequestContext;
  requestSha256: string;
  stream: boolean;
  /** `RECEIPT_STORAGE=kv`: also write each checked receipt to `rcpt:<id>` (default: no KV write). */
  store: boolean;
  /**
   * Where the KV write of a checked receipt goes: the execution context's `waitUntil`, so the
   * answer never waits for it (absent, e.g. `app.request()` in tests: awaited). The receipt is
   * checked before the answer's end either way; only its storage trails the answer by the time of
   * one KV write — and KV promises no read-after-write across locations anyway (docs/gateway.md).
   */
  defer?: (write: Promise<unknown>) => void;
}

/** Before anything of the answer is released: its worker certificate must be trusted. */
export async function prepareReceipt(input: ReceiptInput): Promise<AnswerReceipt> {
  const worker = await trustedWorker(
    input.kv,
    input.secret,
    input.manifestDigest,
    input.maxServiceAgeSeconds,
    input.response.headers.get(WORKER_CERTIFICATE_HEADER),
  );
  return new WorkerReceipt(input, worker);
}

/** The receipt checks of one answer whose worker certificate is trusted. */
class WorkerReceipt implements AnswerReceipt {
  readonly #input: ReceiptInput;
  readonly #worker: TrustedWorker;
  /**
   * Made on a stream's first bytes only: a JSON answer needs none, and the SHA-256 state is CPU
   * spent per answer (docs/benchmarks.md).
   */
  #streamHash: StreamSha256 | undefined;

  constructor(input: ReceiptInput, worker: TrustedWorker) {
    this.#input = input;
    this.#worker = worker;
  }

  // `return await`: a rejection adopted a microtask late is reported as unhandled by workerd.
  // One-shot WebCrypto digest: node:crypto's Hash is a stream.Transform whose construction cost
  // more than hashing a whole answer (CPU profile, docs/benchmarks.md); a stream needs its state.
  async checkJson(body: Uint8Array, compact: string | null): Promise<string> {
    const hash = await bodySha256(body);
    return await this.#check(compact, hash);
  }

  hash(bytes: Uint8Array): void {
    this.#bodyHash().update(bytes);
  }

  async checkStream(trailer: string | undefined): Promise<string> {
    if (trailer === undefined) throw tampered('the stream ended without its receipt');
    // The stream hash (receipts/receipt.ts createStreamHash): SHA-256 of the body's exact bytes.
    return await this.#check(trailer, toHex(await this.#bodyHash().digest()));
  }

  #bodyHash(): StreamSha256 {
    this.#streamHash ??= streamSha256();
    return this.#streamHash;
  }

  /** The kept receipt's text once `compact` verified and states exactly what the gateway saw. */
  async #check(compact: string | null, responseSha256: string): Promise<string> {
    if (!compact) throw tampered('the answer carries no receipt');
    const worker = this.#worker;
    const claims = await verifyReceiptSignature(parseReceipt(compact), worker.der, worker.key, worker.sha256);
    checkExpectedClaims(claims, this.#expected(responseSha256));
    const kept = encodeKeptReceipt({
      receipt: compact,
      workerCertificate: worker.b64u,
      serviceEvidenceSha256: worker.evidenceSha256,
    });
    if (this.#input.store) await this.#store(compact);
    return kept;
  }

  #expected(responseSha256: string): Omit<ReceiptClaims, 'iat'> {
    const { context, manifestDigest, requestSha256, stream } = this.#input;
    return {
      v: 1,
      id: context.requestId,
      route: context.route,
      model: context.model,
      manifestDigest,
      kid: context.kid,
      requestSha256,
      responseSha256,
      stream,
    };
  }

  async #store(compact: string): Promise<void> {
    const { kv, secret, context, owner, defer } = this.#input;
    const stored = putReceipt(kv, secret, context.requestId, {
      v: 1,
      owner,
      receipt: compact,
      workerCertificate: this.#worker.b64u,
      serviceEvidenceSha256: this.#worker.evidenceSha256,
    }).catch((e: unknown) => {
      // The answer verified; only its later retrieval is lost. Logged, not fatal.
      log('error', 'receipt_store_failed', { rid: context.requestId, message: (e as Error).message });
    });
    if (defer) defer(stored);
    else await stored;
  }
}

/** Every claim but `iat` as the gateway saw it, and `iat` within MAX_CLOCK_SKEW_SECONDS of now. */
function checkExpectedClaims(claims: ReceiptClaims, expected: Omit<ReceiptClaims, 'iat'>): void {
  for (const [name, value] of Object.entries(expected)) {
    if (claims[name as keyof ReceiptClaims] !== value) throw tampered(`${name} is not what the gateway saw`);
  }
  if (Math.abs(claims.iat - nowSeconds()) > MAX_CLOCK_SKEW_SECONDS) throw tampered('iat is not now');
}
