/**
 * A DevChain as JSON (PKCS#8 and DER, base64), so that a development stack keeps one simulated
 * root across restarts — and with it the fingerprint its manifests pin. Import is strict: every
 * field is checked, the certificates must decode, and the private key must be the VCEK's.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { constantTimeEqual, fromBase64, fromHex, sha256, toBase64, toHex } from '../../bytes.js';
import { SealgateError } from '../../errors.js';
import { parseAmdCertExtensions } from '../../evidence/snp/cert-extensions.js';
import { certificateKind } from '../../evidence/snp/certificate.js';
import { productFromName } from '../../evidence/snp/product.js';
import type { AmdCertExtensions, SnpProduct, TcbVersion } from '../../evidence/snp/types.js';
import { PRODUCT_SHAPES, SNP_PRODUCTS } from './amd-shapes.js';
import { checkTcb, type DevChain, type SimulatedSigningKey } from './dev-chain.js';

export const DEV_CHAIN_FORMAT = 'sealgate.simulated-snp-chain.v1';

export interface DevChainJson {
  format: typeof DEV_CHAIN_FORMAT;
  simulated: true;
  product: SnpProduct;
  signingKey: SimulatedSigningKey;
  tcb: TcbVersion;
  /** Hex, VCEK only. */
  hwId: string | null;
  cspId: string | null;
  /** Base64 DER. */
  certificates: { vcek: string; ask: string; ark: string };
  /** Base64 PKCS#8 of the VCEK/VLEK's P-384 private key. */
  vcekPrivateKeyPkcs8: string;
}

const P384 = { name: 'ECDSA', namedCurve: 'P-384' } as const;

const fail = (message: string): never => {
  throw new SealgateError('invalid_argument', `dev chain JSON: ${message}`);
};

export async function exportDevChain(chain: DevChain): Promise<DevChainJson> {
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', chain.vcekPrivateKey));
  return {
    format: DEV_CHAIN_FORMAT,
    simulated: true,
    product: chain.product,
    signingKey: chain.signingKey,
    tcb: { ...chain.tcb },
    hwId: chain.hwId === null ? null : toHex(chain.hwId),
    cspId: chain.cspId,
    certificates: {
      vcek: toBase64(chain.certificates.vcek),
      ask: toBase64(chain.certificates.ask),
      ark: toBase64(chain.certificates.ark),
    },
    vcekPrivateKeyPkcs8: toBase64(pkcs8),
  };
}

function certificateDer(b64: unknown, name: string): { der: Uint8Array; cert: Certificate } {
  if (typeof b64 !== 'string') fail(`certificates.${name} must be a base64 string`);
  const der = fromBase64(b64 as string);
  try {
    return { der, cert: AsnConvert.parse(der, Certificate) };
  } catch {
    return fail(`certificates.${name} is not a DER certificate`);
  }
}

/** The JSON's description of the leaf must be what the leaf's AMD extensions say. */
function checkLeafAgrees(
  der: Uint8Array,
  want: {
    product: SnpProduct;
    signingKey: SimulatedSigningKey;
    tcb: TcbVersion;
    hwId: Uint8Array | null;
    cspId: string | null;
  },
): void {
  let kind: SimulatedSigningKey;
  let ext: AmdCertExtensions;
  try {
    kind = certificateKind(der);
    ext = parseAmdCertExtensions(der);
  } catch (e) {
    throw new SealgateError('invalid_argument', `dev chain JSON: certificates.vcek: ${(e as Error).message}`);
  }
  if (kind !== want.signingKey)
    fail(`certificates.vcek is a ${kind.toUpperCase()}, signingKey says ${want.signingKey}`);
  if (productFromName(ext.productName) !== want.product)
    fail(`certificates.vcek is for ${ext.productName}, product says ${want.product}`);
  const t = ext.tcb;
  if (
    t.fmc !== want.tcb.fmc ||
    t.bootloader !== want.tcb.bootloader ||
    t.tee !== want.tcb.tee ||
    t.snp !== want.tcb.snp ||
    t.microcode !== want.tcb.microcode
  ) {
    fail('tcb differs from the SPLs of certificates.vcek');
  }
  const hwOk =
    ext.hwId === null ? want.hwId === null : want.hwId !== null && constantTimeEqual(ext.hwId, want.hwId);
  if (!hwOk) fail('hwId differs from the hwID of certificates.vcek');
  if (ext.cspId !== want.cspId) fail('cspId differs from the cspId of certificates.vcek');
}

export async function importDevChain(json: unknown): Promise<DevChain> {
  if (typeof json !== 'object' || json === null) fail('expected an object');
  const j = json as Record<string, unknown>;
  if (j.format !== DEV_CHAIN_FORMAT) fail(`format must be "${DEV_CHAIN_FORMAT}"`);
  if (j.simulated !== true) fail('simulated must be true');
  const product = j.product as SnpProduct;
  if (!SNP_PRODUCTS.includes(product)) fail(`unknown product ${JSON.stringify(j.product)}`);
  const signingKey = j.signingKey as SimulatedSigningKey;
  if (signingKey !== 'vcek' && signingKey !== 'vlek') fail('signingKey must be "vcek" or "vlek"');
  const tcb = checkTcb(j.tcb as TcbVersion, product, 'tcb');
  let hwId: Uint8Array | null = null;
  let cspId: string | null = null;
  if (signingKey === 'vcek') {
    if (typeof j.hwId !== 'string') fail('hwId must be a hex string for a VCEK');
    hwId = fromHex(j.hwId as string, PRODUCT_SHAPES[product].hwIdLength);
    if (j.cspId !== null) fail('cspId must be null for a VCEK');
  } else {
    if (typeof j.cspId !== 'string') fail('cspId must be a string for a VLEK');
    cspId = j.cspId as string;
    if (j.hwId !== null) fail('hwId must be null for a VLEK');
  }
  const certs = j.certificates as Record<string, unknown> | null;
  if (typeof certs !== 'object' || certs === null) fail('certificates must be an object');
  const vcek = certificateDer(certs!.vcek, 'vcek');
  const ask = certificateDer(certs!.ask, 'ask');
  const ark = certificateDer(certs!.ark, 'ark');
  if (typeof j.vcekPrivateKeyPkcs8 !== 'string') fail('vcekPrivateKeyPkcs8 must be a base64 string');
  checkLeafAgrees(vcek.der, { product, signingKey, tcb, hwId, cspId });

  let privateKey: CryptoKey;
  try {
    privateKey = await crypto.subtle.importKey(
      'pkcs8',
      fromBase64(j.vcekPrivateKeyPkcs8 as string) as BufferSource,
      P384,
      true,
      ['sign'],
    );
  } catch {
    return fail('vcekPrivateKeyPkcs8 is not a P-384 PKCS#8 private key');
  }
  // The key must be the one the VCEK certifies, or every report would fail verification later.
  const spki = AsnConvert.serialize(vcek.cert.tbsCertificate.subjectPublicKeyInfo);
  const certKey = await crypto.subtle
    .importKey('spki', spki, P384, true, ['verify'])
    .catch(() => fail('certificates.vcek does not hold a P-384 public key'));
  const [priv, pub] = await Promise.all([
    crypto.subtle.exportKey('jwk', privateKey),
    crypto.subtle.exportKey('jwk', certKey),
  ]);
  if (priv.x !== pub.x || priv.y !== pub.y)
    fail('vcekPrivateKeyPkcs8 does not match the public key of certificates.vcek');

  const arkSha256 = toHex(await sha256(ark.der));
  return {
    simulated: true,
    product,
    signingKey,
    tcb,
    hwId,
    cspId,
    certificates: { vcek: vcek.der, ask: ask.der, ark: ark.der },
    arkSha256,
    trustAnchor: { sha256: arkSha256, product, simulated: true },
    vcekPrivateKey: privateKey,
    crls: [],
  };
}
