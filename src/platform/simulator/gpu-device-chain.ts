/**
 * A SIMULATED NVIDIA GPU device-identity chain, shaped like Hopper's (src/verify/nvidia/ecdsa-chain.ts):
 * five ECDSA P-384 / SHA-384 certificates — leaf "GSP FMC LF" (the attestation key, with the TCG
 * DICE FWID extension 2.23.133.5.4.1 naming its issuer's key and the firmware's SHA-384) → "GSP BROM"
 * → "Provisioner ICA" → "NVIDIA GH100 Identity" (the architecture CA the verifier reads) → a
 * self-signed root. Every name carries O=Sealgate SIMULATED; the root is trusted only by a manifest
 * that lists it under `trustAnchors.nvidia` with `"simulated": true` (docs/manifest.md).
 *
 * Made with @peculiar/x509 (ECDSA: its AlgorithmIdentifiers are exactly ecdsa-with-SHA384,
 * parameters absent — what the verifier requires). Kept across restarts as JSON (the attestation
 * key's and the CAs' private JWKs and the certificates), like the SNP dev chain, so a dev
 * manifest's pin holds. The CA keys are kept (as tdx-chain.ts keeps its CAs') so the simulated OCSP
 * responder (gpu-ocsp-responder.ts) can sign answers for the chain's CA certificates as their
 * issuers (RFC 6960 §4.2.2.2: a CA may answer for the certificates it issued).
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import {
  fromBase64Url,
  sha256,
  sha384,
  toArrayBuffer,
  toBase64,
  toBase64Url,
  toHex,
  utf8,
} from '../../bytes.js';
import { integer, octetString, oidContent, sequence, TAG_OID, tlv } from '../../der/write.js';
import { SealgateError } from '../../errors.js';

export const SIMULATED_GPU_ORG = 'Sealgate SIMULATED';
/** The architecture CA's CN: what makes the verifier call the chain Hopper. */
const ARCHITECTURE_CA_CN = 'NVIDIA GH100 Identity';
const OID_TCG_DICE_FWID = '2.23.133.5.4.1';
const OID_SHA384 = '2.16.840.1.101.3.4.2.2';
const ALG = { name: 'ECDSA', hash: 'SHA-384' } as const;
const P384 = { name: 'ECDSA', namedCurve: 'P-384' } as const;

export interface GpuDeviceChain {
  readonly simulated: true;
  /** DER certificates, leaf first, root last. */
  readonly certificates: readonly Uint8Array[];
  /** The same chain as PEM text, as NVIDIA's tooling writes it. */
  readonly pem: Uint8Array;
  /** SHA-256 (hex) of the root's DER: what `trustAnchors.nvidia` pins. */
  readonly rootSha256: string;
  /** The attestation key (ECDSA P-384): signs the SPDM MEASUREMENTS. */
  readonly attestationKey: CryptoKey;
  /** SHA-384 of the simulated GSP firmware, in the leaf's FWID extension and in every report. */
  readonly fwid: Uint8Array;
  /** The key pairs of certificates[1..4] (index i holds certificate i + 1's): the issuers' keys. */
  readonly caKeys: readonly CryptoKeyPair[];
}

const fail = (message: string): never => {
  throw new SealgateError('invalid_argument', `simulated GPU chain: ${message}`);
};

function name(cn: string): string {
  return `CN=${cn}, O=${SIMULATED_GPU_ORG}, OU=SIMULATED (no NVIDIA hardware)`;
}

/** FWID extension value (TCG DICE): SEQUENCE { 1, deviceIdKey SPKI, SEQUENCE { sha384, digest } }. */
function fwidExtension(issuerSpki: Uint8Array, fwid: Uint8Array): x509.Extension {
  const value = sequence(
    integer(1),
    issuerSpki,
    sequence(tlv(TAG_OID, oidContent(OID_SHA384)), octetString(fwid)),
  );
  return new x509.Extension(OID_TCG_DICE_FWID, false, toArrayBuffer(value));
}

function pemOf(certs: readonly Uint8Array[]): Uint8Array {
  const blocks = certs.map((der) => {
    const b64 = toBase64(der).replace(/.{64}/g, '$&\n');
    return `-----BEGIN CERTIFICATE-----\n${b64.trimEnd()}\n-----END CERTIFICATE-----\n`;
  });
  return utf8.encode(blocks.join(''));
}

async function finish(
  certificates: Uint8Array[],
  attestationKey: CryptoKey,
  fwid: Uint8Array,
  caKeys: readonly CryptoKeyPair[],
): Promise<GpuDeviceChain> {
  return Object.freeze({
    simulated: true as const,
    certificates: Object.freeze(certificates.map((c) => c.slice())),
    pem: pemOf(certificates),
    rootSha256: toHex(await sha256(certificates[certificates.length - 1]!)),
    attestationKey,
    fwid: fwid.slice(),
    caKeys: Object.freeze([...caKeys]),
  });
}

/** A new chain valid from a day before `now` for ten years. */
export async function createGpuDeviceChain(opts: { now: Date }): Promise<GpuDeviceChain> {
  if (!(opts?.now instanceof Date) || Number.isNaN(opts.now.getTime())) fail('now must be a valid Date');
  x509.cryptoProvider.set(crypto);
  const notBefore = new Date(opts.now.getTime() - 86_400_000);
  const notAfter = new Date(opts.now.getTime() + 10 * 365 * 86_400_000);
  const keys = await Promise.all(
    [0, 1, 2, 3, 4].map(
      () => crypto.subtle.generateKey(P384, true, ['sign', 'verify']) as Promise<CryptoKeyPair>,
    ),
  );
  const [leafKeys, bromKeys, icaKeys, archKeys, rootKeys] = keys as [
    CryptoKeyPair,
    CryptoKeyPair,
    CryptoKeyPair,
    CryptoKeyPair,
    CryptoKeyPair,
  ];
  const ca = () => [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ];
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: name('SIMULATED NVIDIA Device Identity CA'),
    notBefore,
    notAfter,
    keys: rootKeys,
    signingAlgorithm: ALG,
    extensions: ca(),
  });
  const issue = async (
    serial: string,
    cn: string,
    subject: CryptoKeyPair,
    issuer: { cert: x509.X509Certificate; keys: CryptoKeyPair },
    extensions: x509.Extension[],
  ) =>
    x509.X509CertificateGenerator.create({
      serialNumber: serial,
      subject: name(cn),
      issuer: issuer.cert.subject,
      notBefore,
      notAfter,
      publicKey: subject.publicKey,
      signingKey: issuer.keys.privateKey,
      signingAlgorithm: ALG,
      extensions,
    });
  const arch = await issue('02', ARCHITECTURE_CA_CN, archKeys, { cert: root, keys: rootKeys }, ca());
  const ica = await issue(
    '03',
    'SIMULATED GH100 Provisioner ICA',
    icaKeys,
    { cert: arch, keys: archKeys },
    ca(),
  );
  const brom = await issue(
    '04',
    'SIMULATED GH100 A01 GSP BROM',
    bromKeys,
    { cert: ica, keys: icaKeys },
    ca(),
  );
  const fwid = await sha384(utf8.encode('sealgate/simulated-gpu/gsp-fmc'));
  const bromSpki = new Uint8Array(await crypto.subtle.exportKey('spki', bromKeys.publicKey));
  const leaf = await issue('05', 'SIMULATED GH100 A01 GSP FMC LF', leafKeys, { cert: brom, keys: bromKeys }, [
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    fwidExtension(bromSpki, fwid),
  ]);
  const certificates = [leaf, brom, ica, arch, root].map((c) => new Uint8Array(c.rawData));
  return finish(certificates, leafKeys.privateKey, fwid, [bromKeys, icaKeys, archKeys, rootKeys]);
}

/** The version `exportGpuDeviceChain` writes; version 1 (without CA keys) is no longer read. */
export const GPU_CHAIN_VERSION = 2;

/** JSON for `importGpuDeviceChain`: holds private JWKs — never commit it. */
export async function exportGpuDeviceChain(chain: GpuDeviceChain): Promise<Record<string, unknown>> {
  return {
    kind: 'sealgate-simulated-gpu-chain',
    version: GPU_CHAIN_VERSION,
    simulated: true,
    certificates: chain.certificates.map(toBase64Url),
    attestationKey: await crypto.subtle.exportKey('jwk', chain.attestationKey),
    caKeys: await Promise.all(chain.caKeys.map((k) => crypto.subtle.exportKey('jwk', k.privateKey))),
    fwid: toBase64Url(chain.fwid),
  };
}

/** A CA's key pair from its private JWK (the public half is the JWK without `d`). */
async function importCaKeys(jwk: unknown): Promise<CryptoKeyPair> {
  const priv = jwk as JsonWebKey;
  const privateKey = await crypto.subtle.importKey('jwk', priv, P384, true, ['sign']);
  const { d: _d, key_ops: _ops, ...pub } = priv;
  const publicKey = await crypto.subtle.importKey('jwk', pub, P384, true, ['verify']);
  return { privateKey, publicKey };
}

export async function importGpuDeviceChain(json: unknown): Promise<GpuDeviceChain> {
  const o = json as Record<string, unknown> | null;
  if (
    typeof o !== 'object' ||
    o === null ||
    o.kind !== 'sealgate-simulated-gpu-chain' ||
    o.version !== GPU_CHAIN_VERSION
  ) {
    fail(`not a version-${GPU_CHAIN_VERSION} simulated GPU chain`);
  }
  const certs = o!.certificates;
  if (!Array.isArray(certs) || certs.length !== 5 || !certs.every((c) => typeof c === 'string')) {
    fail('certificates must be five base64url strings');
  }
  if (typeof o!.fwid !== 'string') fail('fwid must be a base64url string');
  const fwid = fromBase64Url(o!.fwid as string);
  if (fwid.length !== 48) fail('fwid must be 48 bytes');
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey('jwk', o!.attestationKey as JsonWebKey, P384, true, ['sign']);
  } catch {
    return fail('attestationKey is not a P-384 private JWK');
  }
  const ca = o!.caKeys;
  if (!Array.isArray(ca) || ca.length !== 4) fail('caKeys must be four private JWKs');
  let caKeys: CryptoKeyPair[];
  try {
    caKeys = await Promise.all((ca as unknown[]).map(importCaKeys));
  } catch {
    return fail('caKeys must be P-384 private JWKs');
  }
  return finish((certs as string[]).map(fromBase64Url), key, fwid, caKeys);
}
