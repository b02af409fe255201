/**
 * envelope-v1.json as the real code meets it: the vector's KEK in a key ring, its request sealed
 * with the vector's randomness (the gateway's side) and opened (the worker's side), and its stream
 * sealed again — with the envelope backend given, or the default (WebCrypto).
 */

import { toHex } from '../../src/bytes.js';
import type { RequestContext } from '../../src/envelope/data-key.js';
import type { EnvelopeCrypto } from '../../src/envelope/envelope-crypto.js';
import { openRequest, sealRequest } from '../../src/envelope/request.js';
import { createStreamSealer } from '../../src/envelope/stream.js';
import { createKek } from '../../src/keys/kek.js';
import { KeyRing } from '../../src/keys/key-ring.js';
import v from './envelope-v1.json';
import { fixedRandom, unhex } from './reference.js';

/** The vector's KEK, and a key ring holding only it. */
export async function vectorKeyRing() {
  const kek = await createKek({
    key: unhex(v.kek.key),
    notBefore: v.kek.notBefore,
    notAfter: v.kek.notAfter,
  });
  return { kek, ring: await KeyRing.from([kek]) };
}

/** The vector's request sealed by the gateway's side and the vector's sealed body opened by the worker's. */
export async function vectorRequest(envelopeCrypto?: EnvelopeCrypto) {
  const { kek, ring } = await vectorKeyRing();
  const { route, requestId, now } = v.request;
  const gateway = await sealRequest({
    kek,
    route,
    requestId,
    now,
    body: v.request.body,
    random: fixedRandom(unhex(v.request.dek), unhex(v.request.iv)),
    envelopeCrypto,
  });
  const worker = await openRequest(v.request.sealed, ring, {
    route,
    now,
    maxAgeSeconds: 300,
    envelopeCrypto,
  });
  return { kek, ring, gateway, worker };
}

/**
 * The vector's stream batches (one frame each) sealed in `context` with the vector's randomness:
 * every piece as the sealer returns it (hex; the header with the first), the end record last.
 */
export async function vectorStreamFrames(context: RequestContext): Promise<string[]> {
  const sealer = createStreamSealer(context, { random: fixedRandom(unhex(v.stream.rs)) });
  const frames = [];
  for (const b of v.stream.batches) frames.push(toHex(await sealer.seal(b)));
  frames.push(toHex(await sealer.end()));
  return frames;
}
