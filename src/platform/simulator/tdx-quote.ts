/**
 * SIMULATED TDX quotes, version 4 (Intel TDX DCAP Quote Library API, Appendix A; offsets in
 * src/evidence/tdx/layout.ts): header, TD Quote Body (TDX 1.0), and ECDSA-256 signature data whose
 * QE report is signed by the simulated PCK key and whose report_data binds the attestation key —
 * SHA-256(attestation key ‖ QE auth data) ‖ zeros — as Intel's QE does (A.4.1–A.4.5).
 */
import { concatBytes, fromHex, sha256, toArrayBuffer, utf8 } from '../../bytes.js';
import { SealgateError } from '../../errors.js';
import {
  ATT_KEY_TYPE_ECDSA_P256,
  CERT_TYPE_PCK_CHAIN,
  CERT_TYPE_QE_REPORT,
  HEADER,
  INTEL_QE_VENDOR_ID,
  QE_REPORT,
  TD_BODY,
  TD_BODY_SIZE_10,
  TEE_TYPE_TDX,
} from '../../evidence/tdx/layout.js';
import { ECDSA_SHA256, pemChain, type TdxDevChain } from './tdx-chain.js';
import { SIMULATED_TDX_TCB } from './tdx-collateral.js';

/** What the TD's launch fixes (the VMM's TDH.MNG.INIT / TDH.MR.* inputs). 48-byte registers. */
export interface SimulatedTdConfig {
  mrTd: Uint8Array;
  rtmrs?: readonly [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  mrConfigId?: Uint8Array;
  mrOwner?: Uint8Array;
  mrOwnerConfig?: Uint8Array;
  mrSeam?: Uint8Array;
  /** TDATTRIBUTES, 8 bytes as in the quote. Default SEPT_VE_DISABLE (bit 28) only. */
  tdAttributes?: Uint8Array;
  /** XFAM, 8 bytes as in the quote. Default x87, SSE, AVX, AVX-512, PKRU (0x0606e7 as hosts set). */
  xfam?: Uint8Array;
}

export const SIMULATED_TD_DEFAULTS = Object.freeze({
  tdAttributes: fromHex('0000001000000000'),
  xfam: fromHex('e702060000000000'),
  mrSeam: new Uint8Array(48).fill(0x5e),
});

const fail = (message: string): never => {
  throw new SealgateError('invalid_argument', `simulated TDX quote: ${message}`);
};

function put(out: Uint8Array, at: number, v: Uint8Array | undefined, len: number, name: string): void {
  if (v === undefined) return;
  if (!(v instanceof Uint8Array) || v.length !== len) fail(`${name} must be ${len} bytes`);
  out.set(v, at);
}

function header(): Uint8Array {
  const h = new Uint8Array(HEADER.SIZE);
  const dv = new DataView(h.buffer);
  dv.setUint16(HEADER.VERSION, 4, true);
  dv.setUint16(HEADER.ATT_KEY_TYPE, ATT_KEY_TYPE_ECDSA_P256, true);
  dv.setUint32(HEADER.TEE_TYPE, TEE_TYPE_TDX, true);
  h.set(fromHex(INTEL_QE_VENDOR_ID), HEADER.QE_VENDOR_ID);
  return h;
}

function body(td: SimulatedTdConfig, reportData: Uint8Array): Uint8Array {
  const b = new Uint8Array(TD_BODY_SIZE_10);
  const t = SIMULATED_TDX_TCB;
  b.set(t.teeTcbSvn, TD_BODY.TEE_TCB_SVN);
  put(b, TD_BODY.MR_SEAM, td.mrSeam ?? SIMULATED_TD_DEFAULTS.mrSeam, 48, 'mrSeam');
  b.set(t.mrSignerSeam, TD_BODY.MR_SIGNER_SEAM);
  b.set(t.seamAttributes, TD_BODY.SEAM_ATTRIBUTES);
  put(b, TD_BODY.TD_ATTRIBUTES, td.tdAttributes ?? SIMULATED_TD_DEFAULTS.tdAttributes, 8, 'tdAttributes');
  put(b, TD_BODY.XFAM, td.xfam ?? SIMULATED_TD_DEFAULTS.xfam, 8, 'xfam');
  put(b, TD_BODY.MR_TD, td.mrTd, 48, 'mrTd');
  put(b, TD_BODY.MR_CONFIG_ID, td.mrConfigId, 48, 'mrConfigId');
  put(b, TD_BODY.MR_OWNER, td.mrOwner, 48, 'mrOwner');
  put(b, TD_BODY.MR_OWNER_CONFIG, td.mrOwnerConfig, 48, 'mrOwnerConfig');
  const rtmrAt = [TD_BODY.RTMR0, TD_BODY.RTMR1, TD_BODY.RTMR2, TD_BODY.RTMR3];
  for (const [i, r] of (td.rtmrs ?? []).entries()) put(b, rtmrAt[i]!, r, 48, `rtmr${i}`);
  put(b, TD_BODY.REPORT_DATA, reportData, 64, 'reportData');
  return b;
}

async function qeReport(attestationKey: Uint8Array, authData: Uint8Array): Promise<Uint8Array> {
  const q = SIMULATED_TDX_TCB.qe;
  const r = new Uint8Array(QE_REPORT.SIZE);
  const dv = new DataView(r.buffer);
  dv.setUint32(QE_REPORT.MISC_SELECT, q.miscSelect, true);
  r.set(q.attributes, QE_REPORT.ATTRIBUTES);
  r.set(q.mrEnclave, QE_REPORT.MR_ENCLAVE);
  r.set(q.mrSigner, QE_REPORT.MR_SIGNER);
  dv.setUint16(QE_REPORT.ISV_PROD_ID, q.isvProdId, true);
  dv.setUint16(QE_REPORT.ISV_SVN, q.isvSvn, true);
  r.set(await sha256(concatBytes(attestationKey, authData)), QE_REPORT.REPORT_DATA);
  return r;
}

function certData(type: number, data: Uint8Array): Uint8Array {
  const head = new Uint8Array(6);
  const dv = new DataView(head.buffer);
  dv.setUint16(0, type, true);
  dv.setUint32(2, data.length, true);
  return concatBytes(head, data);
}

async function sign(key: CryptoKey, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign(ECDSA_SHA256, key, toArrayBuffer(data)));
}

/** A v4 quote of a TD launched with `td`, REPORT_DATA exactly `reportData`, signed by `attestationKey`. */
export async function signTdxQuote(
  chain: TdxDevChain,
  attestationKey: CryptoKeyPair,
  td: SimulatedTdConfig,
  reportData: Uint8Array,
): Promise<Uint8Array> {
  const signed = concatBytes(header(), body(td, reportData));
  const akRaw = new Uint8Array(await crypto.subtle.exportKey('raw', attestationKey.publicKey)).slice(1);
  const authData = Uint8Array.from({ length: 32 }, (_, i) => i);
  const report = await qeReport(akRaw, authData);
  const authSize = new Uint8Array(2);
  new DataView(authSize.buffer).setUint16(0, authData.length, true);
  const c = chain.certificates;
  const qeCert = concatBytes(
    report,
    await sign(chain.keys.pck, report),
    authSize,
    authData,
    certData(CERT_TYPE_PCK_CHAIN, utf8.encode(pemChain([c.pck, c.pckCa, c.root]))),
  );
  const sigData = concatBytes(
    await sign(attestationKey.privateKey, signed),
    akRaw,
    certData(CERT_TYPE_QE_REPORT, qeCert),
  );
  const sigLen = new Uint8Array(4);
  new DataView(sigLen.buffer).setUint32(0, sigData.length, true);
  return concatBytes(signed, sigLen, sigData);
}
