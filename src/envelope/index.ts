/** The per-request envelope: sealed requests, responses and streams. See docs/protocol.md. */
export { HKDF_INFO, type RequestContext } from './data-key.js';
export type { AesKeyHandle, Awaitable, DekHandle, EnvelopeCrypto } from './envelope-crypto.js';
export { MemoryReplayGuard, type ReplayGuard } from './replay-guard.js';
export {
  type OpenRequestOptions,
  openRequest,
  PLAIN_REQUEST_FIELDS,
  type SealedRequest,
  type SealedRequestEnvelope,
  type SealRequestInput,
  sealRequest,
} from './request.js';
export { isMeteringUsage, openResponse, type SealedResponse, sealResponse } from './response.js';
export {
  createStreamOpener,
  createStreamSealer,
  openStream,
  type StreamOpener,
  type StreamSealer,
  sealStream,
} from './stream.js';
export { webEnvelopeCrypto } from './web-crypto.js';
export { AAD_LABEL, ENVELOPE_FIELD, PROTOCOL_VERSION } from './wire.js';
