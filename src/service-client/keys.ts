/**
 * Step 2 of the flow (docs/architecture.md "Flow"): KEKs to the attested service. `uploadKek`
 * seals a KEK to the service's attested `hpke` key (HPKE purpose `kek-upload`, aad bound to the
 * manifest digest: kek-binding.ts) and posts it; `listServiceKeys` reads back which keys the service holds
 * (metadata only), which is how the gateway confirms an upload before promoting a key.
 */
import { SealgateError } from '../errors.js';
import { checkKek, type Kek, KID_PATTERN } from '../keys/kek.js';
import { sealKek } from '../keys/kek-transport.js';
import type { RandomSource } from '../keys/random.js';
import { checkUnixSeconds } from '../keys/time.js';
import { type CallOptions, callJson } from './http.js';
import { kekContext } from './kek-binding.js';

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
  const sealed = await sealKek(opts.service.hpkePublicKey, kek, {
    purpose: 'kek-upload',
    context: kekContext(opts.manifestDigest),
    ...(opts.random ? { random: opts.random } : {}),
  });
  const answer = await callJson(opts, 'POST', '/v1/keys', sealed);
  const meta = keyMetadata(answer, '/v1/keys');
  if (meta.kid !== kek.kid || meta.notBefore !== kek.notBefore || meta.notAfter !== kek.notAfter) {
    throw new SealgateError('fetch_failed', 'uploadKek: the service confirmed another key', {
      expected: { kid: kek.kid, notBefore: kek.notBefore, notAfter: kek.notAfter },
      actual: meta,
    });
  }
  return meta;
}

/** The keys the service holds (unexpired), newest first, as it reports them. */
export async function listServiceKeys(opts: CallOptions): Promise<KeyMetadata[]> {
  const answer = await callJson(opts, 'GET', '/v1/keys');
  if (Object.keys(answer).join(',') !== 'keys' || !Array.isArray(answer.keys)) {
    throw bad('/v1/keys', 'answer must be {keys: [...]}');
  }
  return answer.keys.map((k) => keyMetadata(k, '/v1/keys'));
}

function keyMetadata(value: unknown, path: string): KeyMetadata {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw bad(path, 'key must be an object');
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
