/**
 * The gateway's signature on `POST /v1/attestation` (docs/protocol.md "Authenticated key upload"):
 * it lets the attestation service give the pinned gateway its own rate budget, so anonymous callers
 * behind the same shared egress cannot starve it. Header:
 *
 *   sealgate-gateway-auth: <t>.<sig>     t = Unix seconds (decimal), sig = base64url(64 bytes)
 *   sig = Ed25519(gateway key, LP("sealgate/attestation-request/v1") ‖ LP(manifest digest, 32 raw)
 *                               ‖ LP(nonce, 32) ‖ LP(u64be(t)))                       (RFC 8032)
 *
 * Accepted within ±MAX_SKEW_SECONDS of the service's clock. A header that does not verify is
 * ignored (the call is then anonymous), never an error: it only selects a budget.
 *
 * Two labels, two budgets: the rotation's own calls sign under `attestationRequest`; the calls the
 * gateway makes for its public `GET /v1/attestation` and verification page (a caller's nonce)
 * under `publicAttestationRequest`. The public ones thus draw neither from the anonymous budget of
 * the gateway's egress address (shared with every other Worker) nor from the rotation's budget,
 * which public traffic must not be able to spend.
 */
import { fromBase64Url, toBase64Url } from '../bytes.js';
import { u64be } from './encoding.js';
import { type GatewayKey, SIGNED_LABELS, signAsGateway, verifyGatewaySignature } from './gateway-key.js';

export const GATEWAY_AUTH_HEADER = 'sealgate-gateway-auth';
export const MAX_SKEW_SECONDS = 60;

/** Which of the gateway's calls a request is: its rotation's, or one for a public caller's nonce. */
export type GatewayRequestKind = 'rotation' | 'public';

const LABELS = {
  rotation: SIGNED_LABELS.attestationRequest,
  public: SIGNED_LABELS.publicAttestationRequest,
} as const;

export function attestationRequestAuth(
  key: GatewayKey,
  manifestDigest: Uint8Array,
  nonce: Uint8Array,
  nowSeconds: number,
  kind: GatewayRequestKind = 'rotation',
): string {
  const sig = signAsGateway(key, LABELS[kind], [manifestDigest, nonce, u64be(nowSeconds)]);
  return `${nowSeconds}.${toBase64Url(sig)}`;
}

/** The header for a call the gateway signs, or none when there is no key to sign with. */
export function gatewayAuthHeaders(
  key: GatewayKey | undefined,
  manifestDigest: Uint8Array,
  nonce: Uint8Array,
  nowSeconds: number,
  kind: GatewayRequestKind = 'rotation',
): Record<string, string> {
  return key
    ? { [GATEWAY_AUTH_HEADER]: attestationRequestAuth(key, manifestDigest, nonce, nowSeconds, kind) }
    : {};
}

/** Which gateway call the header signs for this nonce, or null: not the gateway's (anonymous). */
export function gatewayRequestKind(
  header: string | null,
  gatewayKey: Uint8Array | null,
  manifestDigest: Uint8Array,
  nonce: Uint8Array,
  nowSeconds: number,
): GatewayRequestKind | null {
  if (header === null || gatewayKey === null) return null;
  const m = /^(\d{1,12})\.([A-Za-z0-9_-]{86})$/.exec(header);
  if (!m) return null;
  const t = Number(m[1]);
  if (Math.abs(t - nowSeconds) > MAX_SKEW_SECONDS) return null;
  let sig: Uint8Array;
  try {
    sig = fromBase64Url(m[2]!);
  } catch {
    return null;
  }
  const parts = [manifestDigest, nonce, u64be(t)];
  for (const kind of ['rotation', 'public'] as const) {
    if (verifyGatewaySignature(gatewayKey, sig, LABELS[kind], parts)) return kind;
  }
  return null;
}
