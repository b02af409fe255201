/** The key exchange (HPKE, X-Wing) and key-encryption keys. See docs/protocol.md. */
export { decodeBase64UrlField, lengthPrefixed, u64be } from './encoding.js';
export {
  exportPublicKey,
  generateKeyExchangeKeyPair,
  HPKE_INFO,
  HPKE_SUITE,
  type HpkeOptions,
  type HpkeSealed,
  importPublicKey,
  type KeyExchangeKeyPair,
  keyPairFromSeed,
  openWithPrivateKey,
  sealToPublicKey,
  XWING_ENC_LENGTH,
  XWING_PUBLIC_KEY_LENGTH,
} from './hpke.js';
export {
  checkKek,
  createKek,
  decodeKekRecord,
  deriveKeyId,
  encodeKekRecord,
  KEK_LENGTH,
  type Kek,
} from './kek.js';
export { type KekPurpose, openKek, type SealedKek, sealKek } from './kek-transport.js';
export { type KeyLookup, KeyRing } from './key-ring.js';
export { type RandomSource, systemRandom } from './random.js';
export { checkUnixSeconds } from './time.js';
