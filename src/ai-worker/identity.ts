/**
 * The worker's own keys, made fresh at every start inside the CVM and never written anywhere:
 *
 * - `hpke`: an X-Wing key pair (docs/protocol.md, "Key exchange"): the service seals released KEKs
 *   to its public half (purpose `kek-release`);
 * - `signing`: an ECDSA P-256 key pair (FIPS 186-5; it signs a receipt per answer, src/receipts) whose public half (SPKI DER, RFC 5280 §4.1.2.7)
 *   the service puts into the worker's certificate. Its private half is held by a signing function
 *   only (`Es256Sign`): WebCrypto's non-extractable key by default; the Node server brings
 *   node:crypto's (node-receipt-key.ts), which signs on the calling thread.
 *
 * Both public keys are bound into REPORT_DATA (docs/services.md, "Evidence and REPORT_DATA"), so the
 * service releases keys only to the VM that made them. Made at call time, never at import (workerd
 * refuses randomness at module top level).
 */
import { generateKeyExchangeKeyPair, type KeyExchangeKeyPair } from '../keys/hpke.js';
import type { Es256Sign } from '../receipts/receipt.js';

/** A receipt key pair: the signer holding the private half, and the public half as SPKI DER. */
export interface ReceiptKeyPair {
  readonly sign: Es256Sign;
  readonly spki: Uint8Array;
}

/** Makes a fresh P-256 receipt key pair. */
export type ReceiptKeyFactory = () => Promise<ReceiptKeyPair> | ReceiptKeyPair;

export interface WorkerIdentity {
  readonly hpke: KeyExchangeKeyPair;
  /** Signs receipts with the `signing` private key (ES256, r ‖ s). */
  readonly signing: Es256Sign;
  /** The signing public key, SPKI DER. */
  readonly signingSpki: Uint8Array;
}

const ES256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** The default receipt key: WebCrypto, the private key non-extractable. */
export async function webReceiptKey(): Promise<ReceiptKeyPair> {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey));
  const sign: Es256Sign = async (data) =>
    new Uint8Array(await crypto.subtle.sign(ES256, pair.privateKey, data as BufferSource));
  return Object.freeze({ sign, spki });
}

export async function createWorkerIdentity(
  makeReceiptKey: ReceiptKeyFactory = webReceiptKey,
): Promise<WorkerIdentity> {
  const hpke = await generateKeyExchangeKeyPair();
  const receiptKey = await makeReceiptKey();
  return Object.freeze({ hpke, signing: receiptKey.sign, signingSpki: receiptKey.spki.slice() });
}

/** The keys the worker presents, by the names of docs/services.md ("Keys every attested party presents"). */
export function presentedKeys(identity: WorkerIdentity): Record<string, Uint8Array> {
  return { hpke: identity.hpke.publicKey, signing: identity.signingSpki };
}
