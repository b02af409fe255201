/**
 * Stage 2 of parse → verify → evaluate for Intel TDX: cryptography and Intel's collateral. Given a
 * quote and its collateral, establish that a TD whose body is these exact bytes ran on a platform
 * Intel certified, and at which TCB status (Intel TDX DCAP Quote Library API, Appendix A; PCS API
 * v4). Policy — MRTD, RTMRs, attributes, allowed statuses — is stage 3.
 *
 * Order (docs/verification.md, "Intel TDX", has the table):
 *   1. parse the quote                                     quote_malformed / quote_version_unsupported
 *   2. QE vendor ID is Intel's                             qe_vendor_unknown
 *   3. quote signature under the attestation key           quote_signature_invalid
 *   4. QE report_data = SHA-256(att. key ‖ auth data) ‖ 0  qe_report_data_mismatch
 *   5. PCK chain → pinned SGX Root CA                      cert_malformed, root_untrusted, cert_chain_invalid, cert_expired
 *   6. QE report signature under the PCK key               qe_report_signature_invalid
 *   7. PCK SGX extensions                                  cert_malformed
 *   8. TCB info, QE identity: issuer chain, signature over
 *      the exact bytes, shape, [issueDate, nextUpdate]     collateral_*, cert_*
 *   9. CRLs authenticated, chains' certificates checked    crl_invalid, crl_expired, cert_revoked
 *  10. TCB info is this platform's (FMSPC, PCE-ID)         collateral_mismatch
 *  11. TCB status (tcb-status.ts)                          tdx_module_mismatch, qe_identity_mismatch, tcb_level_not_found
 *  12. event log, when given: parse, replay RTMR0..3       event_log_malformed, rtmr_replay_mismatch
 *  13. claims, only when nothing above was violated
 * Bad evidence never throws; throws are for caller errors (a `now` that is not a valid Date).
 */
import { concatBytes, isAllZero, isBytes, toHex } from '../../bytes.js';
import { isSealgateError, SealgateError } from '../../errors.js';
import type { CcEventLog } from '../../evidence/tdx/event-log/types.js';
import { INTEL_QE_VENDOR_ID } from '../../evidence/tdx/layout.js';
import { parseQuote } from '../../evidence/tdx/parse-quote.js';
import {
  decodePckExtensions,
  OID_SGX_EXTENSIONS,
  type PckExtensions,
} from '../../evidence/tdx/pck-extensions.js';
import type { TdxQuote } from '../../evidence/tdx/types.js';
import { isOptionalSignatureBackend, isOptionalWith } from '../input-shape.js';
import { type SignatureBackend, webCryptoSignatures } from '../signature-backend.js';
import { type Violation, violation } from '../violations.js';
import type { TdxCollateral } from './collateral.js';
import { signedBytesOf } from './collateral.js';
import { authenticateCrl, checkNotRevoked } from './crl-checks.js';
import { importRawP256, verifyP1363 } from './ecdsa-p256.js';
import { CN, type VerifiedCert, verifyPemChain } from './intel-chain.js';
import { INTEL_SGX_ROOT_CA_SHA256 } from './intel-root.js';
import { parseQeIdentity, type QeIdentity } from './qe-identity.js';
import { checkEventLog } from './rtmr-replay.js';
import { parseTcbInfo, type TcbInfo } from './tcb-info.js';
import { evaluateTcb, type TcbEvaluation } from './tcb-status.js';
import type { TdxClaims } from './tdx-claims.js';
import { createTdxVerifyCache, type TdxVerifyCache } from './verify-cache.js';

export interface TdxEvidenceInput {
  quote: Uint8Array;
  collateral: TdxCollateral;
  now: Date;
  /** The TD's CC event log (ACPI CCEL data), if any: replayed against the quote's RTMRs (rtmr-replay.ts). */
  eventLog?: Uint8Array | null;
  /** Verified chains, collateral and CRLs remembered across calls (verify-cache.ts); none if absent. */
  cache?: TdxVerifyCache;
  /** SHA-256 of the SGX Root CAs trusted (the manifest's `trustAnchors.tdx`); default Intel's only. */
  roots?: readonly string[];
  /**
   * Signature checks (../signature-backend.ts): default WebCrypto (workerd); Node passes node:crypto
   * (src/platform/node-signature-backend.ts). The checks made are the same either way.
   */
  signatures?: SignatureBackend;
}

export interface TdxVerification {
  /** Only when `violations` is empty. */
  claims: TdxClaims | null;
  /** Whatever parsed or was computed, for diagnostics, even when something failed. */
  quote: TdxQuote | null;
  pck: PckExtensions | null;
  tcb: TcbEvaluation | null;
  violations: Violation[];
}

function parse(bytes: Uint8Array): { quote: TdxQuote } | { violation: Violation } {
  try {
    return { quote: parseQuote(bytes) };
  } catch (e) {
    if (!isSealgateError(e, 'malformed_evidence')) throw e;
    const code = e.detail?.field === 'version' ? 'quote_version_unsupported' : 'quote_malformed';
    const field = typeof e.detail?.field === 'string' ? e.detail.field : 'quote';
    return { violation: violation(code, e.message, { field }) };
  }
}

/** Step 2: the QE vendor ID (A.3) is Intel's. */
function checkQeVendor(quote: TdxQuote): Violation[] {
  if (toHex(quote.qeVendorId) === INTEL_QE_VENDOR_ID) return [];
  return [
    violation('qe_vendor_unknown', 'QE vendor ID is not Intel', {
      field: 'qeVendorId',
      expected: INTEL_QE_VENDOR_ID,
      actual: toHex(quote.qeVendorId),
    }),
  ];
}

/** Step 3: the quote signature (A.4.1) over header ‖ body under the quote's attestation key. */
async function checkQuoteSignature(
  quote: TdxQuote,
  signatures: SignatureBackend | undefined,
): Promise<Violation[]> {
  const key = await importRawP256(quote.attestationKey, signatures);
  if (await verifyP1363(key, quote.signature, quote.signedBytes, signatures)) return [];
  const text = 'the quote signature does not verify under the attestation key';
  return [violation('quote_signature_invalid', text, { field: 'signature' })];
}

/**
 * Step 4: the QE report's report_data (A.4.3) is SHA-256(attestation key ‖ QE auth data) ‖ 32
 * zero bytes: the QE, which the PCK key vouches for (step 6), vouches for the attestation key.
 */
async function checkQeReportData(
  quote: TdxQuote,
  signatures: SignatureBackend | undefined,
): Promise<Violation[]> {
  const digest = await (signatures ?? webCryptoSignatures).digest(
    'SHA-256',
    concatBytes(quote.attestationKey, quote.qeAuthData),
  );
  const expected = concatBytes(digest, new Uint8Array(32));
  const rd = quote.qeReport.reportData;
  if (toHex(rd.subarray(0, 32)) === toHex(expected.subarray(0, 32)) && isAllZero(rd.subarray(32))) return [];
  const text = 'QE report_data is not SHA-256(attestation key ‖ QE auth data) ‖ zeros';
  return [
    violation('qe_report_data_mismatch', text, {
      field: 'qeReport.reportData',
      expected: toHex(expected),
      actual: toHex(rd),
    }),
  ];
}

/** Steps 2–4, findings in that order. */
async function checkQuoteSignatures(
  quote: TdxQuote,
  out: Violation[],
  signatures: SignatureBackend | undefined,
): Promise<void> {
  out.push(...checkQeVendor(quote));
  out.push(...(await checkQuoteSignature(quote, signatures)));
  out.push(...(await checkQeReportData(quote, signatures)));
}

/** What every chain and signature check of one call shares. */
interface CheckContext {
  at: Date;
  /** SHA-256 of the SGX Root CAs trusted. */
  roots: readonly string[];
  cache: TdxVerifyCache;
  signatures: SignatureBackend | undefined;
}

/** Steps 5–7: the PCK chain to a pinned root, the QE report signed by the PCK key, its SGX extensions. */
async function checkPck(
  quote: TdxQuote,
  ctx: CheckContext,
  out: Violation[],
): Promise<{ chain: VerifiedCert[]; ext: PckExtensions | null } | null> {
  const { at, cache, roots, signatures } = ctx;
  const shape = [CN.pck, [CN.pckPlatformCa, CN.pckProcessorCa], CN.root];
  const chain = await verifyPemChain(quote.pckChainPem, shape, at, 'pckChain', out, cache, roots, signatures);
  if (chain === null) return null;
  const leaf = chain[0]!;
  if (!(await verifyP1363(leaf.key, quote.qeReportSignature, quote.qeReport.raw, leaf.signatures))) {
    out.push(
      violation('qe_report_signature_invalid', 'the QE report signature does not verify under the PCK key', {
        field: 'qeReportSignature',
      }),
    );
  }
  return { chain, ext: pckExtensionsOf(leaf, out) };
}

/** Step 7: the PCK leaf's SGX extensions (Intel SGX PCK Certificate and CRL Profile), or null. */
function pckExtensionsOf(leaf: VerifiedCert, out: Violation[]): PckExtensions | null {
  const raw = leaf.cert.extensions.find((e) => e.oid === OID_SGX_EXTENSIONS);
  try {
    if (raw === undefined)
      throw new SealgateError('malformed_certificate', 'PCK certificate: no SGX extensions');
    return decodePckExtensions(raw.value);
  } catch (e) {
    if (!isSealgateError(e)) throw e;
    out.push(violation('cert_malformed', e.message, { field: 'pckChain[0]' }));
    return null;
  }
}

/** TCB info or QE identity as the collateral carries it: a body, its signature, its issuer chain. */
interface SignedPart<T> {
  what: 'tcbInfo' | 'qeIdentity';
  body: string;
  signature: Uint8Array;
  issuerChain: string;
  decode: (text: string) => T;
}

interface SignedCollateral<T> {
  value: T | null;
  signer: VerifiedCert | null;
}

/** Step 8: issuer chain, signature over the exact bytes, shape and validity window of `part`. */
async function checkSigned<T extends { issueDate: Date; nextUpdate: Date }>(
  part: SignedPart<T>,
  ctx: CheckContext,
  out: Violation[],
): Promise<SignedCollateral<T>> {
  const { what, body, signature } = part;
  const { at, cache, roots, signatures } = ctx;
  const shape = [CN.tcbSigning, CN.root];
  const chain = await verifyPemChain(
    part.issuerChain,
    shape,
    at,
    `${what}IssuerChain`,
    out,
    cache,
    roots,
    signatures,
  );
  const signer = chain?.[0] ?? null;
  // A hit means: these exact bytes verified under this signature and signer, and decoded (verify-cache.ts).
  const key = signer && `signed:${what}:${signer.cert.sha256}:${toHex(signature)}:${body}`;
  let value = key ? cache.get<T>(key) : undefined;
  if (value === undefined) {
    const verified =
      signer !== null && (await verifyP1363(signer.key, signature, signedBytesOf(body), signer.signatures));
    if (signer !== null && !verified) {
      const text = `${what}: signature does not verify under the TCB Signing key`;
      out.push(violation('collateral_signature_invalid', text, { field: what }));
    }
    try {
      value = part.decode(body);
    } catch (e) {
      if (!isSealgateError(e)) throw e;
      out.push(violation('collateral_malformed', `${what}: ${e.message}`, { field: what }));
      return { value: null, signer };
    }
    if (key && verified) cache.set(key, value);
  }
  checkWindow(what, value, at, out);
  return { value, signer };
}

function checkWindow(
  what: string,
  value: { issueDate: Date; nextUpdate: Date },
  at: Date,
  out: Violation[],
): void {
  const t = at.getTime();
  if (t < value.issueDate.getTime() || t > value.nextUpdate.getTime()) {
    out.push(
      violation('collateral_expired', `${what} is not current at ${at.toISOString()}`, {
        field: what,
        expected: [value.issueDate.toISOString(), value.nextUpdate.toISOString()],
        actual: at.toISOString(),
      }),
    );
  }
}

/** Step 9b: the PCK CRL's issuer chain, which must name the PCK leaf's issuer (subject and key). */
async function pckCrlIssuer(
  c: TdxCollateral,
  pckCa: VerifiedCert,
  ctx: CheckContext,
  out: Violation[],
): Promise<VerifiedCert | null> {
  const field = 'pckCrlIssuerChain';
  if (c.pckCrlIssuerChain === null) {
    out.push(violation('crl_invalid', 'pckCrlIssuerChain: missing', { field }));
    return null;
  }
  const { at, cache, roots, signatures } = ctx;
  const shape = [[CN.pckPlatformCa, CN.pckProcessorCa], CN.root];
  const chain = await verifyPemChain(c.pckCrlIssuerChain, shape, at, field, out, cache, roots, signatures);
  const issuer = chain?.[0] ?? null;
  if (
    issuer !== null &&
    (toHex(issuer.cert.subject) !== toHex(pckCa.cert.subject) ||
      toHex(issuer.cert.spki) !== toHex(pckCa.cert.spki))
  ) {
    out.push(violation('crl_invalid', "pckCrlIssuerChain: not the PCK certificate's issuer", { field }));
    return null;
  }
  return issuer;
}

/** Step 9: the Root CA CRL over every CA below the root, the PCK CRL over the PCK leaf. */
async function checkCrls(
  c: TdxCollateral,
  pckChain: VerifiedCert[],
  signers: (VerifiedCert | null)[],
  ctx: CheckContext,
  out: Violation[],
): Promise<void> {
  const [leaf, pckCa, root] = pckChain as [VerifiedCert, VerifiedCert, VerifiedCert];
  const { at, cache } = ctx;
  // Independent checks, started together; their findings are reported in this fixed order.
  const found: [Violation[], Violation[], Violation[]] = [[], [], []];
  const [rootCrl, crlIssuer, pckCrl] = await Promise.all([
    authenticateCrl(c.rootCaCrl, root, at, 'rootCaCrl', found[0], cache),
    pckCrlIssuer(c, pckCa, { ...ctx, signatures: pckCa.signatures }, found[1]),
    authenticateCrl(c.pckCrl, pckCa, at, 'pckCrl', found[2], cache),
  ]);
  out.push(...found[0], ...found[1]);
  if (rootCrl !== null) {
    const cas = [
      pckCa,
      ...(crlIssuer ? [crlIssuer] : []),
      ...signers.filter((s): s is VerifiedCert => s !== null),
    ];
    checkNotRevoked(rootCrl, cas, 'rootCaCrl', out);
  }
  out.push(...found[2]);
  if (pckCrl !== null) checkNotRevoked(pckCrl, [leaf], 'pckCrl', out);
}

function checkPlatform(tcbInfo: TcbInfo, ext: PckExtensions, out: Violation[]): void {
  if (toHex(tcbInfo.fmspc) !== toHex(ext.fmspc) || toHex(tcbInfo.pceId) !== toHex(ext.pceId)) {
    out.push(
      violation(
        'collateral_mismatch',
        'TCB info is for another platform (FMSPC, PCE-ID) than the PCK certificate',
        {
          field: 'tcbInfo.fmspc',
          expected: `${toHex(ext.fmspc)}/${toHex(ext.pceId)}`,
          actual: `${toHex(tcbInfo.fmspc)}/${toHex(tcbInfo.pceId)}`,
        },
      ),
    );
  }
}

const TEXT_FIELDS = ['tcbInfo', 'tcbInfoIssuerChain', 'qeIdentity', 'qeIdentityIssuerChain'] as const;
const BYTES_FIELDS = ['tcbInfoSignature', 'qeIdentitySignature'] as const;

/**
 * The caller's input has the types `TdxEvidenceInput` says, or `invalid_argument`: a caller that
 * is not type-checked gets the closed error, never a TypeError from deep inside (fail closed).
 */
function checkInput(input: TdxEvidenceInput): void {
  const bad = (what: string) => new SealgateError('invalid_argument', `verifyTdxEvidence: ${what}`);
  if (typeof input !== 'object' || input === null) throw bad('expected an input object');
  if (!(input.now instanceof Date) || Number.isNaN(input.now.getTime()))
    throw bad('now: expected a valid Date');
  const c = input.collateral as unknown as Record<string, unknown> | null;
  if (typeof c !== 'object' || c === null) throw bad('collateral: expected an object');
  for (const k of TEXT_FIELDS) if (typeof c[k] !== 'string') throw bad(`collateral.${k}: expected a string`);
  for (const k of BYTES_FIELDS) if (!isBytes(c[k])) throw bad(`collateral.${k}: expected bytes`);
  // null, not undefined, says "missing" (crl_invalid): undefined got past as bytes (a TypeError).
  for (const k of ['rootCaCrl', 'pckCrl'])
    if (c[k] !== null && !isBytes(c[k])) throw bad(`collateral.${k}: expected bytes or null`);
  if (c.pckCrlIssuerChain !== null && typeof c.pckCrlIssuerChain !== 'string')
    throw bad('collateral.pckCrlIssuerChain: expected a string or null');
  const roots: unknown = input.roots;
  if (roots !== undefined && !(Array.isArray(roots) && roots.every((r) => typeof r === 'string')))
    throw bad('roots: expected SHA-256 hex strings');
  // The objects it calls into: `{}` or a cache whose get is not a function threw a TypeError
  // from inside step 4 (the PCK chain's cache lookup), after the quote had parsed.
  if (!isOptionalWith(input.cache, ['get', 'set'])) throw bad('cache: expected get and set methods');
  if (!isOptionalSignatureBackend(input.signatures))
    throw bad('signatures: expected every SignatureBackend method');
}

/** What steps 2–8 established; `violations` holds their findings in step order. */
interface QuoteAndCollateral {
  pck: { chain: VerifiedCert[]; ext: PckExtensions | null } | null;
  tcbInfo: SignedCollateral<TcbInfo>;
  qeId: SignedCollateral<QeIdentity>;
  violations: Violation[];
}

/**
 * Steps 2–8. They do not depend on each other: started together (Node's WebCrypto runs them side
 * by side on its thread pool), their findings reported in step order.
 */
async function checkQuoteAndCollateral(
  quote: TdxQuote,
  c: TdxCollateral,
  ctx: CheckContext,
): Promise<QuoteAndCollateral> {
  const found: [Violation[], Violation[], Violation[], Violation[]] = [[], [], [], []];
  const tcbInfoPart = {
    what: 'tcbInfo',
    body: c.tcbInfo,
    signature: c.tcbInfoSignature,
    issuerChain: c.tcbInfoIssuerChain,
    decode: parseTcbInfo,
  } as const;
  const tcbInfoCheck = checkSigned(tcbInfoPart, ctx, found[2]);
  const qeIdPart = {
    what: 'qeIdentity',
    body: c.qeIdentity,
    signature: c.qeIdentitySignature,
    issuerChain: c.qeIdentityIssuerChain,
    decode: parseQeIdentity,
  } as const;
  // The same issuer chain as TCB info's (PCS serves both with the TCB Signing chain): verified once,
  // by waiting for TCB info's check to put it in the cache.
  const qeIdCheck = (async () => {
    if (c.qeIdentityIssuerChain === c.tcbInfoIssuerChain) await tcbInfoCheck;
    return checkSigned<QeIdentity>(qeIdPart, ctx, found[3]);
  })();
  const [, pck, tcbInfo, qeId] = await Promise.all([
    checkQuoteSignatures(quote, found[0], ctx.signatures),
    checkPck(quote, ctx, found[1]),
    tcbInfoCheck,
    qeIdCheck,
  ]);
  return { pck, tcbInfo, qeId, violations: found.flat() };
}

/** Steps 10–11, when the PCK extensions, TCB info and QE identity all parsed; else null. */
function checkTcb(
  quote: TdxQuote,
  ext: PckExtensions | null,
  tcbInfo: TcbInfo | null,
  qeId: QeIdentity | null,
  out: Violation[],
): TcbEvaluation | null {
  if (ext === null || tcbInfo === null || qeId === null) return null;
  checkPlatform(tcbInfo, ext, out);
  return evaluateTcb(tcbInfo, qeId, ext, quote.body, quote.qeReport, out);
}

/** Step 12: the event log, when one is given, parses and replays to the quote's RTMR0..3. */
async function checkGivenEventLog(
  eventLog: Uint8Array | null | undefined,
  quote: TdxQuote,
  out: Violation[],
): Promise<CcEventLog | null> {
  if (eventLog === undefined || eventLog === null) return null;
  return checkEventLog(eventLog, quote.body, out);
}

/** Step 13: what verified, for the policy (stage 3); built only when steps 1–12 found nothing. */
function claimsOf(
  quote: TdxQuote,
  pckChain: readonly VerifiedCert[],
  ext: PckExtensions,
  tcbInfo: TcbInfo,
  tcb: TcbEvaluation,
  at: Date,
  eventLog: CcEventLog | null,
): TdxClaims {
  return {
    tee: 'tdx',
    quoteVersion: quote.version,
    bodyType: quote.bodyType,
    body: quote.body,
    tcb,
    fmspc: toHex(ext.fmspc),
    pceId: toHex(ext.pceId),
    pckSha256: pckChain[0]!.cert.sha256,
    rootSha256: pckChain[2]!.cert.sha256,
    tcbEvaluationDataNumber: tcbInfo.tcbEvaluationDataNumber,
    verifiedAt: at.toISOString(),
    ...(eventLog ? { eventLog } : {}),
  };
}

/** Steps 1–13 of the header, in that order; claims only when no step found anything. */
export async function verifyTdxEvidence(input: TdxEvidenceInput): Promise<TdxVerification> {
  checkInput(input);
  const parsed = parse(input.quote);
  if ('violation' in parsed)
    return { claims: null, quote: null, pck: null, tcb: null, violations: [parsed.violation] };
  const { quote } = parsed;
  const c = input.collateral;
  const ctx: CheckContext = {
    at: input.now,
    roots: input.roots ?? [INTEL_SGX_ROOT_CA_SHA256],
    // Without a caller's cache, one for this call: a chain given twice (PCS serves TCB info and QE
    // identity with the same TCB Signing chain) is then verified once.
    cache: input.cache ?? createTdxVerifyCache(),
    signatures: input.signatures,
  };
  const { pck, tcbInfo, qeId, violations: out } = await checkQuoteAndCollateral(quote, c, ctx);
  if (pck !== null) await checkCrls(c, pck.chain, [tcbInfo.signer, qeId.signer], ctx, out);
  const ext = pck?.ext ?? null;
  const tcb = checkTcb(quote, ext, tcbInfo.value, qeId.value, out);
  const eventLog = await checkGivenEventLog(input.eventLog, quote, out);
  if (out.length > 0 || tcb === null || ext === null || pck === null || tcbInfo.value === null) {
    return { claims: null, quote, pck: ext, tcb, violations: out };
  }
  const claims = claimsOf(quote, pck.chain, ext, tcbInfo.value, tcb, ctx.at, eventLog);
  return { claims, quote, pck: ext, tcb, violations: [] };
}
