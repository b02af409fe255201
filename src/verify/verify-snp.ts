/**
 * Stage 2 of parse → verify → evaluate for SEV-SNP: cryptography only. Given a report and whatever
 * certificates came with it, establish that an AMD-rooted (or explicitly simulated) key for this
 * chip at this TCB signed these exact bytes. Policy — measurements, debug, minimum TCBs,
 * REPORT_DATA — is stage 3 (src/policy), which consumes the `SnpClaims` produced here.
 *
 * Order (docs/verification.md has the table of checks and violation codes):
 *   1. parse the report                                   report_malformed / report_version_unsupported
 *   2. SIGNING_KEY must be VCEK or VLEK                    signing_key_mismatch
 *   3. the leaf: given, or the VCEK from KDS               cert_missing, cert_malformed
 *   4. the ASK/ASVK + ARK: given, or cert_chain from KDS   cert_missing, cert_malformed
 *   5. the chain (verify-chain.ts)                         root_untrusted, cert_chain_invalid, cert_expired…
 *      — if the leaf's key is not AMD's (anything but dates failed), stop here
 *   5b. AMD's CRL (amd-crl.ts), when given or fetched     crl_invalid, cert_revoked
 *   6. binding of leaf to report (verify-binding.ts)       signing_key_mismatch, product_unknown,
 *                                                          cert_tcb_mismatch, cert_hwid_mismatch
 *   7. the report signature                                report_signature_invalid
 *   8. claims, only when nothing above was violated
 * Bad evidence never throws: it yields violations. Throws are for caller errors only (a `now` that
 * is not a Date, trust anchors that fail `checkTrustAnchors`, a report, leaf, chain or CRL that is
 * not bytes: `invalid_argument`).
 */
import { isBytes, toHex } from '../bytes.js';
import { isSealgateError, SealgateError } from '../errors.js';
import { parseReport } from '../evidence/snp/parse-report.js';
import { productFromCpuid, productFromName } from '../evidence/snp/product.js';
import { decodeTcb } from '../evidence/snp/tcb.js';
import type {
  AmdCertExtensions,
  SnpClaims,
  SnpProduct,
  SnpReport,
  SnpSigningKey,
} from '../evidence/snp/types.js';
import { revocationViolations } from './amd-crl.js';
import { amdRootBySha256, checkTrustAnchors, type TrustAnchor } from './amd-roots.js';
import { amdLeafIdentity, type ParsedCertificate, parseCertificate, splitCertChain } from './certificates.js';
import { type ChainCache, chainCacheKey } from './chain-cache.js';
import { isOptionalFinite, isOptionalSignatureBackend, isOptionalWith } from './input-shape.js';
import { certChainUrl, type KdsOptions, kdsGet, kdsRemember, vcekUrl } from './kds.js';
import { type SignatureBackend, type VerifyKey, webCryptoSignatures } from './signature-backend.js';
import { checkBinding, decodeReportedTcb } from './verify-binding.js';
import { type ChainResult, verifyChain } from './verify-chain.js';
import { importLeafKey, verifyReportSignature } from './verify-report-signature.js';
import { type Violation, violation } from './violations.js';

export interface SnpEvidenceInput {
  /** The 1184-byte ATTESTATION_REPORT. */
  report: Uint8Array;
  /** The VCEK or VLEK, DER or PEM. Absent: the VCEK is fetched from KDS (a VLEK cannot be). */
  leaf?: Uint8Array;
  /** ASK/ASVK then ARK, each DER or PEM, or one `cert_chain` PEM. Absent: fetched from KDS. */
  chain?: Uint8Array[];
  /** The roots the manifest trusts (see `checkTrustAnchors`). */
  trustAnchors: readonly TrustAnchor[];
  now: Date;
  kds?: KdsOptions;
  /**
   * AMD's CRL for the chain's product and kind (DER, as KDS serves it). Absent: fetched when
   * `kds.revocation` is set and the root is AMD's; otherwise revocation is not checked.
   */
  crl?: Uint8Array;
  /**
   * AMD chains that verified before (chain-cache.ts): an upper chain (ARK → ASK/ASVK) by the
   * SHA-256 of its exact DER, a hit skipping its parse and its two RSA signature checks; a leaf by
   * its exact bytes, a hit skipping its parse and, under the same cached upper chain, its RSA
   * signature check. Never the report's signature, nor any check of dates, names, extensions,
   * revocation or binding. One per isolate/process; absent: everything is verified.
   */
  chainCache?: ChainCache;
  /**
   * Signature checks (signature-backend.ts): default WebCrypto (workerd); Node passes node:crypto
   * (src/platform/node-signature-backend.ts). The checks made are the same either way.
   */
  signatures?: SignatureBackend;
}

export interface SnpVerification {
  /** Only when `violations` is empty. */
  claims: SnpClaims | null;
  /** The parsed report when it parsed, whatever else failed (for logs and diagnostics). */
  report: SnpReport | null;
  violations: Violation[];
}

function text(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function done(report: SnpReport | null, violations: Violation[]): SnpVerification {
  return { claims: null, report, violations };
}

/** Stage 1 with its failures as violations. */
function parse(bytes: Uint8Array): { report: SnpReport } | { violation: Violation } {
  try {
    return { report: parseReport(bytes) };
  } catch (e) {
    if (!isSealgateError(e, 'malformed_evidence')) throw e;
    const unsupported = e.detail?.field === 'version';
    return {
      violation: violation(unsupported ? 'report_version_unsupported' : 'report_malformed', e.message, {
        field: typeof e.detail?.field === 'string' ? e.detail.field : 'report',
      }),
    };
  }
}

/** The product to ask KDS about before any certificate is known: CPUID (v3+), else the anchors' single product. */
function productForFetch(report: SnpReport, anchors: readonly TrustAnchor[]): SnpProduct | null {
  if (report.cpuid !== null) return productFromCpuid(report.cpuid);
  const products = new Set(anchors.map((a) => a.product));
  return products.size === 1 ? [...products][0]! : null;
}

interface Fetched {
  cert: ParsedCertificate;
  url: string | null;
  fromCache: boolean;
  bytes: Uint8Array;
  /** These exact bytes verified before under this upper chain (chain-cache.ts `leafOfSource`). */
  verifiedUnder?: string;
}

interface FetchedChain {
  intermediate: ParsedCertificate;
  root: ParsedCertificate;
  url: string | null;
  fromCache: boolean;
  bytes: Uint8Array | null;
  /** The ASK/ARK bytes as delivered (given or fetched), for the chain cache's source index. */
  parts: readonly Uint8Array[];
}

async function obtainLeaf(
  input: SnpEvidenceInput,
  report: SnpReport,
  anchors: readonly TrustAnchor[],
  out: Violation[],
): Promise<Fetched | null> {
  const source =
    input.leaf === undefined
      ? await fetchLeaf(input, report, anchors, out)
      : { bytes: input.leaf, url: null, fromCache: false };
  if (source === null) return null;
  const { bytes, url, fromCache } = source;
  const known = input.chainCache?.leafOfSource(bytes);
  if (known !== undefined) return { cert: known.cert, url, fromCache, bytes, verifiedUnder: known.upperKey };
  try {
    return { cert: await parseCertificate(bytes, input.signatures), url, fromCache, bytes };
  } catch (e) {
    if (!isSealgateError(e)) throw e;
    out.push(violation('cert_malformed', `VCEK/VLEK: ${e.message}`, { field: 'leaf' }));
    return null;
  }
}

/** Step 3 without a given leaf: the VCEK from KDS, or null (cert_missing, violations added). */
async function fetchLeaf(
  input: SnpEvidenceInput,
  report: SnpReport,
  anchors: readonly TrustAnchor[],
  out: Violation[],
): Promise<{ bytes: Uint8Array; url: string; fromCache: boolean } | null> {
  const missing = (why: string): null => {
    out.push(violation('cert_missing', `no VCEK/VLEK supplied, and ${why}`, { field: 'leaf' }));
    return null;
  };
  if (report.signingKey === 'vlek') return missing('a VLEK cannot be fetched from KDS');
  if (!input.kds) return missing('no KDS fetcher was given');
  if (report.maskChipKey) return missing('MASK_CHIP_KEY is set, so there is no CHIP_ID to ask KDS for');
  const product = productForFetch(report, anchors);
  if (product === null) {
    out.push(
      violation(
        'product_unknown',
        'cannot tell which product to ask KDS for (v2 report, anchors of several products)',
        { field: 'cpuid' },
      ),
    );
    return missing('the product is unknown');
  }
  const tcb = decodeReportedTcb(report, product);
  if (tcb.violation) {
    out.push(tcb.violation);
    return missing('REPORTED_TCB does not decode');
  }
  const url = vcekUrl(product, report.chipId, tcb.tcb);
  const got = await kdsGet(input.kds, url);
  if (!got.ok) return missing(got.error);
  return { bytes: got.bytes, url, fromCache: got.fromCache };
}

/** Step 4 without a given chain: KDS's cert_chain for the product and kind, or null (cert_missing). */
async function fetchChain(
  input: SnpEvidenceInput,
  productOf: () => SnpProduct | null,
  kind: 'vcek' | 'vlek',
  out: Violation[],
): Promise<{ url: string; bytes: Uint8Array; fromCache: boolean } | null> {
  const product = input.kds ? productOf() : null;
  if (!input.kds || product === null) {
    const why = input.kds ? 'the product is unknown' : 'no KDS fetcher was given';
    out.push(violation('cert_missing', `no ASK/ARK supplied, and ${why}`, { field: 'chain' }));
    return null;
  }
  const url = certChainUrl(product, kind);
  const got = await kdsGet(input.kds, url);
  if (!got.ok) {
    out.push(violation('cert_missing', `no ASK/ARK supplied, and ${got.error}`, { field: 'chain' }));
    return null;
  }
  return { url, bytes: got.bytes, fromCache: got.fromCache };
}

/** The ASK/ASVK and ARK parsed from `parts`, or a trusted pair the chain cache holds for them. */
async function parseChain(
  input: SnpEvidenceInput,
  parts: readonly Uint8Array[],
): Promise<Pick<FetchedChain, 'intermediate' | 'root'>> {
  const cache = input.chainCache;
  // The same bytes delivered a trusted upper chain before: its parse is reused (verifyChain
  // re-checks all but the two upper signatures from it).
  const known = cache?.keyOfSource(parts);
  const seen = known === undefined ? undefined : cache?.get(known);
  if (seen) return seen;
  const split = splitCertChain(parts);
  if (cache) {
    // The same DER verified before (another spelling, e.g. DER instead of PEM): reused likewise.
    const hash = input.signatures ?? webCryptoSignatures;
    const [i, r] = await Promise.all([
      hash.digest('SHA-256', split.intermediate),
      hash.digest('SHA-256', split.root),
    ]);
    const hit = cache.get(chainCacheKey(toHex(i), toHex(r)));
    if (hit) return hit;
  }
  const [intermediate, root] = await Promise.all([
    parseCertificate(split.intermediate, input.signatures),
    parseCertificate(split.root, input.signatures),
  ]);
  return { intermediate, root };
}

/** Step 4: the ASK/ASVK and ARK, given or fetched; null when missing or malformed (violations added). */
async function obtainChain(
  input: SnpEvidenceInput,
  productOf: () => SnpProduct | null,
  kind: 'vcek' | 'vlek',
  out: Violation[],
): Promise<FetchedChain | null> {
  let parts = input.chain;
  let fetched: { url: string; bytes: Uint8Array; fromCache: boolean } | null = null;
  if (parts === undefined || parts.length === 0) {
    fetched = await fetchChain(input, productOf, kind, out);
    if (fetched === null) return null;
    parts = [fetched.bytes];
  }
  const source = {
    url: fetched?.url ?? null,
    fromCache: fetched?.fromCache ?? false,
    bytes: fetched?.bytes ?? null,
  };
  try {
    const { intermediate, root } = await parseChain(input, parts);
    return { intermediate, root, ...source, parts };
  } catch (e) {
    if (!isSealgateError(e)) throw e;
    out.push(violation('cert_malformed', `ASK/ARK: ${e.message}`, { field: 'chain' }));
    return null;
  }
}

type TrustedLeaf = Pick<ChainResult, 'violations'> & {
  leafKind: 'vcek' | 'vlek';
  extensions: AmdCertExtensions;
  product: SnpProduct;
};

/**
 * Step 5: the chain (verify-chain.ts). A chain whose ARK and ASK/ASVK are trusted is remembered;
 * null when the leaf's key is not AMD's (anything but dates failed): nothing after can hold.
 */
async function checkChain(
  input: SnpEvidenceInput,
  anchors: readonly TrustAnchor[],
  leaf: Fetched,
  chain: FetchedChain,
  out: Violation[],
): Promise<TrustedLeaf | null> {
  const verdict = await verifyChain({
    leaf: leaf.cert,
    intermediate: chain.intermediate,
    root: chain.root,
    trustAnchors: anchors,
    now: input.now,
    ...(input.chainCache ? { cache: input.chainCache } : {}),
    ...(leaf.verifiedUnder !== undefined ? { leafVerifiedUnder: leaf.verifiedUnder } : {}),
    ...(input.signatures ? { signatures: input.signatures } : {}),
  });
  out.push(...verdict.violations);
  if (verdict.intermediateTrusted) {
    input.chainCache?.noteSource(chain.parts, chainCacheKey(chain.intermediate.sha256, chain.root.sha256));
    await rememberChain(input, chain);
  }
  const { leafKind, extensions, product } = verdict;
  if (!verdict.leafKeyTrusted || leafKind === null || extensions === null || product === null) return null;
  return { violations: verdict.violations, leafKind, extensions, product };
}

/** Step 5b: revocation, by AMD's CRL signed by the anchored ARK (amd-crl.ts). */
async function checkRevocation(
  input: SnpEvidenceInput,
  leaf: Fetched,
  chain: FetchedChain,
  trusted: TrustedLeaf,
): Promise<Violation[]> {
  return await revocationViolations({
    ...(input.crl !== undefined ? { crl: input.crl } : {}),
    ...(input.kds ? { kds: input.kds } : {}),
    root: chain.root,
    intermediate: chain.intermediate,
    leaf: leaf.cert,
    product: trusted.product,
    kind: trusted.leafKind,
    amdRoot: amdRootBySha256(chain.root.sha256) !== undefined,
    now: input.now,
    ...(input.signatures ? { signatures: input.signatures } : {}),
  });
}

/**
 * Step 6: the leaf is bound to the report (verify-binding.ts). A fetched leaf that is valid now
 * and bound to the report's TCB and chip (what its KDS URL named) is remembered.
 */
async function checkLeafBinding(
  input: SnpEvidenceInput,
  report: SnpReport,
  leaf: Fetched,
  trusted: TrustedLeaf,
): Promise<Violation[]> {
  const { leafKind, extensions, product } = trusted;
  const binding = checkBinding({ report, leafKind, extensions, product });
  const leafValidNow = !trusted.violations.some((v) => v.code === 'cert_expired' && v.field === 'chain.leaf');
  const boundToUrl = !binding.some((v) => v.code === 'cert_tcb_mismatch' || v.code === 'cert_hwid_mismatch');
  if (leafValidNow && boundToUrl) await rememberLeaf(input, leaf);
  return binding;
}

/** Steps 1–8 of the header, in that order; claims only when no step found anything. */
export async function verifySnpEvidence(input: SnpEvidenceInput): Promise<SnpVerification> {
  const anchors = checkInput(input);
  // 1–2. A parsed report that says it is signed.
  const signed = parseSigned(input.report);
  if (!signed.ok) return done(signed.report, signed.violations);
  const { report, signingKey } = signed;
  // 3–4. Certificates.
  const violations: Violation[] = [];
  const certs = await obtainCertificates(input, report, signingKey, anchors, violations);
  if (certs === null) return done(report, violations);
  const { leaf, chain } = certs;
  // 5. Chain.
  const trusted = await checkChain(input, anchors, leaf, chain, violations);
  if (trusted === null) return done(report, violations);
  // 5b. Revocation; 6. Binding; 7. Signature.
  violations.push(...(await checkRevocation(input, leaf, chain, trusted)));
  violations.push(...(await checkLeafBinding(input, report, leaf, trusted)));
  violations.push(...(await checkReportSignature(report, leaf.cert, input.signatures)));
  if (violations.length > 0) return done(report, violations);
  // 8. Claims.
  const { product, leafKind, extensions } = trusted;
  const verified = claimsOf(report, { product, leafKind, extensions, leaf: leaf.cert, chain });
  if (verified.claims !== null) rememberVerifiedLeaf(input, leaf, chain);
  return verified;
}

/** A leaf whose verification produced claims is noted with its upper chain (chain-cache.ts). */
function rememberVerifiedLeaf(input: SnpEvidenceInput, leaf: Fetched, chain: FetchedChain): void {
  if (!input.chainCache || leaf.verifiedUnder !== undefined) return;
  input.chainCache.noteLeaf(leaf.bytes, {
    cert: leaf.cert,
    upperKey: chainCacheKey(chain.intermediate.sha256, chain.root.sha256),
  });
}

/** Caller errors throw: a missing input, a `now` that is not a valid Date, bad trust anchors. */
function checkInput(input: SnpEvidenceInput): readonly TrustAnchor[] {
  if (typeof input !== 'object' || input === null) {
    throw new SealgateError('invalid_argument', 'verifySnpEvidence: expected an input object');
  }
  if (!(input.now instanceof Date) || Number.isNaN(input.now.getTime())) {
    throw new SealgateError('invalid_argument', 'verifySnpEvidence: now must be a valid Date');
  }
  // Wrong types from a caller that is not type-checked: the closed error, not a TypeError later.
  const chain: unknown = input.chain;
  if (chain !== undefined && !(Array.isArray(chain) && chain.every((c) => isBytes(c)))) {
    throw new SealgateError('invalid_argument', 'verifySnpEvidence: chain must be a list of bytes');
  }
  // A leaf or CRL of the wrong type is the caller's error, as the chain's: not `cert_malformed`
  // or `crl_invalid`, which say that the evidence (bytes) was bad.
  for (const name of ['leaf', 'crl'] as const) {
    if (input[name] !== undefined && !isBytes(input[name])) {
      throw new SealgateError('invalid_argument', `verifySnpEvidence: ${name} must be bytes`);
    }
  }
  if (!isKdsOptions(input.kds)) {
    throw new SealgateError('invalid_argument', 'verifySnpEvidence: kds must have a fetch function');
  }
  // `{}` as a cache or a backend threw a TypeError from inside step 3 or 5 (after the report parsed).
  if (
    !isOptionalWith(input.chainCache, ['get', 'set', 'keyOfSource', 'noteSource', 'leafOfSource', 'noteLeaf'])
  ) {
    throw new SealgateError('invalid_argument', 'verifySnpEvidence: chainCache is not a ChainCache');
  }
  if (!isOptionalSignatureBackend(input.signatures)) {
    throw new SealgateError('invalid_argument', 'verifySnpEvidence: signatures is not a SignatureBackend');
  }
  return checkTrustAnchors(input.trustAnchors);
}

/** Absent, or a fetcher with an optional certificate cache, lifetime and revocation switch. */
function isKdsOptions(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'object' || value === null) return false;
  const k = value as Partial<Record<keyof KdsOptions, unknown>>;
  return (
    typeof k.fetch === 'function' &&
    isOptionalWith(k.cache, ['get', 'put']) &&
    isOptionalFinite(k.ttlSeconds) &&
    (k.revocation === undefined || typeof k.revocation === 'boolean')
  );
}

/** 1–2. The report parses, and its SIGNING_KEY is not 7 ("none"): an unsigned report proves nothing. */
function parseSigned(
  bytes: Uint8Array,
):
  | { ok: true; report: SnpReport; signingKey: Exclude<SnpSigningKey, 'none'> }
  | { ok: false; report: SnpReport | null; violations: Violation[] } {
  const parsed = parse(bytes);
  if ('violation' in parsed) return { ok: false, report: null, violations: [parsed.violation] };
  const { report } = parsed;
  if (report.signingKey !== 'none') return { ok: true, report, signingKey: report.signingKey };
  return {
    ok: false,
    report,
    violations: [
      violation('signing_key_mismatch', 'report SIGNING_KEY is 7 (none): the report is not signed', {
        field: 'signingKey',
        actual: 'none',
      }),
    ],
  };
}

/** 3–4. The leaf, then the chain of the leaf's product (its productName), else the report's. */
async function obtainCertificates(
  input: SnpEvidenceInput,
  report: SnpReport,
  signingKey: Exclude<SnpSigningKey, 'none'>,
  anchors: readonly TrustAnchor[],
  out: Violation[],
): Promise<{ leaf: Fetched; chain: FetchedChain } | null> {
  const leaf = await obtainLeaf(input, report, anchors, out);
  if (leaf === null) return null;
  const chain = await obtainChain(input, () => chainProduct(leaf.cert, report, anchors), signingKey, out);
  if (chain === null) return null;
  return { leaf, chain };
}

/**
 * The product whose cert_chain KDS is asked for: the leaf's productName, else the report's. Only
 * called when the chain must be fetched: a given chain is checked against the leaf by verifyChain,
 * which decodes the leaf's extensions itself (decoding them here too cost ~4 µs of every call).
 */
function chainProduct(
  leaf: ParsedCertificate,
  report: SnpReport,
  anchors: readonly TrustAnchor[],
): SnpProduct | null {
  try {
    const named = productFromName(amdLeafIdentity(leaf).extensions.productName);
    if (named !== null) return named;
  } catch {
    // A leaf whose extensions do not decode is reported by the chain check.
  }
  return productForFetch(report, anchors);
}

/** A cert_chain fetched from KDS (not from its cache) whose ARK and ASK/ASVK are trusted is kept. */
async function rememberChain(input: SnpEvidenceInput, chain: FetchedChain): Promise<void> {
  if (!input.kds || chain.url === null || chain.fromCache || chain.bytes === null) return;
  const notAfter = new Date(Math.min(chain.intermediate.notAfter.getTime(), chain.root.notAfter.getTime()));
  await kdsRemember(input.kds, chain.url, chain.bytes, notAfter, input.now);
}

/** A VCEK fetched from KDS (not from its cache), valid now and bound to the report, is kept. */
async function rememberLeaf(input: SnpEvidenceInput, leaf: Fetched): Promise<void> {
  if (!input.kds || leaf.url === null || leaf.fromCache) return;
  await kdsRemember(input.kds, leaf.url, leaf.bytes, leaf.cert.notAfter, input.now);
}

/** 7. The report's signature under the leaf's key (verify-report-signature.ts). */
async function checkReportSignature(
  report: SnpReport,
  leaf: ParsedCertificate,
  signatures: SignatureBackend | undefined,
): Promise<Violation[]> {
  let key: VerifyKey;
  try {
    key = await importLeafKey(leaf, signatures);
  } catch (e) {
    return [violation('cert_malformed', `VCEK/VLEK: ${text(e)}`, { field: 'leaf' })];
  }
  return await verifyReportSignature(report.raw, key, signatures);
}

/** 8. The claims, every TCB decoded with the product's layout; a TCB that does not decode is a violation. */
function claimsOf(
  report: SnpReport,
  v: {
    product: SnpProduct;
    leafKind: 'vcek' | 'vlek';
    extensions: AmdCertExtensions;
    leaf: ParsedCertificate;
    chain: FetchedChain;
  },
): SnpVerification {
  const violations: Violation[] = [];
  const tcbs: Partial<
    Record<'reportedTcb' | 'currentTcb' | 'committedTcb' | 'launchTcb', ReturnType<typeof decodeTcb>>
  > = {};
  for (const k of ['reportedTcb', 'currentTcb', 'committedTcb', 'launchTcb'] as const) {
    try {
      tcbs[k] = decodeTcb(report[k], v.product);
    } catch (e) {
      violations.push(violation('report_malformed', `${k}: ${text(e)}`, { field: k }));
    }
  }
  if (violations.length > 0) return done(report, violations);
  const claims: SnpClaims = {
    report,
    product: v.product,
    signingKey: v.leafKind,
    reportedTcb: tcbs.reportedTcb!,
    currentTcb: tcbs.currentTcb!,
    committedTcb: tcbs.committedTcb!,
    launchTcb: tcbs.launchTcb!,
    leaf: {
      subject: v.leaf.subjectText,
      // Copies: the parsed leaf may be a chain cache entry, shared with later verifications.
      notBefore: new Date(v.leaf.notBefore.getTime()),
      notAfter: new Date(v.leaf.notAfter.getTime()),
      sha256: v.leaf.sha256,
      extensions: v.extensions,
    },
    chain: { intermediateSha256: v.chain.intermediate.sha256, rootSha256: v.chain.root.sha256 },
  };
  return { claims, report, violations };
}
