/**
 * Floors (issue #18 target 7): the bare primitive under each cost, in the same runtime, key imported
 * once — what a figure cannot go below while it does that primitive. Runtime-neutral (WebCrypto
 * only), so workerd and Node each report their own. AES-256-GCM of a body is `aes-gcm.webcrypto.*`
 * (cases.ts). What each figure is made of:
 *
 *   envelope.sealRequest / openRequest   AES-KW wrap/unwrap + HKDF + AES-GCM of the body (+ JSON, base64url)
 *   stream.sealFrame / openFrame         AES-GCM of one chunk (+ the record and event framing)
 *   receipt.sign / receipt.check         one ECDSA P-256 sign / verify (+ JCS, SHA-256)
 *   snp.verify.*                         one ECDSA P-384 verify (report) + RSA-4096 PSS verifies
 *                                        (ARK → ASK → VCEK: two cold, one with the chain cached)
 */
import type { MicroCase } from './cases.js';

const subtle = () => crypto.subtle;

async function hkdfCase(): Promise<MicroCase> {
  const ikm = await subtle().importKey('raw', crypto.getRandomValues(new Uint8Array(32)), 'HKDF', false, [
    'deriveBits',
  ]);
  const salt = crypto.getRandomValues(new Uint8Array(32));
  const info = new TextEncoder().encode('sealgate/v1/floor');
  return {
    name: 'floor.hkdf-sha256',
    what: 'floor: one HKDF-SHA256 derivation of 32 bytes (WebCrypto deriveBits, IKM imported once)',
    bytes: 0,
    run: () => subtle().deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info }, ikm, 256),
  };
}

async function aesKwCase(): Promise<MicroCase> {
  const kek = await subtle().importKey('raw', crypto.getRandomValues(new Uint8Array(32)), 'AES-KW', false, [
    'wrapKey',
  ]);
  return {
    name: 'floor.aes-kw.wrap',
    what: 'floor: one AES-KW wrap of a fresh 32-byte key (WebCrypto: generate, wrap; KEK imported once)',
    bytes: 0,
    run: async () => {
      const dek = await subtle().generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt']);
      return subtle().wrapKey('raw', dek, kek, 'AES-KW');
    },
  };
}

async function ecdsaCases(): Promise<MicroCase[]> {
  const out: MicroCase[] = [];
  for (const [curve, hash] of [
    ['P-256', 'SHA-256'],
    ['P-384', 'SHA-384'],
  ] as const) {
    const pair = (await subtle().generateKey({ name: 'ECDSA', namedCurve: curve }, true, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    const data = crypto.getRandomValues(new Uint8Array(1184 - 512)); // an SNP report's signed part
    const alg = { name: 'ECDSA', hash };
    const sig = await subtle().sign(alg, pair.privateKey, data);
    const tag = curve === 'P-256' ? 'p256' : 'p384';
    out.push({
      name: `floor.ecdsa-${tag}.verify`,
      what: `floor: one ECDSA ${curve} / ${hash} verify (WebCrypto, key imported once)`,
      bytes: 0,
      run: async () => {
        if (!(await subtle().verify(alg, pair.publicKey, sig, data))) throw new Error('verify');
      },
    });
    if (curve === 'P-256') {
      out.push({
        name: 'floor.ecdsa-p256.sign',
        what: 'floor: one ECDSA P-256 / SHA-256 signature (WebCrypto, key imported once)',
        bytes: 0,
        run: () => subtle().sign(alg, pair.privateKey, data),
      });
    }
  }
  return out;
}

async function rsaCase(): Promise<MicroCase> {
  const alg = { name: 'RSA-PSS', hash: 'SHA-384' };
  const pair = (await subtle().generateKey(
    { ...alg, modulusLength: 4096, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair;
  const data = crypto.getRandomValues(new Uint8Array(1400)); // a certificate's TBS
  const pss = { name: 'RSA-PSS', saltLength: 48 };
  const sig = await subtle().sign(pss, pair.privateKey, data);
  return {
    name: 'floor.rsa4096-pss.verify',
    what: 'floor: one RSA-4096 PSS / SHA-384 verify, as AMD signs ASK and VCEK (WebCrypto, key imported once)',
    bytes: 0,
    run: async () => {
      if (!(await subtle().verify(pss, pair.publicKey, sig, data))) throw new Error('verify');
    },
  };
}

export async function floorCases(): Promise<MicroCase[]> {
  return [await aesKwCase(), await hkdfCase(), ...(await ecdsaCases()), await rsaCase()];
}
