/**
 * One error model for all of Sealgate (after panva/jose): a single class whose `code` is drawn from a
 * closed union. Clients of the HTTP services only ever see the code (mapped to OpenAI's error JSON);
 * `message` and `detail` are for logs and tests.
 *
 * Verification findings are *not* thrown: they are `Violation`s collected into a verdict (see
 * `src/verify/violations.ts`), so that a caller sees every failed check, not just the first.
 * `SealgateError` is for malformed input and for operations that cannot proceed at all.
 */
export const ERROR_CODES = [
  /** Bytes that do not parse as the structure they claim to be (wrong size, bad field, non-zero reserved). */
  'malformed_evidence',
  /** A certificate that cannot be decoded or lacks a required extension. */
  'malformed_certificate',
  /** Firmware image bytes that do not parse (OVMF GUIDed table, SNP metadata: lengths, signature). */
  'malformed_image',
  /** A launch whose measurement cannot be computed from what was given (no SNP metadata, no kernel-hashes section). */
  'unmeasurable_launch',
  /** A manifest that fails strict parsing or the manifest format. */
  'invalid_manifest',
  /** JSON text that is not I-JSON (RFC 7493) under RFC 8259's grammar, or is too large or deep. */
  'invalid_json',
  /** A caller passed an argument outside its domain (wrong length, unknown enum value...). */
  'invalid_argument',
  /** Evidence was parsed but did not verify / was rejected by policy. */
  'attestation_rejected',
  /** A certificate or collateral fetch failed (network, HTTP status, unexpected body). */
  'fetch_failed',
  /** Envelope: ciphertext failed authentication, or framing is broken. */
  'decryption_failed',
  /** Envelope: the key id named is not known to the receiver. */
  'unknown_key',
  /** Envelope: the key id is known but past its not-after. */
  'key_expired',
  /** A sealed stream ended without its end marker, or chunks came out of order. */
  'stream_truncated',
  /** A request or nonce replayed outside its window, or twice. */
  'replay_detected',
  /** The model server answered, but not with a usable answer (HTTP error, broken JSON or SSE, cut stream). */
  'model_error',
  /** The model server does not know the model named (it answered 404). */
  'model_not_found',
  /** Something that must not happen did; a bug, never caused by input. */
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class SealgateError extends Error {
  override readonly name = 'SealgateError';
  readonly code: ErrorCode;
  /** Structured detail for logs and tests; never shown to an API client. */
  readonly detail: Readonly<Record<string, unknown>> | undefined;
  /**
   * A text written for the API client (a model server's own error message, a translation's field
   * check). It reaches a client only inside a sealed error answer (docs/protocol.md "Sealed error
   * answer") and is never logged: a model server's message may quote the prompt.
   */
  readonly clientMessage: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    detail?: Record<string, unknown>,
    options?: { cause?: unknown; clientMessage?: string },
  ) {
    super(message, options && 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
    this.detail = detail;
    this.clientMessage = options?.clientMessage;
  }
}

export function isSealgateError(e: unknown, code?: ErrorCode): e is SealgateError {
  return e instanceof SealgateError && (code === undefined || e.code === code);
}
