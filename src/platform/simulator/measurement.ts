/**
 * Deterministic stand-in launch measurements for development manifests: a dev stack names "the
 * attestation service" or "the worker" image by label and gets the same 48 bytes on every machine.
 * Domain-separated so that no other SHA-384 in Sealgate can collide with one by construction.
 */
import { concatBytes, sha384, utf8 } from '../../bytes.js';
import { SealgateError } from '../../errors.js';

const DOMAIN = utf8.encode('sealgate/simulated-snp-measurement/v1');

/** SHA-384( "sealgate/simulated-snp-measurement/v1" || 0x00 || UTF-8(label) ): a 48-byte MEASUREMENT. */
export async function measurementFor(label: string): Promise<Uint8Array> {
  if (typeof label !== 'string' || label.length === 0) {
    throw new SealgateError('invalid_argument', 'measurementFor: label must be a non-empty string');
  }
  return sha384(concatBytes(DOMAIN, Uint8Array.of(0), utf8.encode(label)));
}
