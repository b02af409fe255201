/**
 * Hostile AMD chains and CRLs, cases the earlier reviews did not probe. AMD's real Milan ARK, ASK
 * and VCEK are rebuilt field by field and signed for real by RSA keys made here, under a test ARK
 * pinned as a simulated anchor: every signature verifies, and only the one change under test is
 * wrong. AMD signs with RSASSA-PSS SHA-384, MGF1-SHA-384, salt 48 (pub. 57230 §2, RFC 4055 §3.1);
 * a certificate or CRL whose parameters say anything else — or whose signature was made with other
 * parameters under AMD's label — is refused, as is an outer AlgorithmIdentifier other than the
 * TBS's (RFC 5280 §4.1.1.2, §5.1.1.2), an issuer that is not a CA allowed to sign certificates
 * (§4.2.1.9, §4.2.1.3), an issuer name that is not its parent's subject, and a CRL that is not
 * authentic, not current, signed by an ARK without cRLSign (§6.3.3 (f)), or not complete in scope
 * (§5.2.4, §5.2.5; the scope cases failed open before src/der/crl.ts read issuingDistributionPoint
 * and deltaCRLIndicator).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fromHex } from '../../src/bytes.js';
import { decodeCertificates } from '../../src/der/pem.js';
import { explicit, integer, sequence, tlv } from '../../src/der/write.js';
import { checkAmdCrl } from '../../src/verify/amd-crl.js';
import { checkTrustAnchors, type TrustAnchor } from '../../src/verify/amd-roots.js';
import { type ParsedCertificate, parseCertificate } from '../../src/verify/certificates.js';
import { verifyChain } from '../../src/verify/verify-chain.js';
import {
  BASIC_CONSTRAINTS,
  basicConstraints,
  buildCertificate,
  buildCrl,
  extension,
  KEY_USAGE,
  keyUsage,
  pssSigner,
  replaceExtension,
  rsaPssKeys,
  type Signer,
  spkiOf,
  TBS,
  tbsFields,
  withField,
} from './resign.js';
import { codes, loadSet, v } from './support.js';

const OID_PSS = fromHex('06092a864886f70d01010a');
const OID_MGF1 = fromHex('06092a864886f70d010108');
const HASH = {
  sha1: fromHex('300906052b0e03021a0500'),
  sha256: fromHex('300d06096086480165030402010500'),
  sha384: fromHex('300d06096086480165030402020500'),
};
type Hash = keyof typeof HASH;

/** id-RSASSA-PSS with RSASSA-PSS-params { hash, mgf1(mgf), salt [, trailer] } (RFC 4055 §3.1). */
function pss(hash: Hash, mgf: Hash, salt: number, trailer?: number): Uint8Array {
  return sequence(
    OID_PSS,
    sequence(
      explicit(0, HASH[hash]),
      explicit(1, sequence(OID_MGF1, HASH[mgf])),
      explicit(2, integer(salt)),
      ...(trailer === undefined ? [] : [explicit(3, integer(trailer))]),
    ),
  );
}

const AMD_EXPLICIT = pss('sha384', 'sha384', 48, 1);
const AMD_OMITTED = pss('sha384', 'sha384', 48);

interface Built {
  der: { ark: Uint8Array; ask: Uint8Array; leaf: Uint8Array };
  fields: { ark: Uint8Array[]; ask: Uint8Array[]; leaf: Uint8Array[] };
  sign: { ark: Signer; ask: Signer };
  parsed: { root: ParsedCertificate; intermediate: ParsedCertificate; leaf: ParsedCertificate };
  anchors: readonly TrustAnchor[];
  at: Date;
  arkKeys: CryptoKeyPair;
  askKeys: CryptoKeyPair;
}

let b: Built;

beforeAll(async () => {
  if (!v.present) return;
  const s = loadSet('milan-v2-virtee');
  const [askReal, arkReal] = decodeCertificates(s.chain) as [Uint8Array, Uint8Array];
  const leafReal = decodeCertificates(s.leaf)[0]!;
  const [arkKeys, askKeys] = await Promise.all([rsaPssKeys(), rsaPssKeys()]);
  const sign = {
    ark: await pssSigner(arkKeys, 'SHA-384', 48),
    ask: await pssSigner(askKeys, 'SHA-384', 48),
  };
  const fields = {
    ark: withField(tbsFields(arkReal), TBS.spki, await spkiOf(arkKeys.publicKey)),
    ask: withField(tbsFields(askReal), TBS.spki, await spkiOf(askKeys.publicKey)),
    leaf: tbsFields(leafReal),
  };
  const der = {
    ark: await buildCertificate(fields.ark, sign.ark),
    ask: await buildCertificate(fields.ask, sign.ark),
    leaf: await buildCertificate(fields.leaf, sign.ask),
  };
  const parsed = {
    root: await parseCertificate(der.ark),
    intermediate: await parseCertificate(der.ask),
    leaf: await parseCertificate(der.leaf),
  };
  const anchors = checkTrustAnchors([{ sha256: parsed.root.sha256, product: 'Milan', simulated: true }]);
  b = { der, fields, sign, parsed, anchors, at: s.at, arkKeys, askKeys };
}, 60_000);

async function chain(edit: { leaf?: Uint8Array; ask?: Uint8Array; ark?: Uint8Array } = {}) {
  const root = edit.ark ? await parseCertificate(edit.ark) : b.parsed.root;
  const anchors = edit.ark
    ? checkTrustAnchors([{ sha256: root.sha256, product: 'Milan', simulated: true }])
    : b.anchors;
  return verifyChain({
    leaf: edit.leaf ? await parseCertificate(edit.leaf) : b.parsed.leaf,
    intermediate: edit.ask ? await parseCertificate(edit.ask) : b.parsed.intermediate,
    root,
    trustAnchors: anchors,
    now: b.at,
  });
}

/** The leaf (or ASK) with both AlgorithmIdentifiers `label`, signed by `sign`. */
async function relabelled(which: 'leaf' | 'ask', label: Uint8Array, sign: Signer, outer = label) {
  return buildCertificate(withField(b.fields[which], TBS.signature, label), sign, outer);
}

const messages = (r: { violations: { message: string }[] }) => r.violations.map((x) => x.message).join('\n');

describe.skipIf(!v.present)(`hostile AMD chains (RSASSA-PSS, CA flags, names) ${v.skipReason}`, () => {
  it("the rebuilt chain verifies under its pinned test ARK (so each refusal below is the change's)", async () => {
    const r = await chain();
    expect(r.violations).toEqual([]);
    expect(r.leafKeyTrusted && r.intermediateTrusted).toBe(true);
    // Both of AMD's spellings of the parameters are taken, when TBS and outer agree.
    const omitted = await relabelled('leaf', AMD_OMITTED, b.sign.ask);
    expect((await chain({ leaf: omitted })).violations).toEqual([]);
  });

  it('a VCEK whose parameters say other than SHA-384 / MGF1-SHA-384 / salt 48 / trailer 1 is refused, though its signature verifies under them', async () => {
    const ask256 = await pssSigner(b.askKeys, 'SHA-256', 32);
    const ask384s32 = await pssSigner(b.askKeys, 'SHA-384', 32);
    const cases: [string, Uint8Array, Signer][] = [
      ['SHA-256, MGF1-SHA-256, salt 32', pss('sha256', 'sha256', 32), ask256],
      ['SHA-384, salt 32', pss('sha384', 'sha384', 32), ask384s32],
      ['MGF1-SHA-1', pss('sha384', 'sha1', 48), b.sign.ask],
      ['trailerField 2', pss('sha384', 'sha384', 48, 2), b.sign.ask],
      ['parameters absent', sequence(OID_PSS), b.sign.ask],
      ['parameters NULL', sequence(OID_PSS, Uint8Array.of(5, 0)), b.sign.ask],
    ];
    for (const [what, label, sign] of cases) {
      const r = await chain({ leaf: await relabelled('leaf', label, sign) });
      expect(codes(r.violations), what).toEqual(['cert_chain_invalid']);
      expect(r.leafKeyTrusted, what).toBe(false);
    }
  });

  it("AMD's label over a signature made with salt 32, or with SHA-256: the signature does not verify", async () => {
    for (const [what, sign] of [
      ['salt 32', await pssSigner(b.askKeys, 'SHA-384', 32)],
      ['SHA-256, salt 48', await pssSigner(b.askKeys, 'SHA-256', 48)],
    ] as const) {
      const r = await chain({ leaf: await relabelled('leaf', AMD_EXPLICIT, sign) });
      expect(codes(r.violations), what).toEqual(['cert_chain_invalid']);
      expect(messages(r), what).toMatch(/signature does not verify/);
    }
  });

  it("outer and TBS AlgorithmIdentifiers differ, though each is one of AMD's spellings (RFC 5280 §4.1.1.2): refused at every level", async () => {
    const leaf = await relabelled('leaf', AMD_EXPLICIT, b.sign.ask, AMD_OMITTED);
    const rl = await chain({ leaf });
    expect(codes(rl.violations)).toEqual(['cert_chain_invalid']);
    expect(rl.leafKeyTrusted).toBe(false);
    const ask = await buildCertificate(b.fields.ask, b.sign.ark, AMD_OMITTED);
    const ra = await chain({ ask });
    expect(codes(ra.violations)).toEqual(['cert_chain_invalid']);
    expect(ra.intermediateTrusted).toBe(false);
    const ark = await buildCertificate(b.fields.ark, b.sign.ark, AMD_OMITTED);
    const rr = await chain({ ark });
    expect(messages(rr)).toMatch(/self-signature/);
    expect(rr.intermediateTrusted).toBe(false);
  });

  it('an ASK whose parameters say salt 32, signed so: nothing below it is trusted', async () => {
    const ask = await buildCertificate(
      withField(b.fields.ask, TBS.signature, pss('sha384', 'sha384', 32)),
      await pssSigner(b.arkKeys, 'SHA-384', 32),
      pss('sha384', 'sha384', 32),
    );
    const r = await chain({ ask });
    expect(codes(r.violations)).toEqual(['cert_chain_invalid']);
    expect(r.intermediateTrusted || r.leafKeyTrusted).toBe(false);
  });

  it('an ARK whose pathLenConstraint is 0 issues no ASK (RFC 5280 §4.2.1.9); 1 does', async () => {
    const ark = (n: number) =>
      buildCertificate(
        replaceExtension(b.fields.ark, BASIC_CONSTRAINTS, basicConstraints(true, n)),
        b.sign.ark,
      );
    const zero = await chain({ ark: await ark(0) });
    expect(codes(zero.violations)).toEqual(['cert_chain_invalid']);
    expect(messages(zero)).toBe(
      'chain[2]: its pathLenConstraint allows 0 intermediate certificate(s) below it, the chain has 1 (RFC 5280 §4.2.1.9)',
    );
    expect(zero.intermediateTrusted || zero.leafKeyTrusted).toBe(false);
    expect((await chain({ ark: await ark(1) })).violations).toEqual([]);
  });

  it('an ASK without cA, without basicConstraints, or without keyCertSign is no issuer', async () => {
    const variants: [string, Uint8Array[]][] = [
      ['cA absent', replaceExtension(b.fields.ask, BASIC_CONSTRAINTS, basicConstraints(false))],
      ['no basicConstraints', replaceExtension(b.fields.ask, BASIC_CONSTRAINTS, null)],
      ['keyUsage digitalSignature only', replaceExtension(b.fields.ask, KEY_USAGE, keyUsage(0x80))],
    ];
    for (const [what, fields] of variants) {
      const r = await chain({ ask: await buildCertificate(fields, b.sign.ark) });
      expect(codes(r.violations), what).toEqual(['cert_chain_invalid']);
      expect(messages(r), what).toMatch(/ASK\/ASVK is not a CA allowed to sign certificates/);
      expect(r.leafKeyTrusted, what).toBe(false);
    }
  });

  it('a VCEK used as the issuer (signed by the ARK, its name the issuer of a leaf) is refused', async () => {
    const vcekAsCa = await buildCertificate(
      withField(
        withField(b.fields.leaf, TBS.issuer, b.fields.ark[TBS.subject]!),
        TBS.spki,
        await spkiOf(b.askKeys.publicKey),
      ),
      b.sign.ark,
    );
    const child = await buildCertificate(
      withField(b.fields.leaf, TBS.issuer, b.fields.leaf[TBS.subject]!),
      b.sign.ask,
    );
    const r = await chain({ ask: vcekAsCa, leaf: child });
    expect(codes(r.violations)).toEqual(['cert_chain_invalid', 'cert_chain_invalid']);
    expect(messages(r)).toMatch(/not a CA allowed to sign certificates/);
    expect(r.leafKeyTrusted).toBe(false);
  });

  it("an issuer name that is not the parent's subject, with a valid signature, breaks the chain", async () => {
    const leaf = await buildCertificate(
      withField(b.fields.leaf, TBS.issuer, b.fields.ark[TBS.subject]!),
      b.sign.ask,
    );
    const rl = await chain({ leaf });
    expect(codes(rl.violations)).toEqual(['cert_chain_invalid']);
    expect(messages(rl)).toMatch(/VCEK\/VLEK issuer is not the ASK\/ASVK's subject/);
    const ask = await buildCertificate(
      withField(b.fields.ask, TBS.issuer, b.fields.ask[TBS.subject]!),
      b.sign.ark,
    );
    const ra = await chain({ ask });
    expect(codes(ra.violations)).toEqual(['cert_chain_invalid']);
    expect(messages(ra)).toMatch(/ASK\/ASVK issuer is not the ARK's subject/);
  });
});

/** [1] onlyContainsUserCerts, [2] onlyContainsCACerts: IMPLICIT BOOLEAN TRUE; [3] onlySomeReasons. */
const IDP = {
  userCerts: sequence(Uint8Array.of(0x81, 0x01, 0xff)),
  caCerts: sequence(Uint8Array.of(0x82, 0x01, 0xff)),
  someReasons: sequence(Uint8Array.of(0x83, 0x02, 0x07, 0x80)),
  indirect: sequence(Uint8Array.of(0x84, 0x01, 0xff)),
  // distributionPoint [0] { fullName [0] { uniformResourceIdentifier [6] } }: names, does not narrow.
  nameOnly: sequence(explicit(0, tlv(0xa0, tlv(0x86, new TextEncoder().encode('https://kds.invalid/crl'))))),
};

describe.skipIf(!v.present)(`hostile AMD CRLs ${v.skipReason}`, () => {
  const DAY = 86_400_000;
  const crl = (over: Partial<Parameters<typeof buildCrl>[0]> = {}, sign: Signer = b.sign.ark) =>
    buildCrl(
      {
        algorithm: AMD_EXPLICIT,
        issuer: b.fields.ark[TBS.subject]!,
        thisUpdate: new Date(b.at.getTime() - DAY),
        nextUpdate: new Date(b.at.getTime() + 7 * DAY),
        ...over,
      },
      sign,
    );
  const check = async (der: Uint8Array) => checkAmdCrl({ crl: der, ...b.parsed, now: b.at });

  it('an authentic, current, complete CRL: trusted; revoking the ASK, even listed twice, is cert_revoked', async () => {
    const ok = await check(await crl());
    expect(ok.violations).toEqual([]);
    expect(ok.trusted).toBe(true);
    const ask = b.parsed.intermediate.serialNumber;
    for (const revoked of [[ask], [ask, ask], [b.parsed.leaf.serialNumber, ask, ask]]) {
      const r = await check(await crl({ revoked }));
      expect(r.trusted).toBe(true);
      expect(r.violations.filter((x) => x.field === 'chain.intermediate').map((x) => x.code)).toEqual([
        'cert_revoked',
      ]);
    }
  });

  it("a CRL in the ARK's name signed by the ASK, one in the ASK's name, an expired one: crl_invalid", async () => {
    const ask = b.parsed.intermediate.serialNumber;
    const cases: [string, Uint8Array][] = [
      ['signed by the ASK', await crl({ revoked: ['0777'] }, b.sign.ask)],
      ['issued by the ASK', await crl({ issuer: b.fields.ask[TBS.subject]! }, b.sign.ask)],
      [
        'nextUpdate past',
        await crl({
          thisUpdate: new Date(b.at.getTime() - 9 * DAY),
          nextUpdate: new Date(b.at.getTime() - DAY),
        }),
      ],
      ['thisUpdate ahead', await crl({ thisUpdate: new Date(b.at.getTime() + DAY), revoked: [ask] })],
    ];
    for (const [what, der] of cases) {
      const r = await check(der);
      expect(codes(r.violations), what).toEqual(['crl_invalid']);
      expect(r.trusted, what).toBe(false);
    }
  });

  it('a CRL signed by an ARK whose keyUsage lacks cRLSign (RFC 5280 §6.3.3 (f)): crl_invalid', async () => {
    const ark = await buildCertificate(replaceExtension(b.fields.ark, KEY_USAGE, keyUsage(0x04)), b.sign.ark);
    const root = await parseCertificate(ark);
    expect(root.mayCertSign && !root.mayCrlSign).toBe(true);
    const r = await checkAmdCrl({ crl: await crl(), ...b.parsed, root, now: b.at });
    expect(codes(r.violations)).toEqual(['crl_invalid']);
    expect(r.violations[0]!.message).toMatch(/cRLSign/);
  });

  it("a CRL whose signature parameters differ from its TBS, or are not AMD's: crl_invalid", async () => {
    const salt32 = pss('sha384', 'sha384', 32);
    const cases: [string, Uint8Array][] = [
      ['outer omitted, TBS explicit', await crl({ outerAlgorithm: AMD_OMITTED })],
      ['salt 32, signed so', await crl({ algorithm: salt32 }, await pssSigner(b.arkKeys, 'SHA-384', 32))],
      ["AMD's label, signed with salt 32", await crl({}, await pssSigner(b.arkKeys, 'SHA-384', 32))],
    ];
    for (const [what, der] of cases) {
      expect(codes((await check(der)).violations), what).toEqual(['crl_invalid']);
    }
  });

  it('a CRL of narrower scope (issuingDistributionPoint, critical or not) or a delta CRL is refused, not read as "nothing revoked"', async () => {
    const cases: [string, Uint8Array][] = [
      ['only user certificates, critical', extension(28, true, IDP.userCerts)],
      ['only user certificates, not critical', extension(28, false, IDP.userCerts)],
      ['only CA certificates', extension(28, true, IDP.caCerts)],
      ['only some reasons', extension(28, true, IDP.someReasons)],
      ['indirect CRL', extension(28, true, IDP.indirect)],
      ['delta CRL, not critical', extension(27, false, integer(1))],
    ];
    for (const [what, ext] of cases) {
      const r = await check(await crl({ extensions: [ext] }));
      expect(codes(r.violations), what).toEqual(['crl_invalid']);
      expect(r.trusted, what).toBe(false);
    }
    // A distribution point that only names the CRL does not narrow it.
    const named = await check(await crl({ extensions: [extension(28, true, IDP.nameOnly)] }));
    expect(named.violations).toEqual([]);
    expect(named.trusted).toBe(true);
  });
});
