/**
 * NVIDIA Reference Integrity Manifests: ISO/IEC 19770-2:2015 SWID tags (TCG "Reference Integrity
 * Manifest Information Model" binding) with one enveloped XML signature, as nvtrust's
 * `rim/__init__.py` reads them. Stage 1: bytes → `NvidiaRim` with the pieces the signature check
 * needs and the reference measurements, no cryptography.
 *
 * Signature-wrapping (XML-DSig Best Practices §2.1, §3.2): a verifier must read its data from what
 * the signature covers. Only one shape is accepted, so that it does: exactly one ds:Signature in
 * the document, a child of the root SoftwareIdentity; its SignedInfo holds exactly
 * CanonicalizationMethod (C14N 1.1), SignatureMethod (ecdsa-sha384) and one Reference whose
 * URI="" (the whole document), whose Transforms are exactly enveloped-signature then C14N 1.1 and
 * whose DigestMethod is SHA-384. The measurements, Meta and tag id are read from the same parsed
 * document whose canonical form (minus that Signature) is digested, never from a second parse.
 * Anything else — another element or attribute in SignedInfo, a second Reference, an Id-based
 * reference, a DOCTYPE, comments, CDATA or processing instructions (c14n.ts) — is malformed.
 */
import { DOMParser, type Document, type Element } from '@xmldom/xmldom';
import { fromBase64 } from '../../../bytes.js';
import { SealgateError } from '../../../errors.js';
import { assertPlainDocument, canonicalize } from './c14n.js';

export const SWID_NS = 'http://standards.iso.org/iso/19770/-2/2015/schema.xsd';
export const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
export const SHA384_HASH_NS = 'http://www.w3.org/2001/04/xmlenc#sha384';
export const C14N_11 = 'http://www.w3.org/2006/12/xml-c14n11';
export const ENVELOPED_SIGNATURE = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
export const ECDSA_SHA384 = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384';
export const DIGEST_SHA384 = 'http://www.w3.org/2001/04/xmldsig-more#sha384';

/** A RIM is a few tens of KiB; anything much larger is not one (and is not parsed). */
export const MAX_RIM_BYTES = 1 << 20;

export interface RimMeasurement {
  /** 0-based RIM index; it describes SPDM measurement block index + 1. */
  index: number;
  active: boolean;
  /** Size of each value in bytes (48 for SHA-384). */
  size: number;
  /** Hash0 … Hash{alternatives-1}: any one matches. */
  alternatives: readonly Uint8Array[];
}

export interface NvidiaRim {
  tagId: string;
  /** Meta colloquialVersion: the driver ("545.00") or VBIOS ("96.00.5E.00.01") version. */
  version: string;
  /** Meta product, e.g. "GH100". */
  product: string;
  measurements: readonly RimMeasurement[];
  /** Canonical document minus the Signature (UTF-8): what DigestValue is the SHA-384 of. */
  signedDocument: Uint8Array;
  digestValue: Uint8Array;
  /** Canonical SignedInfo (UTF-8): what SignatureValue signs. */
  signedInfo: Uint8Array;
  /** ECDSA P-384 r ‖ s (XML-DSig 1.1 §6.4.3 ECDSA: the two integers, each 48 bytes). */
  signatureValue: Uint8Array;
  /** The KeyInfo certificates (DER), in document order: signer first, root last. */
  certificates: readonly Uint8Array[];
}

function bad(message: string): SealgateError {
  return new SealgateError('malformed_evidence', `RIM: ${message}`, { field: 'rim' });
}

function parseXml(bytes: Uint8Array): Document {
  if (bytes.length > MAX_RIM_BYTES) throw bad(`${bytes.length} bytes is larger than ${MAX_RIM_BYTES}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw bad('not UTF-8');
  }
  try {
    // Every warning and error stops the parse: a RIM that a strict parser would not read is refused.
    const parser = new DOMParser({
      onError: (level, message) => {
        throw new Error(`${level}: ${message}`);
      },
    });
    return parser.parseFromString(text, 'text/xml');
  } catch (e) {
    throw bad(`XML does not parse: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The element children of `el` (text between them must be whitespace). */
function elements(el: Element): Element[] {
  const out: Element[] = [];
  for (const n of Array.from(el.childNodes)) {
    if (n.nodeType === 1) out.push(n as Element);
    else if (!/^\s*$/.test(n.nodeValue ?? '')) throw bad(`unexpected text in ${el.tagName}`);
  }
  return out;
}

function only(el: Element, names: readonly string[], ns: string): Element[] {
  const kids = elements(el);
  if (
    kids.length !== names.length ||
    kids.some((k, i) => k.namespaceURI !== ns || k.localName !== names[i])
  ) {
    throw bad(`${el.localName} must hold exactly ${names.join(', ')}`);
  }
  return kids;
}

function attributesExactly(el: Element, names: readonly string[]): void {
  const got = Array.from(el.attributes)
    .filter((a) => !(a.name === 'xmlns' || a.name.startsWith('xmlns:')))
    .map((a) => a.name)
    .sort();
  if (got.join(' ') !== [...names].sort().join(' ')) {
    throw bad(`${el.localName} must have exactly the attributes ${names.join(', ') || '(none)'}`);
  }
}

function algorithm(el: Element, want: string): void {
  attributesExactly(el, ['Algorithm']);
  if (el.childNodes.length > 0 || el.getAttribute('Algorithm') !== want) {
    throw bad(`${el.localName} must be ${want}`);
  }
}

function base64Of(el: Element, what: string): Uint8Array {
  attributesExactly(el, []);
  if (Array.from(el.childNodes).some((n) => n.nodeType !== 3)) throw bad(`${what} holds elements`);
  try {
    return fromBase64((el.textContent ?? '').replace(/[\r\n\t ]/g, ''));
  } catch {
    throw bad(`${what} is not base64`);
  }
}

/** The one ds:Signature, checked to the shape of the header; returns its parts. */
function signatureParts(doc: Document, root: Element) {
  const all = Array.from(doc.getElementsByTagNameNS(DSIG_NS, 'Signature'));
  if (all.length !== 1 || all[0]!.parentNode !== root) {
    throw bad('there must be exactly one ds:Signature, a child of the root element');
  }
  const signature = all[0]!;
  attributesExactly(signature, []);
  const [signedInfo, signatureValue, keyInfo] = only(
    signature,
    ['SignedInfo', 'SignatureValue', 'KeyInfo'],
    DSIG_NS,
  ) as [Element, Element, Element];
  attributesExactly(signedInfo, []);
  const [c14n, method, reference] = only(
    signedInfo,
    ['CanonicalizationMethod', 'SignatureMethod', 'Reference'],
    DSIG_NS,
  ) as [Element, Element, Element];
  algorithm(c14n, C14N_11);
  algorithm(method, ECDSA_SHA384);
  attributesExactly(reference, ['URI']);
  if (reference.getAttribute('URI') !== '') throw bad('the Reference must be URI="" (the whole document)');
  const [transforms, digestMethod, digestValue] = only(
    reference,
    ['Transforms', 'DigestMethod', 'DigestValue'],
    DSIG_NS,
  ) as [Element, Element, Element];
  attributesExactly(transforms, []);
  const [t1, t2] = only(transforms, ['Transform', 'Transform'], DSIG_NS) as [Element, Element];
  algorithm(t1, ENVELOPED_SIGNATURE);
  algorithm(t2, C14N_11);
  algorithm(digestMethod, DIGEST_SHA384);
  attributesExactly(keyInfo, []);
  const [x509Data] = only(keyInfo, ['X509Data'], DSIG_NS) as [Element];
  attributesExactly(x509Data, []);
  const certs = elements(x509Data);
  if (
    certs.length === 0 ||
    certs.some((c) => c.namespaceURI !== DSIG_NS || c.localName !== 'X509Certificate')
  ) {
    throw bad('X509Data must hold X509Certificate elements only');
  }
  return {
    signature,
    signedInfo,
    digestValue: base64Of(digestValue, 'DigestValue'),
    signatureValue: base64Of(signatureValue, 'SignatureValue'),
    certificates: certs.map((c) => base64Of(c, 'X509Certificate')),
  };
}

function swidChild(root: Element, name: string): Element {
  const found = elements(root).filter((e) => e.namespaceURI === SWID_NS && e.localName === name);
  if (found.length !== 1) throw bad(`SoftwareIdentity must have exactly one ${name}`);
  return found[0]!;
}

const DECIMAL = /^(0|[1-9][0-9]{0,3})$/;

function measurementOf(el: Element): RimMeasurement {
  if (
    el.namespaceURI !== SWID_NS ||
    el.localName !== 'Resource' ||
    el.getAttribute('type') !== 'Measurement'
  ) {
    throw bad('Payload must hold Measurement resources only');
  }
  const num = (name: string): number => {
    const v = el.getAttribute(name) ?? '';
    if (!DECIMAL.test(v)) throw bad(`Resource ${name}=${JSON.stringify(v)} is not a small decimal`);
    return Number(v);
  };
  const active = el.getAttribute('active');
  if (active !== 'True' && active !== 'False') throw bad(`Resource active=${JSON.stringify(active)}`);
  const index = num('index');
  const size = num('size');
  const count = num('alternatives');
  if (count < 1) throw bad(`Resource ${index}: no alternatives`);
  const alternatives: Uint8Array[] = [];
  for (let k = 0; k < count; k++) {
    const hex = el.getAttributeNS(SHA384_HASH_NS, `Hash${k}`);
    if (hex === null || !/^[0-9a-fA-F]*$/.test(hex) || hex.length !== 2 * size) {
      throw bad(`Resource ${index}: Hash${k} missing or not ${size} bytes of hex`);
    }
    alternatives.push(Uint8Array.from(hex.match(/../g) ?? [], (h) => Number.parseInt(h, 16)));
  }
  if (el.getAttributeNS(SHA384_HASH_NS, `Hash${count}`) !== null) {
    throw bad(`Resource ${index}: more hashes than its ${count} alternatives`);
  }
  return { index, active: active === 'True', size, alternatives };
}

export function parseRim(bytes: Uint8Array): NvidiaRim {
  if (!(bytes instanceof Uint8Array))
    throw new SealgateError('invalid_argument', 'RIM: expected a Uint8Array');
  const doc = parseXml(bytes);
  assertPlainDocument(doc);
  const root = doc.documentElement!;
  if (root.namespaceURI !== SWID_NS || root.localName !== 'SoftwareIdentity') {
    throw bad('the root element is not a SWID SoftwareIdentity');
  }
  const sig = signatureParts(doc, root);
  const meta = swidChild(root, 'Meta');
  const payload = swidChild(root, 'Payload');
  const measurements = elements(payload).map(measurementOf);
  const seen = new Set<number>();
  for (const m of measurements) {
    if (seen.has(m.index)) throw bad(`measurement index ${m.index} appears twice`);
    seen.add(m.index);
  }
  const text = (el: Element, name: string): string => {
    const v = el.getAttribute(name);
    if (v === null || v === '') throw bad(`${el.localName} has no ${name}`);
    return v;
  };
  const utf8 = new TextEncoder();
  return {
    tagId: text(root, 'tagId'),
    version: text(meta, 'colloquialVersion'),
    product: text(meta, 'product'),
    measurements,
    signedDocument: utf8.encode(canonicalize(doc, sig.signature)),
    digestValue: sig.digestValue,
    signedInfo: utf8.encode(canonicalize(sig.signedInfo)),
    signatureValue: sig.signatureValue,
    certificates: sig.certificates,
  };
}
