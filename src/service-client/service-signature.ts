/**
 * The attestation service's signatures on what it answers (signed key deliveries, kek-delivery.ts;
 * signed key lists, keys-held.ts): ECDSA P-384 with SHA-384 by its attested `signing` key (the one
 * bound into its REPORT_DATA), IEEE P1363 r ‖ s (96 bytes), base64url.
 */
import { toBase64Url } from '../bytes.js';
import { decodeBase64UrlField } from '../keys/encoding.js';

export const SERVICE_SIGNATURE_LENGTH = 96;
const ECDSA_P384 = { name: 'ECDSA', hash: 'SHA-384' } as const;

export async function signAsService(signingKey: CryptoKey, message: Uint8Array): Promise<string> {
  const sig = await crypto.subtle.sign(ECDSA_P384, signingKey, message as BufferSource);
  return toBase64Url(new Uint8Array(sig));
}

/**
 * True when `sig` is the signature of the service key `spki` over `message`. `sig` that is not 96
 * bytes of base64url throws `fetch_failed` with `what` in the message.
 */
export async function verifyServiceSignature(
  spki: Uint8Array,
  sig: unknown,
  message: Uint8Array,
  what: string,
): Promise<boolean> {
  const signature = decodeBase64UrlField(sig, {
    code: 'fetch_failed',
    message: `attestation service: ${what} signature is not ${SERVICE_SIGNATURE_LENGTH} bytes of base64url`,
    length: SERVICE_SIGNATURE_LENGTH,
  });
  const key = await crypto.subtle.importKey(
    'spki',
    spki.slice() as BufferSource,
    { name: 'ECDSA', namedCurve: 'P-384' },
    false,
    ['verify'],
  );
  return crypto.subtle.verify(ECDSA_P384, key, signature as BufferSource, message as BufferSource);
}
