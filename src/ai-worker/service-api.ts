/**
 * The worker's side of the attestation service's worker API (docs/services.md, "Attestation
 * service"): `POST /v1/workers/challenge`, `/v1/workers/register`, `/v1/workers/keys`. Answers are
 * checked at the boundary. Transport and error answers go through the service client's `callJson`
 * (src/service-client/http.ts): failures are SealgateErrors whose `detail` carries the HTTP status
 * (0 when unreachable) and the service's error code, which is what the worker acts on — a 403
 * arrives as `attestation_rejected`, a 401 (`certificate_rejected`) as `fetch_failed` status 401.
 */

import { NONCE_LENGTH } from '../attestation/report-data.js';
import { fromBase64Url, toBase64Url } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { callJson, type Fetcher, serviceUrl } from '../service-client/http.js';

export interface ServiceApiOptions {
  /** The attestation service's base URL (SEALGATE_SERVICE_URL). */
  serviceUrl: string;
  fetch?: typeof fetch;
  /** Per call. Default 30 s (a register includes the service's KDS fetches on real hardware). */
  timeoutMs?: number;
}

export interface Challenge {
  nonce: Uint8Array;
  expiresAt: number;
}

export interface Registration {
  certificate: Uint8Array;
  /** The certificate as sent (base64url), for `POST /v1/workers/keys`. */
  certificateText: string;
  serviceKey: unknown;
  /** Sealed KEKs (purpose kek-release), opened by the caller once `sig` verified. */
  keys: unknown[];
  /** The service's signature over the keys (src/service-client/kek-delivery.ts); checked by the caller. */
  sig: unknown;
}

/** A key poll's answer: the keys and the service's signature over them, checked by the caller. */
export interface KeyAnswer {
  keys: unknown[];
  sig: unknown;
}

/** A failed call: `detail.status` (0 when unreachable) and `detail.code` (the service's error code). */
export function serviceFailureStatus(e: unknown): { status: number; code: string | null } | undefined {
  if (!(e instanceof SealgateError) || !e.detail || typeof e.detail.status !== 'number') return undefined;
  return { status: e.detail.status, code: typeof e.detail.code === 'string' ? e.detail.code : null };
}

export class ServiceApi {
  readonly #base: string;
  readonly #fetch: Fetcher;
  readonly #timeoutMs: number;

  constructor(options: ServiceApiOptions) {
    // serviceUrl checks the URL (absolute http(s), no query) with its exact message.
    serviceUrl(options.serviceUrl, '');
    this.#base = options.serviceUrl;
    const f = options.fetch ?? ((input, init) => fetch(input, init));
    this.#fetch = (url, init) => f(url, init);
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  get baseUrl(): string {
    return serviceUrl(this.#base, '');
  }

  async challenge(): Promise<Challenge> {
    const body = await this.#post('/v1/workers/challenge', {});
    const nonce = bytesField(body.nonce, 'nonce');
    if (nonce.length !== NONCE_LENGTH) bad(`challenge nonce must be ${NONCE_LENGTH} bytes`);
    if (typeof body.expiresAt !== 'number' || !Number.isSafeInteger(body.expiresAt)) {
      bad('challenge expiresAt must be an integer');
    }
    return { nonce, expiresAt: body.expiresAt as number };
  }

  async register(bundle: Record<string, unknown>): Promise<Registration> {
    const body = await this.#post('/v1/workers/register', { bundle });
    if (typeof body.certificate !== 'string') bad('registration certificate must be a base64url string');
    return {
      certificate: bytesField(body.certificate, 'certificate'),
      certificateText: body.certificate as string,
      serviceKey: body.serviceKey,
      keys: keyList(body.keys),
      sig: body.sig,
    };
  }

  /**
   * `nonce`: the freshness value the service signs its answer for (KEY_POLL_NONCE_LENGTH bytes);
   * `proof`: our signing key's signature over the poll (src/service-client/key-poll-proof.ts).
   */
  async keys(certificateText: string, nonce: Uint8Array, proof: Uint8Array): Promise<KeyAnswer> {
    const body = await this.#post('/v1/workers/keys', {
      certificate: certificateText,
      nonce: toBase64Url(nonce),
      proof: toBase64Url(proof),
    });
    return { keys: keyList(body.keys), sig: body.sig };
  }

  #post(path: string, payload: unknown): Promise<Record<string, unknown>> {
    return callJson(
      { baseUrl: this.#base, fetch: this.#fetch, signal: AbortSignal.timeout(this.#timeoutMs) },
      'POST',
      path,
      payload,
    );
  }
}

function bad(message: string): never {
  throw new SealgateError('fetch_failed', `attestation service: ${message}`, { status: 200 });
}

function bytesField(value: unknown, name: string): Uint8Array {
  if (typeof value !== 'string') bad(`${name} must be a base64url string`);
  try {
    return fromBase64Url(value as string);
  } catch {
    return bad(`${name} must be a base64url string`);
  }
}

function keyList(value: unknown): unknown[] {
  if (!Array.isArray(value)) bad('keys must be an array');
  return value as unknown[];
}
