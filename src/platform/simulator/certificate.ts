/**
 * Issues one X.509 v3 certificate (RFC 5280 §4.1) signed with RSASSA-PSS SHA-384, salt 48, and the
 * AlgorithmIdentifier bytes AMD uses (see `pssAlgorithmIdentifier`). @peculiar/x509's generator
 * writes different PSS parameters (no NULL after sha384, never the trailerField), which would put a
 * simulated chain on a different parsing path than AMD's; so the TBSCertificate is assembled here
 * from @peculiar/asn1-x509's structures with the parameters given as raw DER, and signed with
 * WebCrypto.
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  Certificate,
  Extension,
  Extensions,
  Name,
  RelativeDistinguishedName,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import { toArrayBuffer } from '../../bytes.js';
import { integerContent } from '../../der/write.js';
import { OID_RSASSA_PSS, type PssTrailer, pssParameters, SIMULATED_NAME } from './amd-shapes.js';

export interface CertificateSpec {
  serial: number;
  issuerCn: string;
  subjectCn: string;
  notBefore: Date;
  notAfter: Date;
  subjectPublicKey: CryptoKey;
  /** In the order they are to appear; `value` is the extnValue content (the DER inside the OCTET STRING). */
  extensions: readonly { oid: string; critical?: boolean; value: Uint8Array }[];
  /** RSA-PSS private key of the issuer (the subject's own for a self-signed root). */
  issuerKey: CryptoKey;
  trailer: PssTrailer;
}

/** RSASSA-PSS with a 48-byte salt = the SHA-384 output length, as AMD signs (RFC 8017 §9.1). */
export const PSS_SIGN_PARAMS = { name: 'RSA-PSS', saltLength: 48 } as const;

/** RSA keys as AMD's ARK/ASK: 4096-bit modulus, e = 65537, used with RSASSA-PSS SHA-384. */
export async function generateRsaPssKey(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(
    { name: 'RSA-PSS', modulusLength: 4096, publicExponent: Uint8Array.of(1, 0, 1), hash: 'SHA-384' },
    false,
    ['sign', 'verify'],
  )) as CryptoKeyPair;
}

const OID_AT = {
  OU: '2.5.4.11',
  C: '2.5.4.6',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  O: '2.5.4.10',
  CN: '2.5.4.3',
} as const;

function simulatedName(cn: string): Name {
  const rdn = (type: string, value: AttributeValue) =>
    new RelativeDistinguishedName([new AttributeTypeAndValue({ type, value })]);
  return new Name([
    rdn(OID_AT.OU, new AttributeValue({ utf8String: SIMULATED_NAME.OU })),
    rdn(OID_AT.C, new AttributeValue({ printableString: SIMULATED_NAME.C })),
    rdn(OID_AT.L, new AttributeValue({ utf8String: SIMULATED_NAME.L })),
    rdn(OID_AT.ST, new AttributeValue({ utf8String: SIMULATED_NAME.ST })),
    rdn(OID_AT.O, new AttributeValue({ utf8String: SIMULATED_NAME.O })),
    rdn(OID_AT.CN, new AttributeValue({ utf8String: cn })),
  ]);
}

async function spkiOf(publicKey: CryptoKey): Promise<SubjectPublicKeyInfo> {
  // WebCrypto exports RSA keys as rsaEncryption + NULL and P-384 keys as id-ecPublicKey +
  // secp384r1: the same SubjectPublicKeyInfo shapes as AMD's ARK/ASK and VCEK.
  return AsnConvert.parse(await crypto.subtle.exportKey('spki', publicKey), SubjectPublicKeyInfo);
}

/** Key identifier method 1 of RFC 5280 §4.2.1.2 (SHA-1 of the subjectPublicKey bits), as AMD's SKI/AKI. */
export async function keyIdentifier(publicKey: CryptoKey): Promise<Uint8Array> {
  const spki = await spkiOf(publicKey);
  return new Uint8Array(await crypto.subtle.digest('SHA-1', spki.subjectPublicKey));
}

export async function issueCertificate(spec: CertificateSpec): Promise<Uint8Array> {
  const algorithm = () =>
    new AlgorithmIdentifier({
      algorithm: OID_RSASSA_PSS,
      parameters: toArrayBuffer(pssParameters(spec.trailer)),
    });
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: toArrayBuffer(integerContent(spec.serial)),
    signature: algorithm(),
    issuer: simulatedName(spec.issuerCn),
    validity: new Validity({ notBefore: spec.notBefore, notAfter: spec.notAfter }),
    subject: simulatedName(spec.subjectCn),
    subjectPublicKeyInfo: await spkiOf(spec.subjectPublicKey),
    extensions: new Extensions(
      spec.extensions.map(
        (e) =>
          new Extension({
            extnID: e.oid,
            critical: e.critical ?? false,
            extnValue: new OctetString(e.value),
          }),
      ),
    ),
  });
  const tbsDer = AsnConvert.serialize(tbs);
  const signature = await crypto.subtle.sign(PSS_SIGN_PARAMS, spec.issuerKey, tbsDer);
  const cert = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: algorithm(),
    signatureValue: signature,
  });
  return new Uint8Array(AsnConvert.serialize(cert));
}
