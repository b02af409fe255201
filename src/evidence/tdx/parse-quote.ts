/**
 * Stage 1 of parse → verify → evaluate for Intel TDX: quote bytes → `TdxQuote`, structure only
 * (after go-tdx-guest's `abi.QuoteToProto`, stricter). Throws `SealgateError('malformed_evidence')`
 * with the field first for bytes that are not a TDX ECDSA quote v4/v5:
 *   - version not 4 or 5, attestation key type not 2 (ECDSA P-256), TEE type not 0x81 (TDX);
 *   - non-zero header RESERVED or QE report RESERVED bytes;
 *   - a v5 body type other than 2/3, or a body size that is not exactly that type's size;
 *   - any length that overruns its parent, or nested lengths that do not add up exactly to their
 *     parent's (signature data ⊇ certification data type 6 ⊇ QE auth data + certification data
 *     type 5, end to end, nothing left over);
 *   - a PCK chain that is not ASCII PEM (one NUL terminator is allowed: the QE writes a C string).
 * Bytes after the signature data are outside every length and every signature (go-tdx-guest keeps
 * them as "extra bytes", Intel's QVL ignores them): they are counted, never read.
 * Whether the QE vendor is Intel is judged by verification.
 */
import { SealgateError } from '../../errors.js';
import {
  ATT_KEY_TYPE_ECDSA_P256,
  CERT_TYPE_PCK_CHAIN,
  CERT_TYPE_QE_REPORT,
  HEADER,
  HEADER_RESERVED,
  hex,
  QE_CERT_DATA,
  QE_REPORT,
  QE_REPORT_RESERVED,
  type ReservedRange,
  SIG_DATA,
  SIZE,
  SUPPORTED_QUOTE_VERSIONS,
  TD_BODY,
  TD_BODY_SIZE_10,
  TD_BODY_SIZE_15,
  TEE_TYPE_TDX,
  V5_BODY_OFFSET,
  V5_BODY_SIZE_OFFSET,
  V5_BODY_TYPE_OFFSET,
  V5_BODY_TYPE_TDX10,
  V5_BODY_TYPE_TDX15,
} from './layout.js';
import type { QeReport, TdReportBody, TdxBodyType, TdxQuote } from './types.js';

function malformed(message: string, detail: Record<string, unknown>): SealgateError {
  return new SealgateError('malformed_evidence', `TDX quote: ${message}`, detail);
}

function isBytes(a: unknown): a is Uint8Array {
  return a instanceof Uint8Array || (ArrayBuffer.isView(a) && a.constructor.name === 'Uint8Array');
}

/** Little-endian reads that throw `malformed_evidence` instead of running past the end. */
class Reader {
  readonly view: DataView;
  constructor(readonly raw: Uint8Array) {
    this.view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  }
  need(offset: number, length: number, field: string): void {
    if (offset + length > this.raw.length) {
      throw malformed(
        `${field} at ${hex(offset)} (${length} bytes) runs past the end (${this.raw.length} bytes)`,
        {
          field,
          offset,
        },
      );
    }
  }
  u16(offset: number, field: string): number {
    this.need(offset, 2, field);
    return this.view.getUint16(offset, true);
  }
  u32(offset: number, field: string): number {
    this.need(offset, 4, field);
    return this.view.getUint32(offset, true);
  }
  bytes(offset: number, length: number, field: string): Uint8Array {
    this.need(offset, length, field);
    return this.raw.slice(offset, offset + length);
  }
}

function checkZero(raw: Uint8Array, base: number, ranges: readonly ReservedRange[]): void {
  for (const r of ranges) {
    for (let i = r.start; i < r.end; i++) {
      const b = raw[base + i]!;
      if (b !== 0) {
        throw malformed(`${r.name} byte ${hex(i)} must be zero, got 0x${b.toString(16).padStart(2, '0')}`, {
          field: 'reserved',
          offset: base + i,
        });
      }
    }
  }
}

function parseHeader(r: Reader): { version: 4 | 5; attestationKeyType: number; teeType: number } {
  r.need(0, HEADER.SIZE, 'header');
  const version = r.u16(HEADER.VERSION, 'version');
  if (!SUPPORTED_QUOTE_VERSIONS.includes(version)) {
    throw malformed(`unsupported version ${version} (supported: 4, 5)`, {
      field: 'version',
      actual: version,
    });
  }
  const attestationKeyType = r.u16(HEADER.ATT_KEY_TYPE, 'attestationKeyType');
  if (attestationKeyType !== ATT_KEY_TYPE_ECDSA_P256) {
    throw malformed(`attestation key type ${attestationKeyType} is not 2 (ECDSA-256-with-P-256)`, {
      field: 'attestationKeyType',
      actual: attestationKeyType,
    });
  }
  const teeType = r.u32(HEADER.TEE_TYPE, 'teeType');
  if (teeType !== TEE_TYPE_TDX) {
    throw malformed(`TEE type ${hex(teeType)} is not 0x81 (TDX)`, { field: 'teeType', actual: teeType });
  }
  checkZero(r.raw, 0, HEADER_RESERVED);
  return { version: version as 4 | 5, attestationKeyType, teeType };
}

/** Where the body starts, its type and size: fixed for v4, from the descriptor (A.3.3) for v5. */
function locateBody(r: Reader, version: 4 | 5): { offset: number; type: TdxBodyType; size: number } {
  if (version === 4) return { offset: HEADER.SIZE, type: 'tdx10', size: TD_BODY_SIZE_10 };
  const bodyType = r.u16(V5_BODY_TYPE_OFFSET, 'bodyType');
  const size = r.u32(V5_BODY_SIZE_OFFSET, 'bodySize');
  let type: TdxBodyType;
  let expected: number;
  if (bodyType === V5_BODY_TYPE_TDX10) [type, expected] = ['tdx10', TD_BODY_SIZE_10];
  else if (bodyType === V5_BODY_TYPE_TDX15) [type, expected] = ['tdx15', TD_BODY_SIZE_15];
  else {
    throw malformed(`v5 body type ${bodyType} is not a TD report (2 = TDX 1.0, 3 = TDX 1.5)`, {
      field: 'bodyType',
      actual: bodyType,
    });
  }
  if (size !== expected) {
    throw malformed(`v5 body size ${size} is not ${expected} for body type ${bodyType}`, {
      field: 'bodySize',
      expected,
      actual: size,
    });
  }
  return { offset: V5_BODY_OFFSET, type, size };
}

function parseBody(r: Reader, at: number, type: TdxBodyType): TdReportBody {
  const m = (off: number, len: number, field: string): Uint8Array => r.bytes(at + off, len, field);
  const mr = (off: number, field: string): Uint8Array => m(off, SIZE.MEASUREMENT, field);
  const tdx15 = type === 'tdx15';
  return {
    teeTcbSvn: m(TD_BODY.TEE_TCB_SVN, SIZE.TEE_TCB_SVN, 'teeTcbSvn'),
    mrSeam: mr(TD_BODY.MR_SEAM, 'mrSeam'),
    mrSignerSeam: mr(TD_BODY.MR_SIGNER_SEAM, 'mrSignerSeam'),
    seamAttributes: m(TD_BODY.SEAM_ATTRIBUTES, SIZE.ATTRIBUTES_8, 'seamAttributes'),
    tdAttributes: m(TD_BODY.TD_ATTRIBUTES, SIZE.ATTRIBUTES_8, 'tdAttributes'),
    xfam: m(TD_BODY.XFAM, SIZE.ATTRIBUTES_8, 'xfam'),
    mrTd: mr(TD_BODY.MR_TD, 'mrTd'),
    mrConfigId: mr(TD_BODY.MR_CONFIG_ID, 'mrConfigId'),
    mrOwner: mr(TD_BODY.MR_OWNER, 'mrOwner'),
    mrOwnerConfig: mr(TD_BODY.MR_OWNER_CONFIG, 'mrOwnerConfig'),
    rtmrs: [
      mr(TD_BODY.RTMR0, 'rtmr0'),
      mr(TD_BODY.RTMR1, 'rtmr1'),
      mr(TD_BODY.RTMR2, 'rtmr2'),
      mr(TD_BODY.RTMR3, 'rtmr3'),
    ],
    reportData: m(TD_BODY.REPORT_DATA, SIZE.REPORT_DATA, 'reportData'),
    teeTcbSvn2: tdx15 ? m(TD_BODY.TEE_TCB_SVN_2, SIZE.TEE_TCB_SVN, 'teeTcbSvn2') : null,
    mrServiceTd: tdx15 ? mr(TD_BODY.MR_SERVICE_TD, 'mrServiceTd') : null,
  };
}

function parseQeReport(r: Reader, at: number): QeReport {
  const raw = r.bytes(at, QE_REPORT.SIZE, 'qeReport');
  checkZero(r.raw, at, QE_REPORT_RESERVED);
  const q = new Reader(raw);
  return {
    raw,
    cpuSvn: q.bytes(QE_REPORT.CPU_SVN, SIZE.QE_CPU_SVN, 'qeReport.cpuSvn'),
    miscSelect: q.u32(QE_REPORT.MISC_SELECT, 'qeReport.miscSelect'),
    attributes: q.bytes(QE_REPORT.ATTRIBUTES, SIZE.QE_ATTRIBUTES, 'qeReport.attributes'),
    mrEnclave: q.bytes(QE_REPORT.MR_ENCLAVE, SIZE.QE_HASH, 'qeReport.mrEnclave'),
    mrSigner: q.bytes(QE_REPORT.MR_SIGNER, SIZE.QE_HASH, 'qeReport.mrSigner'),
    isvProdId: q.u16(QE_REPORT.ISV_PROD_ID, 'qeReport.isvProdId'),
    isvSvn: q.u16(QE_REPORT.ISV_SVN, 'qeReport.isvSvn'),
    reportData: q.bytes(QE_REPORT.REPORT_DATA, SIZE.REPORT_DATA, 'qeReport.reportData'),
  };
}

/** Certification data (A.4.2) at `at`: type, size, and where its data ends (inside `limit`). */
function certData(
  r: Reader,
  at: number,
  limit: number,
  field: string,
): { type: number; start: number; end: number } {
  const type = r.u16(at, `${field}.type`);
  const size = r.u32(at + 2, `${field}.size`);
  const start = at + 6;
  if (start > limit || size > limit - start) {
    throw malformed(`${field} size ${size} at ${hex(at + 2)} overruns its parent (ends at ${hex(limit)})`, {
      field: `${field}.size`,
      actual: size,
    });
  }
  return { type, start, end: start + size };
}

function expectType(actual: number, expected: number, field: string): void {
  if (actual !== expected) {
    throw malformed(`${field} type ${actual} is not ${expected}`, {
      field: `${field}.type`,
      expected,
      actual,
    });
  }
}

function expectEnd(actual: number, expected: number, field: string): void {
  if (actual !== expected) {
    throw malformed(`${field} ends at ${hex(actual)} but its parent ends at ${hex(expected)}`, {
      field,
      expected,
      actual,
    });
  }
}

/** The PCK chain bytes as PEM text: printable ASCII and line breaks, at most one final NUL. */
function pemText(bytes: Uint8Array): string {
  const end = bytes.length > 0 && bytes[bytes.length - 1] === 0 ? bytes.length - 1 : bytes.length;
  let s = '';
  for (let i = 0; i < end; i++) {
    const c = bytes[i]!;
    if (!((c >= 0x20 && c < 0x7f) || c === 0x0a || c === 0x0d)) {
      throw malformed(`PCK chain byte ${i} (0x${c.toString(16).padStart(2, '0')}) is not PEM text`, {
        field: 'pckChain',
        offset: i,
      });
    }
    s += String.fromCharCode(c);
  }
  return s;
}

/** Where the signature data (A.4) starts and ends: its 4-byte length, which must fit what follows. */
function signatureDataBounds(r: Reader, bodyEnd: number): { start: number; end: number } {
  const sigLen = r.u32(bodyEnd, 'signatureDataLength');
  const start = bodyEnd + 4;
  if (sigLen > r.raw.length - start) {
    throw malformed(`signature data length ${sigLen} exceeds the ${r.raw.length - start} bytes after it`, {
      field: 'signatureDataLength',
      actual: sigLen,
    });
  }
  return { start, end: start + sigLen };
}

type SignatureData = Pick<
  TdxQuote,
  'signature' | 'attestationKey' | 'qeReport' | 'qeReportSignature' | 'qeAuthData' | 'pckChainPem'
>;

/**
 * ECDSA 256-bit Quote Signature Data (A.4.1): the quote signature, the attestation key, then
 * certification data of type 6 (A.4.2) that ends exactly where the signature data does.
 */
function parseSignatureData(r: Reader, sig: { start: number; end: number }): SignatureData {
  const signature = r.bytes(sig.start + SIG_DATA.QUOTE_SIGNATURE, SIZE.SIGNATURE, 'signature');
  const attestationKey = r.bytes(
    sig.start + SIG_DATA.ATTESTATION_KEY,
    SIZE.ATTESTATION_KEY,
    'attestationKey',
  );
  if (sig.start + SIG_DATA.CERT_DATA > sig.end) {
    const sigLen = sig.end - sig.start;
    throw malformed(
      `signature data length ${sigLen} is shorter than its fixed part (${SIG_DATA.CERT_DATA})`,
      {
        field: 'signatureDataLength',
        actual: sigLen,
      },
    );
  }
  const outer = certData(r, sig.start + SIG_DATA.CERT_DATA_TYPE, sig.end, 'certificationData');
  expectType(outer.type, CERT_TYPE_QE_REPORT, 'certificationData');
  expectEnd(outer.end, sig.end, 'certificationData');
  return { signature, attestationKey, ...parseQeCertificationData(r, outer) };
}

/**
 * QE Report Certification Data (A.4.3), the data of certification data type 6: the QE report and
 * its signature, QE auth data (A.4.4), then certification data of type 5 (the PCK chain) that ends
 * exactly where its parent does.
 */
function parseQeCertificationData(
  r: Reader,
  outer: { start: number; end: number },
): Omit<SignatureData, 'signature' | 'attestationKey'> {
  const qe = outer.start;
  if (qe + QE_CERT_DATA.QE_AUTH_DATA > outer.end) {
    throw malformed('QE report certification data is shorter than its fixed part', {
      field: 'qeReportCertData',
    });
  }
  const qeReport = parseQeReport(r, qe + QE_CERT_DATA.QE_REPORT);
  const qeReportSignature = r.bytes(
    qe + QE_CERT_DATA.QE_REPORT_SIGNATURE,
    SIZE.SIGNATURE,
    'qeReportSignature',
  );
  const auth = qeAuthData(r, qe, outer.end);
  const inner = certData(r, auth.end, outer.end, 'pckCertificationData');
  expectType(inner.type, CERT_TYPE_PCK_CHAIN, 'pckCertificationData');
  expectEnd(inner.end, outer.end, 'pckCertificationData');
  const pckChainPem = pemText(r.raw.subarray(inner.start, inner.end));
  return { qeReport, qeReportSignature, qeAuthData: auth.data, pckChainPem };
}

/** QE Authentication Data (A.4.4) of the QE report certification data at `qe`: inside `limit`. */
function qeAuthData(r: Reader, qe: number, limit: number): { data: Uint8Array; end: number } {
  const size = r.u16(qe + QE_CERT_DATA.QE_AUTH_DATA_SIZE, 'qeAuthData.size');
  const start = qe + QE_CERT_DATA.QE_AUTH_DATA;
  if (size > limit - start) {
    throw malformed(`QE auth data size ${size} overruns the certification data`, {
      field: 'qeAuthData.size',
      actual: size,
    });
  }
  return { data: r.raw.slice(start, start + size), end: start + size };
}

/** Header (A.3), body (A.3.2/A.3.3), signature data (A.4); what follows it is counted, never read. */
export function parseQuote(bytes: Uint8Array): TdxQuote {
  if (!isBytes(bytes)) throw new SealgateError('invalid_argument', 'TDX quote: expected a Uint8Array');
  // Our own copy: the caller's buffer may change under us.
  const raw = bytes.slice();
  const r = new Reader(raw);
  const header = parseHeader(r);
  const body = locateBody(r, header.version);
  const bodyEnd = body.offset + body.size;
  r.need(body.offset, body.size, 'body');
  const parsedBody = parseBody(r, body.offset, body.type);
  const sig = signatureDataBounds(r, bodyEnd);
  return {
    raw,
    version: header.version,
    attestationKeyType: header.attestationKeyType,
    teeType: header.teeType,
    qeVendorId: raw.slice(HEADER.QE_VENDOR_ID, HEADER.QE_VENDOR_ID + SIZE.QE_VENDOR_ID),
    userData: raw.slice(HEADER.USER_DATA, HEADER.USER_DATA + SIZE.USER_DATA),
    bodyType: body.type,
    body: parsedBody,
    signedBytes: raw.slice(0, bodyEnd),
    ...parseSignatureData(r, sig),
    trailingBytes: raw.length - sig.end,
  };
}
