/**
 * Hostile Intel PCK and NVIDIA device chains, cases the earlier reviews did not probe: the real
 * certificates rebuilt field by field and signed for real (ECDSA) by keys made here, under a test
 * root pinned in the test, so that every signature verifies and only the one change is wrong — an
 * issuer that is not a CA allowed to sign certificates (RFC 5280 §4.2.1.9, §4.2.1.3), a leaf used
 * as an issuer, a PCK leaf claiming to be a CA, an issuer name that is not the parent's subject, an
 * outer AlgorithmIdentifier other than the TBS's (§4.1.1.2); Intel CRLs of narrower scope (§5.2.5),
 * in the root's name signed by another key, or signed by a CA without cRLSign (§6.3.3 (f)); a GPU
 * device chain of 21 certificates, refused on its count before any certificate is parsed; and a real RIM whose KeyInfo repeats the root
 * (once, or up to 64 KiB): it verified before, each copy self-signed and "issued" by the next.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fromHex, utf8 } from '../../src/bytes.js';
import { type Certificate, parseX509Certificate } from '../../src/der/certificate.js';
import { decodeCertificates } from '../../src/der/pem.js';
import { sequence } from '../../src/der/write.js';
import { parseQuote } from '../../src/evidence/tdx/parse-quote.js';
import { verifyEcdsaChain } from '../../src/verify/nvidia/ecdsa-chain.js';
import { verifyGpuEvidence } from '../../src/verify/nvidia/verify-gpu.js';
import { webCryptoSignatures } from '../../src/verify/signature-backend.js';
import { authenticateCrl, checkNotRevoked } from '../../src/verify/tdx/crl-checks.js';
import { importSpkiP256 } from '../../src/verify/tdx/ecdsa-p256.js';
import { CN, type VerifiedCert, verifyIntelChain } from '../../src/verify/tdx/intel-chain.js';
import type { Violation } from '../../src/verify/violations.js';
import { AT, loadGpuSet, rimsOf545 } from './nvidia/support.js';
import {
  BASIC_CONSTRAINTS,
  basicConstraints,
  buildCertificate,
  buildCrl,
  ecdsaKeys,
  ecdsaSigner,
  extension,
  KEY_USAGE,
  keyUsage,
  replaceExtension,
  type Signer,
  spkiOf,
  TBS,
  tbsFields,
  withField,
} from './resign.js';
import { codes, loadTdx, v } from './tdx/support.js';

const ECDSA_SHA256 = fromHex('300a06082a8648ce3d040302');
const ECDSA_SHA384 = fromHex('300a06082a8648ce3d040303');

const messages = (vs: readonly Violation[]) => vs.map((x) => x.message).join('\n');
const parseAll = (ders: readonly Uint8Array[]) => Promise.all(ders.map((d) => parseX509Certificate(d)));

describe.skipIf(!v.present)(`hostile Intel PCK chains and CRLs ${v.skipReason}`, () => {
  const SHAPE = [CN.pck, [CN.pckPlatformCa, CN.pckProcessorCa], CN.root] as const;
  let f: { pck: Uint8Array[]; ca: Uint8Array[]; root: Uint8Array[] };
  let sign: { ca: Signer; root: Signer };
  let der: { pck: Uint8Array; ca: Uint8Array; root: Uint8Array };
  let caKeys: CryptoKeyPair;
  let rootSha = '';
  let at: Date;

  beforeAll(async () => {
    const s = loadTdx('phala-v4-uptodate');
    at = s.at;
    const [pck, ca, root] = decodeCertificates(utf8.encode(parseQuote(s.quote).pckChainPem)) as [
      Uint8Array,
      Uint8Array,
      Uint8Array,
    ];
    const rootKeys = await ecdsaKeys('P-256');
    caKeys = await ecdsaKeys('P-256');
    sign = { root: ecdsaSigner(rootKeys, 'SHA-256'), ca: ecdsaSigner(caKeys, 'SHA-256') };
    f = {
      pck: tbsFields(pck),
      ca: withField(tbsFields(ca), TBS.spki, await spkiOf(caKeys.publicKey)),
      root: withField(tbsFields(root), TBS.spki, await spkiOf(rootKeys.publicKey)),
    };
    der = {
      pck: await buildCertificate(f.pck, sign.ca),
      ca: await buildCertificate(f.ca, sign.root),
      root: await buildCertificate(f.root, sign.root),
    };
    rootSha = (await parseX509Certificate(der.root)).sha256;
  }, 60_000);

  async function intel(edit: { pck?: Uint8Array; ca?: Uint8Array } = {}) {
    const out: Violation[] = [];
    const certs = await parseAll([edit.pck ?? der.pck, edit.ca ?? der.ca, der.root]);
    const chain = await verifyIntelChain(certs, SHAPE, at, 'pck', out, [rootSha]);
    return { chain, out };
  }

  it('the rebuilt chain verifies under its pinned test root', async () => {
    const r = await intel();
    expect(r.out).toEqual([]);
    expect(r.chain).not.toBeNull();
  });

  it("a root whose pathLenConstraint is 0 (Intel's says 1) issues no PCK CA (RFC 5280 §4.2.1.9)", async () => {
    const rootZero = await buildCertificate(
      replaceExtension(f.root, BASIC_CONSTRAINTS, basicConstraints(true, 0)),
      sign.root,
    );
    const zeroSha = (await parseX509Certificate(rootZero)).sha256;
    const out: Violation[] = [];
    const certs = await parseAll([der.pck, await buildCertificate(f.ca, sign.root), rootZero]);
    expect(await verifyIntelChain(certs, SHAPE, at, 'pck', out, [zeroSha])).toBeNull();
    expect(codes(out)).toEqual(['cert_chain_invalid']);
    expect(messages(out)).toBe(
      'pck[2]: its pathLenConstraint allows 0 intermediate certificate(s) below it, the chain has 1 (RFC 5280 §4.2.1.9)',
    );
  });

  it('a PCK CA without cA or keyCertSign, or a PCK leaf claiming cA, is refused', async () => {
    const cases: [string, { pck?: Uint8Array; ca?: Uint8Array }][] = [
      [
        'CA: cA absent',
        {
          ca: await buildCertificate(
            replaceExtension(f.ca, BASIC_CONSTRAINTS, basicConstraints(false)),
            sign.root,
          ),
        },
      ],
      [
        'CA: keyUsage digitalSignature only',
        { ca: await buildCertificate(replaceExtension(f.ca, KEY_USAGE, keyUsage(0x80)), sign.root) },
      ],
      [
        'leaf: cA TRUE',
        {
          pck: await buildCertificate(
            replaceExtension(f.pck, BASIC_CONSTRAINTS, basicConstraints(true)),
            sign.ca,
          ),
        },
      ],
    ];
    for (const [what, edit] of cases) {
      const r = await intel(edit);
      expect(r.chain, what).toBeNull();
      expect(codes(r.out), what).toEqual(['cert_chain_invalid']);
      expect(messages(r.out), what).toMatch(/CA flag wrong for its place/);
    }
  });

  it('a PCK leaf used as the issuer of another PCK (signed by the root) is refused', async () => {
    const leafAsCa = await buildCertificate(
      withField(withField(f.pck, TBS.issuer, f.root[TBS.subject]!), TBS.spki, await spkiOf(caKeys.publicKey)),
      sign.root,
    );
    const child = await buildCertificate(withField(f.pck, TBS.issuer, f.pck[TBS.subject]!), sign.ca);
    const r = await intel({ pck: child, ca: leafAsCa });
    expect(r.chain).toBeNull();
    expect(r.out.map((x) => x.code)).toEqual(['cert_chain_invalid', 'cert_chain_invalid']);
    expect(messages(r.out)).toMatch(
      /pck\[1\] \(Intel SGX PCK Certificate\): not signed by its issuer, or its CA flag/,
    );
  });

  it("an issuer name other than the parent's subject, or an outer algorithm other than the TBS's, is refused", async () => {
    const cases: [string, Uint8Array][] = [
      ['issuer = root', await buildCertificate(withField(f.pck, TBS.issuer, f.root[TBS.subject]!), sign.ca)],
      ['outer ecdsa-with-SHA384', await buildCertificate(f.pck, sign.ca, ECDSA_SHA384)],
    ];
    for (const [what, pck] of cases) {
      const r = await intel({ pck });
      expect(codes(r.out), what).toEqual(['cert_chain_invalid']);
      expect(messages(r.out), what).toMatch(/pck\[0\].*not signed by its issuer/);
    }
  });

  describe('CRLs', () => {
    const crlAt = () => ({
      algorithm: ECDSA_SHA256,
      thisUpdate: new Date(at.getTime() - 86_400_000),
      nextUpdate: new Date(at.getTime() + 86_400_000),
    });
    async function verified(d: Uint8Array): Promise<VerifiedCert> {
      const cert: Certificate = await parseX509Certificate(d);
      return { cert, key: (await importSpkiP256(cert.spki))!, signatures: webCryptoSignatures };
    }

    it("a Root CA CRL revoking the PCK CA: cert_revoked; one in the root's name signed by the CA: crl_invalid", async () => {
      const [root, ca] = [await verified(der.root), await verified(der.ca)];
      const issuer = f.root[TBS.subject]!;
      const out: Violation[] = [];
      const good = await buildCrl({ ...crlAt(), issuer, revoked: [ca.cert.serialNumber] }, sign.root);
      checkNotRevoked((await authenticateCrl(good, root, at, 'rootCaCrl', out))!, [ca], 'rootCaCrl', out);
      expect(codes(out)).toEqual(['cert_revoked']);
      const forged: Violation[] = [];
      const byCa = await buildCrl({ ...crlAt(), issuer }, sign.ca);
      expect(await authenticateCrl(byCa, root, at, 'rootCaCrl', forged)).toBeNull();
      expect(codes(forged)).toEqual(['crl_invalid']);
    });

    it('a PCK CRL signed by a CA whose keyUsage lacks cRLSign (RFC 5280 §6.3.3 (f)): crl_invalid', async () => {
      const caDer = await buildCertificate(replaceExtension(f.ca, KEY_USAGE, keyUsage(0x04)), sign.root);
      const ca = await verified(caDer);
      expect(ca.cert.mayCertSign && !ca.cert.mayCrlSign).toBe(true);
      const der = await buildCrl({ ...crlAt(), issuer: f.ca[TBS.subject]! }, sign.ca);
      const out: Violation[] = [];
      expect(await authenticateCrl(der, ca, at, 'pckCrl', out)).toBeNull();
      expect(codes(out)).toEqual(['crl_invalid']);
      expect(messages(out)).toMatch(/may not sign CRLs/);
    });

    it('a PCK CRL of narrower scope (only CA certificates, not critical) is crl_invalid, not "the PCK is not listed"', async () => {
      const ca = await verified(der.ca);
      const onlyCa = extension(28, false, sequence(Uint8Array.of(0x82, 0x01, 0xff)));
      const partial = await buildCrl(
        { ...crlAt(), issuer: f.ca[TBS.subject]!, extensions: [onlyCa] },
        sign.ca,
      );
      const out: Violation[] = [];
      expect(await authenticateCrl(partial, ca, at, 'pckCrl', out)).toBeNull();
      expect(codes(out)).toEqual(['crl_invalid']);
      expect(messages(out)).toMatch(/narrows the scope/);
    });
  });
});

describe.skipIf(!v.present)(`hostile NVIDIA device chains ${v.skipReason}`, () => {
  let f: Uint8Array[][];
  let signers: Signer[];
  let keys: CryptoKeyPair[];
  let der: Uint8Array[];
  let rootSha = '';

  beforeAll(async () => {
    const { certs } = loadGpuSet('hopper-coco-ci-trustee');
    keys = await Promise.all(certs.map(() => ecdsaKeys('P-384')));
    signers = keys.map((k) => ecdsaSigner(k, 'SHA-384'));
    f = await Promise.all(
      certs.map(async (c, i) => withField(tbsFields(c), TBS.spki, await spkiOf(keys[i]!.publicKey))),
    );
    const last = certs.length - 1;
    der = await Promise.all(f.map((fields, i) => buildCertificate(fields, signers[Math.min(i + 1, last)]!)));
    rootSha = (await parseX509Certificate(der[last]!)).sha256;
  }, 60_000);

  async function nvidia(ders: readonly Uint8Array[], expectedLength = 5) {
    const certs = await parseAll(ders);
    return verifyEcdsaChain({ certs, anchors: [rootSha], at: AT, field: 'chain', expectedLength });
  }
  const at = (i: number, d: Uint8Array) => der.map((x, j) => (j === i ? d : x));

  it('the rebuilt chain verifies under its pinned test root', async () => {
    const r = await nvidia(der);
    expect(r.violations).toEqual([]);
    expect(r.leafKeyTrusted).toBe(true);
  });

  it('GH100 Identity with pathLenConstraint 1 above two intermediates is refused; 2 holds (§4.2.1.9)', async () => {
    const identity = (n: number) =>
      buildCertificate(replaceExtension(f[3]!, BASIC_CONSTRAINTS, basicConstraints(true, n)), signers[4]!);
    const one = await nvidia(at(3, await identity(1)));
    expect(codes(one.violations)).toEqual(['cert_chain_invalid']);
    expect(messages(one.violations)).toBe(
      'certificate[3]: its pathLenConstraint allows 1 intermediate certificate(s) below it, the chain has 2 (RFC 5280 §4.2.1.9)',
    );
    expect(one.leafKeyTrusted).toBe(false);
    expect((await nvidia(at(3, await identity(2)))).violations).toEqual([]);
  });

  it('the Provisioner ICA without cA or keyCertSign is no issuer', async () => {
    for (const fields of [
      replaceExtension(f[2]!, BASIC_CONSTRAINTS, basicConstraints(false)),
      replaceExtension(f[2]!, KEY_USAGE, keyUsage(0x80)),
    ]) {
      const r = await nvidia(at(2, await buildCertificate(fields, signers[3]!)));
      expect(codes(r.violations)).toEqual(['cert_chain_invalid']);
      expect(messages(r.violations)).toMatch(/certificate 2 \(NVIDIA GH100 Provisioner ICA 1\) is not a CA/);
    }
  });

  it('the GPU-made leaf used as an issuer (its key signing a sixth certificate) is refused', async () => {
    const child = await buildCertificate(withField(f[0]!, TBS.issuer, f[0]![TBS.subject]!), signers[0]!);
    const r = await nvidia([child, ...der], 6);
    expect(codes(r.violations)).toEqual(['cert_chain_invalid']);
    expect(messages(r.violations)).toMatch(/certificate 1 \(GH100 A01 GSP FMC LF\) is not a CA/);
    expect(r.leafKeyTrusted).toBe(false);
  });

  it("an issuer name other than the parent's subject, or an outer algorithm other than the TBS's, is refused", async () => {
    for (const leaf of [
      await buildCertificate(withField(f[0]!, TBS.issuer, f[2]![TBS.subject]!), signers[1]!),
      await buildCertificate(f[0]!, signers[1]!, sequence(fromHex('06082a8648ce3d040302'))),
    ]) {
      const r = await nvidia(at(0, leaf));
      expect(codes(r.violations)).toEqual(['cert_chain_invalid']);
      expect(r.leafKeyTrusted).toBe(false);
    }
  });

  it('a 16 KiB device chain of 21 certificates is refused on its count, before any is parsed', async () => {
    const { input, certs } = loadGpuSet('hopper-coco-ci-trustee');
    // A certificate the strict reader refuses (version 6), yet whole DER: only parsing finds it.
    const broken = certs[0]!.slice();
    expect(Array.from(broken.subarray(8, 13))).toEqual([0xa0, 0x03, 0x02, 0x01, 0x02]);
    broken[12] = 5;
    const r = await verifyGpuEvidence({ ...input, chain: [...certs, ...Array(16).fill(broken)] });
    // Parsed first (before the count), the broken copies answered cert_malformed.
    expect(codes(r.violations)).toEqual(['cert_chain_invalid']);
    expect(r.violations[0]!.message).toBe('the chain has 21 certificates, expected 5');
  });

  it('a real RIM whose KeyInfo repeats the root is refused: once (self-issued before the root), or 56 times (on the count)', async () => {
    const { input } = loadGpuSet('hopper-545-with-rims-nvtrust');
    const { driver, vbios } = rimsOf545();
    const text = utf8.decode(driver);
    const root = text.match(/<ds:X509Certificate>[^<]*<\/ds:X509Certificate>/g)!.at(-1)!;
    const withRoots = (n: number) => utf8.encode(text.replace(root, root.repeat(n + 1)));
    const verify = (rim: Uint8Array) => verifyGpuEvidence({ ...input, rims: [rim, vbios] });
    expect((await verify(driver)).violations).toEqual([]);
    const once = await verify(withRoots(1));
    expect(codes(once.violations)).toEqual(['cert_chain_invalid']);
    expect(messages(once.violations)).toMatch(
      /certificate 3 \(NVIDIA CoRIM signing Root CA\) is self-issued but not the root/,
    );
    const many = withRoots(56);
    expect(many.length).toBeLessThan(64 * 1024);
    const r = await verify(many);
    expect(codes(r.violations)).toEqual(['cert_chain_invalid']);
    expect(r.violations[0]!.message).toBe('KeyInfo holds 60 certificates, more than 8');
  });
});
