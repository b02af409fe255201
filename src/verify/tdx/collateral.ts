/**
 * The collateral a TD quote is verified with, in the QuoteCollateralV3 shape that Intel's PCCS and
 * dcap-qvl use: the TCB info and QE identity bodies as the exact text Intel signed, their raw
 * r ‖ s signatures, their issuer chains (PEM), and the Root CA CRL and PCK CRL (DER) with the PCK
 * CRL's issuer chain. Decoding a collateral file checks its shape only; nothing here is trusted
 * before verify-tdx.ts has checked it.
 */
import { fromHex, utf8 } from '../../bytes.js';
import { SealgateError } from '../../errors.js';
import { parseStrictJson } from '../../json/strict-json.js';
import { Fields } from './json-fields.js';

export interface TdxCollateral {
  /** The `tcbInfo` value, exactly as signed. */
  tcbInfo: string;
  tcbInfoSignature: Uint8Array;
  tcbInfoIssuerChain: string;
  /** The `enclaveIdentity` value, exactly as signed. */
  qeIdentity: string;
  qeIdentitySignature: Uint8Array;
  qeIdentityIssuerChain: string;
  /** Null when absent: verification then fails with `crl_invalid`. */
  rootCaCrl: Uint8Array | null;
  pckCrl: Uint8Array | null;
  pckCrlIssuerChain: string | null;
}

const WHAT = 'collateral';

function hexBytes(f: Fields, key: string): Uint8Array {
  const s = f.str(key);
  if (!/^([0-9a-fA-F]{2})*$/.test(s))
    throw new SealgateError('malformed_evidence', `${WHAT}: /${key} is not hex`);
  return fromHex(s.toLowerCase());
}

function optional<T>(f: Fields, key: string, read: () => T): T | null {
  return f.has(key) && f.o[key] !== null ? read() : null;
}

/**
 * A QuoteCollateralV3 JSON text (PCCS / dcap-qvl): `tcb_info`, `tcb_info_signature`,
 * `tcb_info_issuer_chain`, `qe_identity`, `qe_identity_signature`, `qe_identity_issuer_chain`,
 * `root_ca_crl`, `pck_crl` (hex DER), `pck_crl_issuer_chain`. Throws `malformed_evidence` or
 * `invalid_json` for another shape; CRL keys may be absent or null (judged by verification).
 */
export function parseCollateralJson(text: string): TdxCollateral {
  const f = Fields.of(WHAT, parseStrictJson(text));
  return {
    tcbInfo: f.str('tcb_info'),
    tcbInfoSignature: hexBytes(f, 'tcb_info_signature'),
    tcbInfoIssuerChain: f.str('tcb_info_issuer_chain'),
    qeIdentity: f.str('qe_identity'),
    qeIdentitySignature: hexBytes(f, 'qe_identity_signature'),
    qeIdentityIssuerChain: f.str('qe_identity_issuer_chain'),
    rootCaCrl: optional(f, 'root_ca_crl', () => hexBytes(f, 'root_ca_crl')),
    pckCrl: optional(f, 'pck_crl', () => hexBytes(f, 'pck_crl')),
    pckCrlIssuerChain: optional(f, 'pck_crl_issuer_chain', () => f.str('pck_crl_issuer_chain')),
  };
}

/**
 * A PCS response body `{"<key>":<body>,"signature":"<hex>"}` (TCB info: key `tcbInfo`; QE identity:
 * `enclaveIdentity`) split into the body's exact text and the signature. The whole text must parse
 * as strict JSON with exactly those two members, in that order, with no whitespace before the closing brace, so
 * that the sliced body is byte for byte the value Intel signed.
 */
export function splitSignedJson(
  text: string,
  key: 'tcbInfo' | 'enclaveIdentity',
): { body: string; signature: Uint8Array } {
  const f = Fields.of(WHAT, parseStrictJson(text));
  const keys = Object.keys(f.o);
  const prefix = `{"${key}":`;
  // Whitespace may follow the closing brace (a saved file's final line break), never precede a member.
  const m = /,"signature":"([0-9a-fA-F]*)"}[ \t\r\n]*$/.exec(text);
  if (
    keys.length !== 2 ||
    keys[0] !== key ||
    keys[1] !== 'signature' ||
    !text.startsWith(prefix) ||
    m === null
  ) {
    throw new SealgateError('malformed_evidence', `${WHAT}: expected {"${key}":…,"signature":"…"} exactly`);
  }
  const body = text.slice(prefix.length, m.index);
  // The slice must itself be the member's value: parse it alone and compare with the whole's member.
  if (JSON.stringify(parseStrictJson(body)) !== JSON.stringify(f.o[key])) {
    throw new SealgateError('malformed_evidence', `${WHAT}: the ${key} text does not delimit its value`);
  }
  return { body, signature: hexBytes(f, 'signature') };
}

/** UTF-8 of the signed text (PCS signs the bytes of the JSON value as served). */
export function signedBytesOf(body: string): Uint8Array {
  return utf8.encode(body);
}
