/**
 * Step 2 of the flow (docs/architecture.md "Flow"): KEKs to the attested service. `uploadKek` seals a KEK to
 * the service's attested `hpke` key (HPKE purpose `kek-upload`, aad bound to the manifest digest:
 * kek-binding.ts), signs the sealed upload with the gateway's identity key (src/keys/kek-upload.ts:
 * the service takes keys only from the gateway its manifest pins) and posts it; `listServiceKeys`
 * reads back which keys the service holds (metadata only, unauthenticated: for display), and
 * `confirmServiceKeys` the same list signed by the attested service for a fresh nonce, which is how
 * the gateway confirms an upload before promoting a key. `retireServiceKeys` asks the service to
 * drop keys the gateway holds no copy of (orphans), signed as uploads are (kek-retire.ts).
 */
import { toBase64Url } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { isRecord } from '../json/object-guards.js';
import { gatewayAuthHeaders } from '../keys/attestation-request-auth.js';
import type { GatewayKey } from '../keys/gateway-key.js';
import { checkKek, type Kek, KID_PATTERN } from '../keys/kek.js';
import { sealKek } from '../keys/kek-transport.js';
import { signKekUpload } from '../keys/kek-upload.js';
import { drawRandom, type RandomSource, systemRandom } from '../keys/random.js';
import { checkUnixSeconds } from '../keys/time.js';
import { type CallOptions, callJson, DEFAULT_MAX_ANSWER_BYTES } from './http.js';
import { kekContext } from './kek-binding.js';
import { signKekRetire } from './kek-retire.js';
import { KEYS_HELD_NONCE_LENGTH, verifyKeysHeld } from './keys-held.js';

export interface KeyMetadata {
  kid: string;
  notBefore: number;
  notAfter: number;
}

export interface UploadKekOptions extends CallOptions {
  /** The service as `attestService` returned it (only its attested hpke key and digest are used). */
  service: { hpkePublicKey: Uint8Array; manifestDigest?: string };
  kek: Kek;
  manifestDigest: string;
  /** The gateway's identity key (src/keys/gateway-key.ts `deriveGatewayKey`): signs the upload. */
  gatewayKey: GatewayKey;
  random?: RandomSource;
}

/** Uploads `kek`; resolves with the service's confirmation (the same kid and window). */
export async function uploadKek(opts: UploadKekOptions): Promise<KeyMetadata> {
  if (opts.service.manifestDigest !== undefined && opts.service.manifestDigest !== opts.manifestDigest) {
    throw new SealgateError(
      'invalid_argument',
      'uploadKek: the service was attested for another manifest digest',
    );
  }
  const kek = await checkKek(opts.kek, 'uploadKek');
  const context = kekContext(opts.manifestDigest);
  const sealed = await sealKek(opts.service.hpkePublicKey, kek, {
    purpose: 'kek-upload',
    context,
    ...(opts.random ? { random: opts.random } : {}),
  });
  const signed = signKekUpload(opts.gatewayKey, sealed, {
    manifestDigest: context,
    serviceHpkeKey: opts.service.hpkePublicKey,
  });
  const answer = await callJson(opts, 'POST', '/v1/keys', signed);
  const meta = keyMetadata(answer, '/v1/keys');
  if (meta.kid !== kek.kid || meta.notBefore !== kek.notBefore || meta.notAfter !== kek.notAfter) {
    throw new SealgateError('fetch_failed', 'uploadKek: the service confirmed another key', {
      expected: { kid: kek.kid, notBefore: kek.notBefore, notAfter: kek.notAfter },
      actual: meta,
    });
  }
  return meta;
}

export interface RetireKeysOptions extends CallOptions {
  /** The service as `attestService` returned it: the request is bound to its attested hpke key. */
  service: { hpkePublicKey: Uint8Array };
  manifestDigest: string;
  gatewayKey: GatewayKey;
  kids: readonly string[];
}

/** Asks the service to drop `kids`; resolves with those it held and dropped (a subset of `kids`). */
export async function retireServiceKeys(opts: RetireKeysOptions): Promise<string[]> {
  const signed = signKekRetire(opts.gatewayKey, opts.kids, {
    manifestDigest: kekContext(opts.manifestDigest),
    serviceHpkeKey: opts.service.hpkePublicKey,
  });
  const answer = await callJson(opts, 'POST', '/v1/keys/retire', signed);
  const { retired, ...rest } = answer;
  if (Object.keys(rest).length > 0 || !Array.isArray(retired)) {
    throw bad('/v1/keys/retire', 'answer must be {retired: [...]}');
  }
  const asked = new Set(opts.kids);
  if (new Set(retired).size !== retired.length || retired.some((kid) => !asked.has(kid))) {
    throw bad('/v1/keys/retire', 'the answer names keys the request did not');
  }
  return retired as string[];
}

/** The keys the service holds (unexpired), newest first, as it reports them. */
export async function listServiceKeys(opts: CallOptions): Promise<KeyMetadata[]> {
  const answer = await callJson(opts, 'GET', '/v1/keys');
  if (Object.keys(answer).join(',') !== 'keys' || !Array.isArray(answer.keys)) {
    throw bad('/v1/keys', 'answer must be {keys: [...]}');
  }
  return answer.keys.map((k) => keyMetadata(k, '/v1/keys'));
}

export interface ConfirmKeysOptions extends CallOptions {
  /** The service as `attestService` returned it: its attested `signing` key checks the list. */
  service: { signingKey: Uint8Array };
  manifestDigest: string;
  /** Signs the request, so that it draws from the gateway's own budget at the service. */
  gatewayKey?: GatewayKey;
  now: Date;
  random?: RandomSource;
}

/**
 * The keys the attested service holds now, signed by its attested key for a fresh nonce
 * (keys-held.ts): how the gateway confirms a key before it publishes it. An answer that is not so
 * signed — unsigned, altered, replayed, from another service — throws `fetch_failed`
 * (detail.reason `keys_held_signature_invalid`) and confirms nothing.
 */
export async function confirmServiceKeys(opts: ConfirmKeysOptions): Promise<KeyMetadata[]> {
  const nonce = drawRandom(opts.random ?? systemRandom, KEYS_HELD_NONCE_LENGTH, 'a key list nonce');
  const nowSeconds = Math.floor(opts.now.getTime() / 1000);
  const headers = gatewayAuthHeaders(opts.gatewayKey, kekContext(opts.manifestDigest), nonce, nowSeconds);
  const path = `/v1/keys?nonce=${toBase64Url(nonce)}`;
  const answer = await callJson(opts, 'GET', path, undefined, DEFAULT_MAX_ANSWER_BYTES, headers);
  const { keys, sig, ...rest } = answer;
  if (Object.keys(rest).length > 0 || !Array.isArray(keys))
    throw bad('/v1/keys', 'answer must be {keys, sig}');
  const held = keys.map((k) => keyMetadata(k, '/v1/keys'));
  const signed =
    sig !== undefined &&
    (await verifyKeysHeld(opts.service.signingKey, opts.manifestDigest, nonce, held, sig));
  if (!signed) {
    throw new SealgateError(
      'fetch_failed',
      'service client: /v1/keys: the list is not signed by the attested service for this request',
      {
        reason: 'keys_held_signature_invalid',
      },
    );
  }
  return held;
}

function keyMetadata(value: unknown, path: string): KeyMetadata {
  if (!isRecord(value)) throw bad(path, 'key must be an object');
  const { kid, notBefore, notAfter, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw bad(path, `unknown field ${Object.keys(rest)[0]}`);
  if (typeof kid !== 'string' || !KID_PATTERN.test(kid))
    throw bad(path, 'kid must be 22 base64url characters');
  try {
    const nbf = checkUnixSeconds(notBefore, 'notBefore');
    const exp = checkUnixSeconds(notAfter, 'notAfter');
    if (exp <= nbf) throw new Error('notAfter must be after notBefore');
    return { kid, notBefore: nbf, notAfter: exp };
  } catch (e) {
    throw bad(path, (e as Error).message);
  }
}

function bad(path: string, message: string): SealgateError {
  return new SealgateError('fetch_failed', `service client: ${path}: ${message}`);
}
