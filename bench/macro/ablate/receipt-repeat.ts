/**
 * Ablation stand-in for src/gateway/sealing/receipt-check.ts (`receipt×8`): a JSON answer's receipt
 * checked REPEAT times (answer SHA-256, JWS parse, ES256 verify, claims, kept receipt).
 */
import {
  type AnswerReceipt,
  prepareReceipt as prepareOnce,
  type ReceiptInput,
} from '../../../src/gateway/sealing/receipt-check.js';
import { repeated } from './repeat.js';

export * from '../../../src/gateway/sealing/receipt-check.js';

export async function prepareReceipt(input: ReceiptInput): Promise<AnswerReceipt> {
  const real = await prepareOnce(input);
  return {
    checkJson: (body, compact) => repeated(() => real.checkJson(body, compact)),
    hash: (bytes) => real.hash(bytes),
    checkStream: (trailer) => real.checkStream(trailer),
  };
}
