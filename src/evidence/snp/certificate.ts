/**
 * The kind of an AMD endorsement key certificate (VCEK or VLEK). DER/PEM decoding is
 * src/der/pem.ts.
 */
import { isBytes } from '../../bytes.js';
import { readCertificateFields } from '../../der/x509-fields.js';
import { SealgateError } from '../../errors.js';

function bad(message: string): SealgateError {
  return new SealgateError('malformed_certificate', `certificate: ${message}`);
}

/**
 * VCEK or VLEK, from the subject CN that AMD's KDS gives each (pub. 57230: "SEV-VCEK", "SEV-VLEK").
 * The verifier matches this against the report's SIGNING_KEY.
 */
export function certificateKind(der: Uint8Array): 'vcek' | 'vlek' {
  if (!isBytes(der)) throw new SealgateError('invalid_argument', 'certificate: expected a Uint8Array');
  return kindFromSubjectCns(readCertificateFields(der).subject.cns);
}

/** `certificateKind` on subject CNs already decoded (a parsed certificate's), without parsing again. */
export function kindFromSubjectCns(cns: readonly string[]): 'vcek' | 'vlek' {
  if (cns.length !== 1) throw bad(`expected one subject CN, got ${cns.length}`);
  if (cns[0] === 'SEV-VCEK') return 'vcek';
  if (cns[0] === 'SEV-VLEK') return 'vlek';
  throw bad(`subject CN ${JSON.stringify(cns[0])} is neither SEV-VCEK nor SEV-VLEK`);
}
