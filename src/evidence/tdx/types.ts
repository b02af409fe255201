/**
 * The Intel TDX ECDSA quote (v4, v5) as Sealgate sees it after parsing (stage 1 of parse → verify →
 * evaluate). Field names follow Intel's TDX DCAP Quote Generation/Verification Library API spec,
 * Appendix A (see layout.ts). Byte fields are copies, independent of the caller's buffer.
 */

/** Which TD report the body is: TDX 1.0 (v4, or v5 type 2) or TDX 1.5 (v5 type 3). */
export type TdxBodyType = 'tdx10' | 'tdx15';

/** TD Quote Body (A.3.2). */
export interface TdReportBody {
  teeTcbSvn: Uint8Array;
  mrSeam: Uint8Array;
  mrSignerSeam: Uint8Array;
  /** SEAMATTRIBUTES, 8 bytes as in the quote (little-endian). */
  seamAttributes: Uint8Array;
  /** TDATTRIBUTES, 8 bytes as in the quote (little-endian); bit meanings are judged by policy. */
  tdAttributes: Uint8Array;
  xfam: Uint8Array;
  mrTd: Uint8Array;
  mrConfigId: Uint8Array;
  mrOwner: Uint8Array;
  mrOwnerConfig: Uint8Array;
  /** RTMR0..RTMR3. */
  rtmrs: [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  reportData: Uint8Array;
  /** TDX 1.5 only, else null. */
  teeTcbSvn2: Uint8Array | null;
  /** TDX 1.5 only, else null. */
  mrServiceTd: Uint8Array | null;
}

/** The QE's SGX report body (A.4.5). */
export interface QeReport {
  /** The 384 bytes the PCK key signed. */
  raw: Uint8Array;
  cpuSvn: Uint8Array;
  miscSelect: number;
  attributes: Uint8Array;
  mrEnclave: Uint8Array;
  mrSigner: Uint8Array;
  isvProdId: number;
  isvSvn: number;
  reportData: Uint8Array;
}

export interface TdxQuote {
  /** The quote as given, including any trailing bytes. */
  raw: Uint8Array;
  version: 4 | 5;
  attestationKeyType: number;
  teeType: number;
  qeVendorId: Uint8Array;
  userData: Uint8Array;
  bodyType: TdxBodyType;
  body: TdReportBody;
  /** Header ‖ (v5 descriptor ‖) body: the bytes the attestation key signed. */
  signedBytes: Uint8Array;
  /** ECDSA P-256 signature r ‖ s (big-endian, 32 bytes each) over `signedBytes`. */
  signature: Uint8Array;
  /** The attestation key: raw P-256 point x ‖ y (64 bytes, no 0x04 prefix). */
  attestationKey: Uint8Array;
  qeReport: QeReport;
  /** ECDSA P-256 r ‖ s over `qeReport.raw` by the PCK leaf's key. */
  qeReportSignature: Uint8Array;
  qeAuthData: Uint8Array;
  /** The PCK certificate chain (certification data type 5) as PEM text: leaf, PCK CA, root. */
  pckChainPem: string;
  /** Bytes after the signature data: outside every length field and every signature, never read. */
  trailingBytes: number;
}
