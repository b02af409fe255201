/**
 * The verified-upper-chain cache (src/verify/chain-cache.ts) on the real SEV-SNP sets and AMD's real
 * chains: a hit gives exactly the verdict a full verification gives, it is keyed by the exact bytes
 * (DER or PEM spelling of the same certificates hit the same entry; one flipped bit misses), only
 * upper chains that verified are stored, and after a cached success every check that involves the
 * leaf, the report, the anchors or the dates still runs: tampering with any of them is still caught.
 * Leaves: the same leaf bytes again skip the leaf's parse and, under the same cached upper chain,
 * its RSA signature check (counted at the signature backend), and nothing else; only a leaf whose
 * verification produced claims is noted.
 */
import { describe, expect, it } from 'vitest';
import { decodeCertificates } from '../../src/der/pem.js';
import { type ParsedCertificate, parseCertificate } from '../../src/verify/certificates.js';
import {
  type ChainCache,
  chainCacheKey,
  createChainCache,
  type VerifiedUpperChain,
} from '../../src/verify/chain-cache.js';
import { type SignatureBackend, webCryptoSignatures } from '../../src/verify/signature-backend.js';
import { verifySnpEvidence } from '../../src/verify/verify-snp.js';
import { SNP_SETS } from '../support/vectors.js';
import { AMD_ANCHORS, anchorsFor, codes, loadSet, v } from './support.js';

/** A real cache that also counts what it was asked (to see hits and stores). */
function countingCache(inner: ChainCache = createChainCache()) {
  const seen = { gets: 0, hits: 0, sets: 0, sourceHits: 0, leafHits: 0, leafNotes: 0 };
  const cache: ChainCache = {
    get(key) {
      seen.gets++;
      const hit = inner.get(key);
      if (hit) seen.hits++;
      return hit;
    },
    set(key, entry) {
      seen.sets++;
      inner.set(key, entry);
    },
    get size() {
      return inner.size;
    },
    keyOfSource(parts) {
      const key = inner.keyOfSource(parts);
      if (key !== undefined) seen.sourceHits++;
      return key;
    },
    noteSource(parts, key) {
      inner.noteSource(parts, key);
    },
    leafOfSource(bytes) {
      const hit = inner.leafOfSource(bytes);
      if (hit !== undefined) seen.leafHits++;
      return hit;
    },
    noteLeaf(bytes, leaf) {
      seen.leafNotes++;
      inner.noteLeaf(bytes, leaf);
    },
  };
  return { cache, seen };
}

/** WebCrypto signatures that count the RSA-PSS checks made (ARK, ASK/ASVK, VCEK/VLEK). */
function countingSignatures(): { signatures: SignatureBackend; rsa: () => number } {
  let n = 0;
  const signatures: SignatureBackend = {
    ...webCryptoSignatures,
    verifyRsaPss(...args) {
      n++;
      return webCryptoSignatures.verifyRsaPss(...args);
    },
  };
  return { signatures, rsa: () => n };
}

/** `pem` with the last base64 character of its first block's body changed: another signature. */
function flipPemSignature(pem: Uint8Array): Uint8Array {
  const text = new TextDecoder().decode(pem);
  const end = text.indexOf('-----END CERTIFICATE-----');
  let at = end - 1;
  while (/[\s=]/.test(text[at]!)) at--;
  const out = pem.slice();
  out[at] = text[at] === 'A' ? 0x51 /* Q */ : 0x41 /* A */; // both keep the unused low bits zero
  return out;
}

function flipLastSignatureBit(der: Uint8Array): Uint8Array {
  const out = der.slice();
  out[out.length - 1]! ^= 1; // the last byte of an X.509 certificate is the signature's
  return out;
}

describe('createChainCache', () => {
  it('is bounded: the least recently used entry goes first', async () => {
    const cache = createChainCache(2);
    const entry = {} as VerifiedUpperChain;
    cache.set('a', entry);
    cache.set('b', entry);
    expect(cache.get('a')).toBe(entry); // a is now the most recent
    cache.set('c', entry);
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(entry);
    expect(cache.get('c')).toBe(entry);
    expect(() => createChainCache(0)).toThrow(RangeError);
  });
});

describe.skipIf(!v.present)(`verification with a chain cache ${v.skipReason}`, () => {
  for (const name of SNP_SETS) {
    it(`${name}: a hit gives the very verdict of a full verification`, async () => {
      const s = loadSet(name);
      const input = {
        report: s.report,
        leaf: s.leaf,
        chain: [s.chain],
        trustAnchors: AMD_ANCHORS,
        now: s.at,
      };
      const { cache, seen } = countingCache();
      const plain = await verifySnpEvidence(input);
      const first = await verifySnpEvidence({ ...input, chainCache: cache });
      const second = await verifySnpEvidence({ ...input, chainCache: cache });
      expect(plain.violations).toEqual([]);
      expect(first).toEqual(plain);
      expect(second).toEqual(plain);
      expect(seen.sets).toBe(1);
      expect(seen.hits).toBeGreaterThanOrEqual(1);
      expect(cache.size).toBe(1);
    });
  }

  it('is keyed by the SHA-256 of the exact DER: PEM or DER spelling hit the same entry', async () => {
    const s = loadSet('milan-v2-virtee');
    const [ask, ark] = decodeCertificates(s.chain);
    const { cache, seen } = countingCache();
    const base = {
      report: s.report,
      leaf: s.leaf,
      trustAnchors: anchorsFor('Milan'),
      now: s.at,
      chainCache: cache,
    };
    expect((await verifySnpEvidence({ ...base, chain: [s.chain] })).violations).toEqual([]);
    expect((await verifySnpEvidence({ ...base, chain: [ask!, ark!] })).violations).toEqual([]);
    expect(seen.sets).toBe(1);
    const [a, r] = await Promise.all([parseCertificate(ask!), parseCertificate(ark!)]);
    expect(cache.get(chainCacheKey(a.sha256, r.sha256))).toBeDefined();
  });

  it('after a cached success, a tampered ASK or ARK with the same leaf is still rejected and not stored', async () => {
    const s = loadSet('milan-v2-virtee');
    const [ask, ark] = decodeCertificates(s.chain);
    const { cache, seen } = countingCache();
    const base = { report: s.report, leaf: s.leaf, trustAnchors: AMD_ANCHORS, now: s.at, chainCache: cache };
    expect((await verifySnpEvidence({ ...base, chain: [ask!, ark!] })).violations).toEqual([]);
    expect(seen.sets).toBe(1);

    const badAsk = await verifySnpEvidence({ ...base, chain: [flipLastSignatureBit(ask!), ark!] });
    expect(badAsk.claims).toBeNull();
    expect(codes(badAsk.violations)).toContain('cert_chain_invalid');
    // A flipped ARK is another root: not an anchor any more.
    const badArk = await verifySnpEvidence({ ...base, chain: [ask!, flipLastSignatureBit(ark!)] });
    expect(badArk.claims).toBeNull();
    expect(codes(badArk.violations)).toContain('root_untrusted');
    expect(seen.sets).toBe(1); // failures are never stored
    expect(cache.size).toBe(1);
    // …and the good chain still hits.
    const hitsBefore = seen.hits;
    expect((await verifySnpEvidence({ ...base, chain: [ask!, ark!] })).violations).toEqual([]);
    expect(seen.hits).toBeGreaterThan(hitsBefore);
  });

  it('after a cached success, a tampered leaf or report under the cached chain is still rejected', async () => {
    const s = loadSet('milan-v2-virtee');
    const { cache, seen } = countingCache();
    const base = { chain: [s.chain], trustAnchors: AMD_ANCHORS, now: s.at, chainCache: cache };
    expect((await verifySnpEvidence({ ...base, report: s.report, leaf: s.leaf })).violations).toEqual([]);
    const hitsBefore = seen.hits;

    // Other leaf bytes are not the noted leaf: their VCEK → ASK signature is checked.
    const badLeaf = await verifySnpEvidence({
      ...base,
      report: s.report,
      leaf: flipLastSignatureBit(s.leaf),
    });
    expect(badLeaf.claims).toBeNull();
    expect(codes(badLeaf.violations)).toContain('cert_chain_invalid');
    expect(seen.hits).toBeGreaterThan(hitsBefore); // it was a hit, and the leaf still failed

    // Nor is the report's signature.
    const report = s.report.slice();
    report[0x50]! ^= 1; // REPORT_DATA, inside the signed region
    const badReport = await verifySnpEvidence({ ...base, report, leaf: s.leaf });
    expect(badReport.claims).toBeNull();
    expect(codes(badReport.violations)).toContain('report_signature_invalid');
  });

  it('the same cert_chain bytes again are found by their bytes, not decoded or hashed again', async () => {
    const s = loadSet('milan-v2-virtee');
    const { cache, seen } = countingCache();
    const input = { report: s.report, leaf: s.leaf, chain: [s.chain], trustAnchors: AMD_ANCHORS, now: s.at };
    const plain = await verifySnpEvidence(input);
    expect((await verifySnpEvidence({ ...input, chainCache: cache })).violations).toEqual([]);
    expect(seen.sourceHits).toBe(0);
    const getsBefore = seen.gets;
    const again = await verifySnpEvidence({ ...input, chain: [s.chain.slice()], chainCache: cache });
    expect(again).toEqual(plain);
    expect(seen.sourceHits).toBe(1);
    // One get for the source's key and one in verifyChain: the DER-keyed lookup did not run.
    expect(seen.gets - getsBefore).toBe(2);
  });

  it('a source whose entry was evicted is verified in full again, not served', async () => {
    const s = loadSet('milan-v2-virtee');
    const { cache, seen } = countingCache(createChainCache(1));
    const input = { report: s.report, leaf: s.leaf, chain: [s.chain], trustAnchors: AMD_ANCHORS, now: s.at };
    const plain = await verifySnpEvidence(input);
    expect((await verifySnpEvidence({ ...input, chainCache: cache })).violations).toEqual([]);
    const key = cache.keyOfSource([s.chain])!;
    const entry = cache.get(key)!;
    cache.set('evicts-the-only-entry', entry);
    expect(cache.get(key)).toBeUndefined();
    const setsBefore = seen.sets;
    const again = await verifySnpEvidence({ ...input, chainCache: cache });
    expect(again).toEqual(plain);
    expect(seen.sets).toBe(setsBefore + 1); // stored again after a full verification
  });

  it('a forged ASK in the same PEM spelling is not served by the source index', async () => {
    const s = loadSet('milan-v2-virtee');
    const { cache, seen } = countingCache();
    const base = { report: s.report, leaf: s.leaf, trustAnchors: AMD_ANCHORS, now: s.at, chainCache: cache };
    expect((await verifySnpEvidence({ ...base, chain: [s.chain] })).violations).toEqual([]);
    const forged = flipPemSignature(s.chain);
    expect(forged).not.toEqual(s.chain);
    const bad = await verifySnpEvidence({ ...base, chain: [forged] });
    expect(seen.sourceHits).toBe(0);
    expect(bad.claims).toBeNull();
    expect(codes(bad.violations)).toContain('cert_chain_invalid');
  });

  it("the source index keeps its own copy: the caller's buffer changed in place is not a hit", async () => {
    const s = loadSet('milan-v2-virtee');
    const { cache, seen } = countingCache();
    const chain = s.chain.slice();
    const base = { report: s.report, leaf: s.leaf, trustAnchors: AMD_ANCHORS, now: s.at, chainCache: cache };
    expect((await verifySnpEvidence({ ...base, chain: [chain] })).violations).toEqual([]);
    chain.set(flipPemSignature(chain)); // the same array now holds a forged ASK
    const bad = await verifySnpEvidence({ ...base, chain: [chain] });
    expect(seen.sourceHits).toBe(0);
    expect(bad.claims).toBeNull();
    expect(codes(bad.violations)).toContain('cert_chain_invalid');
  });

  it('after a cached success, the anchors and the dates are checked again', async () => {
    const s = loadSet('milan-v2-virtee');
    const { cache, seen } = countingCache();
    const input = { report: s.report, leaf: s.leaf, chain: [s.chain], now: s.at, chainCache: cache };
    expect((await verifySnpEvidence({ ...input, trustAnchors: AMD_ANCHORS })).violations).toEqual([]);
    const hitsBefore = seen.hits;

    const sourceHitsBefore = seen.sourceHits;
    const otherAnchors = await verifySnpEvidence({ ...input, trustAnchors: anchorsFor('Genoa') });
    expect(otherAnchors.claims).toBeNull();
    expect(codes(otherAnchors.violations)).toContain('root_untrusted');
    // The same bytes were found by the source index: the anchor is checked after such a hit too.
    expect(seen.sourceHits).toBe(sourceHitsBefore + 1);
    expect(cache.keyOfSource([s.chain])).toBeDefined();

    const [ask] = decodeCertificates(s.chain);
    const askNotAfter = (await parseCertificate(ask!)).notAfter;
    const late = await verifySnpEvidence({
      ...input,
      trustAnchors: AMD_ANCHORS,
      now: new Date(askNotAfter.getTime() + 1000),
    });
    expect(late.claims).toBeNull();
    expect(codes(late.violations)).toContain('cert_expired');
    expect(seen.hits).toBeGreaterThanOrEqual(hitsBefore + 2);
  });
});

describe('createChainCache: leaves', () => {
  it('finds a leaf by its exact bytes, keeps its own copy and is bounded', () => {
    const cache = createChainCache(16, 2);
    const entry = { cert: {} as ParsedCertificate, upperKey: 'k' };
    const a = new Uint8Array([1, 2, 3]);
    cache.noteLeaf(a, entry);
    expect(cache.leafOfSource(new Uint8Array([1, 2, 3]))?.upperKey).toBe('k');
    expect(cache.leafOfSource(new Uint8Array([1, 2, 4]))).toBeUndefined();
    expect(cache.leafOfSource(new Uint8Array([1, 2]))).toBeUndefined();
    a[0] = 9; // the caller's buffer changed in place: the entry is still the noted bytes
    expect(cache.leafOfSource(a)).toBeUndefined();
    expect(cache.leafOfSource(new Uint8Array([1, 2, 3]))).toBeDefined();
    cache.noteLeaf(new Uint8Array([4]), entry);
    cache.noteLeaf(new Uint8Array([5]), entry); // evicts the least recent: [1, 2, 3]
    expect(cache.leafOfSource(new Uint8Array([1, 2, 3]))).toBeUndefined();
    expect(cache.leafOfSource(new Uint8Array([4]))).toBeDefined();
    expect(() => createChainCache(16, 0)).toThrow(RangeError);
  });
});

describe.skipIf(!v.present)(`verification with a leaf noted in the chain cache ${v.skipReason}`, () => {
  const milan = () => {
    const s = loadSet('milan-v2-virtee');
    return {
      s,
      input: { report: s.report, leaf: s.leaf, chain: [s.chain], trustAnchors: AMD_ANCHORS, now: s.at },
    };
  };

  it('the same leaf again: the very verdict, with no RSA check and no parse of it', async () => {
    const { input } = milan();
    const { cache, seen } = countingCache();
    const { signatures, rsa } = countingSignatures();
    const plain = await verifySnpEvidence(input);
    expect(await verifySnpEvidence({ ...input, chainCache: cache, signatures })).toEqual(plain);
    expect(rsa()).toBe(3); // ARK, ASK, VCEK
    expect(seen.leafNotes).toBe(1);
    expect(
      await verifySnpEvidence({ ...input, leaf: input.leaf.slice(), chainCache: cache, signatures }),
    ).toEqual(plain);
    expect(rsa()).toBe(3);
    expect(seen.leafHits).toBe(1);
    expect(seen.leafNotes).toBe(1); // a hit is not noted again
  });

  it('a leaf whose verification failed is not noted: the next one checks its signature', async () => {
    const { input } = milan();
    const { cache, seen } = countingCache();
    const { signatures, rsa } = countingSignatures();
    const report = input.report.slice();
    report[0x50]! ^= 1; // REPORT_DATA: the report's signature fails, the chain and leaf hold
    const bad = await verifySnpEvidence({ ...input, report, chainCache: cache, signatures });
    expect(codes(bad.violations)).toContain('report_signature_invalid');
    expect(seen.leafNotes).toBe(0);
    const before = rsa();
    expect((await verifySnpEvidence({ ...input, chainCache: cache, signatures })).violations).toEqual([]);
    expect(rsa() - before).toBe(1); // the VCEK's, under the cached ASK
    expect(seen.leafNotes).toBe(1);
  });

  it('after a leaf hit, the report signature, the dates and the anchors are checked again', async () => {
    const { s, input } = milan();
    const { cache, seen } = countingCache();
    expect((await verifySnpEvidence({ ...input, chainCache: cache })).violations).toEqual([]);

    const report = s.report.slice();
    report[0x50]! ^= 1;
    const badReport = await verifySnpEvidence({ ...input, report, chainCache: cache });
    expect(codes(badReport.violations)).toEqual(['report_signature_invalid']);

    const vcekNotAfter = (await parseCertificate(s.leaf)).notAfter;
    const late = await verifySnpEvidence({
      ...input,
      now: new Date(vcekNotAfter.getTime() + 1000),
      chainCache: cache,
    });
    expect(late.violations.some((x) => x.code === 'cert_expired' && x.field === 'chain.leaf')).toBe(true);

    const otherAnchors = await verifySnpEvidence({
      ...input,
      trustAnchors: anchorsFor('Genoa'),
      chainCache: cache,
    });
    expect(codes(otherAnchors.violations)).toContain('root_untrusted');
    expect(seen.leafHits).toBe(3);
  });

  it('a noted leaf under an upper chain that is not cached has its signature checked', async () => {
    const { input } = milan();
    const { cache } = countingCache(createChainCache(1));
    const { signatures, rsa } = countingSignatures();
    expect((await verifySnpEvidence({ ...input, chainCache: cache, signatures })).violations).toEqual([]);
    const key = cache.keyOfSource(input.chain)!;
    cache.set('evicts-the-upper-chain', cache.get(key)!);
    const before = rsa();
    expect((await verifySnpEvidence({ ...input, chainCache: cache, signatures })).violations).toEqual([]);
    expect(rsa() - before).toBe(3); // ARK, ASK and, with them, the VCEK
  });

  it('a noted leaf under another cached upper chain has its signature checked under that one', async () => {
    const { s, input } = milan();
    const genoa = loadSet('genoa-v3-azure-trustee');
    const cache = createChainCache();
    expect((await verifySnpEvidence({ ...input, chainCache: cache })).violations).toEqual([]);
    const genoaInput = {
      report: genoa.report,
      leaf: genoa.leaf,
      chain: [genoa.chain],
      trustAnchors: AMD_ANCHORS,
      now: genoa.at,
    };
    expect((await verifySnpEvidence({ ...genoaInput, chainCache: cache })).violations).toEqual([]);
    // The Milan VCEK (noted under Milan's ASK) presented with Genoa's cached ARK → ASK.
    const mixed = await verifySnpEvidence({ ...genoaInput, leaf: s.leaf, now: s.at, chainCache: cache });
    expect(mixed.claims).toBeNull();
    expect(mixed.violations.map((x) => x.message)).toContain(
      'VCEK/VLEK signature does not verify under the ASK/ASVK (RSASSA-PSS SHA-384)',
    );
  });

  it("the claims' dates are copies: changing them does not change the noted leaf", async () => {
    const { input } = milan();
    const cache = createChainCache();
    const plain = await verifySnpEvidence(input);
    const first = await verifySnpEvidence({ ...input, chainCache: cache });
    first.claims!.leaf.notAfter.setTime(0);
    first.claims!.leaf.notBefore.setTime(0);
    expect(await verifySnpEvidence({ ...input, chainCache: cache })).toEqual(plain);
  });
});
