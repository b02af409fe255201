/**
 * The worker's side of receipts (docs/protocol.md "Receipts"): sign, with the `signing` key its
 * worker certificate certifies, a receipt over the hashes of the sealed request it received and
 * the sealed answer it sent. A non-streamed answer carries it in `x-sealgate-receipt`; a stream in
 * a trailer event after its end frame. Either way the certificate travels in
 * `x-sealgate-worker-certificate` (base64url DER), so the gateway can check the receipt at once.
 */
import { toBase64Url } from '../bytes.js';
import type { RequestContext } from '../envelope/data-key.js';
import {
  type Es256Sign,
  RECEIPT_HEADER,
  signReceipt,
  WORKER_CERTIFICATE_HEADER,
} from '../receipts/receipt.js';

export { RECEIPT_HEADER };

export interface ReceiptSigner {
  /** The worker's `signing` private key (ECDSA P-256), or the signer holding it (identity.ts). */
  key: CryptoKey | Es256Sign;
  /** The worker certificate (DER) that certifies its public half. */
  certificate: Uint8Array;
}

export interface ReceiptInput {
  signer: ReceiptSigner;
  context: RequestContext;
  manifestDigest: string;
  requestSha256: string;
  responseSha256: string;
  stream: boolean;
  /** Unix seconds. */
  now: number;
  /** The runtime's base64url encoder (the Node worker's Buffer one); default src/bytes.ts's. */
  base64url?: (bytes: Uint8Array) => string;
}

export function makeReceipt(r: ReceiptInput): Promise<string> {
  return signReceipt({
    key: r.signer.key,
    certificateDer: r.signer.certificate,
    ...(r.base64url ? { base64url: r.base64url } : {}),
    claims: {
      v: 1,
      id: r.context.requestId,
      route: r.context.route,
      model: r.context.model,
      manifestDigest: r.manifestDigest,
      kid: r.context.kid,
      requestSha256: r.requestSha256,
      responseSha256: r.responseSha256,
      stream: r.stream,
      iat: r.now,
    },
  });
}

// The same certificate goes out with every answer until the worker re-registers: encoded once.
const encoded = new WeakMap<Uint8Array, string>();

export function certificateHeader(signer: ReceiptSigner): Record<string, string> {
  let b64u = encoded.get(signer.certificate);
  if (b64u === undefined) {
    b64u = toBase64Url(signer.certificate);
    encoded.set(signer.certificate, b64u);
  }
  return { [WORKER_CERTIFICATE_HEADER]: b64u };
}
