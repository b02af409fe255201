/**
 * Ablation stand-in for src/gateway/sealing/receipt-check.ts (`receipt`): no worker certificate
 * lookup, no hash of the answer, no receipt parse, verify or kept receipt. Measurement only.
 */
import type { AnswerReceipt, ReceiptInput } from '../../../src/gateway/sealing/receipt-check.js';

export * from '../../../src/gateway/sealing/receipt-check.js';

const NONE: AnswerReceipt = {
  checkJson: async () => '',
  hash: () => undefined,
  checkStream: async () => '',
};

export async function prepareReceipt(_input: ReceiptInput): Promise<AnswerReceipt> {
  return NONE;
}
