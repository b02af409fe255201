/**
 * REPORT_DATA binding (docs/protocol.md, "Evidence and REPORT_DATA"). The 64 bytes a confidential
 * VM asks its hardware to sign are a domain-separated SHA-512 over everything the verifier must be
 * able to rely on: the role the VM claims, the verifier's fresh nonce (freshness), the digest of
 * the manifest the VM runs (same policy on both sides), and the VM's public keys (so keys sent to
 * it can only be opened inside the attested VM). SHA-512 gives exactly the 64 bytes of REPORT_DATA
 * (ABI spec pub. 56860 Table 23, offset 0x50).
 *
 * Encoding (unambiguous by construction): DST, then each field as u32-BE length ‖ bytes, in this
 * order: role (UTF-8), nonce, manifest digest (32 raw bytes), key count (u32-BE), then for each
 * key sorted by name: name (UTF-8) and value, each length-prefixed. Then, only when the party binds
 * documents (the worker: its configuration, `config`; later e.g. a GPU evidence digest): digest
 * count (u32-BE) and for each digest sorted by name: name and 32-byte SHA-256, each
 * length-prefixed. Without digests the bytes are exactly those of the keys-only binding; with them
 * the input is strictly longer, and every section's length is fixed by its counts and prefixes, so
 * no two bindings share an input.
 */
import { concatBytes, fromHex, utf8 } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { ROLES, type RoleName } from '../policy/manifest-types.js';

export const REPORT_DATA_DST = 'sealgate/v1/report-data';
/** The roles of docs/services.md: the manifest's closed set. */
export type Role = RoleName;

export const NONCE_LENGTH = 32;

export interface ReportDataBinding {
  role: Role;
  /** The verifier's fresh nonce, exactly 32 bytes. */
  nonce: Uint8Array;
  /** SHA-256 of the canonical manifest, 64 lower-case hex characters. */
  manifestDigest: string;
  /** Public keys of the attested VM by name (e.g. `hpke`, `signing`), as raw bytes. */
  keys: Readonly<Record<string, Uint8Array>>;
  /** SHA-256 digests of documents the VM presents beside its keys, by name (e.g. `config`). */
  digests?: Readonly<Record<string, Uint8Array>>;
}

const NAME = /^[a-z][a-z0-9-]{0,31}$/;

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, false);
  return out;
}

function lp(bytes: Uint8Array): Uint8Array {
  return concatBytes(u32(bytes.length), bytes);
}

export function isRole(x: unknown): x is Role {
  return typeof x === 'string' && (ROLES as readonly string[]).includes(x);
}

export async function computeReportData(b: ReportDataBinding): Promise<Uint8Array> {
  if (!isRole(b.role))
    throw new SealgateError('invalid_argument', `report data: unknown role ${JSON.stringify(b.role)}`);
  if (!(b.nonce instanceof Uint8Array) || b.nonce.length !== NONCE_LENGTH) {
    throw new SealgateError('invalid_argument', `report data: nonce must be ${NONCE_LENGTH} bytes`);
  }
  if (!/^[0-9a-f]{64}$/.test(b.manifestDigest)) {
    throw new SealgateError(
      'invalid_argument',
      'report data: manifest digest must be 64 lower-case hex characters',
    );
  }
  const names = Object.keys(b.keys).sort();
  const parts: Uint8Array[] = [
    utf8.encode(REPORT_DATA_DST),
    lp(utf8.encode(b.role)),
    lp(b.nonce),
    lp(fromHex(b.manifestDigest, 32)),
    u32(names.length),
  ];
  for (const name of names) {
    if (!NAME.test(name)) {
      throw new SealgateError('invalid_argument', `report data: bad key name ${JSON.stringify(name)}`);
    }
    const value = b.keys[name]!;
    if (!(value instanceof Uint8Array) || value.length === 0) {
      throw new SealgateError('invalid_argument', `report data: key ${name} must be non-empty bytes`);
    }
    parts.push(lp(utf8.encode(name)), lp(value));
  }
  const digestNames = Object.keys(b.digests ?? {}).sort();
  if (digestNames.length > 0) parts.push(u32(digestNames.length));
  for (const name of digestNames) {
    const value = b.digests![name]!;
    if (!NAME.test(name)) {
      throw new SealgateError('invalid_argument', `report data: bad digest name ${JSON.stringify(name)}`);
    }
    if (!(value instanceof Uint8Array) || value.length !== 32) {
      throw new SealgateError('invalid_argument', `report data: digest ${name} must be 32 bytes`);
    }
    parts.push(lp(utf8.encode(name)), lp(value));
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-512', concatBytes(...parts) as BufferSource));
}
