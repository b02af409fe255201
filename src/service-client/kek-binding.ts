/**
 * What a KEK in transit is bound to, besides its purpose and kid (src/keys/kek-transport.ts): the
 * manifest. Both transports — gateway → service (`kek-upload`) and service → worker
 * (`kek-release`) — pass the 32 raw bytes of the manifest digest as the HPKE aad `context`, so a
 * KEK sealed under one manifest does not open under another: a gateway that attested a service
 * for manifest A cannot have its key accepted by a service (or worker) that runs manifest B, even
 * if both somehow hold the same HPKE key. docs/services.md "KEK transport binding".
 */
import { fromHex } from '../bytes.js';
import { SealgateError } from '../errors.js';

const DIGEST_PATTERN = /^[0-9a-f]{64}$/;

/** The aad context of a sealed KEK for `manifestDigest` (64 lower-case hex characters). */
export function kekContext(manifestDigest: string): Uint8Array {
  if (typeof manifestDigest !== 'string' || !DIGEST_PATTERN.test(manifestDigest)) {
    throw new SealgateError(
      'invalid_argument',
      'kekContext: manifest digest must be 64 lower-case hex characters',
    );
  }
  return fromHex(manifestDigest, 32);
}
