/**
 * AMD's X.509 extensions of a VCEK/VLEK: "Versioned Chip Endorsement Key (VCEK) Certificate and KDS
 * Interface Specification" (pub. 57230) Table 8, all under 1.3.6.1.4.1.3704.1:
 *   .1 structVersion INTEGER · .2 productName IA5String · .3.1 blSPL · .3.2 teeSPL · .3.3 snpSPL ·
 *   .3.4–.3.7 reserved SPLs · .3.8 ucodeSPL · .3.9 fmcSPL (Turin) — SPLs are INTEGERs ·
 *   .4 hwID (VCEK; extnValue IS the raw bytes, no OCTET STRING inside) · .5 cspId IA5String (VLEK).
 * Decoded strictly (der.ts); anything off is `malformed_certificate`. The verifier compares the
 * result with the report (TCB, CHIP_ID, product); this module only says what the certificate says.
 */

import { decodeDerIa5String, decodeDerUint8 } from '../../der/der.js';
import { encodeDerIa5String, encodeDerUint8 } from '../../der/write.js';
import { readCertificateFields } from '../../der/x509-fields.js';
import { isSealgateError, SealgateError } from '../../errors.js';
import { kindFromSubjectCns } from './certificate.js';
import { productFromName } from './product.js';
import type { AmdCertExtensions, SnpProduct, TcbVersion } from './types.js';

const P = '1.3.6.1.4.1.3704.1';

/** The OIDs of pub. 57230 Table 8, by the names AMD's KDS uses. */
export const AMD_EXTENSION_OIDS = {
  structVersion: `${P}.1`,
  productName: `${P}.2`,
  blSPL: `${P}.3.1`,
  teeSPL: `${P}.3.2`,
  snpSPL: `${P}.3.3`,
  spl4: `${P}.3.4`,
  spl5: `${P}.3.5`,
  spl6: `${P}.3.6`,
  spl7: `${P}.3.7`,
  ucodeSPL: `${P}.3.8`,
  fmcSPL: `${P}.3.9`,
  hwID: `${P}.4`,
  cspID: `${P}.5`,
} as const;

type AmdExtensionName = keyof typeof AMD_EXTENSION_OIDS;
const RESERVED_SPLS = ['spl4', 'spl5', 'spl6', 'spl7'] as const;

/** One X.509 extension: its OID and its extnValue contents. */
export interface RawExtension {
  oid: string;
  value: Uint8Array;
}

/** hwID is CHIP_ID: 64 bytes on Milan/Genoa, the first 8 bytes of CHIP_ID on Turin (pub. 57230). */
const HWID_LENGTH: Record<SnpProduct, number> = { Milan: 64, Genoa: 64, Turin: 8 };

function bad(message: string): SealgateError {
  return new SealgateError('malformed_certificate', `certificate: ${message}`);
}

function label(n: AmdExtensionName): string {
  return `certificate: ${n} (${AMD_EXTENSION_OIDS[n]})`;
}

/** A certificate's extensions by Table 8 name; a duplicate OID (RFC 5280 §4.2) is an error. */
class AmdExtensionSet {
  readonly #byOid = new Map<string, Uint8Array>();
  constructor(extensions: readonly RawExtension[]) {
    for (const e of extensions) {
      if (this.#byOid.has(e.oid)) throw bad(`duplicate extension ${e.oid}`);
      this.#byOid.set(e.oid, e.value);
    }
  }
  get(n: AmdExtensionName): Uint8Array | undefined {
    return this.#byOid.get(AMD_EXTENSION_OIDS[n]);
  }
  need(n: AmdExtensionName): Uint8Array {
    const v = this.get(n);
    if (v === undefined) throw bad(`missing extension ${n} (${AMD_EXTENSION_OIDS[n]})`);
    return v;
  }
  uint8(n: AmdExtensionName): number {
    return decodeDerUint8(this.need(n), label(n));
  }
}

/** The SPLs (.3.x): bl, tee, snp, ucode; fmc on Turin only; the reserved ones zero when present. */
function decodeSpls(x: AmdExtensionSet, product: SnpProduct): TcbVersion {
  const tcb: TcbVersion = {
    bootloader: x.uint8('blSPL'),
    tee: x.uint8('teeSPL'),
    snp: x.uint8('snpSPL'),
    microcode: x.uint8('ucodeSPL'),
  };
  if (product === 'Turin') tcb.fmc = x.uint8('fmcSPL');
  else if (x.get('fmcSPL') !== undefined) throw bad(`fmcSPL on a ${product} certificate`);
  // The reserved SPLs mirror the reserved TCB_VERSION bytes, which must be zero (see tcb.ts).
  for (const n of RESERVED_SPLS) {
    const v = x.get(n);
    if (v !== undefined && decodeDerUint8(v, label(n)) !== 0) throw bad(`reserved ${n} is not zero`);
  }
  return tcb;
}

/** A VCEK's hwID (.4, the product's length, no cspID) or a VLEK's cspID (.5, no hwID). */
function decodeIdentity(
  x: AmdExtensionSet,
  kind: 'vcek' | 'vlek',
  product: SnpProduct,
): Pick<AmdCertExtensions, 'hwId' | 'cspId'> {
  const hw = x.get('hwID');
  const csp = x.get('cspID');
  if (kind === 'vcek') {
    if (hw === undefined) throw bad('missing extension hwID (1.3.6.1.4.1.3704.1.4) on a VCEK');
    if (csp !== undefined) throw bad('cspID on a VCEK');
    if (hw.length !== HWID_LENGTH[product]) {
      throw bad(`hwID is ${hw.length} bytes, expected ${HWID_LENGTH[product]} for ${product}`);
    }
    return { hwId: hw.slice(), cspId: null };
  }
  if (csp === undefined) throw bad('missing extension cspID (1.3.6.1.4.1.3704.1.5) on a VLEK');
  if (hw !== undefined) throw bad('hwID on a VLEK');
  return { hwId: null, cspId: decodeDerIa5String(csp, label('cspID')) };
}

/**
 * The AMD extensions among `extensions` (from any X.509 parser) of a certificate of `kind`.
 * Extensions outside Table 8 are ignored; a duplicate OID (RFC 5280 §4.2) is an error.
 */
export function decodeAmdExtensions(
  extensions: readonly RawExtension[],
  kind: 'vcek' | 'vlek',
): AmdCertExtensions {
  const x = new AmdExtensionSet(extensions);
  const structVersion = x.uint8('structVersion');
  const productName = decodeDerIa5String(x.need('productName'), label('productName'));
  const product = productFromName(productName);
  if (product === null) throw bad(`productName ${JSON.stringify(productName)} is not a known product`);
  const tcb = decodeSpls(x, product);
  return { structVersion, productName, tcb, ...decodeIdentity(x, kind, product) };
}

/** The AMD extensions of a VCEK/VLEK given as DER; its kind comes from the subject CN. */
export function parseAmdCertExtensions(der: Uint8Array): AmdCertExtensions {
  const fields = readCertificateFields(der);
  return decodeAmdExtensions(
    fields.extensions.map((e) => ({ oid: e.oid, value: e.value })),
    kindFromSubjectCns(fields.subject.cns),
  );
}

/**
 * The inverse, for the simulator's development VCEK/VLEK: the extensions AMD's KDS puts in a
 * certificate of this product (reserved SPLs as zero: spl4–7 on Milan/Genoa, spl5–7 on Turin),
 * each as (OID, extnValue). The kind follows from which of hwId/cspId is set.
 */
export function encodeAmdExtensions(ext: AmdCertExtensions): RawExtension[] {
  const product = productFromName(ext.productName);
  if (product === null) {
    throw new SealgateError(
      'invalid_argument',
      `AMD extensions: unknown productName ${JSON.stringify(ext.productName)}`,
    );
  }
  if ((ext.hwId === null) === (ext.cspId === null)) {
    throw new SealgateError(
      'invalid_argument',
      'AMD extensions: exactly one of hwId (VCEK) and cspId (VLEK)',
    );
  }
  const out: RawExtension[] = [];
  const add = (n: AmdExtensionName, value: Uint8Array): void => {
    out.push({ oid: AMD_EXTENSION_OIDS[n], value });
  };
  const int = (n: AmdExtensionName, v: number | undefined): void => {
    if (v === undefined) throw new SealgateError('invalid_argument', `AMD extensions: ${n} is required`);
    add(n, encodeDerUint8(v, `AMD extensions: ${n}`));
  };
  int('structVersion', ext.structVersion);
  add('productName', encodeDerIa5String(ext.productName, 'AMD extensions: productName'));
  if (product === 'Turin') int('fmcSPL', ext.tcb.fmc);
  else if (ext.tcb.fmc !== undefined) {
    throw new SealgateError('invalid_argument', `AMD extensions: ${product} has no fmcSPL`);
  }
  int('blSPL', ext.tcb.bootloader);
  int('teeSPL', ext.tcb.tee);
  int('snpSPL', ext.tcb.snp);
  for (const n of RESERVED_SPLS) if (product !== 'Turin' || n !== 'spl4') int(n, 0);
  int('ucodeSPL', ext.tcb.microcode);
  if (ext.hwId !== null) add('hwID', ext.hwId.slice());
  if (ext.cspId !== null) add('cspID', encodeDerIa5String(ext.cspId, 'AMD extensions: cspId'));
  // Same rules both ways: what we emit must decode (e.g. a hwId of the wrong length must not).
  try {
    decodeAmdExtensions(out, ext.hwId !== null ? 'vcek' : 'vlek');
  } catch (e) {
    if (isSealgateError(e)) throw new SealgateError('invalid_argument', `AMD extensions: ${e.message}`);
    throw e;
  }
  return out;
}
