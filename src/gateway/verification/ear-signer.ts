/**
 * The gateway's EAR signing key (docs/verifiability.md "The gateway's key"). Every edge instance
 * must sign with the same key and none may need a shared store, so the key is DERIVED from
 * GATEWAY_SECRET, deterministically:
 *
 *   seed = HKDF-SHA256(salt = "", IKM = UTF-8(GATEWAY_SECRET), info = "sealgate/gateway/v1/ear-signing", L = 48)
 *   d    = (OS2IP(seed) mod (n − 1)) + 1        (FIPS 186-5 §A.2.1: 48 bytes for P-256, negligible bias)
 *
 * ES256 (RFC 7518 §3.4), `kid` = the JWK thumbprint (RFC 7638). `/.well-known/jwks.json` serves the
 * public half. Rotating GATEWAY_SECRET rotates this key too (old EARs then no longer verify
 * against the published JWKS — they were short-lived verdicts bound to one nonce anyway).
 */

import { p256 } from '@noble/curves/nist.js';
import { calculateJwkThumbprint, importJWK, type JWK, SignJWT } from 'jose';
import type { EarClaims } from '../../attestation/ear.js';
import { toBase64Url } from '../../bytes.js';
import { SECRET_KEY_LABELS, secretBits } from '../secret-keys.js';

export const EAR_ALG = 'ES256';

export interface EarSigner {
  kid: string;
  publicJwk: JWK;
  sign(claims: EarClaims): Promise<string>;
}

const signers = new Map<string, Promise<EarSigner>>();

function deriveSeed(secret: string): Promise<Uint8Array> {
  return secretBits(secret, SECRET_KEY_LABELS.earSigning, p256.lengths.seed!);
}

export function earSigner(secret: string): Promise<EarSigner> {
  let signer = signers.get(secret);
  if (!signer) {
    signer = (async () => {
      const seed = await deriveSeed(secret);
      const d = p256.utils.randomSecretKey(seed); // mapHashToField: the reduction above
      const pub = p256.getPublicKey(d, false); // 0x04 ‖ X[32] ‖ Y[32]
      const publicJwk: JWK = {
        kty: 'EC',
        crv: 'P-256',
        x: toBase64Url(pub.slice(1, 33)),
        y: toBase64Url(pub.slice(33, 65)),
      };
      const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
      const key = await importJWK({ ...publicJwk, d: toBase64Url(d) }, EAR_ALG);
      d.fill(0);
      seed.fill(0);
      return {
        kid,
        publicJwk: { ...publicJwk, kid, alg: EAR_ALG, use: 'sig' },
        sign: (claims: EarClaims) =>
          new SignJWT(claims as unknown as Record<string, unknown>)
            .setProtectedHeader({ alg: EAR_ALG, kid, typ: 'JWT' })
            .sign(key),
      };
    })();
    signers.set(secret, signer);
  }
  return signer;
}
