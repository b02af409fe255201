/**
 * CRLs as AMD's KDS serves them (pub. 57230 §4.3; RFC 5280 §5.1): X.509 v2, issued by the ARK,
 * signed with RSASSA-PSS SHA-384, salt 48, under AMD's AlgorithmIdentifier (trailerField written,
 * as on the ARK and ASK). Times are UTCTime (RFC 5280 §5.1.2.4: dates before 2050).
 */
import { concatBytes, utf8 } from '../../bytes.js';
import { integer, sequence, tlv } from '../../der/write.js';
import { SealgateError } from '../../errors.js';
import { pssAlgorithmIdentifier } from './amd-shapes.js';
import { PSS_SIGN_PARAMS } from './certificate.js';

export interface CrlSpec {
  /** The issuer Name, whole DER: the ARK's subject. */
  issuer: Uint8Array;
  thisUpdate: Date;
  nextUpdate: Date;
  /** Serials (as AMD's small certificate serials) listed as revoked at `thisUpdate`. */
  revoked: readonly number[];
  /** RSA-PSS private key of the ARK. */
  issuerKey: CryptoKey;
}

function utcTime(d: Date): Uint8Array {
  const y = d.getUTCFullYear();
  if (y < 1950 || y >= 2050) throw new SealgateError('invalid_argument', `CRL: ${y} needs GeneralizedTime`);
  const two = (n: number) => String(n).padStart(2, '0');
  const text = `${two(y % 100)}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`;
  return tlv(0x17, utf8.encode(text));
}

export async function issueCrl(spec: CrlSpec): Promise<Uint8Array> {
  const algorithm = pssAlgorithmIdentifier('explicit');
  const entries = spec.revoked.map((serial) => sequence(integer(serial), utcTime(spec.thisUpdate)));
  const tbs = sequence(
    integer(1), // v2
    algorithm,
    spec.issuer,
    utcTime(spec.thisUpdate),
    utcTime(spec.nextUpdate),
    ...(entries.length > 0 ? [sequence(...entries)] : []),
  );
  const signature = new Uint8Array(
    await crypto.subtle.sign(PSS_SIGN_PARAMS, spec.issuerKey, tbs as BufferSource),
  );
  return sequence(tbs, algorithm, tlv(0x03, concatBytes(Uint8Array.of(0), signature)));
}
