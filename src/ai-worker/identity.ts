/**
 * The worker's own keys, made fresh at every start inside the CVM and never written anywhere:
 *
 * - `hpke`: an X-Wing key pair (docs/protocol.md, "Key exchange"): the service seals released KEKs
 *   to its public half (purpose `kek-release`);
 * - `signing`: an ECDSA P-256 key pair (FIPS 186-5; it signs a receipt per answer, src/receipts) whose public half (SPKI DER, RFC 5280 §4.1.2.7)
 *   the service puts into the worker's certificate. Non-extractable private key.
 *
 * Both public keys are bound into REPORT_DATA (docs/services.md, "Evidence and REPORT_DATA"), so the
 * service releases keys only to the VM that made them. Made at call time, never at import (workerd
 * refuses randomness at module top level).
 */
import { generateKeyExchangeKeyPair, type KeyExchangeKeyPair } from '../keys/hpke.js';

export interface WorkerIdentity {
  readonly hpke: KeyExchangeKeyPair;
  readonly signing: CryptoKeyPair;
  /** The signing public key, SPKI DER. */
  readonly signingSpki: Uint8Array;
}

export async function createWorkerIdentity(): Promise<WorkerIdentity> {
  const hpke = await generateKeyExchangeKeyPair();
  const signing = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const signingSpki = new Uint8Array(await crypto.subtle.exportKey('spki', signing.publicKey));
  return Object.freeze({ hpke, signing, signingSpki });
}

/** The keys the worker presents, by the names of docs/services.md ("Keys every attested party presents"). */
export function presentedKeys(identity: WorkerIdentity): Record<string, Uint8Array> {
  return { hpke: identity.hpke.publicKey, signing: identity.signingSpki };
}
