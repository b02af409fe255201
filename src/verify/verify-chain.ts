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
 *  7. the ARK's pathLenConstraint, if any, allows the ASK/ASVK below it (RFC 5280 §4.2.1.9)
 *                                                                → cert_chain_invalid (2–7)
 *  8. every certificate is within its validity at `now`          → cert_expired
 * Every signature is RSASSA-PSS SHA-384, salt 48 (see certificates.ts). Names are compared as DER
 * bytes: stricter than RFC 5280 §7.1 matching, and what AMD's own chain satisfies.
 */

import { constantTimeEqual } from '../bytes.js';
import { productFromName } from '../evidence/snp/product.js';
import type { AmdCertExtensions, SnpProduct } from '../evidence/snp/types.js';
import { amdRootBySha256, type TrustAnchor } from './amd-roots.js';
import {
  amdLeafIdentity,
  importIssuerKey,
  isIssuedBy,
  isSignedBy,
  type ParsedCertificate,
} from './certificates.js';
import { type ChainCache, chainCacheKey, type VerifiedUpperChain } from './chain-cache.js';
import { pathLengthExceeded, pathLengthText } from './path-length.js';
import { type SignatureBackend, type VerifyKey, webCryptoSignatures } from './signature-backend.js';
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
  /**
   * The `chainCacheKey` of the upper chain under which this exact leaf's signature verified before
   * (chain-cache.ts `leafOfSource`). It stands in for the leaf's signature check only when the upper
   * chain is that one and is itself a cache hit; every other check of the leaf is made.
   */
  leafVerifiedUnder?: string;
  /** The signature backend (signature-backend.ts). Default: WebCrypto. */
  signatures?: SignatureBackend;
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

function invalid(field: string, text: string, extra: Partial<Violation> = {}): Violation {
  return violation('cert_chain_invalid', text, { field, ...extra });
}

/**
 * Verifies the chain. Violations come in three groups, in this order: the upper chain (ARK,
 * ASK/ASVK), the rest of the chain (leaf, names, product), validity dates. The leaf's key is
 * trusted only if the first two are empty; the upper chain is cached only if it holds in full.
 */
export async function verifyChain(input: ChainInput): Promise<ChainResult> {
  const { leaf, intermediate, root, trustAnchors } = input;
  const signatures = input.signatures ?? webCryptoSignatures;
  const { anchor, violations: anchorV } = checkAnchor(root, trustAnchors);
  const identity = readLeafIdentity(leaf);
  const product = anchor?.product ?? amdRootBySha256(root.sha256)?.product ?? identity.product;

  const upper = await checkUpperChain(input, product, anchorV, signatures);
  const { cacheKey, cached, intermediateKey, upperV } = upper;
  // The rest of the chain: without these, the leaf's key cannot be believed.
  const chainV = [
    ...identity.violations,
    ...checkIntermediateName(intermediate, product, identity.kind),
    ...(await checkLeaf(leaf, intermediate, leafSigner(input, upper), signatures)),
    ...checkCriticalExtensions('leaf', leaf),
    ...checkOneProduct(anchor, identity.product),
  ];
  const dateV = checkValidity(input);

  const upperDatesOk = !dateV.some((v) => v.field !== 'chain.leaf');
  if (cached === undefined && upperV.length === 0 && upperDatesOk) {
    rememberUpperChain(input, cacheKey, intermediateKey, signatures);
  }
  return {
    violations: [...upperV, ...chainV, ...dateV],
    anchor,
    intermediateTrusted: upperV.length === 0 && upperDatesOk,
    leafKeyTrusted: upperV.length === 0 && chainV.length === 0,
    leafKind: identity.kind,
    extensions: identity.extensions,
    product,
  };
}

/** 1–3, 5, 7 for ARK and ASK/ASVK: from the cache when these exact bytes verified before. */
async function checkUpperChain(
  input: ChainInput,
  product: SnpProduct | null,
  anchorV: readonly Violation[],
  signatures: SignatureBackend,
): Promise<{
  cacheKey: string;
  cached: VerifiedUpperChain | undefined;
  intermediateKey: VerifyKey | null;
  upperV: Violation[];
}> {
  const { leaf, intermediate, root } = input;
  // A cached upper chain: these exact ARK and ASK bytes verified before (both signatures).
  const cacheKey = chainCacheKey(intermediate.sha256, root.sha256);
  const cached = input.cache?.get(cacheKey);
  const rootV = await checkRoot(root, product, cached !== undefined, signatures);
  const intermediateKey =
    cached?.signatures === signatures
      ? cached.intermediateKey
      : await importIssuerKey(intermediate, signatures);
  const intermediateV = await checkIntermediate(intermediate, root, cached !== undefined, signatures);
  // Signatures, names and trust of ARK and ASK/ASVK.
  const upperV = [
    ...anchorV,
    ...rootV,
    ...intermediateV,
    ...checkCriticalExtensions('root', root),
    ...checkCriticalExtensions('intermediate', intermediate),
    ...checkPathLength([leaf, intermediate, root]),
  ];
  return { cacheKey, cached, intermediateKey, upperV };
}

/** 7. Every issuer's pathLenConstraint holds (in a three-certificate chain only the ARK's can fail). */
function checkPathLength(chain: readonly ParsedCertificate[]): Violation[] {
  const found = pathLengthExceeded(chain);
  if (found === null) return [];
  return [invalid(found.index === 2 ? 'chain.root' : 'chain.intermediate', pathLengthText('chain', found))];
}

/** Only an upper chain that holds in full (and is valid now) is remembered; never a failure. */
function rememberUpperChain(
  input: ChainInput,
  cacheKey: string,
  intermediateKey: VerifyKey | null,
  signatures: SignatureBackend,
): void {
  if (!input.cache || !intermediateKey) return;
  input.cache.set(cacheKey, {
    intermediate: input.intermediate,
    root: input.root,
    intermediateKey,
    signatures,
  });
}

/** 1. The root is a trust anchor, by the SHA-256 of its DER. */
function checkAnchor(
  root: ParsedCertificate,
  trustAnchors: readonly TrustAnchor[],
): { anchor: TrustAnchor | null; violations: Violation[] } {
  const anchor = trustAnchors.find((a) => a.sha256 === root.sha256) ?? null;
  if (anchor !== null) return { anchor, violations: [] };
  const amd = amdRootBySha256(root.sha256);
  const text = amd
    ? `root ${root.sha256} is AMD's ${amd.commonName}, which is not among the trust anchors`
    : `root ${root.sha256} (${root.subjectCn ?? 'no CN'}) is not among the trust anchors`;
  return {
    anchor,
    violations: [
      violation('root_untrusted', text, {
        field: 'chain.root',
        actual: root.sha256,
        expected: trustAnchors.map((a) => a.sha256),
      }),
    ],
  };
}

/** The leaf's kind from its CN, its product from the productName extension (pub. 57230 Table 8). */
function readLeafIdentity(leaf: ParsedCertificate): {
  kind: 'vcek' | 'vlek' | null;
  extensions: AmdCertExtensions | null;
  product: SnpProduct | null;
  violations: Violation[];
} {
  let kind: 'vcek' | 'vlek' | null = null;
  let extensions: AmdCertExtensions | null = null;
  let product: SnpProduct | null = null;
  const violations: Violation[] = [];
  try {
    ({ kind, extensions } = amdLeafIdentity(leaf));
    product = productFromName(extensions.productName);
  } catch (e) {
    violations.push(violation('cert_malformed', `VCEK/VLEK: ${message(e)}`, { field: 'chain.leaf' }));
  }
  if (extensions !== null && product === null) {
    violations.push(
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
  return { kind, extensions, product, violations };
}

/** 2. The ARK: self-issued, self-signed (unless `cached`), a CA, named ARK-{product}. */
async function checkRoot(
  root: ParsedCertificate,
  product: SnpProduct | null,
  cached: boolean,
  signatures: SignatureBackend,
): Promise<Violation[]> {
  const out: Violation[] = [];
  if (!constantTimeEqual(root.subject, root.issuer))
    out.push(invalid('chain.root', 'ARK is not self-issued'));
  if (!cached && !(await isIssuedBy(root, root, signatures))) {
    out.push(invalid('chain.root', 'ARK self-signature does not verify (RSASSA-PSS SHA-384)'));
  }
  if (!root.isCa || !root.mayCertSign) {
    out.push(invalid('chain.root', 'ARK is not a CA allowed to sign certificates'));
  }
  if (product !== null && root.subjectCn !== `ARK-${product}`) {
    out.push(
      invalid(
        'chain.root',
        `ARK subject CN is ${JSON.stringify(root.subjectCn)}, expected "ARK-${product}"`,
        {
          expected: `ARK-${product}`,
          actual: root.subjectCn,
        },
      ),
    );
  }
  return out;
}

/** 3. The ASK/ASVK: issued and signed (unless `cached`) by the ARK, a CA. */
async function checkIntermediate(
  intermediate: ParsedCertificate,
  root: ParsedCertificate,
  cached: boolean,
  signatures: SignatureBackend,
): Promise<Violation[]> {
  const out: Violation[] = [];
  if (!constantTimeEqual(intermediate.issuer, root.subject)) {
    out.push(invalid('chain.intermediate', "ASK/ASVK issuer is not the ARK's subject"));
  }
  if (!cached && !(await isIssuedBy(intermediate, root, signatures))) {
    out.push(
      invalid('chain.intermediate', 'ASK/ASVK signature does not verify under the ARK (RSASSA-PSS SHA-384)'),
    );
  }
  if (!intermediate.isCa || !intermediate.mayCertSign) {
    out.push(invalid('chain.intermediate', 'ASK/ASVK is not a CA allowed to sign certificates'));
  }
  return out;
}

/** 3. A VCEK is issued by SEV-{product} (ASK), a VLEK by SEV-VLEK-{product} (ASVK). */
function checkIntermediateName(
  intermediate: ParsedCertificate,
  product: SnpProduct | null,
  leafKind: 'vcek' | 'vlek' | null,
): Violation[] {
  if (product === null || leafKind === null) return [];
  const want = leafKind === 'vcek' ? `SEV-${product}` : `SEV-VLEK-${product}`;
  if (intermediate.subjectCn === want) return [];
  return [
    invalid(
      'chain.intermediate',
      `a ${leafKind.toUpperCase()} must be issued by ${want}, got ${JSON.stringify(intermediate.subjectCn)}`,
      { expected: want, actual: intermediate.subjectCn },
    ),
  ];
}

/**
 * The key the leaf's signature is checked under, or 'verified' when these exact leaf bytes verified
 * before under this same cached upper chain (chain-cache.ts: the check is a pure function of them).
 */
function leafSigner(
  input: ChainInput,
  upper: { cacheKey: string; cached: VerifiedUpperChain | undefined; intermediateKey: VerifyKey | null },
): VerifyKey | null | 'verified' {
  const known = upper.cached !== undefined && input.leafVerifiedUnder === upper.cacheKey;
  return known ? 'verified' : upper.intermediateKey;
}

/** 4. The VCEK/VLEK: issued by the ASK/ASVK and signed by its key (once per leaf and upper chain). */
async function checkLeaf(
  leaf: ParsedCertificate,
  intermediate: ParsedCertificate,
  signer: VerifyKey | null | 'verified',
  signatures: SignatureBackend,
): Promise<Violation[]> {
  const out: Violation[] = [];
  if (!constantTimeEqual(leaf.issuer, intermediate.subject)) {
    out.push(invalid('chain.leaf', "VCEK/VLEK issuer is not the ASK/ASVK's subject"));
  }
  if (signer !== 'verified' && !(await isSignedBy(leaf, signer, signatures))) {
    out.push(
      invalid('chain.leaf', 'VCEK/VLEK signature does not verify under the ASK/ASVK (RSASSA-PSS SHA-384)'),
    );
  }
  return out;
}

/** 5. A critical extension this verifier does not process makes a certificate unusable (RFC 5280 §4.2). */
function checkCriticalExtensions(
  name: 'root' | 'intermediate' | 'leaf',
  cert: ParsedCertificate,
): Violation[] {
  return cert.criticalExtensions
    .filter((oid) => !KNOWN_CRITICAL.has(oid))
    .map((oid) => invalid(`chain.${name}`, `unknown critical extension ${oid}`));
}

/** 6. One product along the chain: the leaf's productName names the anchor's product. */
function checkOneProduct(anchor: TrustAnchor | null, leafProduct: SnpProduct | null): Violation[] {
  if (anchor === null || leafProduct === null || leafProduct === anchor.product) return [];
  return [
    invalid(
      'chain.root',
      `the ${leafProduct} VCEK/VLEK chains to a ${anchor.product} root; it needs the ${leafProduct} ARK`,
      { expected: leafProduct, actual: anchor.product },
    ),
  ];
}

/** 8. Every certificate is within its validity at `now` (RFC 5280 §4.1.2.5: both bounds inclusive). */
function checkValidity({ leaf, intermediate, root, now }: ChainInput): Violation[] {
  const t = now.getTime();
  const out: Violation[] = [];
  for (const [name, field, cert] of [
    ['ARK', 'chain.root', root],
    ['ASK/ASVK', 'chain.intermediate', intermediate],
    ['VCEK/VLEK', 'chain.leaf', leaf],
  ] as const) {
    if (t < cert.notBefore.getTime() || t > cert.notAfter.getTime()) {
      out.push(
        violation(
          'cert_expired',
          `${name} is valid ${cert.notBefore.toISOString()} .. ${cert.notAfter.toISOString()}, not at ${now.toISOString()}`,
          { field, actual: now.toISOString() },
        ),
      );
    }
  }
  return out;
}
