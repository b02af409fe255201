/**
 * NVIDIA's certificate chains — the GPU device chain (leaf "GH100 A01 GSP FMC LF" → GSP BROM →
 * Provisioner ICA → "NVIDIA GH100 Identity" → "NVIDIA Device Identity CA") and the RIM signer
 * chain (HCC RIM signer → Reference Value L3 → Reference Value GH100 CA → "NVIDIA CoRIM signing Root
 * CA") — are ECDSA P-384 with SHA-384 throughout. Path validation after RFC 5280 §6.1, reduced to
 * what a fixed, complete chain needs (as nvtrust's `verify_certificate_chain` does with OpenSSL):
 *
 *  1. the last certificate's SHA-256 (of its DER) is a pinned root              → root_untrusted
 *  2. it is self-issued and its self-signature verifies
 *  3. each certificate's issuer is the next one's subject (DER bytes, stricter than §7.1 matching)
 *     and its signature verifies under the next one's key; only the root is self-issued (NVIDIA's
 *     chains have no key-rollover certificates: a copy of the root before it is refused)
 *  4. every issuer is a CA allowed to sign certificates (§4.2.1.9 cA, §4.2.1.3 keyCertSign)
 *  5. both AlgorithmIdentifiers of every certificate are exactly ecdsa-with-SHA384 (RFC 5758 §3.2,
 *     parameters absent) and every issuer key is P-384
 *  6. no critical extension but keyUsage and basicConstraints (§4.2)
 *  7. no issuer has more intermediates below it than its pathLenConstraint allows (§4.2.1.9,
 *     src/verify/path-length.ts)                                        → cert_chain_invalid (2–7)
 *  8. every certificate is within its validity at `at` (§4.1.2.5, bounds inclusive) → cert_expired
 * Name constraints are not evaluated (NVIDIA's chains carry none; a critical one is refused by 6);
 * the chains are pinned at the root, and one longer than `expectedLength` is refused.
 */
import { constantTimeEqual, fromHex } from '../../bytes.js';
import type { Certificate } from '../../der/certificate.js';
import { ecdsaDerToP1363 } from '../../der/ecdsa-signature.js';
import { isSealgateError } from '../../errors.js';
import { pathLengthExceeded, pathLengthText } from '../path-length.js';
import { type Violation, violation } from '../violations.js';

/** AlgorithmIdentifier { ecdsa-with-SHA384 (1.2.840.10045.4.3.3) } with parameters absent (RFC 5758 §3.2). */
export const ECDSA_WITH_SHA384 = fromHex('300a06082a8648ce3d040303');

/** RFC 5280 §4.2.1.3 keyUsage and §4.2.1.9 basicConstraints. */
const KNOWN_CRITICAL = new Set(['2.5.29.15', '2.5.29.19']);

export interface EcdsaChainInput {
  /** Leaf first, root last. */
  certs: readonly Certificate[];
  /** SHA-256 (lower-case hex) of the DER of each root accepted. */
  anchors: readonly string[];
  at: Date;
  /** Where the chain sits in a verdict, e.g. "chain" or "rim.driver.chain". */
  field: string;
  /** How many certificates the chain must have, when fixed (the Hopper device chain: 5). */
  expectedLength?: number;
}

export interface EcdsaChainResult {
  violations: Violation[];
  /** Everything but validity dates holds: the leaf's key is the pinned root's. */
  leafKeyTrusted: boolean;
}

/** The P-384 ECDSA verification key of a SubjectPublicKeyInfo, or null when it is not one. */
export async function importP384Key(spki: Uint8Array): Promise<CryptoKey | null> {
  try {
    return await crypto.subtle.importKey(
      'spki',
      spki as BufferSource,
      { name: 'ECDSA', namedCurve: 'P-384' },
      false,
      ['verify'],
    );
  } catch {
    return null;
  }
}

/** ECDSA P-384/SHA-384 over `data` with a DER Ecdsa-Sig-Value; false for any failure. */
export async function verifyDerEcdsa(
  key: CryptoKey,
  derSignature: Uint8Array,
  data: Uint8Array,
): Promise<boolean> {
  let p1363: Uint8Array;
  try {
    p1363 = ecdsaDerToP1363(derSignature, 48);
  } catch (e) {
    if (isSealgateError(e)) return false;
    throw e;
  }
  return verifyP1363Ecdsa(key, p1363, data);
}

/**
 * ECDSA P-384/SHA-384 over `data` with an IEEE P1363 signature (r ‖ s, 48 bytes each, as SPDM and
 * the RIMs' SignatureValue carry it); false for any failure. WebCrypto, not @noble/curves: noble's
 * default `lowS: true` refuses about half of genuine ECDSA signatures, which NVIDIA does not normalize.
 */
export async function verifyP1363Ecdsa(
  key: CryptoKey,
  signature: Uint8Array,
  data: Uint8Array,
): Promise<boolean> {
  try {
    return await crypto.subtle.verify(
      { name: 'ECDSA', hash: 'SHA-384' },
      key,
      signature as BufferSource,
      data as BufferSource,
    );
  } catch {
    return false;
  }
}

function isEcdsaSha384(cert: Certificate): boolean {
  return (
    constantTimeEqual(cert.signatureAlgorithm, ECDSA_WITH_SHA384) &&
    constantTimeEqual(cert.tbsSignatureAlgorithm, ECDSA_WITH_SHA384)
  );
}

function label(cert: Certificate, i: number): string {
  return `certificate ${i} (${cert.subjectCn ?? cert.subjectText})`;
}

/** One certificate of the chain and the one that signs it: the next one, or itself for the root. */
interface Link {
  cert: Certificate;
  index: number;
  isRoot: boolean;
  issuer: Certificate;
  issuerIndex: number;
  /** The issuer's P-384 key, or null when its SubjectPublicKeyInfo is not one. */
  issuerKey: CryptoKey | null;
}

function linksOf(certs: readonly Certificate[], keys: readonly (CryptoKey | null)[]): Link[] {
  return certs.map((cert, index) => {
    const isRoot = index === certs.length - 1;
    const issuerIndex = isRoot ? index : index + 1;
    return {
      cert,
      index,
      isRoot,
      issuer: certs[issuerIndex]!,
      issuerIndex,
      issuerKey: keys[issuerIndex] ?? null,
    };
  });
}

/** A chain of fixed length has exactly that many certificates (checked, not trusted, by callers). */
function checkLength(input: EcdsaChainInput): Violation[] {
  const { certs, expectedLength, field } = input;
  if (expectedLength === undefined || certs.length === expectedLength) return [];
  const text = `the chain has ${certs.length} certificates, expected ${expectedLength}`;
  return [violation('cert_chain_invalid', text, { field, expected: expectedLength, actual: certs.length })];
}

/** Step 1: the last certificate's SHA-256 is a pinned root. */
function checkPinnedRoot(input: EcdsaChainInput, root: Certificate): Violation[] {
  const { anchors, field } = input;
  if (anchors.includes(root.sha256)) return [];
  const text = `root ${root.sha256} (${root.subjectText}) is not a pinned root`;
  return [
    violation('root_untrusted', text, {
      field: `${field}.root`,
      expected: [...anchors],
      actual: root.sha256,
    }),
  ];
}

/** Step 5: both AlgorithmIdentifiers are ecdsa-with-SHA384 (RFC 5758 §3.2); the issuer key is P-384. */
function checkAlgorithms(link: Link): string[] {
  const out: string[] = [];
  if (!isEcdsaSha384(link.cert))
    out.push(`${label(link.cert, link.index)} is not signed with ecdsa-with-SHA384`);
  if (link.issuerKey === null) out.push(`${label(link.issuer, link.issuerIndex)} has no P-384 public key`);
  return out;
}

/**
 * Steps 2–3, names (RFC 5280 §6.1.3 (a)(4), by DER bytes): the issuer is the next certificate's
 * subject, the root's its own; only the root is self-issued.
 */
function checkNames(link: Link): string[] {
  const { cert, index, isRoot } = link;
  const out: string[] = [];
  if (!constantTimeEqual(cert.issuer, link.issuer.subject)) {
    out.push(
      isRoot
        ? `${label(cert, index)}: the root is not self-issued`
        : `${label(cert, index)}: issuer is not the next certificate's subject`,
    );
  }
  if (!isRoot && constantTimeEqual(cert.issuer, cert.subject))
    out.push(`${label(cert, index)} is self-issued but not the root`);
  return out;
}

/**
 * Steps 2–3, signatures (RFC 5280 §6.1.3 (a)(1)): under the issuer's key, the root's under its own.
 * Checked only where step 5 holds; where it does not, step 5 already refused the link.
 */
async function checkSignature(link: Link): Promise<string[]> {
  const { cert, index, issuerKey } = link;
  if (issuerKey === null || !isEcdsaSha384(cert)) return [];
  if (await verifyDerEcdsa(issuerKey, cert.signature, cert.tbs)) return [];
  const under = link.isRoot ? 'its own key' : 'the next certificate';
  return [`${label(cert, index)}: signature does not verify under ${under}`];
}

/** Step 4: every issuer (all but the leaf) is a CA allowed to sign certificates (§4.2.1.9 cA, §4.2.1.3). */
function checkIssuerIsCa(link: Link): string[] {
  const { cert, index } = link;
  if (index === 0 || (cert.isCa && cert.mayCertSign)) return [];
  return [`${label(cert, index)} is not a CA allowed to sign certificates`];
}

/** Step 6: no critical extension but keyUsage and basicConstraints (§4.2). */
function checkCriticalExtensions(link: Link): string[] {
  const unknown = link.cert.criticalExtensions.filter((oid) => !KNOWN_CRITICAL.has(oid));
  return unknown.map((oid) => `${label(link.cert, link.index)}: unknown critical extension ${oid}`);
}

/** Steps 2–6 for one link, in that fixed order (the order findings are reported in). */
async function linkProblems(link: Link): Promise<string[]> {
  return [
    ...checkAlgorithms(link),
    ...checkNames(link),
    ...(await checkSignature(link)),
    ...checkIssuerIsCa(link),
    ...checkCriticalExtensions(link),
  ];
}

/** Step 7: the chain keeps every issuer's pathLenConstraint (§4.2.1.9). */
function checkPathLength(input: EcdsaChainInput): Violation[] {
  const found = pathLengthExceeded(input.certs);
  if (found === null) return [];
  return [violation('cert_chain_invalid', pathLengthText('certificate', found), { field: input.field })];
}

/** Step 8: `at` is within the certificate's validity, bounds inclusive (§4.1.2.5). */
function checkValidity(link: Link, at: Date, field: string): Violation[] {
  const { cert, index } = link;
  const t = at.getTime();
  if (t >= cert.notBefore.getTime() && t <= cert.notAfter.getTime()) return [];
  const text = `${label(cert, index)} is valid ${cert.notBefore.toISOString()} .. ${cert.notAfter.toISOString()}, not at ${at.toISOString()}`;
  return [violation('cert_expired', text, { field: `${field}[${index}]`, actual: at.toISOString() })];
}

/**
 * Steps 1–8 of the header over `certs` (leaf first). Every finding is reported; the leaf's key is
 * trusted only when steps 1–7 found nothing (dates aside: callers decide what an expired chain means).
 */
export async function verifyEcdsaChain(input: EcdsaChainInput): Promise<EcdsaChainResult> {
  const { certs, field } = input;
  if (certs.length === 0) {
    return {
      violations: [violation('cert_missing', 'the certificate chain is empty', { field })],
      leafKeyTrusted: false,
    };
  }
  const chainV = [...checkLength(input), ...checkPinnedRoot(input, certs[certs.length - 1]!)];
  const dateV: Violation[] = [];
  const keys = await Promise.all(certs.map((c) => importP384Key(c.spki)));
  for (const link of linksOf(certs, keys)) {
    for (const text of await linkProblems(link))
      chainV.push(violation('cert_chain_invalid', text, { field }));
    dateV.push(...checkValidity(link, input.at, field));
  }
  chainV.push(...checkPathLength(input));
  return { violations: [...chainV, ...dateV], leafKeyTrusted: chainV.length === 0 };
}
