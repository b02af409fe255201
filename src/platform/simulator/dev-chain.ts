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
  const validity = chainValidity(opts.now, kind, opts.validityDays);
  const keys = await generateChainKeys();
  const names = chainNames(product, kind);
  const certificates = await issueChain(opts, { kind, tcb, hwId, cspId, validity, keys, names });
  const arkSha256 = toHex(await sha256(certificates.ark));
  const crls = await issueRequestedCrls(opts.crls ?? [], {
    arkSubject: (await parseX509Certificate(certificates.ark)).subject,
    askSerial: names.askSerial,
    notBefore: validity.notBefore,
    arkKey: keys.ark.privateKey,
  });
  return {
    simulated: true,
    product,
    signingKey: kind,
    tcb,
    hwId,
    cspId,
    certificates,
    arkSha256,
    trustAnchor: { sha256: arkSha256, product, simulated: true },
    vcekPrivateKey: keys.leaf.privateKey,
    crls,
  };
}

interface ChainValidity {
  /** `now` truncated to the second: every certificate's notBefore. */
  notBefore: Date;
  leafNotAfter: Date;
  /** Invariant: caNotAfter ≥ leafNotAfter, so the CAs outlive the leaf they sign. */
  caNotAfter: Date;
}

/** AMD's lifetimes unless `validityDays` says otherwise: VCEK 7 years, VLEK 1, ARK/ASK 25. */
function chainValidity(
  now: Date,
  kind: SimulatedSigningKey,
  validityDays: number | undefined,
): ChainValidity {
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const leafNotAfter =
    validityDays !== undefined
      ? new Date(notBefore.getTime() + validityDays * DAY_MS)
      : addYears(notBefore, kind === 'vcek' ? 7 : 1);
  const caNotAfter = new Date(Math.max(addYears(notBefore, 25).getTime(), leafNotAfter.getTime()));
  return { notBefore, leafNotAfter, caNotAfter };
}

interface ChainKeys {
  ark: CryptoKeyPair;
  ask: CryptoKeyPair;
  /** ECDSA P-384, extractable: the chain can be exported with it. */
  leaf: CryptoKeyPair;
}

/** RSA-4096 PSS for ARK and ASK, P-384 ECDSA for the endorsement key, made in parallel. */
async function generateChainKeys(): Promise<ChainKeys> {
  const [ark, ask, leaf] = await Promise.all([
    generateRsaPssKey(),
    generateRsaPssKey(),
    crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, [
      'sign',
      'verify',
    ]) as Promise<CryptoKeyPair>,
  ]);
  return { ark, ask, leaf };
}

interface ChainNames {
  arkCn: string;
  askCn: string;
  leafCn: string;
  /** The ASK's serial for a VCEK chain, the ASVK's for a VLEK chain. */
  askSerial: number;
}

/** The subject CNs and the middle serial as AMD names them for `product` and the key kind. */
function chainNames(product: SnpProduct, kind: SimulatedSigningKey): ChainNames {
  const { serials } = PRODUCT_SHAPES[product];
  return {
    arkCn: `ARK-${product}`,
    askCn: kind === 'vcek' ? `SEV-${product}` : `SEV-VLEK-${product}`,
    leafCn: kind === 'vcek' ? 'SEV-VCEK' : 'SEV-VLEK',
    askSerial: kind === 'vcek' ? serials.ask : serials.asvk,
  };
}

interface ChainParts {
  kind: SimulatedSigningKey;
  tcb: TcbVersion;
  hwId: Uint8Array | null;
  cspId: string | null;
  validity: ChainValidity;
  keys: ChainKeys;
  names: ChainNames;
}

/** ARK (self-signed) → ASK/ASVK → VCEK/VLEK; the CAs with an explicit PSS trailer, as AMD's. */
async function issueChain(opts: DevChainOptions, parts: ChainParts): Promise<SnpCertificates> {
  const { product } = opts;
  const { kind, validity, keys, names } = parts;
  const shape = PRODUCT_SHAPES[product];
  const [arkSki, askSki] = await Promise.all([
    keyIdentifier(keys.ark.publicKey),
    keyIdentifier(keys.ask.publicKey),
  ]);
  const ark = await issueCertificate({
    serial: shape.serials.ark,
    issuerCn: names.arkCn,
    subjectCn: names.arkCn,
    notBefore: validity.notBefore,
    notAfter: validity.caNotAfter,
    subjectPublicKey: keys.ark.publicKey,
    extensions: caExtensions('ark', arkSki, null, simulatedCrlUrl(product, 'vcek')),
    issuerKey: keys.ark.privateKey,
    trailer: 'explicit',
  });
  const ask = await issueCertificate({
    serial: names.askSerial,
    issuerCn: names.arkCn,
    subjectCn: names.askCn,
    notBefore: validity.notBefore,
    notAfter: validity.caNotAfter,
    subjectPublicKey: keys.ask.publicKey,
    extensions: caExtensions('ask', askSki, arkSki, simulatedCrlUrl(product, kind)),
    issuerKey: keys.ark.privateKey,
    trailer: 'explicit',
  });
  const vcek = await issueCertificate({
    serial: LEAF_SERIAL,
    issuerCn: names.askCn,
    subjectCn: names.leafCn,
    notBefore: validity.notBefore,
    notAfter: validity.leafNotAfter,
    subjectPublicKey: keys.leaf.publicKey,
    extensions: leafExtensions(product, parts.tcb, parts.hwId, parts.cspId),
    issuerKey: keys.ask.privateKey,
    trailer: opts.leafPssTrailer ?? 'omitted',
  });
  return { vcek, ask, ark };
}

/**
 * The CRLs asked for, in order, signed by the ARK: issued now because the ARK key is dropped once
 * createDevChain returns. Each revokes the ASK/ASVK serial or the leaf's.
 */
async function issueRequestedCrls(
  specs: readonly DevCrlSpec[],
  ca: { arkSubject: Uint8Array; askSerial: number; notBefore: Date; arkKey: CryptoKey },
): Promise<Uint8Array[]> {
  const crls: Uint8Array[] = [];
  for (const c of specs) {
    crls.push(
      await issueCrl({
        issuer: ca.arkSubject,
        thisUpdate: c.thisUpdate ?? ca.notBefore,
        nextUpdate: c.nextUpdate ?? new Date(ca.notBefore.getTime() + 7 * DAY_MS),
        revoked: (c.revoke ?? []).map((r) => (r === 'ask' ? ca.askSerial : LEAF_SERIAL)),
        issuerKey: ca.arkKey,
      }),
    );
  }
  return crls;
}
