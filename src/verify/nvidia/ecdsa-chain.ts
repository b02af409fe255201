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
 *  6. no critical extension but keyUsage and basicConstraints (§4.2)       → cert_chain_invalid (2–6)
 *  7. every certificate is within its validity at `at` (§4.1.2.5, bounds inclusive) → cert_expired
 * Path-length constraints and name constraints are not evaluated: the chains are fixed by NVIDIA
 * and pinned at the root; a chain longer than `expectedLength` is refused instead.
 */
import { constantTimeEqual, fromHex } from '../../bytes.js';
import type { Certificate } from '../../der/certificate.js';
import { ecdsaDerToP1363 } from '../../der/ecdsa-signature.js';
import { isSealgateError } from '../../errors.js';
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

export async function verifyEcdsaChain(input: EcdsaChainInput): Promise<EcdsaChainResult> {
  const { certs, anchors, at, field } = input;
  const chainV: Violation[] = [];
  const dateV: Violation[] = [];
  const invalid = (text: string, extra: Partial<Violation> = {}): void => {
    chainV.push(violation('cert_chain_invalid', text, { field, ...extra }));
  };
  if (certs.length === 0) {
    return {
      violations: [violation('cert_missing', 'the certificate chain is empty', { field })],
      leafKeyTrusted: false,
    };
  }
  if (input.expectedLength !== undefined && certs.length !== input.expectedLength) {
    invalid(`the chain has ${certs.length} certificates, expected ${input.expectedLength}`, {
      expected: input.expectedLength,
      actual: certs.length,
    });
  }
  const root = certs[certs.length - 1]!;

  // 1. Pinned root.
  if (!anchors.includes(root.sha256)) {
    chainV.push(
      violation('root_untrusted', `root ${root.sha256} (${root.subjectText}) is not a pinned root`, {
        field: `${field}.root`,
        expected: [...anchors],
        actual: root.sha256,
      }),
    );
  }

  const keys = await Promise.all(certs.map((c) => importP384Key(c.spki)));
  for (let i = 0; i < certs.length; i++) {
    const cert = certs[i]!;
    const isRoot = i === certs.length - 1;
    const issuer = isRoot ? cert : certs[i + 1]!;
    const issuerKey = keys[isRoot ? i : i + 1] ?? null;
    // 5. Algorithms.
    if (!isEcdsaSha384(cert)) invalid(`${label(cert, i)} is not signed with ecdsa-with-SHA384`);
    if (issuerKey === null) invalid(`${label(issuer, isRoot ? i : i + 1)} has no P-384 public key`);
    // 2–3. Names and signatures.
    if (!constantTimeEqual(cert.issuer, issuer.subject)) {
      invalid(
        isRoot
          ? `${label(cert, i)}: the root is not self-issued`
          : `${label(cert, i)}: issuer is not the next certificate's subject`,
      );
    }
    if (!isRoot && constantTimeEqual(cert.issuer, cert.subject))
      invalid(`${label(cert, i)} is self-issued but not the root`);
    if (
      issuerKey !== null &&
      isEcdsaSha384(cert) &&
      !(await verifyDerEcdsa(issuerKey, cert.signature, cert.tbs))
    ) {
      invalid(
        `${label(cert, i)}: signature does not verify under ${isRoot ? 'its own key' : 'the next certificate'}`,
      );
    }
    // 4. Issuers are CAs.
    if (i > 0 && (!cert.isCa || !cert.mayCertSign))
      invalid(`${label(cert, i)} is not a CA allowed to sign certificates`);
    // 6. Critical extensions.
    for (const oid of cert.criticalExtensions) {
      if (!KNOWN_CRITICAL.has(oid)) invalid(`${label(cert, i)}: unknown critical extension ${oid}`);
    }
    // 7. Validity.
    const t = at.getTime();
    if (t < cert.notBefore.getTime() || t > cert.notAfter.getTime()) {
      dateV.push(
        violation(
          'cert_expired',
          `${label(cert, i)} is valid ${cert.notBefore.toISOString()} .. ${cert.notAfter.toISOString()}, not at ${at.toISOString()}`,
          { field: `${field}[${i}]`, actual: at.toISOString() },
        ),
      );
    }
  }
  return { violations: [...chainV, ...dateV], leafKeyTrusted: chainV.length === 0 };
}
