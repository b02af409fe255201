/**
 * The attestation service's own keys, made at start inside the CVM and never exported: an X-Wing
 * key pair (`hpke`, receives KEK uploads) and an ECDSA P-384 key pair (`signing`, signs worker
 * certificates; its private half is non-extractable). Both public keys go into REPORT_DATA under
 * these names (docs/services.md "Keys every attested party presents").
 */
import { generateKeyExchangeKeyPair, type KeyExchangeKeyPair } from '../keys/hpke.js';

export interface ServiceKeys {
  hpke: KeyExchangeKeyPair;
  signing: CryptoKeyPair;
}

export async function generateServiceKeys(): Promise<ServiceKeys> {
  const [hpke, signing] = await Promise.all([
    generateKeyExchangeKeyPair(),
    crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, ['sign', 'verify']),
  ]);
  return { hpke, signing: signing as CryptoKeyPair };
}

/** The public keys as bound into REPORT_DATA: `hpke` raw (1216 bytes), `signing` SPKI DER. */
export async function servicePublicKeys(
  keys: ServiceKeys,
): Promise<{ hpke: Uint8Array; signing: Uint8Array }> {
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', keys.signing.publicKey));
  return { hpke: keys.hpke.publicKey.slice(), signing: spki };
}
