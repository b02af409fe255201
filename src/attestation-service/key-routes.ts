/**
 * `POST /v1/keys` (the gateway uploads a KEK) and `GET /v1/keys` (metadata, how the gateway confirms
 * an upload before promoting the key). docs/services.md "Attestation service".
 *
 * Only the gateway the manifest pins adds keys (docs/protocol.md "Authenticated key upload"): the
 * upload's Ed25519 signature must verify under `manifest.gateway.uploadKey`, bound to this
 * manifest's digest and this service's HPKE key, BEFORE anything is decrypted or stored — an
 * upload that does not authenticate is `gateway_unauthenticated` and takes no slot. Then it must
 * open with the service's attested HPKE key, under the `kek-upload` purpose, with the manifest
 * digest as aad context (src/service-client/kek-binding.ts), or it is `decryption_failed`.
 *
 * `POST /v1/keys/retire` removes keys, signed by the same pinned gateway key for the same binding
 * (src/service-client/kek-retire.ts): how the gateway frees the slots of orphans it never
 * published. Both writes, once their signature verified, draw from the gateway's key-write budget
 * (key-write-budget.ts). Nothing replaces a key (a kid already held with another window is refused,
 * key-store.ts), so only the pinned gateway changes the key set.
 */
import { errorResponse } from '../http/errors.js';
import type { Kek } from '../keys/kek.js';
import { openKek, type SealedKek } from '../keys/kek-transport.js';
import { SIGNED_UPLOAD_FIELDS, verifyKekUpload } from '../keys/kek-upload.js';
import { checkRetireKids, RETIRE_FIELDS, verifyKekRetire } from '../service-client/kek-retire.js';
import { KEYS_HELD_NONCE_LENGTH, signKeysHeld } from '../service-client/keys-held.js';
import { attestationBudget } from './attestation-budget.js';
import { keyWriteBudget } from './key-write-budget.js';
import { base64UrlField, readJsonObject } from './request-body.js';
import type { ServiceRuntime } from './runtime.js';

const MAX_UPLOAD_BYTES = 8 * 1024;
/** 16 kids of 22 characters, a 64-byte signature and the JSON around them fit with room to spare. */
const MAX_RETIRE_BYTES = 2 * 1024;

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
  const body = await readJsonObject(req, { maxBytes: MAX_UPLOAD_BYTES, fields: SIGNED_UPLOAD_FIELDS });
  if (!body.ok) return body.response;
  const sealed = await authenticatedUpload(rt, body.value);
  if (!sealed.ok) return sealed.response;
  const limited = keyWriteBudget(rt, '/v1/keys');
  if (limited) return limited;
  const { kekContext } = await rt.ready;
  let kek: Kek;
  try {
    kek = await openKek(rt.deps.keys.hpke.privateKey, sealed.value, {
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

/** The SealedKek of an upload signed by the pinned gateway, or the refusal to send. */
async function authenticatedUpload(
  rt: ServiceRuntime,
  upload: Record<string, unknown>,
): Promise<{ ok: true; value: SealedKek } | { ok: false; response: Response }> {
  const { gatewayKey, kekContext, publicKeys } = await rt.ready;
  const refuse = (reason: string, code: 'gateway_unauthenticated' | 'decryption_failed') => {
    rt.deps.log('warn', 'kek_upload_refused', { reason });
    const message =
      code === 'decryption_failed'
        ? 'the upload is malformed'
        : 'the upload is not signed by the gateway this manifest pins';
    return { ok: false as const, response: errorResponse(code, message) };
  };
  const binding = { manifestDigest: kekContext, serviceHpkeKey: publicKeys.hpke };
  try {
    if (gatewayKey === null) {
      if (!rt.deps.allowUnpinnedGateway)
        return refuse('the manifest pins no gateway', 'gateway_unauthenticated');
      // Development only (startService allows it on the simulator alone, with a warning).
      const value = verifyKekUpload(new Uint8Array(32), upload, binding) ?? unsignedForm(upload);
      rt.deps.log('warn', 'kek_upload_unauthenticated', { reason: 'no gateway pinned: development mode' });
      return { ok: true, value };
    }
    const value = verifyKekUpload(gatewayKey, upload, binding);
    if (!value)
      return refuse('signature does not verify under the pinned gateway key', 'gateway_unauthenticated');
    return { ok: true, value };
  } catch (e) {
    return refuse((e as Error).message, 'decryption_failed');
  }
}

/**
 * `POST /v1/keys/retire`: the signature first (as for an upload, nothing changes before it
 * verifies), then the named keys leave the store. Kids the service does not hold are ignored, so
 * a retried or replayed request answers 200 and changes nothing.
 */
export async function postRetire(rt: ServiceRuntime, req: Request): Promise<Response> {
  const body = await readJsonObject(req, { maxBytes: MAX_RETIRE_BYTES, fields: RETIRE_FIELDS });
  if (!body.ok) return body.response;
  const kids = await authenticatedRetire(rt, body.value);
  if (!kids.ok) return kids.response;
  const limited = keyWriteBudget(rt, '/v1/keys/retire');
  if (limited) return limited;
  const retired = rt.keys.retire(kids.value);
  rt.deps.log('info', 'kek_retired', { retired, asked: kids.value.length });
  return Response.json({ retired });
}

/** The kids of a retire request signed by the pinned gateway, or the refusal to send. */
async function authenticatedRetire(
  rt: ServiceRuntime,
  request: Record<string, unknown>,
): Promise<{ ok: true; value: string[] } | { ok: false; response: Response }> {
  const { gatewayKey, kekContext, publicKeys } = await rt.ready;
  const binding = { manifestDigest: kekContext, serviceHpkeKey: publicKeys.hpke };
  const refuse = (reason: string) => {
    rt.deps.log('warn', 'kek_retire_refused', { reason });
    const message = 'the request is not signed by the gateway this manifest pins';
    return { ok: false as const, response: errorResponse('gateway_unauthenticated', message) };
  };
  try {
    if (gatewayKey === null) {
      if (!rt.deps.allowUnpinnedGateway) return refuse('the manifest pins no gateway');
      // Development only, as for uploads (startService allows it on the simulator alone).
      rt.deps.log('warn', 'kek_retire_unauthenticated', { reason: 'no gateway pinned: development mode' });
      return { ok: true, value: checkRetireKids(request.kids) };
    }
    const kids = verifyKekRetire(gatewayKey, request, binding);
    return kids
      ? { ok: true, value: kids }
      : refuse('signature does not verify under the pinned gateway key');
  } catch (e) {
    return { ok: false, response: errorResponse('invalid_request', (e as Error).message) };
  }
}

function unsignedForm(upload: Record<string, unknown>): SealedKek {
  return { v: 1, kid: upload.kid as string, enc: upload.enc as string, ct: upload.ct as string };
}

/**
 * The unexpired keys, newest first. With `?nonce=` (and nothing else in the query) the list is
 * signed for that nonce by the attested `signing` key (src/service-client/keys-held.ts): how the
 * gateway confirms a key. Each signature costs CPU, so signed lists have budgets like those of
 * `POST /v1/attestation`, their own (the gateway's when its `sealgate-gateway-auth` verifies).
 */
export async function listKeys(rt: ServiceRuntime, req: Request, caller: string | null): Promise<Response> {
  const keys = rt.keys.active(rt.nowSeconds()).map(keyMetadata);
  const query = new URL(req.url).searchParams;
  if (query.size === 0) return Response.json({ keys });
  const nonces = query.getAll('nonce');
  if (query.size !== 1 || nonces.length !== 1) {
    return errorResponse('invalid_request', 'the only query parameter is one nonce', { param: 'nonce' });
  }
  const nonce = base64UrlField(nonces[0], 'nonce', { length: KEYS_HELD_NONCE_LENGTH });
  if (!nonce.ok) return nonce.response;
  const limited = await attestationBudget(rt, rt.keyListLimiter, req, caller, nonce.value);
  if (limited) return limited;
  const sig = await signKeysHeld(rt.deps.keys.signing.privateKey, rt.deps.manifestDigest, nonce.value, keys);
  return Response.json({ keys, sig });
}
