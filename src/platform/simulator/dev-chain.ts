/**
 * A development ARK → ASK (or ASVK) → VCEK (or VLEK) chain shaped like AMD's, made at call time:
 * RSA-4096 ARK and ASK signing with RSASSA-PSS SHA-384 (salt 48), a P-384 endorsement key carrying
 * AMD's extensions (pub. 57230 Table 8). Every subject's O and OU say SIMULATED; a manifest trusts
 * this root only by naming its fingerprint, like any other root.
 *
 * The ARK and ASK private keys are dropped once the chain is made: nothing can issue under this
 * root afterwards (the CRLs asked for are issued before), and only the VCEK key (to sign reports)
 * is kept and exportable.
 */
import { sha256, toHex, utf8 } from '../../bytes.js';
import { parseX509Certificate } from '../../der/certificate.js';
import { integer, octetString, sequence, tlv } from '../../der/write.js';
import { SealgateError } from '../../errors.js';
import { AMD_EXTENSION_OIDS, encodeAmdExtensions } from '../../evidence/snp/cert-extensions.js';
import type { SnpProduct, TcbVersion } from '../../evidence/snp/types.js';
import { PRODUCT_SHAPES, type PssTrailer, SNP_PRODUCTS, simulatedCrlUrl } from './amd-shapes.js';
import { generateRsaPssKey, issueCertificate, keyIdentifier } from './certificate.js';
import { issueCrl } from './crl.js';

export type SimulatedSigningKey = 'vcek' | 'vlek';

export interface DevChainOptions {
  product: SnpProduct;
  /** Issue time; every certificate's notBefore (truncated to the second). */
  now: Date;
  /** The TCB the endorsement key is issued for (its SPL extensions). Turin needs `fmc`; Milan/Genoa must not have it. */
  tcb: TcbVersion;
  /** VCEK only: 64 bytes (Milan/Genoa) or 8 (Turin). Default: random, drawn at call time. */
  hwId?: Uint8Array;
  /** Validity of the VCEK/VLEK in days. Default as AMD: 7 years (VCEK), 1 year (VLEK). The ARK and ASK get 25 years, or longer to cover the leaf. */
  validityDays?: number;
  signingKey?: SimulatedSigningKey;
  /** VLEK only: the cspId extension (IA5String). Default "CN=sealgate-simulated-csp.invalid". */
  cspId?: string;
  /** How the leaf's PSS parameters write trailerField; default 'omitted' as KDS issues today (see PssTrailer). */
  leafPssTrailer?: PssTrailer;
  /**
   * CRLs to issue under the ARK while its key exists (crl.ts), in order, as `DevChain.crls`.
   * Each: its window (default `now` .. `now` + 7 days) and which certificates it revokes.
   */
  crls?: readonly DevCrlSpec[];
}

export interface DevCrlSpec {
  thisUpdate?: Date;
  nextUpdate?: Date;
  revoke?: readonly ('ask' | 'leaf')[];
}

/** What a manifest or a verifier's `trustAnchors` lists to trust this chain's root. */
export interface SimulatedTrustAnchor {
  /** SHA-256 of the ARK's DER, lower-case hex. */
  sha256: string;
  product: SnpProduct;
  simulated: true;
}

/** The certificates as an extended report carries them; `vcek` is the endorsement key's (VCEK or VLEK). */
export interface SnpCertificates {
  vcek: Uint8Array;
  ask: Uint8Array;
  ark: Uint8Array;
}

export interface DevChain {
  simulated: true;
  product: SnpProduct;
  signingKey: SimulatedSigningKey;
  tcb: TcbVersion;
  /** VCEK: its hwID; VLEK: null. */
  hwId: Uint8Array | null;
  /** VLEK: its cspId; VCEK: null. */
  cspId: string | null;
  certificates: SnpCertificates;
  arkSha256: string;
  trustAnchor: SimulatedTrustAnchor;
  /** ECDSA P-384 private key of the VCEK/VLEK (extractable, so the chain can be exported). */
  vcekPrivateKey: CryptoKey;
  /** The CRLs `DevChainOptions.crls` asked for (DER), issued by the ARK; not exported. */
  crls: Uint8Array[];
}

const DAY_MS = 86_400_000;
const LEAF_SERIAL = 0;
const DEFAULT_CSP_ID = 'CN=sealgate-simulated-csp.invalid';

const fail = (message: string): never => {
  throw new SealgateError('invalid_argument', message);
};

/** Checks a TCB for `product`: SPLs are bytes; `fmc` exists exactly on Turin (its TCB layout has it). */
export function checkTcb(tcb: TcbVersion, product: SnpProduct, what = 'tcb'): TcbVersion {
  if (typeof tcb !== 'object' || tcb === null) fail(`${what}: expected an object`);
  for (const k of ['bootloader', 'tee', 'snp', 'microcode'] as const) {
    const v = tcb[k];
    if (!Number.isInteger(v) || v < 0 || v > 255) fail(`${what}.${k}: expected an integer 0..255, got ${v}`);
  }
  if (product === 'Turin') {
    if (!Number.isInteger(tcb.fmc) || tcb.fmc! < 0 || tcb.fmc! > 255) {
      fail(`${what}.fmc: Turin needs an integer 0..255, got ${tcb.fmc}`);
    }
  } else if (tcb.fmc !== undefined) {
    fail(`${what}.fmc: only Turin has an FMC SPL, not ${product}`);
  }
  const out: TcbVersion = {
    bootloader: tcb.bootloader,
    tee: tcb.tee,
    snp: tcb.snp,
    microcode: tcb.microcode,
  };
  if (product === 'Turin') out.fmc = tcb.fmc!;
  return out;
}

function checkOptions(opts: DevChainOptions): void {
  if (typeof opts !== 'object' || opts === null) fail('expected an options object');
  if (!SNP_PRODUCTS.includes(opts.product))
    fail(`product: expected Milan, Genoa or Turin, got ${opts.product}`);
  if (!(opts.now instanceof Date) || Number.isNaN(opts.now.getTime())) fail('now: expected a valid Date');
  const kind = opts.signingKey ?? 'vcek';
  if (kind !== 'vcek' && kind !== 'vlek') fail(`signingKey: expected "vcek" or "vlek", got ${kind}`);
  if (opts.validityDays !== undefined && (!Number.isInteger(opts.validityDays) || opts.validityDays < 1)) {
    fail(`validityDays: expected a positive integer, got ${opts.validityDays}`);
  }
  if (kind === 'vlek' && opts.hwId !== undefined) fail('hwId: a VLEK carries no hwID');
  if (kind === 'vcek' && opts.cspId !== undefined) fail('cspId: only a VLEK carries a cspId');
  if (opts.cspId !== undefined && (typeof opts.cspId !== 'string' || !/^[\x20-\x7e]+$/.test(opts.cspId))) {
    fail('cspId: expected printable ASCII (an IA5String)');
  }
  const trailer = opts.leafPssTrailer;
  if (trailer !== undefined && trailer !== 'explicit' && trailer !== 'omitted') {
    fail(`leafPssTrailer: expected "explicit" or "omitted", got ${trailer}`);
  }
  const want = PRODUCT_SHAPES[opts.product].hwIdLength;
  if (opts.hwId !== undefined && (!(opts.hwId instanceof Uint8Array) || opts.hwId.length !== want)) {
    fail(`hwId: expected ${want} bytes for ${opts.product}, got ${opts.hwId?.length}`);
  }
}

function addYears(d: Date, years: number): Date {
  const out = new Date(d.getTime());
  out.setUTCFullYear(out.getUTCFullYear() + years);
  return out;
}

/** AMD's CA extensions (read from the real ARK/ASK): KeyUsage, SKI, (AKI), BasicConstraints, CRL DP. */
function caExtensions(role: 'ark' | 'ask', ski: Uint8Array, aki: Uint8Array | null, crlUrl: string) {
  const crlDp = sequence(sequence(tlv(0xa0, tlv(0xa0, tlv(0x86, utf8.encode(crlUrl))))));
  const skiExt = { oid: '2.5.29.14', value: octetString(ski) };
  if (role === 'ark') {
    return [
      // keyCertSign + cRLSign; AMD's exact BIT STRING 03 02 01 06.
      { oid: '2.5.29.15', critical: true, value: Uint8Array.of(0x03, 0x02, 0x01, 0x06) },
      skiExt,
      { oid: '2.5.29.19', critical: true, value: sequence(Uint8Array.of(0x01, 0x01, 0xff)) },
      { oid: '2.5.29.31', value: crlDp },
    ];
  }
  return [
    skiExt,
    { oid: '2.5.29.35', value: sequence(tlv(0x80, aki!)) },
    // cA TRUE, pathLenConstraint 0: the ASK signs only end-entity VCEKs.
    { oid: '2.5.29.19', critical: true, value: sequence(Uint8Array.of(0x01, 0x01, 0xff), integer(0)) },
    // keyCertSign; AMD writes 03 02 01 04 (one unused bit, not the minimal two): kept as AMD has it.
    { oid: '2.5.29.15', critical: true, value: Uint8Array.of(0x03, 0x02, 0x01, 0x04) },
    { oid: '2.5.29.31', value: crlDp },
  ];
}

/**
 * The VCEK/VLEK extensions of pub. 57230 Table 8, encoded by the parser's own inverse (so the two
 * cannot drift) and put in the order AMD's KDS writes them.
 */
function leafExtensions(product: SnpProduct, tcb: TcbVersion, hwId: Uint8Array | null, cspId: string | null) {
  const shape = PRODUCT_SHAPES[product];
  const kind = hwId !== null ? 'vcek' : 'vlek';
  const encoded = encodeAmdExtensions({
    structVersion: shape.structVersion,
    productName: shape.productName[kind],
    tcb,
    hwId,
    cspId,
  });
  const rank = (oid: string): number =>
    shape.extensionOrder.findIndex((name) => AMD_EXTENSION_OIDS[name] === oid);
  if (encoded.some((e) => rank(e.oid) < 0)) {
    throw new SealgateError('internal', 'dev chain: encodeAmdExtensions wrote an extension AMD does not');
  }
  return encoded.sort((a, b) => rank(a.oid) - rank(b.oid));
}

export async function createDevChain(opts: DevChainOptions): Promise<DevChain> {
  checkOptions(opts);
  const { product } = opts;
  const kind = opts.signingKey ?? 'vcek';
  const tcb = checkTcb(opts.tcb, product);
  const shape = PRODUCT_SHAPES[product];
  const hwId =
    kind === 'vcek' ? (opts.hwId?.slice() ?? crypto.getRandomValues(new Uint8Array(shape.hwIdLength))) : null;
  const cspId = kind === 'vlek' ? (opts.cspId ?? DEFAULT_CSP_ID) : null;

  const notBefore = new Date(Math.floor(opts.now.getTime() / 1000) * 1000);
  const leafNotAfter =
    opts.validityDays !== undefined
      ? new Date(notBefore.getTime() + opts.validityDays * DAY_MS)
      : addYears(notBefore, kind === 'vcek' ? 7 : 1);
  const caNotAfter = new Date(Math.max(addYears(notBefore, 25).getTime(), leafNotAfter.getTime()));

  const [arkKeys, askKeys, leafKeys] = await Promise.all([
    generateRsaPssKey(),
    generateRsaPssKey(),
    crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, [
      'sign',
      'verify',
    ]) as Promise<CryptoKeyPair>,
  ]);
  const [arkSki, askSki] = await Promise.all([
    keyIdentifier(arkKeys.publicKey),
    keyIdentifier(askKeys.publicKey),
  ]);
  const arkCn = `ARK-${product}`;
  const askCn = kind === 'vcek' ? `SEV-${product}` : `SEV-VLEK-${product}`;

  const ark = await issueCertificate({
    serial: shape.serials.ark,
    issuerCn: arkCn,
    subjectCn: arkCn,
    notBefore,
    notAfter: caNotAfter,
    subjectPublicKey: arkKeys.publicKey,
    extensions: caExtensions('ark', arkSki, null, simulatedCrlUrl(product, 'vcek')),
    issuerKey: arkKeys.privateKey,
    trailer: 'explicit',
  });
  const ask = await issueCertificate({
    serial: kind === 'vcek' ? shape.serials.ask : shape.serials.asvk,
    issuerCn: arkCn,
    subjectCn: askCn,
    notBefore,
    notAfter: caNotAfter,
    subjectPublicKey: askKeys.publicKey,
    extensions: caExtensions('ask', askSki, arkSki, simulatedCrlUrl(product, kind)),
    issuerKey: arkKeys.privateKey,
    trailer: 'explicit',
  });
  const vcek = await issueCertificate({
    serial: LEAF_SERIAL,
    issuerCn: askCn,
    subjectCn: kind === 'vcek' ? 'SEV-VCEK' : 'SEV-VLEK',
    notBefore,
    notAfter: leafNotAfter,
    subjectPublicKey: leafKeys.publicKey,
    extensions: leafExtensions(product, tcb, hwId, cspId),
    issuerKey: askKeys.privateKey,
    trailer: opts.leafPssTrailer ?? 'omitted',
  });
  const arkSha256 = toHex(await sha256(ark));
  const arkSubject = (await parseX509Certificate(ark)).subject;
  const askSerial = kind === 'vcek' ? shape.serials.ask : shape.serials.asvk;
  const crls: Uint8Array[] = [];
  for (const c of opts.crls ?? []) {
    crls.push(
      await issueCrl({
        issuer: arkSubject,
        thisUpdate: c.thisUpdate ?? notBefore,
        nextUpdate: c.nextUpdate ?? new Date(notBefore.getTime() + 7 * DAY_MS),
        revoked: (c.revoke ?? []).map((r) => (r === 'ask' ? askSerial : LEAF_SERIAL)),
        issuerKey: arkKeys.privateKey,
      }),
    );
  }
  return {
    simulated: true,
    product,
    signingKey: kind,
    tcb,
    hwId,
    cspId,
    certificates: { vcek, ask, ark },
    arkSha256,
    trustAnchor: { sha256: arkSha256, product, simulated: true },
    vcekPrivateKey: leafKeys.privateKey,
    crls,
  };
}
