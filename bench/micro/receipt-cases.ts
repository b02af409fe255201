/**
 * Receipt micro cases (src/receipts/receipt.ts), runtime-neutral like cases.ts: what the worker pays
 * to sign one answer's receipt and what the gateway pays to check it, per answer, on the request
 * path. The certificate bytes only feed the `x5t#S256` thumbprint, so any bytes of a real worker
 * certificate's size stand in for one here.
 */
import { parseReceipt, signReceipt, verifyReceiptSignature } from '../../src/receipts/receipt.js';
import type { MicroCase } from './cases.js';

export async function receiptCases(): Promise<MicroCase[]> {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const certificateDer = crypto.getRandomValues(new Uint8Array(900));
  const hex = 'ab'.repeat(32);
  const claims = {
    v: 1 as const,
    id: `gw-${'0'.repeat(32)}`,
    route: '/v1/chat/completions',
    model: 'sealgate-builtin',
    manifestDigest: hex,
    kid: 'A'.repeat(22),
    requestSha256: hex,
    responseSha256: hex,
    stream: false,
    iat: Math.floor(Date.now() / 1000),
  };
  const compact = await signReceipt({ key: pair.privateKey, certificateDer, claims });
  return [
    {
      name: 'receipt.sign',
      what: 'the worker signs one answer’s receipt: JCS header and claims, SHA-256 thumbprint, ES256',
      bytes: 0,
      run: () => signReceipt({ key: pair.privateKey, certificateDer, claims }),
    },
    {
      name: 'receipt.check',
      what: 'the gateway checks one receipt: strict parse, thumbprint, ES256 verify (worker key imported once)',
      bytes: 0,
      run: () => verifyReceiptSignature(parseReceipt(compact), certificateDer, pair.publicKey),
    },
  ];
}
