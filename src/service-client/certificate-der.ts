/**
 * The Sealgate names of the worker certificate, written by hand on bytes (ITU-T X.690) so that no
 * X.509 library is needed to compare them. OIDs are written by src/der/write.ts (arcs of any size:
 * Sealgate's arc is a UUID arc, 2.25.<128-bit integer>, ITU-T X.667, which @peculiar's ASN.1 layer
 * does not round-trip); readers decode every arc exactly (src/der/x509-fields.ts `decodeOid`), and
 * worker-certificate.ts matches Sealgate's extensions by that dotted text. ECDSA signature
 * encodings are src/der/ecdsa-signature.ts.
 */
import { oidContent, sequence, TAG_OID, TAG_PRINTABLE_STRING, TAG_SET, tlv } from '../der/write.js';
import { SealgateError } from '../errors.js';

/**
 * Name ::= RDNSequence (RFC 5280 §4.1.2.4) of one RDN holding one commonName (2.5.4.3), written
 * `CN=<value>`, the value a PrintableString (X.680 §41.4) of letters, digits and '-' (the Sealgate
 * names; what @peculiar/x509's `Name` writes for them too, checked in the tests). The issuer and
 * every reader use these bytes: names are compared as DER, never as text.
 */
export function encodeCommonNameDer(text: string): Uint8Array {
  const m = /^CN=([A-Za-z0-9-]{1,64})$/.exec(text);
  if (!m)
    throw new SealgateError('invalid_argument', `encodeCommonNameDer: not CN=<letters, digits, ->: ${text}`);
  const value = Uint8Array.from(m[1]!, (c) => c.charCodeAt(0));
  const atv = sequence(tlv(TAG_OID, oidContent('2.5.4.3')), tlv(TAG_PRINTABLE_STRING, value));
  return sequence(tlv(TAG_SET, atv));
}
