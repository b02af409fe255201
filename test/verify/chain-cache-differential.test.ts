/**
 * The chain cache (src/verify/chain-cache.ts) changes cost, never a verdict: for every real SEV-SNP
 * set and many single-bit or single-field changes of its report, leaf, chain, anchors, `now`, CRL,
 * KDS source and signature backend, verifySnpEvidence gives the same result (violations, claims,
 * report) without a cache, with a fresh cache, with a cache that verified the honest evidence
 * first (its ARK, ASK/ASVK and VCEK/VLEK remembered), and with a one-entry cache another set
 * evicted. After each changed input the honest evidence still verifies as it does without a cache,
 * so nothing a failed verification did is remembered as a success. Also: the caller's buffers and
 * the returned claims changed after a verification, concurrent verifications, and a CRL that
 * revokes a remembered leaf (simulator chain: only its ARK can issue one).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { concatBytes, toBase64, utf8 } from '../../src/bytes.js';
import { decodeCertificates } from '../../src/der/pem.js';
import type { SnpProduct } from '../../src/evidence/snp/types.js';
import { createDevChain, type DevChain } from '../../src/platform/simulator/dev-chain.js';
import { SimulatedSnpPlatform } from '../../src/platform/simulator/platform.js';
import { type ChainCache, createChainCache } from '../../src/verify/chain-cache.js';
import { certChainUrl, vcekUrl } from '../../src/verify/kds.js';
import { webCryptoSignatures } from '../../src/verify/signature-backend.js';
import { type SnpEvidenceInput, verifySnpEvidence } from '../../src/verify/verify-snp.js';
import { SNP_SETS } from '../support/vectors.js';
import { AMD_ANCHORS, anchorsFor, fakeKds, loadSet, memoryCache, type RealSet, v } from './support.js';

type Input = SnpEvidenceInput;
type Change = readonly [name: string, change: Partial<Input>];

/** The verdict, or the typed error thrown (a caller error): what must not depend on the cache. */
async function outcome(input: Input): Promise<unknown> {
  try {
    return { result: await verifySnpEvidence(input) };
  } catch (e) {
    return { threw: (e as { code?: unknown }).code ?? null, message: (e as Error).message };
  }
}

function flipped(bytes: Uint8Array, at: number, bit = 0): Uint8Array {
  const out = bytes.slice();
  const i = at < 0 ? out.length + at : at;
  out[i]! ^= 1 << bit;
  return out;
}

function pem(der: Uint8Array, eol = '\n'): Uint8Array {
  const b64 = toBase64(der)
    .match(/.{1,64}/g)!
    .join(eol);
  return utf8.encode(`-----BEGIN CERTIFICATE-----${eol}${b64}${eol}-----END CERTIFICATE-----${eol}`);
}

const productOf = (s: RealSet): SnpProduct => s.expected.product.split(' ')[0] as SnpProduct;
const isVlek = (s: RealSet) => s.expected.report.signing_key === 'VLEK';
const OTHER: Record<SnpProduct, SnpProduct> = { Milan: 'Genoa', Genoa: 'Turin', Turin: 'Milan' };

/** The base input of a set: given leaf and chain, every AMD root anchored, inside validity. */
function baseOf(s: RealSet): Input {
  return { report: s.report, leaf: s.leaf, chain: [s.chain], trustAnchors: AMD_ANCHORS, now: s.at };
}

// Offsets of the SEV-SNP ATTESTATION_REPORT (pub. 56860 Table 22): version, policy, VMPL,
// CURRENT_TCB, the signing-key bits, REPORT_DATA, MEASUREMENT, REPORTED_TCB (each SPL byte), CPUID,
// CHIP_ID, COMMITTED_TCB, LAUNCH_TCB, the signature's R and S, the last byte.
const REPORT_OFFSETS = [
  0x00, 0x08, 0x30, 0x38, 0x48, 0x50, 0x90, 0x180, 0x181, 0x186, 0x187, 0x188, 0x1a0, 0x1e0, 0x1f0, 0x2a0,
  0x2e8, -1,
];

function reportChanges(s: RealSet): Change[] {
  return [
    ...REPORT_OFFSETS.map((at) => [`report bit 0 at ${at}`, { report: flipped(s.report, at) }] as const),
    ['report bit 2 at 0x48 (signing key)', { report: flipped(s.report, 0x48, 2) }],
    ['report truncated', { report: s.report.subarray(0, s.report.length - 1) }],
  ];
}

function leafChanges(s: RealSet, sets: readonly RealSet[]): Change[] {
  const der = decodeCertificates(s.leaf)[0]!;
  const at = [0, 1, 4, 20, 64, 150, 300, Math.floor(s.leaf.length / 2), -300, -100, -10, -1];
  const other = sets.find((o) => o.name !== s.name && productOf(o) === productOf(s)) ?? sets[0]!;
  const ask = decodeCertificates(s.chain)[0]!;
  return [
    ...at.map((i) => [`leaf bit 0 at ${i}`, { leaf: flipped(s.leaf, i) }] as const),
    ['leaf bit 7 at -50', { leaf: flipped(s.leaf, -50, 7) }],
    ['leaf as DER', { leaf: der }],
    ['leaf as PEM', { leaf: pem(der) }],
    ['leaf as PEM, CRLF', { leaf: pem(der, '\r\n') }],
    ['leaf with a trailing byte', { leaf: concatBytes(s.leaf, new Uint8Array([0x0a])) }],
    ['leaf truncated', { leaf: s.leaf.subarray(0, s.leaf.length - 1) }],
    ['leaf absent, no KDS', { leaf: undefined }],
    [`leaf of ${other.name}`, { leaf: other.leaf }],
    ['the ASK as leaf', { leaf: ask }],
  ];
}

function chainChanges(s: RealSet): Change[] {
  const [ask, ark] = decodeCertificates(s.chain) as [Uint8Array, Uint8Array];
  const product = productOf(s);
  const sibling = isVlek(s) ? 'vcek' : 'vlek';
  const lower = product.toLowerCase();
  const siblingPath =
    product === 'Turin'
      ? `amd-roots/ask_ark_turin_${sibling}.pem`
      : `amd-roots/ask_ark_${lower}${sibling === 'vlek' ? '_vlek' : ''}.pem`;
  const otherPath = `amd-roots/ask_ark_${OTHER[product].toLowerCase()}${OTHER[product] === 'Turin' ? '_vcek' : ''}.pem`;
  return [
    ['chain as DER parts', { chain: [ask, ark] }],
    ['chain as PEM parts', { chain: [pem(ask), pem(ark)] }],
    ['chain reversed', { chain: [ark, ask] }],
    ['ASK bit at -1', { chain: [flipped(ask, -1), ark] }],
    ['ASK bit at 300', { chain: [flipped(ask, 300), ark] }],
    ['ARK bit at -1', { chain: [ask, flipped(ark, -1)] }],
    ['ARK bit at 300', { chain: [ask, flipped(ark, 300)] }],
    [`the ${sibling} chain`, { chain: [v.bytes(siblingPath)] }],
    [`the ${OTHER[product]} chain`, { chain: [v.bytes(otherPath)] }],
    ['chain absent, no KDS', { chain: undefined }],
  ];
}

function contextChanges(s: RealSet): Change[] {
  const leaf = decodeCertificates(s.leaf)[0]!;
  const nb = new Date(s.expected.endorsement_cert.not_before).getTime();
  const na = new Date(s.expected.endorsement_cert.not_after).getTime();
  const product = productOf(s);
  const root = AMD_ANCHORS.find((a) => a.product === product)!;
  return [
    [`anchors: ${product} only`, { trustAnchors: anchorsFor(product) }],
    [`anchors: ${OTHER[product]} only`, { trustAnchors: anchorsFor(OTHER[product]) }],
    [
      'anchors: the right root named as another product',
      { trustAnchors: [{ ...root, product: OTHER[product] }] },
    ],
    ['anchors: none', { trustAnchors: [] }],
    ['now: 1 ms before the leaf', { now: new Date(nb - 1) }],
    ['now: the leaf notBefore', { now: new Date(nb) }],
    ['now: the leaf notAfter', { now: new Date(na) }],
    ['now: 1 ms after the leaf', { now: new Date(na + 1) }],
    ['now: 2100', { now: new Date('2100-01-01T00:00:00Z') }],
    ['crl: garbage', { crl: new Uint8Array(300).fill(0x30) }],
    ['crl: empty', { crl: new Uint8Array(0) }],
    ['crl: the leaf', { crl: leaf }],
    ['signatures: another backend object', { signatures: { ...webCryptoSignatures } }],
  ];
}

/** The leaf from a KDS (given: none), as served: the right bytes, or changed ones. */
function kdsChanges(s: RealSet): Change[] {
  if (isVlek(s)) return [];
  const e = s.expected.report;
  const chip = Uint8Array.from(e.chip_id.match(/../g)!.map((h) => Number.parseInt(h, 16)));
  const t = e.reported_tcb;
  const product = productOf(s);
  const url = vcekUrl(product, chip, {
    ...(t.fmcSPL !== undefined ? { fmc: t.fmcSPL } : {}),
    bootloader: t.blSPL,
    tee: t.teeSPL,
    snp: t.snpSPL,
    microcode: t.ucodeSPL,
  });
  const kds = (leaf: Uint8Array) => ({
    leaf: undefined,
    kds: {
      fetch: fakeKds({ [url]: leaf, [certChainUrl(product, 'vcek')]: s.chain }).fetch,
      cache: memoryCache(),
    },
  });
  return [
    ['leaf from KDS', kds(s.leaf)],
    ['leaf from KDS, bit at -1', kds(flipped(s.leaf, -1))],
    ['leaf from KDS, bit at 200', kds(flipped(s.leaf, 200))],
  ];
}

/** Every run of one change; each must equal the run without a cache. */
async function differential(s: RealSet, evictor: RealSet, change: Partial<Input>): Promise<void> {
  const base = baseOf(s);
  const input = { ...base, ...change };
  const none = await outcome(input);
  const honestNone = await outcome(base);
  expect(await outcome({ ...input, chainCache: createChainCache() })).toEqual(none);
  // Warm: the honest evidence verified (ARK, ASK/ASVK and leaf remembered), then the change twice,
  // then the honest evidence again.
  const warm = createChainCache();
  expect(await outcome({ ...base, chainCache: warm })).toEqual(honestNone);
  expect(await outcome({ ...input, chainCache: warm })).toEqual(none);
  expect(await outcome({ ...input, chainCache: warm })).toEqual(none);
  expect(await outcome({ ...base, chainCache: warm })).toEqual(honestNone);
  // One entry each: the honest evidence, another set's (evicts it), the change, the change again.
  const tiny = createChainCache(1, 1);
  await outcome({ ...base, chainCache: tiny });
  await outcome({ ...baseOf(evictor), chainCache: tiny });
  expect(await outcome({ ...input, chainCache: tiny })).toEqual(none);
  expect(await outcome({ ...input, chainCache: tiny })).toEqual(none);
  // The change first into a fresh cache, then the honest evidence.
  const first = createChainCache();
  await outcome({ ...input, chainCache: first });
  expect(await outcome({ ...base, chainCache: first })).toEqual(honestNone);
}

describe.skipIf(!v.present)(`chain cache: the same verdict with and without ${v.skipReason}`, () => {
  const sets = v.present ? SNP_SETS.map(loadSet) : [];
  let runs = 0;
  for (const [i, name] of SNP_SETS.entries()) {
    it(`${name}: every change of report, leaf, chain, anchors, now, CRL, KDS and backend`, async () => {
      const s = sets[i]!;
      const evictor = sets[(i + 1) % sets.length]!;
      const honest = await verifySnpEvidence(baseOf(s));
      expect(honest.violations).toEqual([]);
      const changes: Change[] = [
        ['nothing', {}],
        ...reportChanges(s),
        ...leafChanges(s, sets),
        ...chainChanges(s),
        ...contextChanges(s),
        ...kdsChanges(s),
      ];
      for (const [what, change] of changes) {
        try {
          await differential(s, evictor, change);
        } catch (e) {
          throw new Error(`${name}, ${what}: ${(e as Error).message}`);
        }
        runs++;
      }
      // A differential that never sees a failure nor a success would prove nothing.
      const verdicts = await Promise.all(changes.map(([, c]) => outcome({ ...baseOf(s), ...c })));
      const ok = verdicts.filter((o) => (o as { result?: { claims: unknown } }).result?.claims);
      expect(ok.length).toBeGreaterThan(1);
      expect(ok.length).toBeLessThan(changes.length / 2);
    }, 120_000);
  }

  it('every set ran its changes', () => {
    expect(runs).toBeGreaterThanOrEqual(SNP_SETS.length * 60);
  });

  it("the caller's leaf buffer changed after a verification: the remembered copy is unchanged", async () => {
    for (const s of sets) {
      const cache = createChainCache();
      const buffer = s.leaf.slice();
      const honest = await outcome(baseOf(s));
      expect(await outcome({ ...baseOf(s), leaf: buffer, chainCache: cache })).toEqual(honest);
      // The same buffer changed in place after the leaf was remembered: one bit mid-way, one at the end.
      buffer[buffer.length - 1]! ^= 1;
      buffer[Math.floor(buffer.length / 2)]! ^= 1;
      const mixed = { ...baseOf(s), leaf: buffer };
      expect(await outcome({ ...mixed, chainCache: cache })).toEqual(await outcome(mixed));
      expect(await outcome({ ...baseOf(s), chainCache: cache })).toEqual(honest);
    }
  });

  it('claims changed by the caller change nothing the cache holds', async () => {
    for (const s of sets) {
      const cache = createChainCache();
      const honest = await outcome(baseOf(s));
      // Its own copy of the report: the claims' report reads the bytes it was given.
      const first = await verifySnpEvidence({ ...baseOf(s), report: s.report.slice(), chainCache: cache });
      const claims = first.claims!;
      claims.leaf.notBefore.setTime(0);
      claims.leaf.notAfter.setTime(0);
      const ext = claims.leaf.extensions as unknown as Record<string, unknown>;
      for (const k of Object.keys(ext)) {
        const value = ext[k];
        if (value instanceof Uint8Array) value.fill(0);
        else if (value !== null && typeof value === 'object') {
          for (const j of Object.keys(value)) (value as Record<string, unknown>)[j] = 0;
        } else ext[k] = typeof value === 'number' ? 0 : 'x';
      }
      (claims.chain as { rootSha256: string }).rootSha256 = '00';
      claims.report.raw.fill(0);
      expect(await outcome({ ...baseOf(s), chainCache: cache })).toEqual(honest);
    }
  });

  it('concurrent verifications of honest and changed evidence, one cache: each as without it', async () => {
    for (const s of sets) {
      const cache = createChainCache();
      const inputs: Input[] = [
        baseOf(s),
        { ...baseOf(s), report: flipped(s.report, 0x2a0) },
        { ...baseOf(s), leaf: flipped(s.leaf, -1) },
        baseOf(s),
        { ...baseOf(s), now: new Date('2100-01-01T00:00:00Z') },
        baseOf(s),
      ];
      const expected = await Promise.all(inputs.map((x) => outcome(x)));
      for (let round = 0; round < 2; round++) {
        const got = await Promise.all(inputs.map((x) => outcome({ ...x, chainCache: cache })));
        expect(got).toEqual(expected);
      }
    }
  });
});

describe('chain cache and a CRL that revokes a remembered leaf (simulator ARK)', () => {
  const NOW = new Date('2026-03-01T00:00:00Z');
  const HOUR = 3_600_000;
  let chain: DevChain;
  let evidence: { report: Uint8Array; leaf: Uint8Array; chain: Uint8Array[] };
  let crl: Record<'ok' | 'ask' | 'leaf', Uint8Array>;

  beforeAll(async () => {
    chain = await createDevChain({
      product: 'Milan',
      now: NOW,
      tcb: { bootloader: 4, tee: 0, snp: 23, microcode: 213 },
      crls: [{}, { revoke: ['ask'] }, { revoke: ['leaf'] }],
    });
    const [ok, ask, leaf] = chain.crls as [Uint8Array, Uint8Array, Uint8Array];
    crl = { ok, ask, leaf };
    const platform = new SimulatedSnpPlatform(chain, { measurement: new Uint8Array(48).fill(1) });
    const got = await platform.getReport(new Uint8Array(64));
    evidence = {
      report: got.report,
      leaf: got.certificates.vcek,
      chain: [got.certificates.ask, got.certificates.ark],
    };
  }, 240_000);

  it('a revoked leaf or ASK is refused after a cached success, and the success stays the same', async () => {
    const base: Input = {
      ...evidence,
      trustAnchors: [chain.trustAnchor],
      now: new Date(NOW.getTime() + HOUR),
    };
    const cases: Partial<Input>[] = [
      {},
      { crl: crl.ok },
      { crl: crl.leaf },
      { crl: crl.ask },
      { crl: crl.leaf, now: new Date(NOW.getTime() + 8 * 24 * HOUR) },
      { crl: flipped(crl.leaf, -5) },
    ];
    const none = await Promise.all(cases.map((c) => outcome({ ...base, ...c })));
    expect(
      (none[2] as { result: { violations: { code: string }[] } }).result.violations.map((x) => x.code),
    ).toEqual(['cert_revoked']);
    for (const warmWith of [{}, { crl: crl.ok }]) {
      const cache: ChainCache = createChainCache();
      expect(await outcome({ ...base, ...warmWith, chainCache: cache })).toEqual(
        await outcome({ ...base, ...warmWith }),
      );
      for (const [i, c] of cases.entries()) {
        expect(await outcome({ ...base, ...c, chainCache: cache }), String(i)).toEqual(none[i]);
      }
    }
  });
});
