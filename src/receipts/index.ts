/** Signed receipts: format, bundle, offline verification. See docs/protocol.md "Receipts". */
export { encodeReceiptBundle, parseReceiptBundle, type ReceiptBundle } from './bundle.js';
export {
  bodySha256,
  createFrameHash,
  type FrameHash,
  type ParsedReceipt,
  parseReceipt,
  RECEIPT_TYPE,
  type ReceiptClaims,
  readReceiptTrailer,
  receiptTrailer,
  signReceipt,
  verifyReceiptSignature,
} from './receipt.js';
export { type ReceiptVerdict, type StepResult, verifyReceiptBundle } from './verify-receipt.js';
