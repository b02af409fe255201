/**
 * The report's ECDSA P-384 signature (ABI spec pub. 56860, "ECDSA P-384 with SHA-384 Signature"
 * table): R at 0x2A0 and S at 0x2E8, each a 72-byte little-endian field, zero-extended from the
 * 48-byte P-384 scalar. WebCrypto wants IEEE P1363: r||s, 48 bytes each, big-endian.
 */
import { isBytes } from '../../bytes.js';
import { SealgateError } from '../../errors.js';
import { SIZE } from './layout.js';

const SCALAR = 48;

function leToBe48(le: Uint8Array): Uint8Array | null {
  // Bytes 48..71 of the LE field are the high end; a P-384 scalar leaves them zero.
  for (let i = SCALAR; i < le.length; i++) if (le[i] !== 0) return null;
  const be = new Uint8Array(SCALAR);
  for (let i = 0; i < SCALAR; i++) be[i] = le[SCALAR - 1 - i]!;
  return be;
}

/**
 * r||s big-endian (96 bytes) for `crypto.subtle.verify({name:'ECDSA', hash:'SHA-384'}, …)`, or
 * null when r or s does not fit in 48 bytes — no valid P-384 signature, a verification failure
 * rather than a parse error.
 */
export function reportSignatureP1363(signature: { rLe: Uint8Array; sLe: Uint8Array }): Uint8Array | null {
  const { rLe, sLe } = signature;
  if (
    !isBytes(rLe) ||
    rLe.length !== SIZE.SIGNATURE_COMPONENT ||
    !isBytes(sLe) ||
    sLe.length !== SIZE.SIGNATURE_COMPONENT
  ) {
    throw new SealgateError('invalid_argument', 'report signature: r and s must be 72-byte Uint8Arrays');
  }
  const r = leToBe48(rLe);
  const s = leToBe48(sLe);
  if (r === null || s === null) return null;
  const out = new Uint8Array(2 * SCALAR);
  out.set(r, 0);
  out.set(s, SCALAR);
  return out;
}

/** The inverse: a 96-byte P1363 r||s (as WebCrypto's ECDSA P-384 sign returns) → the report's fields. */
export function signatureFromP1363(p1363: Uint8Array): { rLe: Uint8Array; sLe: Uint8Array } {
  if (!isBytes(p1363) || p1363.length !== 2 * SCALAR) {
    throw new SealgateError('invalid_argument', `report signature: expected ${2 * SCALAR} bytes of r||s`);
  }
  const rLe = new Uint8Array(SIZE.SIGNATURE_COMPONENT);
  const sLe = new Uint8Array(SIZE.SIGNATURE_COMPONENT);
  for (let i = 0; i < SCALAR; i++) {
    rLe[i] = p1363[SCALAR - 1 - i]!;
    sLe[i] = p1363[2 * SCALAR - 1 - i]!;
  }
  return { rLe, sLe };
}
