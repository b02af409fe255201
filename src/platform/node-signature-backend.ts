/**
 * The signature backend (src/verify/signature-backend.ts) over node:crypto, for everything that
 * verifies in Node: the CLI, the attestation service, the AI worker, the Node bench.
 *
 * Why not WebCrypto here: Node's `crypto.subtle.verify` runs each check on the libuv thread pool
 * and resolves a promise afterwards; `crypto.verify` is the same OpenSSL call made synchronously.
 * Measured on the project machine: a P-256 verify 0.09 ms vs 0.21 ms, which is most of a cold TDX
 * quote's cost (see bench/micro/cases.ts). Keys are cached by their exact SPKI bytes (a
 * `createPublicKey` DER decode costs about as much as a verify), bounded in size. Digests are
 * `createHash`, synchronous: 4 µs for a certificate where WebCrypto's thread-pool hop costs ~0.1 ms.
 *
 * The semantics are WebCrypto's (the SNP and TDX suites run against both): P1363 signatures of
 * exactly 2 × the curve's size, no low-S rule, a key only of the kind and curve asked for, and
 * false (never a throw) for anything that does not verify.
 */
import { constants, createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { concatBytes, fromHex } from '../bytes.js';
import type { EcCurve, SignatureBackend, SignatureHash, VerifyKey } from '../verify/signature-backend.js';

/** OpenSSL's names of the curves and hashes. */
const CURVE = { 'P-256': 'prime256v1', 'P-384': 'secp384r1' } as const;
const HASH = { 'SHA-256': 'sha256', 'SHA-384': 'sha384' } as const;
/** The P1363 signature length: r ‖ s, each the curve's byte size. */
const P1363_LENGTH = { 'P-256': 64, 'P-384': 96 } as const;

/**
 * SubjectPublicKeyInfo prefixes for an uncompressed point (RFC 5480 §2: id-ecPublicKey with the
 * named curve, then the BIT STRING): a raw point becomes an SPKI that OpenSSL decodes and checks
 * on the curve, as WebCrypto's 'raw' import does.
 */
const SPKI_PREFIX = {
  'P-256': fromHex('3059301306072a8648ce3d020106082a8648ce3d030107034200'),
  'P-384': fromHex('3076301006072a8648ce3d020106052b81040022036200'),
} as const;
const POINT_LENGTH = { 'P-256': 65, 'P-384': 97 } as const;

/** A key this backend imported; anything else handed to verify is refused. */
class NodeVerifyKey {
  constructor(
    readonly key: KeyObject,
    readonly curve: EcCurve | null,
  ) {}
}

const CACHE_LIMIT = 256;

export interface NodeSignatureBackendOptions {
  /** Most keys kept (by SPKI bytes); the oldest goes first. Default 256. */
  cacheLimit?: number;
}

/** A node:crypto backend with its own key cache. */
export function createNodeSignatureBackend(options: NodeSignatureBackendOptions = {}): SignatureBackend {
  const limit = options.cacheLimit ?? CACHE_LIMIT;
  const cache = new Map<string, NodeVerifyKey>();

  function cached(tag: string, spki: Uint8Array, make: (k: KeyObject) => NodeVerifyKey | null) {
    // latin1 maps each byte to one code unit, so the id is injective in the bytes; native, unlike
    // a hex string built in JavaScript (~25 µs for an RSA-4096 SPKI).
    const id = `${tag}:${Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength).toString('latin1')}`;
    const hit = cache.get(id);
    if (hit) return hit as unknown as VerifyKey;
    let made: NodeVerifyKey | null;
    try {
      made = make(createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }));
    } catch {
      return null;
    }
    if (made === null) return null;
    if (cache.size >= limit) cache.delete(cache.keys().next().value as string);
    cache.set(id, made);
    return made as unknown as VerifyKey;
  }

  function ecdsaFromSpki(spki: Uint8Array, curve: EcCurve): VerifyKey | null {
    return cached(curve, spki, (k) =>
      k.asymmetricKeyType === 'ec' && k.asymmetricKeyDetails?.namedCurve === CURVE[curve]
        ? new NodeVerifyKey(k, curve)
        : null,
    );
  }

  return {
    importEcdsaSpki: async (spki, curve) => ecdsaFromSpki(spki, curve),
    importEcdsaPoint: async (point, curve) => {
      if (point.length !== POINT_LENGTH[curve] || point[0] !== 0x04) return null;
      return ecdsaFromSpki(concatBytes(SPKI_PREFIX[curve], point), curve);
    },
    importRsaPssSpki: async (spki, _hash: SignatureHash) =>
      cached('RSA', spki, (k) =>
        k.asymmetricKeyType === 'rsa' || k.asymmetricKeyType === 'rsa-pss'
          ? new NodeVerifyKey(k, null)
          : null,
      ),
    verifyEcdsa: async (key, hash, signature, data) => {
      const k = key as unknown;
      if (!(k instanceof NodeVerifyKey) || k.curve === null) return false;
      if (signature.length !== P1363_LENGTH[k.curve]) return false;
      try {
        return verify(HASH[hash], data, { key: k.key, dsaEncoding: 'ieee-p1363' }, signature);
      } catch {
        return false;
      }
    },
    verifyRsaPss: async (key, hash, saltLength, signature, data) => {
      const k = key as unknown;
      if (!(k instanceof NodeVerifyKey) || k.curve !== null) return false;
      try {
        return verify(
          HASH[hash],
          data,
          { key: k.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength },
          signature,
        );
      } catch {
        return false;
      }
    },
    digest: async (hash, data) => new Uint8Array(createHash(HASH[hash]).update(data).digest()),
  };
}

/** One shared backend per process: what the CLI, service, worker and bench pass in. */
export const nodeSignatures: SignatureBackend = createNodeSignatureBackend();
