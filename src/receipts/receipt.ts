/**
 * Signed receipts (docs/protocol.md "Receipts"): the AI worker's statement, signed with the
 * ECDSA P-256 key its worker certificate vouches for, that it answered request `id` — these exact
 * sealed request bytes — with these exact sealed response bytes, for this model, under this
 * manifest and KEK, at this time.
 *
 * Form: a JWS in compact serialization (RFC 7515 §7.1), `alg` ES256 (RFC 7518 §3.4: ECDSA P-256
 * with SHA-256, signature r ‖ s, 64 bytes), so any JOSE library can check it. It is stricter than
 * RFC 7515 requires, so that one receipt has exactly one spelling:
 *
 *   - header and payload are RFC 8785 (JCS) canonical JSON, and base64url is canonical and unpadded;
 *   - header = {"alg":"ES256","typ":"sealgate-receipt+jws","x5t#S256":<b64u SHA-256 of the worker
 *     certificate DER>} exactly. `typ` is the domain separation (explicit typing, RFC 8725 §3.11):
 *     the signed bytes are ASCII(b64u(header) "." b64u(payload)) and a verifier refuses any other
 *     type, so nothing else the key might ever sign can pass for a receipt;
 *   - payload = exactly the fields of `ReceiptClaims`.
 *
 * Why ES256 and not ES384: a receipt is signed (worker) and checked (gateway) for every answer, on
 * the request path, and P-256 costs a fraction of P-384 in both BoringSSL and OpenSSL (docs/
 * benchmarks.md, `receipt.*`); 128-bit security is that of the EAR's ES256 and of WebPKI. The worker
 * certificate, signed once per registration, stays ECDSA P-384 / SHA-384 under the service's key.
 *
 * Pure: WebCrypto and @noble/hashes only; runs in workerd, Node and browsers.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import {
  constantTimeEqual,
  fromBase64Url,
  isCanonicalBase64UrlTail,
  sha256,
  toBase64Url,
  toHex,
  utf8,
} from '../bytes.js';
import { checkRequestId, checkRoute, isValidModel } from '../envelope/wire.js';
import { SealgateError } from '../errors.js';
import { canonicalizeJson } from '../json/canonical.js';
import { isRecord } from '../json/object-guards.js';

export const RECEIPT_VERSION = 1;
/** Worker → gateway: the compact receipt of a non-streamed answer. */
export const RECEIPT_HEADER = 'x-sealgate-receipt';
/** Worker → gateway: the worker certificate (base64url DER) the receipt names. */
export const WORKER_CERTIFICATE_HEADER = 'x-sealgate-worker-certificate';
export const RECEIPT_TYPE = 'sealgate-receipt+jws';
export const RECEIPT_ALG = 'ES256';
/** Upper bound for a receipt's compact form (a real one is ~800 characters). */
export const MAX_RECEIPT_LENGTH = 4096;
const P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const ES256 = { name: 'ECDSA', hash: 'SHA-256' } as const;
const SIGNATURE_LENGTH = 64;
const HEX64 = /^[0-9a-f]{64}$/;

export interface ReceiptClaims {
  v: 1;
  /** The request id (`rid` of the sealed request); also the receipt's id at the gateway. */
  id: string;
  /** The route the request was sealed for, e.g. "/v1/chat/completions". */
  route: string;
  model: string;
  /** SHA-256 of the canonical manifest the worker was attested against (hex). */
  manifestDigest: string;
  /** The KEK id the request was sealed under. */
  kid: string;
  /** SHA-256 (hex) of the exact sealed request body bytes the worker received. */
  requestSha256: string;
  /** SHA-256 (hex) of the sealed response body; for streams, the stream hash (`createStreamHash`). */
  responseSha256: string;
  /** Whether the answer was a sealed stream (and `responseSha256` is the stream hash). */
  stream: boolean;
  /** Signing time, Unix seconds. */
  iat: number;
}

const CLAIM_NAMES = [
  'iat',
  'id',
  'kid',
  'manifestDigest',
  'model',
  'requestSha256',
  'responseSha256',
  'route',
  'stream',
  'v',
] as const;
const HEADER_NAMES = ['alg', 'typ', 'x5t#S256'] as const;

export interface ParsedReceipt {
  /** The compact form as given. */
  compact: string;
  claims: ReceiptClaims;
  /** SHA-256 of the worker certificate DER the receipt names (`x5t#S256`). */
  certificateSha256: Uint8Array;
  signingInput: Uint8Array;
  signature: Uint8Array;
}

function malformed(message: string): SealgateError {
  return new SealgateError('malformed_evidence', `receipt: ${message}`);
}

function rejected(message: string, detail?: Record<string, unknown>): SealgateError {
  return new SealgateError('attestation_rejected', `receipt: ${message}`, detail);
}

/** Throws `invalid_argument` (signing) or `malformed_evidence` (reading) for claims out of domain. */
function checkClaims(c: Record<string, unknown>, fail: (m: string) => SealgateError): ReceiptClaims {
  const keys = Object.keys(c).sort();
  if (keys.join(',') !== [...CLAIM_NAMES].join(','))
    throw fail(`claims must be exactly ${CLAIM_NAMES.join(', ')}`);
  if (c.v !== RECEIPT_VERSION) throw fail('unsupported version');
  try {
    checkRequestId(c.id, 'id');
    checkRoute(c.route, 'route');
  } catch (e) {
    throw fail((e as Error).message);
  }
  // Key ids are 22 characters of base64url (docs/protocol.md "Key ids and lifetimes").
  if (typeof c.kid !== 'string' || !/^[A-Za-z0-9_-]{22}$/.test(c.kid)) throw fail('kid must be a key id');
  if (!isValidModel(c.model)) throw fail('model is not a valid model name');
  for (const name of ['manifestDigest', 'requestSha256', 'responseSha256'] as const) {
    if (typeof c[name] !== 'string' || !HEX64.test(c[name] as string))
      throw fail(`${name} must be 64 lower-case hex characters`);
  }
  if (typeof c.stream !== 'boolean') throw fail('stream must be a boolean');
  if (typeof c.iat !== 'number' || !Number.isSafeInteger(c.iat) || c.iat < 0 || c.iat > 2 ** 40) {
    throw fail('iat must be Unix seconds');
  }
  return c as unknown as ReceiptClaims;
}

/**
 * An ES256 signer that is not a CryptoKey: the JWS signature (RFC 7518 §3.4: r ‖ s, 64 bytes) of
 * `data` under a P-256 private key it holds. The AI worker's Node server signs through node:crypto
 * this way (src/ai-worker/node-receipt-key.ts), on its own thread: WebCrypto's sign is a libuv
 * thread-pool job in Node, and its hand-off costs more than the signature.
 */
export type Es256Sign = (data: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/**
 * Signs a receipt with the worker's `signing` private key (a CryptoKey, or an `Es256Sign` holding
 * it) for the certificate `certificateDer`. Returns the compact JWS.
 */
export async function signReceipt(input: {
  key: CryptoKey | Es256Sign;
  certificateDer: Uint8Array;
  claims: ReceiptClaims;
  /**
   * Unpadded base64url with exactly `toBase64Url`'s spelling, native to the caller's runtime (the
   * Node worker passes Buffer's, src/ai-worker/node-base64url.ts); default `toBase64Url`.
   */
  base64url?: (bytes: Uint8Array) => string;
}): Promise<string> {
  const claims = checkClaims(
    { ...input.claims },
    (m) => new SealgateError('invalid_argument', `signReceipt: ${m}`),
  );
  const b64u = input.base64url ?? toBase64Url;
  const payload = b64u(utf8.encode(claimsJson(claims)));
  const signingInput = `${await encodedHeader(input.certificateDer)}.${payload}`;
  const data = utf8.encode(signingInput);
  const { key } = input;
  const signature =
    typeof key === 'function'
      ? await key(data)
      : new Uint8Array(await crypto.subtle.sign(ES256, key, data as BufferSource));
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) {
    throw new SealgateError('internal', `signReceipt: the signer did not return ${SIGNATURE_LENGTH} bytes`);
  }
  return `${signingInput}.${b64u(signature)}`;
}

/**
 * The encoded JWS header (it names the certificate by `x5t#S256`), made once per certificate
 * object: a worker signs every answer under the same certificate until it re-registers. Keyed by
 * identity; certificate bytes are never modified in place (and a stale header could only make a
 * receipt fail to verify).
 */
const headers = new WeakMap<Uint8Array, Promise<string>>();

function encodedHeader(der: Uint8Array): Promise<string> {
  let h = headers.get(der);
  if (!h) {
    h = sha256(der).then((thumbprint) =>
      b64uJson({ alg: RECEIPT_ALG, typ: RECEIPT_TYPE, 'x5t#S256': toBase64Url(thumbprint) }),
    );
    headers.set(der, h);
  }
  return h;
}

/**
 * RFC 8785 (JCS) of claims that passed `checkClaims`, written out: members in JCS order (the
 * UTF-16 order of their names, CLAIM_NAMES), strings as JSON.stringify writes them — which is
 * JCS's string form (§3.2.2.2) for strings without unpaired surrogates, and checkClaims admits no
 * other — integers as their decimal, booleans as literals. Equal to `canonicalizeJson(claims)`
 * (test/receipts/receipt.test.ts) without its generic walk, per answer on the worker.
 */
export function claimsJson(c: ReceiptClaims): string {
  const q = JSON.stringify;
  return (
    `{"iat":${c.iat},"id":${q(c.id)},"kid":${q(c.kid)},"manifestDigest":${q(c.manifestDigest)},` +
    `"model":${q(c.model)},"requestSha256":${q(c.requestSha256)},"responseSha256":${q(c.responseSha256)},` +
    `"route":${q(c.route)},"stream":${c.stream},"v":${c.v}}`
  );
}

function b64uJson(value: unknown): string {
  return toBase64Url(utf8.encode(canonicalizeJson(value)));
}

/** Canonical base64url only: the encoding of the decoded bytes must give back the same text. */
function decodeCanonical(part: string, what: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(part);
  } catch {
    throw malformed(`${what} is not base64url`);
  }
  // Same verdict as re-encoding and comparing (the characters were checked by fromBase64Url).
  if (!isCanonicalBase64UrlTail(part)) throw malformed(`${what} is not canonical base64url`);
  return bytes;
}

/** A part's JSON object and the exact text it was parsed from (UTF-8, strict). */
function decodeJsonPart(part: string, what: string): { value: Record<string, unknown>; text: string } {
  const bytes = decodeCanonical(part, what);
  let text: string;
  let value: unknown;
  try {
    text = utf8.decode(bytes); // fatal: a malformed sequence throws
    value = JSON.parse(text);
  } catch {
    throw malformed(`${what} is not UTF-8 JSON`);
  }
  if (!isRecord(value)) {
    throw malformed(`${what} is not a JSON object`);
  }
  return { value: value as Record<string, unknown>, text };
}

function decodeJsonObject(part: string, what: string): Record<string, unknown> {
  const { value, text } = decodeJsonPart(part, what);
  let canonical: string;
  try {
    canonical = canonicalizeJson(value);
  } catch {
    throw malformed(`${what} is not canonical JSON (RFC 8785)`);
  }
  if (canonical !== text) throw malformed(`${what} is not canonical JSON (RFC 8785)`);
  return value;
}

/**
 * Header parts that passed every check, by their exact text → the thumbprint they name. A worker
 * signs every receipt under one certificate with one header, so the gateway decodes it once per
 * certificate, not once per answer; only text that passed is ever a key, and any other text is
 * checked in full. Bounded like the gateway's certificate cache (oldest dropped).
 */
const checkedHeaders = new Map<string, Uint8Array>();
const MAX_CHECKED_HEADERS = 32;

/** For tests: how many checked header parts the module holds. */
export function checkedHeaderCount(): number {
  return checkedHeaders.size;
}

function headerThumbprint(h: string): Uint8Array {
  const known = checkedHeaders.get(h);
  if (known) return known.slice();
  const header = decodeJsonObject(h, 'header');
  if (Object.keys(header).sort().join(',') !== HEADER_NAMES.join(',')) {
    throw malformed(`header must be exactly ${HEADER_NAMES.join(', ')}`);
  }
  if (header.alg !== RECEIPT_ALG) throw malformed(`alg must be ${RECEIPT_ALG}`);
  if (header.typ !== RECEIPT_TYPE) throw malformed(`typ must be ${RECEIPT_TYPE}`);
  const thumb = header['x5t#S256'];
  if (typeof thumb !== 'string') throw malformed('x5t#S256 must be a string');
  const certificateSha256 = decodeCanonical(thumb, 'x5t#S256');
  if (certificateSha256.length !== 32) throw malformed('x5t#S256 must be 32 bytes');
  if (checkedHeaders.size >= MAX_CHECKED_HEADERS) checkedHeaders.delete(checkedHeaders.keys().next().value!);
  checkedHeaders.set(h, certificateSha256.slice());
  return certificateSha256;
}

/**
 * The claims of a payload part: checked, then its text compared with `claimsJson` of them — for
 * claims that passed `checkClaims`, that is their RFC 8785 form (test/receipts/receipt.test.ts
 * holds it equal to canonicalizeJson), without the general canonicaliser's walk per answer.
 */
function payloadClaims(p: string): ReceiptClaims {
  const { value, text } = decodeJsonPart(p, 'payload');
  const claims = checkClaims(value, malformed);
  if (claimsJson(claims) !== text) throw malformed('payload is not canonical JSON (RFC 8785)');
  return claims;
}

/** Parses a compact receipt strictly (no signature check). Throws `malformed_evidence`. */
export function parseReceipt(compact: unknown): ParsedReceipt {
  if (typeof compact !== 'string' || compact.length === 0 || compact.length > MAX_RECEIPT_LENGTH) {
    throw malformed(`must be a string of 1..${MAX_RECEIPT_LENGTH} characters`);
  }
  const parts = compact.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) {
    throw malformed('not a JWS in compact serialization (RFC 7515 §7.1)');
  }
  const [h, p, s] = parts as [string, string, string];
  const certificateSha256 = headerThumbprint(h);
  const claims = payloadClaims(p);
  const signature = decodeCanonical(s, 'signature');
  if (signature.length !== SIGNATURE_LENGTH) throw malformed(`signature must be ${SIGNATURE_LENGTH} bytes`);
  return { compact, claims, certificateSha256, signingInput: utf8.encode(`${h}.${p}`), signature };
}

/**
 * Checks a parsed receipt against the worker certificate it names: the thumbprint must be that
 * certificate's, and the signature must verify under `workerKey` (the certificate's subject key,
 * SPKI DER or an imported P-256 verify key). Throws `attestation_rejected`.
 */
export async function verifyReceiptSignature(
  receipt: ParsedReceipt,
  certificateDer: Uint8Array,
  workerKey: Uint8Array | CryptoKey,
  /** SHA-256 of `certificateDer` when the caller already has it (the gateway keeps it per certificate). */
  certificateSha256?: Uint8Array,
): Promise<ReceiptClaims> {
  const thumbprint = certificateSha256 ?? (await sha256(certificateDer));
  if (!constantTimeEqual(receipt.certificateSha256, thumbprint)) {
    throw rejected('names another worker certificate (x5t#S256)');
  }
  const key = workerKey instanceof Uint8Array ? await importWorkerKey(workerKey) : workerKey;
  let ok = false;
  try {
    ok = await crypto.subtle.verify(
      ES256,
      key,
      receipt.signature as BufferSource,
      receipt.signingInput as BufferSource,
    );
  } catch {
    ok = false;
  }
  if (!ok) throw rejected('signature does not verify under the worker certificate’s key');
  return receipt.claims;
}

export async function importWorkerKey(spki: Uint8Array): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey('spki', spki.slice(), P256, false, ['verify']);
  } catch (cause) {
    throw new SealgateError('malformed_certificate', 'receipt: worker key is not P-256 SPKI', undefined, {
      cause,
    });
  }
}

/** SHA-256 (hex) of one body: the sealed request, or a sealed JSON response. */
/**
 * An incremental SHA-256: noble's `sha256.create()` or Node's `createHash('sha256')`. The seam
 * through which the AI worker hashes on its own thread in Node, where WebCrypto's digest is a
 * thread-pool job (src/ai-worker/node-sha256.ts); without it, WebCrypto / noble as before.
 */
export interface Sha256State {
  update(data: Uint8Array): unknown;
  digest(): Uint8Array;
}

export async function bodySha256(bytes: Uint8Array, newSha256?: () => Sha256State): Promise<string> {
  if (!newSha256) return toHex(await sha256(bytes));
  const h = newSha256();
  h.update(bytes);
  return toHex(h.digest());
}

/**
 * The response hash of a sealed stream: SHA-256 of the body's exact bytes from its header's first
 * byte through the end record's last byte (docs/protocol.md "Sealed stream": the records are
 * self-delimiting, so the bytes alone fix every frame's boundary; the receipt trailer that follows
 * is not covered). Fed each network read as it comes (stream.ts `StreamProgress.hashed`), so neither
 * side re-encodes or holds the stream; independent of how the transport splits it.
 */
export interface StreamHash {
  update(bytes: Uint8Array): void;
  /** Hex; after it, `update` refuses. */
  digest(): string;
}

export function createStreamHash(newSha256: () => Sha256State = () => nobleSha256.create()): StreamHash {
  const h = newSha256();
  let done = false;
  return {
    update(bytes) {
      if (done) throw new SealgateError('internal', 'stream hash: already finished');
      if (bytes.length > 0) h.update(bytes);
    },
    digest() {
      done = true;
      return toHex(h.digest());
    },
  };
}
