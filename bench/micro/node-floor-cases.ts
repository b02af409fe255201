/**
 * Floors in Node with `node:crypto` (issue #18 target 7): the primitives under the AI worker's costs,
 * through the same synchronous calls its backends make (src/ai-worker/node-envelope-crypto.ts,
 * src/platform/node-signature-backend.ts), keys made once. Node only; floor-cases.ts has the
 * WebCrypto floors that both runtimes report.
 *
 *   AI worker, per sealed answer   AES-KW unwrap + HKDF ×2 + AES-GCM ×2 + ES256 sign
 *   SNP verification in Node       ECDSA P-384 verify (the report) + RSA-4096 PSS verifies (the chain)
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import type { MicroCase } from './cases.js';

const AES_KW_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');

function aesKwUnwrap(): MicroCase {
  const kek = createSecretKey(randomBytes(32));
  const wrapper = createCipheriv('id-aes256-wrap', kek, AES_KW_IV);
  const wk = Buffer.concat([wrapper.update(randomBytes(32)), wrapper.final()]);
  return {
    name: 'floor.aes-kw.unwrap.nodeCrypto',
    what: 'floor: one AES-KW unwrap of a 32-byte key (node:crypto id-aes256-wrap; KEK made once)',
    bytes: 0,
    run: async () => {
      const d = createDecipheriv('id-aes256-wrap', kek, AES_KW_IV);
      return Buffer.concat([d.update(wk), d.final()]);
    },
  };
}

function hkdf(): MicroCase {
  const ikm = createSecretKey(randomBytes(32));
  const salt = randomBytes(32);
  return {
    name: 'floor.hkdf-sha256.nodeCrypto',
    what: 'floor: one HKDF-SHA256 derivation of 32 bytes (node:crypto hkdfSync)',
    bytes: 0,
    run: async () => hkdfSync('sha256', ikm, salt, 'sealgate/v1/floor', 32),
  };
}

function aesGcm(size: number, tag: string): MicroCase {
  const key = createSecretKey(randomBytes(32));
  const body = randomBytes(size);
  return {
    name: `floor.aes-gcm.${tag}.nodeCrypto`,
    what: `floor: AES-256-GCM encrypt of ${tag} (node:crypto, key made once)`,
    bytes: size,
    run: async () => {
      const c = createCipheriv('aes-256-gcm', key, randomBytes(12));
      return [c.update(body), c.final(), c.getAuthTag()];
    },
  };
}

function ecdsa(): MicroCase[] {
  const data = randomBytes(1184 - 512); // an SNP report's signed part
  const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const sig384 = sign('sha384', data, { key: p384.privateKey, dsaEncoding: 'ieee-p1363' });
  const pub384 = { key: p384.publicKey, dsaEncoding: 'ieee-p1363' as const };
  return [
    {
      name: 'floor.ecdsa-p256.sign.nodeCrypto',
      what: 'floor: one ECDSA P-256 / SHA-256 signature (node:crypto sign, key made once)',
      bytes: 0,
      run: async () => sign('sha256', data, { key: p256.privateKey, dsaEncoding: 'ieee-p1363' }),
    },
    {
      name: 'floor.ecdsa-p384.verify.nodeCrypto',
      what: 'floor: one ECDSA P-384 / SHA-384 verify (node:crypto verify, key made once)',
      bytes: 0,
      run: async () => {
        if (!verify('sha384', data, pub384, sig384)) throw new Error('verify');
      },
    },
  ];
}

function rsaPss(): MicroCase {
  const pair = generateKeyPairSync('rsa', { modulusLength: 4096 });
  const data = randomBytes(1400); // a certificate's TBS
  const opts = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 };
  const sig = sign('sha384', data, { key: pair.privateKey, ...opts });
  return {
    name: 'floor.rsa4096-pss.verify.nodeCrypto',
    what: 'floor: one RSA-4096 PSS / SHA-384 verify (node:crypto verify, key made once)',
    bytes: 0,
    run: async () => {
      if (!verify('sha384', data, { key: pair.publicKey, ...opts }, sig)) throw new Error('verify');
    },
  };
}

export function nodeFloorCases(): MicroCase[] {
  return [aesKwUnwrap(), hkdf(), aesGcm(4096, '4KiB'), ...ecdsa(), rsaPss()];
}
