/**
 * AMD's certificates over the generic X.509 reader (src/der/certificate.ts).
 *
 * AMD signs every certificate of the chain (ARK, ASK/ASVK, VCEK/VLEK) with RSASSA-PSS, SHA-384,
 * MGF1-SHA-384, salt 48 (pub. 57230 §2 "Certificates"; RFC 4055 §3.1 for the parameters). The
 * signature AlgorithmIdentifier is pinned to exactly those parameters, in the two DER spellings AMD
 * has used (trailerField written or omitted); anything else is not an AMD chain.
 */
import { constantTimeEqual, fromHex } from '../bytes.js';
import { type Certificate, parseX509Certificate } from '../der/certificate.js';
import { decodeCertificates } from '../der/pem.js';
import { SealgateError } from '../errors.js';
import { decodeAmdExtensions } from '../evidence/snp/cert-extensions.js';
import { kindFromSubjectCns } from '../evidence/snp/certificate.js';
import type { AmdCertExtensions } from '../evidence/snp/types.js';
import { type SignatureBackend, type VerifyKey, webCryptoSignatures } from './signature-backend.js';

// Both byte strings are read from AMD's real certificates (amd-roots/*.pem, snp/*/vcek.der).
/** id-RSASSA-PSS { sha384 (NULL params), mgf1(sha384), saltLength 48, trailerField 1 } — as in the ARKs/ASKs. */
const PSS_SHA384_EXPLICIT_TRAILER = fromHex(
  '304606092a864886f70d01010a3039a00f300d06096086480165030402020500a11c301a06092a864886f70d010108300d06096086480165030402020500a203020130a303020101',
);
/** The same with trailerField omitted (its DEFAULT, as DER requires) — as in VCEKs issued since late 2024. */
const PSS_SHA384_OMITTED_TRAILER = fromHex(
  '304106092a864886f70d01010a3034a00f300d06096086480165030402020500a11c301a06092a864886f70d010108300d06096086480165030402020500a203020130',
);

/** RSASSA-PSS parameters matching the pinned AlgorithmIdentifier: SHA-384, MGF1-SHA-384, salt 48. */
export const AMD_PSS_HASH = 'SHA-384';
export const AMD_PSS_SALT_LENGTH = 48;

/** True when `algorithm` (an AlgorithmIdentifier's whole DER) is AMD's RSASSA-PSS SHA-384, salt 48. */
export function isAmdPssAlgorithm(algorithm: Uint8Array): boolean {
  return (
    constantTimeEqual(algorithm, PSS_SHA384_EXPLICIT_TRAILER) ||
    constantTimeEqual(algorithm, PSS_SHA384_OMITTED_TRAILER)
  );
}

export interface ParsedCertificate extends Certificate {
  /** True when both AlgorithmIdentifiers are AMD's RSASSA-PSS SHA-384 and agree (RFC 5280 §4.1.1.2). */
  signatureAlgorithmIsAmdPss: boolean;
}

/**
 * Parses one DER (or PEM) certificate (throws `malformed_certificate`) and says whether it is
 * signed with AMD's pinned RSASSA-PSS parameters. Pure decoding: nothing here says the
 * certificate is valid or trusted. The fingerprint is hashed by `signatures` (its `digest`).
 */
export async function parseCertificate(
  input: Uint8Array,
  signatures: SignatureBackend = webCryptoSignatures,
): Promise<ParsedCertificate> {
  const cert = await parseX509Certificate(input, (der) => signatures.digest('SHA-256', der));
  const isPss = isAmdPssAlgorithm;
  return {
    ...cert,
    signatureAlgorithmIsAmdPss:
      isPss(cert.signatureAlgorithm) &&
      constantTimeEqual(cert.tbsSignatureAlgorithm, cert.signatureAlgorithm),
  };
}

/**
 * The kind (VCEK/VLEK, from the subject CN) and AMD extensions of a parsed leaf — what
 * `certificateKind` and `parseAmdCertExtensions` say of the same DER, without parsing it again.
 */
export function amdLeafIdentity(cert: ParsedCertificate): {
  kind: 'vcek' | 'vlek';
  extensions: AmdCertExtensions;
} {
  const kind = kindFromSubjectCns(cert.subjectCns);
  return { kind, extensions: decodeAmdExtensions(cert.extensions, kind) };
}

/** The issuer's RSA-PSS SHA-384 verification key from its SubjectPublicKeyInfo; null when it is not one. */
export async function importIssuerKey(
  issuer: Pick<ParsedCertificate, 'spki'>,
  signatures: SignatureBackend = webCryptoSignatures,
): Promise<VerifyKey | null> {
  return await signatures.importRsaPssSpki(issuer.spki, AMD_PSS_HASH);
}

/** True when `key` made `child`'s signature with AMD's RSASSA-PSS parameters (see `isIssuedBy`). */
export async function isSignedBy(
  child: ParsedCertificate,
  key: VerifyKey | null,
  signatures: SignatureBackend = webCryptoSignatures,
): Promise<boolean> {
  if (!child.signatureAlgorithmIsAmdPss || key === null) return false;
  return await signatures.verifyRsaPss(key, AMD_PSS_HASH, AMD_PSS_SALT_LENGTH, child.signature, child.tbs);
}

/**
 * True when `issuer`'s RSA key made `child`'s signature with AMD's RSASSA-PSS parameters. False
 * for a wrong key, a bad signature, a non-AMD algorithm, or an issuer key that is not RSA.
 */
export async function isIssuedBy(
  child: ParsedCertificate,
  issuer: ParsedCertificate,
  signatures: SignatureBackend = webCryptoSignatures,
): Promise<boolean> {
  if (!child.signatureAlgorithmIsAmdPss) return false;
  return await isSignedBy(child, await importIssuerKey(issuer, signatures), signatures);
}

/**
 * The intermediate (ASK/ASVK) and root (ARK) from what an extended report or KDS delivers:
 * either [ASK, ARK] each as DER or PEM, or one `cert_chain` PEM holding both — AMD's `cert_chain`
 * order is ASK (or ASVK) first, ARK second (pub. 57230 §4.2). Throws `malformed_certificate`.
 */
export function splitCertChain(chain: readonly Uint8Array[]): { intermediate: Uint8Array; root: Uint8Array } {
  if (!Array.isArray(chain))
    throw new SealgateError('invalid_argument', 'certificate chain: expected an array');
  const all: Uint8Array[] = [];
  for (const item of chain) all.push(...decodeCertificates(item));
  if (all.length !== 2) {
    throw new SealgateError(
      'malformed_certificate',
      `certificate: chain: expected 2 certificates (ASK/ASVK, ARK), got ${all.length}`,
    );
  }
  return { intermediate: all[0]!, root: all[1]! };
}
