/**
 * `POST /v1/keys` (a gateway uploads a KEK) and `GET /v1/keys` (metadata, how the gateway confirms
 * an upload before promoting the key). docs/services.md "Attestation service".
 *
 * An upload is accepted only if it opens with the service's attested HPKE key, under the
 * `kek-upload` purpose, with the service's own manifest digest as aad context
 * (src/service-client/kek-binding.ts): a key sealed to another key, for another purpose or for
 * another manifest fails authentication and is `decryption_failed`.
 */
import { errorResponse } from '../http/errors.js';
import type { Kek } from '../keys/kek.js';
import { openKek } from '../keys/kek-transport.js';
import { readJsonObject } from './request-body.js';
import type { ServiceRuntime } from './runtime.js';

const MAX_UPLOAD_BYTES = 8 * 1024;
const SEALED_KEK_FIELDS = ['v', 'kid', 'enc', 'ct'] as const;

export type KeyMetadata = {
  kid: string;
  notBefore: number;
  notAfter: number;
};

export const keyMetadata = (k: Kek): KeyMetadata => ({
  kid: k.kid,
  notBefore: k.notBefore,
  notAfter: k.notAfter,
});

export async function postKey(rt: ServiceRuntime, req: Request): Promise<Response> {
  const body = await readJsonObject(req, { maxBytes: MAX_UPLOAD_BYTES, fields: SEALED_KEK_FIELDS });
  if (!body.ok) return body.response;
  const { kekContext } = await rt.ready;
  let kek: Kek;
  try {
    kek = await openKek(rt.deps.keys.hpke.privateKey, body.value, {
      purpose: 'kek-upload',
      context: kekContext,
    });
  } catch (e) {
    rt.deps.log('warn', 'kek_upload_refused', { reason: (e as Error).message });
    return errorResponse(
      'decryption_failed',
      'the key does not open with this service’s key for this manifest',
    );
  }
  const result = await rt.keys.accept(kek, rt.nowSeconds());
  if (!result.ok) {
    rt.deps.log('warn', 'kek_upload_refused', { kid: kek.kid, reason: result.message });
    return errorResponse(result.code, result.message);
  }
  rt.deps.log('info', result.added ? 'kek_accepted' : 'kek_already_held', keyMetadata(result.kek));
  return Response.json(keyMetadata(result.kek));
}

export function listKeys(rt: ServiceRuntime): Response {
  return Response.json({ keys: rt.keys.active(rt.nowSeconds()).map(keyMetadata) });
}
