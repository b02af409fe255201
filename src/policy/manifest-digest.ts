/**
 * The manifest digest: lower-case hex of SHA-256 over the UTF-8 bytes of the RFC 8785 canonical
 * form of the manifest's JSON value. It identifies a manifest everywhere (REPORT_DATA binding, the
 * key-rotation Durable Object, KV cache keys), so it must not depend on whitespace, member order
 * or number spelling (`1.0` vs `1`) — only on the value. The exact rule is in docs/manifest.md.
 *
 * Text is read with the strict parser (duplicate member names would make "the value" ambiguous);
 * it is not checked against the manifest format here — `parseManifest` does that.
 */
import { sha256, toHex } from '../bytes.js';
import { canonicalJsonBytes } from '../json/canonical.js';
import { manifestJsonValue } from './manifest-error.js';
import type { Manifest } from './manifest-types.js';

/** `manifest` as a parsed `Manifest` (or any JSON value), as JSON text, or as UTF-8 JSON bytes. */
export async function manifestDigest(manifest: Manifest | string | Uint8Array): Promise<string> {
  const value = manifestJsonValue(manifest);
  return toHex(await sha256(canonicalJsonBytes(value)));
}
