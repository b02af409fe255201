/**
 * Test helper: edit a real NVIDIA RIM's text and sign it again under a key of the test's own — a
 * P-384 root and signer made with @peculiar/x509 — recomputing DigestValue and SignatureValue the
 * way NVIDIA's signer does (via parseRim's canonical forms), and replacing KeyInfo's certificates.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { sha384, toBase64 } from '../../../src/bytes.js';
import { parseRim } from '../../../src/evidence/nvidia/rim/parse-rim.js';

export interface TestSigner {
  key: CryptoKey;
  /** Signer first, root last (DER). */
  chain: Uint8Array[];
  rootSha256: string;
}

const ALG = { name: 'ECDSA', hash: 'SHA-384' } as const;
const P384 = { name: 'ECDSA', namedCurve: 'P-384' } as const;

export async function testSigner(): Promise<TestSigner> {
  x509.cryptoProvider.set(crypto);
  const rootKeys = (await crypto.subtle.generateKey(P384, true, ['sign', 'verify'])) as CryptoKeyPair;
  const leafKeys = (await crypto.subtle.generateKey(P384, true, ['sign', 'verify'])) as CryptoKeyPair;
  const validity = {
    notBefore: new Date('2023-01-01T00:00:00Z'),
    notAfter: new Date('2030-01-01T00:00:00Z'),
  };
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=Test RIM Root, O=Sealgate tests',
    ...validity,
    keys: rootKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
    ],
  });
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: 'CN=Test RIM Signer, O=Sealgate tests',
    issuer: root.subject,
    ...validity,
    publicKey: leafKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: ALG,
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  });
  const rootDer = new Uint8Array(root.rawData);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', rootDer));
  return {
    key: leafKeys.privateKey,
    chain: [new Uint8Array(leaf.rawData), rootDer],
    rootSha256: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''),
  };
}

const enc = new TextEncoder();

/** `xml` with its DigestValue, SignatureValue and certificates redone under `signer`. */
export async function resign(xml: string, signer: TestSigner): Promise<Uint8Array> {
  const certs = signer.chain.map((c) => `<ds:X509Certificate>${toBase64(c)}</ds:X509Certificate>`).join('');
  let out = xml.replace(/<ds:X509Data>[\s\S]*<\/ds:X509Data>/, `<ds:X509Data>${certs}</ds:X509Data>`);
  const digest = toBase64(await sha384(parseRim(enc.encode(out)).signedDocument));
  out = out.replace(/<ds:DigestValue>[^<]*<\/ds:DigestValue>/, `<ds:DigestValue>${digest}</ds:DigestValue>`);
  const signedInfo = parseRim(enc.encode(out)).signedInfo;
  const sig = new Uint8Array(await crypto.subtle.sign(ALG, signer.key, signedInfo as BufferSource));
  out = out.replace(
    /<ds:SignatureValue>[^<]*<\/ds:SignatureValue>/,
    `<ds:SignatureValue>${toBase64(sig)}</ds:SignatureValue>`,
  );
  return enc.encode(out);
}
