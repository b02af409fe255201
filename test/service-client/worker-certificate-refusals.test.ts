/**
 * What the worker-certificate reader refuses, one thing changed at a time on a certificate built
 * field by field (RFC 5280 §4.1) and signed with a real service key — so the unchanged one verifies
 * and each refusal is the reader's, not the signature's. Runs in Node and workerd.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { generateServiceKeys, type ServiceKeys } from '../../src/attestation-service/service-keys.js';
import { concatBytes, fromHex } from '../../src/bytes.js';
import { ecdsaP1363ToDer } from '../../src/der/ecdsa-signature.js';
import { tlv as derTlv, oidContent as encodeOidContent } from '../../src/der/write.js';
import { encodeCommonNameDer } from '../../src/service-client/certificate-der.js';
import {
  ECDSA_SHA384_ALGORITHM,
  MAX_WORKER_CERT_BYTES,
  parseWorkerCertificate,
  verifyWorkerCertificate,
  WORKER_CERT_ISSUER,
  WORKER_CERT_OIDS,
  WORKER_CERT_SUBJECT,
} from '../../src/service-client/worker-certificate.js';
import { expectSealgateError } from '../keys/support.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const SERIAL = '01'.repeat(16);
const t = (tag: number, ...parts: Uint8Array[]) => derTlv(tag, concatBytes(...parts));
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const TRUE = Uint8Array.of(0x01, 0x01, 0xff);
const ext = (oid: string, value: Uint8Array, critical?: Uint8Array) =>
  t(0x30, t(0x06, encodeOidContent(oid)), ...(critical ? [critical] : []), t(0x04, value));
const octets = (n: number, fill: number) => t(0x04, new Uint8Array(n).fill(fill));
/** ecdsa-with-SHA256 (RFC 5758 §3.2): a well-formed AlgorithmIdentifier that is not the one pinned. */
const ECDSA_SHA256 = fromHex('300a06082a8648ce3d040302');

const sealgate = {
  measurement: () => ext(WORKER_CERT_OIDS.measurement, octets(48, 7)),
  manifestDigest: () => ext(WORKER_CERT_OIDS.manifestDigest, octets(32, 0xab)),
  hpkeKeySha256: () => ext(WORKER_CERT_OIDS.hpkeKeySha256, octets(32, 3)),
  simulated: () => ext(WORKER_CERT_OIDS.simulated, TRUE),
  configDigest: () => ext(WORKER_CERT_OIDS.configDigest, octets(32, 0xcf)),
};
/** basicConstraints cA=false and keyUsage digitalSignature, both critical (as the issuer writes them). */
const STANDARD = [
  ext('2.5.29.19', t(0x30), TRUE),
  ext('2.5.29.15', t(0x03, Uint8Array.of(0x07, 0x80)), TRUE),
];
const NAMES = Object.keys(sealgate) as (keyof typeof sealgate)[];
/** The standard extensions, then Sealgate's in order, each replaced (or left out: null) as `over` says. */
const exts = (over: Partial<Record<keyof typeof sealgate, Uint8Array | null>> = {}) => [
  ...STANDARD,
  ...NAMES.flatMap((name) => {
    const e = over[name] === undefined ? sealgate[name]() : over[name];
    return e === null ? [] : [e];
  }),
];

let service: ServiceKeys;
let spki: Uint8Array;
beforeAll(async () => {
  service = await generateServiceKeys();
  const worker = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']);
  spki = new Uint8Array(await crypto.subtle.exportKey('spki', worker.publicKey));
});

async function build(
  o: {
    version?: Uint8Array | null;
    innerAlgorithm?: Uint8Array;
    outerAlgorithm?: Uint8Array;
    subject?: string;
    extensions?: Uint8Array[] | null;
  } = {},
): Promise<Uint8Array> {
  const list = o.extensions === undefined ? exts() : o.extensions;
  const tbs = t(
    0x30,
    o.version === undefined ? t(0xa0, Uint8Array.of(0x02, 0x01, 0x02)) : (o.version ?? new Uint8Array()),
    t(0x02, fromHex(SERIAL)),
    o.innerAlgorithm ?? ECDSA_SHA384_ALGORITHM,
    encodeCommonNameDer(WORKER_CERT_ISSUER),
    t(0x30, t(0x17, ascii('260301120000Z')), t(0x17, ascii('260301121500Z'))),
    encodeCommonNameDer(o.subject ?? WORKER_CERT_SUBJECT),
    spki,
    ...(list === null ? [] : [t(0xa3, t(0x30, ...list))]),
  );
  const p1363 = new Uint8Array(
    await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-384' }, service.signing.privateKey, tbs.slice()),
  );
  const signature = t(0x03, Uint8Array.of(0), ecdsaP1363ToDer(p1363));
  return t(0x30, tbs, o.outerAlgorithm ?? ECDSA_SHA384_ALGORITHM, signature);
}

const verify = (certificate: Uint8Array) =>
  verifyWorkerCertificate({ certificate, issuerKey: service.signing.publicKey, now: NOW });

const GPU = {
  architecture: 'hopper',
  driverVersion: '550.90.07',
  vbiosVersion: '96.00.9f.00.01',
  fwid: null,
  leafSha256: 'aa'.repeat(32),
  rootSha256: 'bb'.repeat(32),
  measurementsSha256: 'cc'.repeat(32),
};
const gpuExt = (json: string) => ext(WORKER_CERT_OIDS.gpus, t(0x04, new TextEncoder().encode(json)));

describe('worker certificate: the gpus extension', () => {
  it('absent: no GPU; present: the canonical list reads back', async () => {
    expect((await verify(await build())).gpus).toEqual([]);
    const canonical = JSON.stringify([Object.fromEntries(Object.entries(GPU).sort())]);
    const cert = await verify(await build({ extensions: [...exts(), gpuExt(canonical)] }));
    expect(cert.gpus).toEqual([GPU]);
  });

  it('refuses a non-canonical spelling, other members, an empty list, and a bare value', async () => {
    const sorted = Object.fromEntries(Object.entries(GPU).sort());
    for (const bad of [
      gpuExt(JSON.stringify([GPU])), // members not in RFC 8785 order
      gpuExt(JSON.stringify([{ ...sorted, extra: 'x' }])),
      gpuExt('[]'),
      ext(WORKER_CERT_OIDS.gpus, new TextEncoder().encode(JSON.stringify([sorted]))), // no OCTET STRING
    ]) {
      await expectSealgateError(
        verify(await build({ extensions: [...exts(), bad] })),
        'malformed_certificate',
      );
    }
  });
});

describe('worker certificate built field by field', () => {
  it('as the issuer writes it, it verifies and reads back', async () => {
    const cert = await verify(await build());
    expect(cert).toMatchObject({
      serialNumber: SERIAL,
      notBefore: NOW,
      notAfter: new Date(NOW.getTime() + 900_000),
      signingKeySpki: spki,
      measurement: new Uint8Array(48).fill(7),
      manifestDigest: 'ab'.repeat(32),
      hpkeKeySha256: new Uint8Array(32).fill(3),
      simulated: true,
      configDigest: 'cf'.repeat(32),
    });
  });

  it('refuses more than MAX_WORKER_CERT_BYTES and what is not a SEQUENCE', async () => {
    const der = await build();
    const big = concatBytes(der, new Uint8Array(MAX_WORKER_CERT_BYTES));
    await expectSealgateError(parseWorkerCertificate(big), 'malformed_certificate', /expected 1\.\./);
    const notSeq = der.slice();
    notSeq[0] = 0x31;
    await expectSealgateError(parseWorkerCertificate(notSeq), 'malformed_certificate');
  });

  it('refuses a certificate that is not v3 (v1 has no [0] version; v2 is 1)', async () => {
    for (const version of [null, t(0xa0, Uint8Array.of(0x02, 0x01, 0x01))]) {
      // Without extensions: with them, a v1/v2 certificate is refused already (RFC 5280 §4.1.2.9).
      await expectSealgateError(
        verify(await build({ version, extensions: null })),
        'malformed_certificate',
        /not an X\.509 v3 certificate/,
      );
      await expectSealgateError(verify(await build({ version })), 'malformed_certificate');
    }
  });

  it('refuses a signature algorithm other than ecdsa-with-SHA384, outside or inside the TBS', async () => {
    for (const over of [
      { outerAlgorithm: ECDSA_SHA256 },
      { innerAlgorithm: ECDSA_SHA256 },
      { outerAlgorithm: ECDSA_SHA256, innerAlgorithm: ECDSA_SHA256 },
    ]) {
      await expectSealgateError(verify(await build(over)), 'malformed_certificate', /ecdsa-with-SHA384/);
    }
  });

  it('refuses a Sealgate extension twice, missing, critical, or with a value of the wrong shape', async () => {
    const m = WORKER_CERT_OIDS;
    const cases: [string, Uint8Array[], RegExp][] = [
      ['measurement twice', [...exts(), sealgate.measurement()], /twice/],
      ['simulated twice, FALSE then TRUE', [...exts(), ext(m.simulated, Uint8Array.of(1, 1, 0))], /twice/],
      ['basicConstraints twice', [...exts(), STANDARD[0]!], /twice/],
      ...NAMES.map((name): [string, Uint8Array[], RegExp] => [
        `${name} missing`,
        exts({ [name]: null }),
        new RegExp(`${name} \\(${m[name].replaceAll('.', '\\.')}\\) missing`),
      ]),
      ['measurement critical', exts({ measurement: ext(m.measurement, octets(48, 7), TRUE) }), /critical/],
      ['an unknown extension critical', [...exts(), ext('2.5.29.14', octets(20, 1), TRUE)], /critical/],
      [
        'critical written as FALSE (not DER)',
        [...exts(), ext('2.5.29.14', octets(20, 1), Uint8Array.of(1, 1, 0))],
        /critical/,
      ],
      ['measurement 47 bytes', exts({ measurement: ext(m.measurement, octets(47, 7)) }), /measurement/],
      ['manifestDigest a BOOLEAN', exts({ manifestDigest: ext(m.manifestDigest, TRUE) }), /manifestDigest/],
      [
        'hpkeKeySha256 with a trailing byte',
        exts({ hpkeKeySha256: ext(m.hpkeKeySha256, concatBytes(octets(32, 3), Uint8Array.of(0))) }),
        /hpkeKeySha256/,
      ],
      [
        'simulated BOOLEAN 0x01 (not DER)',
        exts({ simulated: ext(m.simulated, Uint8Array.of(1, 1, 1)) }),
        /simulated/,
      ],
    ];
    for (const [what, extensions, message] of cases) {
      const der = await build({ extensions });
      const e = await expectSealgateError(verify(der), 'malformed_certificate');
      expect(e.message, what).toMatch(message);
      await expectSealgateError(parseWorkerCertificate(der), 'malformed_certificate', message);
    }
  });

  it('refuses names other than Sealgate’s as not the service’s certificate', async () => {
    await expectSealgateError(
      verify(await build({ subject: 'CN=someone-else' })),
      'attestation_rejected',
      'worker certificate: issuer or subject is not Sealgate’s',
    );
  });
});
