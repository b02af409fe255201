/**
 * A simulated NVIDIA certificate chain in the shape of NVIDIA's (ecdsa-with-SHA384 over P-384
 * throughout, CA flags and keyUsage as src/verify/nvidia/ecdsa-chain.ts checks, the CAs' AIA
 * naming an OCSP responder), made with @peculiar/x509 for WebCrypto keys. Every subject says
 * SIMULATED, so a simulated chain can never pass for NVIDIA's: its root is not a pinned NVIDIA
 * root (src/verify/nvidia/nvidia-roots.ts) and must be pinned by the test or the dev stack.
 *
 * `makeNvidiaChain` makes root → intermediates → leaf for any list of common names (root first);
 * `simulatedNvidiaChain` is the common three-certificate case.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

export const P384 = { name: 'ECDSA', namedCurve: 'P-384' } as const;
export const ECDSA_SHA384 = { name: 'ECDSA', hash: 'SHA-384' } as const;

/** The simulated responder URL the CAs' AIA names (.invalid: nothing can ever answer it). */
export const SIMULATED_OCSP_URL = 'http://ocsp.nvidia-simulated.invalid';

export interface SimulatedCertificate {
  der: Uint8Array;
  keys: CryptoKeyPair;
  /** serialNumber as hex (as @peculiar/x509 was given it). */
  serial: string;
}

export interface SimulatedNvidiaChain {
  /** Leaf first, root last. */
  certs: SimulatedCertificate[];
  /** The DERs, leaf first. */
  ders: Uint8Array[];
  /** SHA-256 (lower-case hex) of the root's DER, to pin. */
  rootSha256: string;
}

export interface ChainOptions {
  notBefore?: Date;
  notAfter?: Date;
  /** Put an AIA id-ad-ocsp URL on every certificate but the root; default SIMULATED_OCSP_URL. */
  ocspUrl?: string | null;
}

const DN = (cn: string) => `CN=${cn}, O=NVIDIA SIMULATED`;

async function keyPair(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(P384, true, ['sign', 'verify'])) as CryptoKeyPair;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Root → … → leaf for `cns` (root first); CAs are cA with keyCertSign, the leaf digitalSignature. */
export async function makeNvidiaChain(
  cns: readonly string[],
  options: ChainOptions = {},
): Promise<SimulatedNvidiaChain> {
  if (cns.length < 2) throw new RangeError('makeNvidiaChain: a root and at least one more certificate');
  x509.cryptoProvider.set(crypto);
  const validity = {
    notBefore: options.notBefore ?? new Date('2023-01-01T00:00:00Z'),
    notAfter: options.notAfter ?? new Date('2049-12-31T00:00:00Z'),
  };
  const ocspUrl = options.ocspUrl === undefined ? SIMULATED_OCSP_URL : options.ocspUrl;
  const made: SimulatedCertificate[] = [];
  let issuer: { name: string; key: CryptoKey } | null = null;
  for (const [i, cn] of cns.entries()) {
    const keys = await keyPair();
    const isLeaf = i === cns.length - 1;
    const serial = `10${hex(crypto.getRandomValues(new Uint8Array(11)))}`; // positive, minimal
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(!isLeaf, undefined, true),
      new x509.KeyUsagesExtension(
        isLeaf
          ? x509.KeyUsageFlags.digitalSignature
          : x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
    ];
    if (issuer !== null && ocspUrl !== null) {
      extensions.push(
        new x509.AuthorityInfoAccessExtension({ ocsp: [new x509.GeneralName('url', ocspUrl)] }),
      );
    }
    const cert: x509.X509Certificate =
      issuer === null
        ? await x509.X509CertificateGenerator.createSelfSigned({
            serialNumber: serial,
            name: DN(cn),
            ...validity,
            keys,
            signingAlgorithm: ECDSA_SHA384,
            extensions,
          })
        : await x509.X509CertificateGenerator.create({
            serialNumber: serial,
            subject: DN(cn),
            issuer: issuer.name,
            ...validity,
            publicKey: keys.publicKey,
            signingKey: issuer.key,
            signingAlgorithm: ECDSA_SHA384,
            extensions,
          });
    made.push({ der: new Uint8Array(cert.rawData), keys, serial });
    issuer = { name: cert.subject, key: keys.privateKey };
  }
  const certs = made.reverse();
  const root = certs[certs.length - 1]!.der;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', root as BufferSource));
  return { certs, ders: certs.map((c) => c.der), rootSha256: hex(digest) };
}

/** Root → intermediate → leaf, all marked SIMULATED. */
export function simulatedNvidiaChain(options: ChainOptions = {}): Promise<SimulatedNvidiaChain> {
  return makeNvidiaChain(
    ['SIMULATED NVIDIA Root CA', 'SIMULATED NVIDIA Intermediate CA', 'SIMULATED NVIDIA Leaf'],
    options,
  );
}

/**
 * A delegated OCSP responder certificate (RFC 6960 §4.2.2.2) issued by `issuer`: EKU
 * id-kp-OCSPSigning unless `ocspSigning` is false; `issuerName` writes another issuer name over
 * the issuer's signature (both to simulate wrong signers).
 */
export async function makeOcspResponderCertificate(
  issuer: SimulatedCertificate,
  options: {
    ocspSigning?: boolean;
    notBefore?: Date;
    notAfter?: Date;
    issuerName?: string;
    /** An extra critical extension (OID) with an empty SEQUENCE as its value. */
    criticalOid?: string;
  } = {},
): Promise<SimulatedCertificate> {
  x509.cryptoProvider.set(crypto);
  const keys = await keyPair();
  const issuerCert = new x509.X509Certificate(issuer.der as BufferSource);
  const serial = `10${hex(crypto.getRandomValues(new Uint8Array(11)))}`; // positive, minimal
  const extensions: x509.Extension[] = [
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
  ];
  if (options.ocspSigning !== false)
    extensions.push(new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.9']));
  if (options.criticalOid !== undefined) {
    extensions.push(new x509.Extension(options.criticalOid, true, Uint8Array.of(0x30, 0x00)));
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: DN('SIMULATED NVIDIA OCSP Responder'),
    issuer: options.issuerName ?? issuerCert.subject,
    notBefore: options.notBefore ?? new Date('2023-01-01T00:00:00Z'),
    notAfter: options.notAfter ?? new Date('2049-12-31T00:00:00Z'),
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: ECDSA_SHA384,
    extensions,
  });
  return { der: new Uint8Array(cert.rawData), keys, serial };
}
