/**
 * RFC 5280 §6.1.4 (l)–(m), §4.2.1.9: a CA's pathLenConstraint is the most non-self-issued
 * intermediate certificates that may follow it in a path; the end entity is not counted, nor is a
 * self-issued intermediate (a key rollover). Checked for every issuer in the chain, the trust
 * anchor too (its constraint is its owner's intent; Go's crypto/x509 does the same). Shared by
 * the AMD, Intel and NVIDIA chain checks; each reports a finding as its own violation.
 */
import { constantTimeEqual } from '../bytes.js';
import type { Certificate } from '../der/certificate.js';

export interface PathLengthExceeded {
  /** The constraining CA's index, leaf first (0 = leaf). */
  index: number;
  pathLen: number;
  /** Non-self-issued intermediates between it and the leaf. */
  intermediates: number;
}

type ChainCert = Pick<Certificate, 'issuer' | 'subject' | 'pathLen'>;

/** The first issuer (from the leaf up) whose pathLenConstraint the chain exceeds; null when none. */
export function pathLengthExceeded(chain: readonly ChainCert[]): PathLengthExceeded | null {
  let intermediates = 0;
  for (let index = 1; index < chain.length; index++) {
    const cert = chain[index]!;
    if (cert.pathLen !== null && intermediates > cert.pathLen) {
      return { index, pathLen: cert.pathLen, intermediates };
    }
    if (!constantTimeEqual(cert.issuer, cert.subject)) intermediates++;
  }
  return null;
}

/** "…[i] allows N intermediate certificate(s) below it; the chain has M" — for a violation text. */
export function pathLengthText(field: string, found: PathLengthExceeded): string {
  return (
    `${field}[${found.index}]: its pathLenConstraint allows ${found.pathLen} intermediate ` +
    `certificate(s) below it, the chain has ${found.intermediates} (RFC 5280 §4.2.1.9)`
  );
}
