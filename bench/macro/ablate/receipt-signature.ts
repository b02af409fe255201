/**
 * Ablation stand-in for src/receipts/receipt.ts (bench/macro/ablate-gateway.ts `receipt-sig`): the
 * receipt's ES256 signature is not verified; its thumbprint is still compared. Measurement only.
 */
import { constantTimeEqual } from '../../../src/bytes.js';
import { SealgateError } from '../../../src/errors.js';
import type { ParsedReceipt, ReceiptClaims } from '../../../src/receipts/receipt.js';

export * from '../../../src/receipts/receipt.js';

export async function verifyReceiptSignature(
  receipt: ParsedReceipt,
  _certificateDer: Uint8Array,
  _workerKey: Uint8Array | CryptoKey,
  certificateSha256?: Uint8Array,
): Promise<ReceiptClaims> {
  if (!certificateSha256 || !constantTimeEqual(receipt.certificateSha256, certificateSha256)) {
    throw new SealgateError('attestation_rejected', 'ablation: names another worker certificate');
  }
  return receipt.claims;
}
