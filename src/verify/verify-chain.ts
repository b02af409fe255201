/**
 * The certificate chain of an SEV-SNP report: VCEK → ASK → ARK, or VLEK → ASVK → ARK (AMD pub. 57230
 * "Versioned Chip Endorsement Key (VCEK) Certificate and KDS Interface Specification" §2; path
 * validation after RFC 5280 §6.1, reduced to what a fixed three-certificate AMD chain needs).
 *
 * Checked, each failure a violation (never a throw):
 *  1. the root's SHA-256 is one of the trust anchors            → root_untrusted
 *  2. the root is self-signed, its subject is its issuer, it is a CA named ARK-{product}
 *  3. the intermediate is signed by the root, its issuer is the root's subject, it is a CA allowed
 *     to sign certificates, named SEV-{product} (ASK, for a VCEK) or SEV-VLEK-{product} (ASVK, for a VLEK)
 *  4. the leaf is signed by the intermediate and its issuer is the intermediate's subject
 *  5. no certificate has a critical extension other than keyUsage/basicConstraints (RFC 5280 §4.2)
 *  6. the leaf's productName names the anchor's product: a Milan VCEK must not chain to a Genoa root
 *                                                                → cert_chain_invalid (2–6)
 *  7. every certificate is within its validity at `now`          → cert_expired
 * Every signature is RSASSA-PSS SHA-384, salt 48 (see certificates.ts). Names are compared as DER
 * bytes: stricter than RFC 5280 §7.1 matching, and what AMD's own chain satisfies.
 */

import { constantTimeEqual } from '../bytes.js';
import { type AmdCertExtensions, productFromName, type SnpProduct } from '../evidence/snp/index.js';
import { amdRootBySha256, type TrustAnchor } from './amd-roots.js';
import {
  amdLeafIdentity,
  importIssuerKey,
  isIssuedBy,
  isSignedBy,
  type ParsedCertificate,
} from './certificates.js';
import { type ChainCache, chainCacheKey } from './chain-cache.js';
import { type Violation, violation } from './violations.js';

export interface ChainInput {
  leaf: ParsedCertificate;
  intermediate: ParsedCertificate;
  root: ParsedCertificate;
  /** Already checked with `checkTrustAnchors`. */
  trustAnchors: readonly TrustAnchor[];
  now: Date;
  /**
   * Upper chains (ARK → ASK/ASVK) that verified before, by the SHA-256 of their exact DER
   * (chain-cache.ts). A hit stands in for the ARK's and the ASK's signature checks only; an upper
   * chain that verifies here in full is added. Absent: every signature is verified.
   */
  cache?: ChainCache;
}

export interface ChainResult {
  violations: Violation[];
  /** The anchor the root matched, or null. */
  anchor: TrustAnchor | null;
  /** ARK and ASK/ASVK are anchored, signed, named and in validity: worth caching. */
  intermediateTrusted: boolean;
  /** All of the chain holds except, possibly, validity dates: the leaf's key is AMD's. */
  leafKeyTrusted: boolean;
  /** The leaf's kind and AMD extensions, when they decode. */
  leafKind: 'vcek' | 'vlek' | null;
  extensions: AmdCertExtensions | null;
  /** The product the chain establishes (anchor's, which the leaf's productName must name). */
  product: SnpProduct | null;
}

/** RFC 5280 §4.2.1.3 keyUsage and §4.2.1.9 basicConstraints: the only critical ones AMD uses. */
const KNOWN_CRITICAL = new Set(['2.5.29.15', '2.5.29.19']);

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export async function verifyChain(input: ChainInput): Promise<ChainResult> {
  const { leaf, intermediate, root, trustAnchors, now } = input;
  const chainV: Violation[] = []; // signatures, names, trust: the key cannot be believed
  const dateV: Violation[] = []; // validity only
  const upperV: Violation[] = []; // the part of chainV that concerns ARK/ASK

  // 1. The root is an anchor, by fingerprint.
  const anchor = trustAnchors.find((a) => a.sha256 === root.sha256) ?? null;
  if (anchor === null) {
    const amd = amdRootBySha256(root.sha256);
    upperV.push(
      violation(
        'root_untrusted',
        amd
          ? `root ${root.sha256} is AMD's ${amd.commonName}, which is not among the trust anchors`
          : `root ${root.sha256} (${root.subjectCn ?? 'no CN'}) is not among the trust anchors`,
        { field: 'chain.root', actual: root.sha256, expected: trustAnchors.map((a) => a.sha256) },
      ),
    );
  }

  // The leaf's identity: kind from its CN, product from its productName extension.
  let leafKind: 'vcek' | 'vlek' | null = null;
  let extensions: AmdCertExtensions | null = null;
  let leafProduct: SnpProduct | null = null;
  try {
    ({ kind: leafKind, extensions } = amdLeafIdentity(leaf));
    leafProduct = productFromName(extensions.productName);
  } catch (e) {
    chainV.push(violation('cert_malformed', `VCEK/VLEK: ${message(e)}`, { field: 'chain.leaf' }));
  }
  if (extensions !== null && leafProduct === null) {
    chainV.push(
      violation(
        'product_unknown',
        `productName ${JSON.stringify(extensions.productName)} is not a known product`,
        {
          field: 'leaf.productName',
          actual: extensions.productName,
        },
      ),
    );
  }
  const product = anchor?.product ?? amdRootBySha256(root.sha256)?.product ?? leafProduct;

  const invalid = (list: Violation[], field: string, text: string, extra: Partial<Violation> = {}): void => {
    list.push(violation('cert_chain_invalid', text, { field, ...extra }));
  };

  // A cached upper chain: these exact ARK and ASK bytes verified before (both signatures).
  const cacheKey = chainCacheKey(intermediate.sha256, root.sha256);
  const cached = input.cache?.get(cacheKey);

  // 2. The root.
  if (!constantTimeEqual(root.subject, root.issuer)) invalid(upperV, 'chain.root', 'ARK is not self-issued');
  if (cached === undefined && !(await isIssuedBy(root, root))) {
    invalid(upperV, 'chain.root', 'ARK self-signature does not verify (RSASSA-PSS SHA-384)');
  }
  if (!root.isCa || !root.mayCertSign)
    invalid(upperV, 'chain.root', 'ARK is not a CA allowed to sign certificates');
  if (product !== null && root.subjectCn !== `ARK-${product}`) {
    invalid(
      upperV,
      'chain.root',
      `ARK subject CN is ${JSON.stringify(root.subjectCn)}, expected "ARK-${product}"`,
      {
        expected: `ARK-${product}`,
        actual: root.subjectCn,
      },
    );
  }

  // 3. The intermediate.
  if (!constantTimeEqual(intermediate.issuer, root.subject)) {
    invalid(upperV, 'chain.intermediate', "ASK/ASVK issuer is not the ARK's subject");
  }
  const intermediateKey = cached?.intermediateKey ?? (await importIssuerKey(intermediate));
  if (cached === undefined && !(await isIssuedBy(intermediate, root))) {
    invalid(
      upperV,
      'chain.intermediate',
      'ASK/ASVK signature does not verify under the ARK (RSASSA-PSS SHA-384)',
    );
  }
  if (!intermediate.isCa || !intermediate.mayCertSign) {
    invalid(upperV, 'chain.intermediate', 'ASK/ASVK is not a CA allowed to sign certificates');
  }
  if (product !== null && leafKind !== null) {
    const want = leafKind === 'vcek' ? `SEV-${product}` : `SEV-VLEK-${product}`;
    if (intermediate.subjectCn !== want) {
      invalid(
        chainV,
        'chain.intermediate',
        `a ${leafKind.toUpperCase()} must be issued by ${want}, got ${JSON.stringify(intermediate.subjectCn)}`,
        { expected: want, actual: intermediate.subjectCn },
      );
    }
  }

  // 4. The leaf.
  if (!constantTimeEqual(leaf.issuer, intermediate.subject)) {
    invalid(chainV, 'chain.leaf', "VCEK/VLEK issuer is not the ASK/ASVK's subject");
  }
  // Never cached: the leaf's signature is verified on every call.
  if (!(await isSignedBy(leaf, intermediateKey))) {
    invalid(
      chainV,
      'chain.leaf',
      'VCEK/VLEK signature does not verify under the ASK/ASVK (RSASSA-PSS SHA-384)',
    );
  }

  // 5. Critical extensions this verifier does not process make a certificate unusable (RFC 5280 §4.2).
  for (const [name, cert, list] of [
    ['root', root, upperV],
    ['intermediate', intermediate, upperV],
    ['leaf', leaf, chainV],
  ] as const) {
    for (const oid of cert.criticalExtensions) {
      if (!KNOWN_CRITICAL.has(oid)) invalid(list, `chain.${name}`, `unknown critical extension ${oid}`);
    }
  }

  // 6. One product along the chain.
  if (anchor !== null && leafProduct !== null && leafProduct !== anchor.product) {
    invalid(
      chainV,
      'chain.root',
      `the ${leafProduct} VCEK/VLEK chains to a ${anchor.product} root; it needs the ${leafProduct} ARK`,
      { expected: leafProduct, actual: anchor.product },
    );
  }

  // 7. Validity at `now` (RFC 5280 §4.1.2.5: both bounds inclusive).
  const t = now.getTime();
  for (const [name, cert] of [
    ['ARK', root],
    ['ASK/ASVK', intermediate],
    ['VCEK/VLEK', leaf],
  ] as const) {
    if (t < cert.notBefore.getTime() || t > cert.notAfter.getTime()) {
      dateV.push(
        violation(
          'cert_expired',
          `${name} is valid ${cert.notBefore.toISOString()} .. ${cert.notAfter.toISOString()}, not at ${now.toISOString()}`,
          {
            field: `chain.${name === 'ARK' ? 'root' : name === 'ASK/ASVK' ? 'intermediate' : 'leaf'}`,
            actual: now.toISOString(),
          },
        ),
      );
    }
  }

  const upperDatesOk = !dateV.some((v) => v.field !== 'chain.leaf');
  // Only an upper chain that holds in full (and is valid now) is remembered; never a failure.
  if (input.cache && cached === undefined && upperV.length === 0 && upperDatesOk && intermediateKey) {
    input.cache.set(cacheKey, { intermediate, root, intermediateKey });
  }
  return {
    violations: [...upperV, ...chainV, ...dateV],
    anchor,
    intermediateTrusted: upperV.length === 0 && upperDatesOk,
    leafKeyTrusted: upperV.length === 0 && chainV.length === 0,
    leafKind,
    extensions,
    product,
  };
}
