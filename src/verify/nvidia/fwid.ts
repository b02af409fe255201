/**
 * The FWID a Hopper GPU's attestation-key certificate carries, under the TCG DICE OID
 * 2.23.133.5.4.1, as
 *
 *   SEQUENCE { version INTEGER (1), deviceIdKey SubjectPublicKeyInfo,
 *              fwid SEQUENCE { hashAlg OBJECT IDENTIFIER, digest OCTET STRING } }
 *
 * (the composite device identifier of TCG's "Implicit Identity Based Device Attestation" v1.0):
 * the device-identity key that issued the leaf (the GSP BROM key) and the SHA-384 of the firmware
 * (GSP FMC) it certified. nvtrust (`extract_fwid`, Hopper branch) and trustee (`get_fwid_from_cert`)
 * take the extension's last 48 bytes; we decode the structure strictly and require SHA-384 and a
 * 48-byte digest, which are those same bytes on every genuine certificate, and return the key so
 * that the verifier can hold it equal to the issuer's.
 */

import type { Certificate } from '../../der/certificate.js';
import { readTlv, type Tlv } from '../../der/der.js';
import { childTlvs, decodeOid } from '../../der/x509-fields.js';
import { SealgateError } from '../../errors.js';

export const OID_TCG_DICE_FWID = '2.23.133.5.4.1';
const OID_SHA384 = '2.16.840.1.101.3.4.2.2';
const FWID_SIZE = 48;

function bad(message: string): SealgateError {
  return new SealgateError('malformed_certificate', `certificate: FWID extension: ${message}`);
}

function expect(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (t === undefined || t.tag !== tag) throw bad(`${what} missing or of the wrong type`);
  return t;
}

export interface CertificateFwid {
  /** The DeviceID key the extension names (SubjectPublicKeyInfo, whole DER). */
  deviceIdKey: Uint8Array;
  /** SHA-384 FWID. */
  fwid: Uint8Array;
}

/** The leaf's FWID extension decoded, or null when it has none. Throws `malformed_certificate`. */
export function certificateFwid(cert: Pick<Certificate, 'extensions'>): CertificateFwid | null {
  const found = cert.extensions.filter((e) => e.oid === OID_TCG_DICE_FWID);
  if (found.length === 0) return null;
  if (found.length > 1) throw bad('appears more than once');
  const value = found[0]!.value;
  try {
    const outer = readTlv(value, 0, 'FWID extension');
    if (outer.tag !== 0x30 || outer.end !== value.length) throw bad('not one SEQUENCE');
    const [version, spki, fwidSeq, ...rest] = childTlvs(value, outer, 'FWID extension');
    if (rest.length > 0) throw bad('more than three elements');
    const v = expect(version, 0x02, 'version');
    if (v.end - v.start !== 1 || value[v.start] !== 1) throw bad('version is not 1');
    const key = expect(spki, 0x30, 'deviceIdKey');
    const f = expect(fwidSeq, 0x30, 'fwid');
    const [alg, digest, ...more] = childTlvs(value, f, 'fwid');
    if (more.length > 0) throw bad('fwid has more than two elements');
    const a = expect(alg, 0x06, 'hashAlg');
    if (decodeOid(value, a.start, a.end, 'hashAlg') !== OID_SHA384) throw bad('hashAlg is not SHA-384');
    const d = expect(digest, 0x04, 'digest');
    if (d.end - d.start !== FWID_SIZE) throw bad(`digest is ${d.end - d.start} bytes, expected ${FWID_SIZE}`);
    // The SubjectPublicKeyInfo TLV begins where the version INTEGER ends.
    return { deviceIdKey: value.slice(v.end, key.end), fwid: value.slice(d.start, d.end) };
  } catch (e) {
    if (e instanceof SealgateError && e.message.startsWith('certificate: FWID')) throw e;
    throw bad(e instanceof Error ? e.message : String(e));
  }
}
