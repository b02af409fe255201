/**
 * The strict manifest parser: every error with its RFC 6901 path, unknown members at every level,
 * exact hex, no duplicates, trust-anchor and key-policy rules.
 */
import { describe, expect, it } from 'vitest';
import example from '../../manifests/example.json' with { type: 'json' };
import testVectors from '../../manifests/test-vectors.json' with { type: 'json' };
import { isSealgateError } from '../../src/errors.js';
import type { Manifest, ManifestIssue } from '../../src/policy/manifest-types.js';
import { parseManifest } from '../../src/policy/parse-manifest.js';
import {
  AMD_ARK_SHA256,
  findSnpTrustAnchor,
  manifestTrustsSimulator,
} from '../../src/policy/trust-anchors.js';

// biome-ignore lint/suspicious/noExplicitAny: tests build deliberately wrong documents.
type Doc = any;
const SNP = '/roles/worker/snp';
const M48 = 'ab'.repeat(48);

function edit(f: (m: Doc) => void): Doc {
  const m = structuredClone(example) as Doc;
  f(m);
  return m;
}

function errorsOf(input: unknown): ManifestIssue[] {
  try {
    parseManifest(input);
  } catch (e) {
    expect(isSealgateError(e, 'invalid_manifest')).toBe(true);
    const errors = (e as { detail: { errors: ManifestIssue[] } }).detail.errors;
    // The message lists them all too, for logs.
    for (const x of errors) expect((e as Error).message).toContain(`${x.path || '/'}: ${x.message}`);
    return errors;
  }
  return expect.unreachable('parseManifest accepted the input');
}

describe('parseManifest: valid documents', () => {
  it.each([
    ['example.json', example],
    ['test-vectors.json', testVectors],
  ])('%s parses to a deep-frozen copy with exactly its members', (_name, doc) => {
    const m = parseManifest(doc);
    expect(m).toEqual(doc);
    expect(m).not.toBe(doc);
    expect(Object.isFrozen(m.roles.worker!.snp!.measurements)).toBe(true);
    expect(() => {
      (m.roles.worker!.snp!.measurements as string[]).push(M48);
    }).toThrow(TypeError);
    expect(parseManifest(JSON.stringify(doc))).toEqual(m);
  });

  it('trusts AMD roots by fingerprint and none of them is simulated', () => {
    const m = parseManifest(example);
    expect(manifestTrustsSimulator(m)).toBe(false);
    expect(findSnpTrustAnchor(m, AMD_ARK_SHA256.Genoa)?.product).toBe('Genoa');
    expect(findSnpTrustAnchor(m, 'ee'.repeat(32))).toBeUndefined();
  });

  it('accepts a development root only when it says "simulated": true', () => {
    const doc = edit((m) => {
      m.trustAnchors.snp.push({ sha256: 'ee'.repeat(32), product: 'Milan', simulated: true, note: 'dev' });
    });
    const m: Manifest = parseManifest(doc);
    expect(manifestTrustsSimulator(m)).toBe(true);
    expect(findSnpTrustAnchor(m, 'ee'.repeat(32))).toEqual({
      sha256: 'ee'.repeat(32),
      product: 'Milan',
      simulated: true,
      note: 'dev',
    });
  });

  it('accepts the smallest role: measurements and one minimum TCB', () => {
    const doc = edit((m) => {
      m.roles.worker = {
        snp: { measurements: [M48], minimumTcb: { Milan: m.roles.worker.snp.minimumTcb.Milan } },
      };
    });
    expect(parseManifest(doc).roles.worker).toEqual(doc.roles.worker);
  });
});

describe('parseManifest: all errors, each with its path', () => {
  it('reports every error of a document at once', () => {
    const doc = edit((m) => {
      m.version = 2;
      m.extra = true;
      m.roles.worker.snp.measurements[0] = 'AB'.repeat(48);
      m.roles.worker.snp.hostData = 'ab'.repeat(31);
      m.roles.worker.snp.policy.allowDebug = 'no';
      m.roles['attestation-service'].snp.vmpl = 4;
      m.keyPolicy.overlapSeconds = 3600;
    });
    expect(errorsOf(doc)).toEqual([
      { path: '/extra', message: 'unknown field' },
      { path: '/version', message: 'expected 1' },
      { path: '/roles/attestation-service/snp/vmpl', message: 'expected an integer in [0, 3]' },
      { path: `${SNP}/measurements/0`, message: 'expected lower-case hex (0-9, a-f) only' },
      { path: `${SNP}/policy/allowDebug`, message: 'expected true or false' },
      { path: `${SNP}/hostData`, message: 'expected 64 hex characters (32 bytes), got 62' },
      { path: '/keyPolicy/overlapSeconds', message: 'must be less than rotationIntervalSeconds' },
    ]);
  });

  it.each([
    ['the document', (m: Doc) => (m.comment = 'x'), '/comment'],
    ['trustAnchors', (m: Doc) => (m.trustAnchors.sgx = []), '/trustAnchors/sgx'],
    ['a trust anchor', (m: Doc) => (m.trustAnchors.snp[1].sha384 = 'x'), '/trustAnchors/snp/1/sha384'],
    ['roles', (m: Doc) => (m.roles['tdx-worker'] = m.roles.worker), '/roles/tdx-worker'],
    ['a role (nvidia not yet defined)', (m: Doc) => (m.roles.worker.nvidia = {}), '/roles/worker/nvidia'],
    ['snp reference values', (m: Doc) => (m.roles.worker.snp.reportData = '00'), `${SNP}/reportData`],
    [
      'the guest policy',
      (m: Doc) => (m.roles.worker.snp.policy.allowIommu = true),
      `${SNP}/policy/allowIommu`,
    ],
    ['minAbi', (m: Doc) => (m.roles.worker.snp.policy.minAbi.build = 1), `${SNP}/policy/minAbi/build`],
    [
      'minimumTcb (unknown product)',
      (m: Doc) => (m.roles.worker.snp.minimumTcb.Bergamo = {}),
      `${SNP}/minimumTcb/Bergamo`,
    ],
    [
      'a Milan TCB (fmc is Turin only)',
      (m: Doc) => (m.roles.worker.snp.minimumTcb.Milan.fmc = 0),
      `${SNP}/minimumTcb/Milan/fmc`,
    ],
    [
      'a Turin TCB',
      (m: Doc) => (m.roles.worker.snp.minimumTcb.Turin.spl4 = 0),
      `${SNP}/minimumTcb/Turin/spl4`,
    ],
    ['keyPolicy', (m: Doc) => (m.keyPolicy.algorithm = 'x'), '/keyPolicy/algorithm'],
  ])('rejects an unknown member of %s', (_where, f, path) => {
    expect(errorsOf(edit(f))).toEqual([{ path, message: 'unknown field' }]);
  });

  it.each([
    ['version', (m: Doc) => delete m.version, '/version'],
    ['name', (m: Doc) => delete m.name, '/name'],
    ['trustAnchors', (m: Doc) => delete m.trustAnchors, '/trustAnchors'],
    ['measurements', (m: Doc) => delete m.roles.worker.snp.measurements, `${SNP}/measurements`],
    ['minimumTcb', (m: Doc) => delete m.roles.worker.snp.minimumTcb, `${SNP}/minimumTcb`],
    ['Turin fmc', (m: Doc) => delete m.roles.worker.snp.minimumTcb.Turin.fmc, `${SNP}/minimumTcb/Turin/fmc`],
    [
      'an SPL',
      (m: Doc) => delete m.roles.worker.snp.minimumTcb.Genoa.microcode,
      `${SNP}/minimumTcb/Genoa/microcode`,
    ],
    ['minAbi.minor', (m: Doc) => delete m.roles.worker.snp.policy.minAbi.minor, `${SNP}/policy/minAbi/minor`],
    ['an anchor product', (m: Doc) => delete m.trustAnchors.snp[0].product, '/trustAnchors/snp/0/product'],
    ['keyPolicy', (m: Doc) => delete m.keyPolicy, '/keyPolicy'],
    ['lifetimeSeconds', (m: Doc) => delete m.keyPolicy.lifetimeSeconds, '/keyPolicy/lifetimeSeconds'],
  ])('reports a missing %s', (_what, f, path) => {
    expect(errorsOf(edit(f))).toEqual([{ path, message: 'required field missing' }]);
  });

  it('refuses a role that names neither snp nor tdx', () => {
    expect(errorsOf(edit((m: Doc) => delete m.roles.worker.snp))).toEqual([
      { path: '/roles/worker', message: 'expected "snp", "tdx" or both' },
    ]);
  });

  it('accepts a manifest that trusts one role only, and refuses one that trusts none', () => {
    const one = parseManifest(edit((m: Doc) => delete m.roles['attestation-service']));
    expect(Object.keys(one.roles)).toEqual(['worker']);
    expect(
      errorsOf(
        edit((m: Doc) => {
          delete m.roles['attestation-service'];
          delete m.roles.worker;
        }),
      ),
    ).toEqual([{ path: '/roles', message: 'at least one role is required (attestation-service, worker)' }]);
  });

  it.each([
    ['upper-case', `${SNP}/measurements/0`, 'AB'.repeat(48), 'expected lower-case hex (0-9, a-f) only'],
    ['with 0x', `${SNP}/measurements/0`, `0x${'ab'.repeat(47)}`, 'expected lower-case hex (0-9, a-f) only'],
    [
      'one byte short',
      `${SNP}/measurements/0`,
      'ab'.repeat(47),
      'expected 96 hex characters (48 bytes), got 94',
    ],
    [
      'odd length',
      `${SNP}/measurements/0`,
      `${'ab'.repeat(48)}a`,
      'expected 96 hex characters (48 bytes), got 97',
    ],
    ['a number', `${SNP}/measurements/0`, 12, 'expected 96 lower-case hex characters (48 bytes)'],
    ['hostData long', `${SNP}/hostData`, 'ab'.repeat(33), 'expected 64 hex characters (32 bytes), got 66'],
    ['familyId short', `${SNP}/familyId`, 'ab'.repeat(15), 'expected 32 hex characters (16 bytes), got 30'],
    ['imageId 32 bytes', `${SNP}/imageId`, 'ab'.repeat(32), 'expected 32 hex characters (16 bytes), got 64'],
    [
      'chipId of Turin length',
      `${SNP}/chipIds/0`,
      'ab'.repeat(8),
      'expected 128 hex characters (64 bytes), got 16',
    ],
    [
      'idKeyDigest 32 bytes',
      `${SNP}/idKeyDigests/0`,
      'ab'.repeat(32),
      'expected 96 hex characters (48 bytes), got 64',
    ],
    [
      'authorKeyDigest zero',
      `${SNP}/authorKeyDigests/0`,
      '00'.repeat(48),
      'all zero: the report uses zero for "absent", so it cannot be an allowed value',
    ],
    [
      'anchor sha256 as SHA-384',
      '/trustAnchors/snp/0/sha256',
      'ab'.repeat(48),
      'expected 64 hex characters (32 bytes), got 96',
    ],
  ])('checks hex: %s', (_what, path, value, message) => {
    const doc = edit((m) => {
      const parts = path.split('/').slice(1);
      let o = m;
      for (const p of parts.slice(0, -1)) o = o[p] ??= [];
      o[parts.at(-1)!] = value;
    });
    expect(errorsOf(doc)).toEqual([{ path, message }]);
  });

  it('rejects duplicates and empty lists, naming the first occurrence', () => {
    const doc = edit((m) => {
      m.roles.worker.snp.measurements = [M48, 'cd'.repeat(48), M48];
      m.roles.worker.snp.signingKeys = ['vcek', 'vlek', 'vcek'];
      m.roles.worker.snp.chipIds = [];
      m.trustAnchors.snp.push({ ...m.trustAnchors.snp[0] });
    });
    expect(errorsOf(doc)).toEqual([
      { path: '/trustAnchors/snp/3', message: 'duplicate of /trustAnchors/snp/0' },
      { path: `${SNP}/measurements/2`, message: `duplicate of ${SNP}/measurements/0` },
      { path: `${SNP}/signingKeys/2`, message: `duplicate of ${SNP}/signingKeys/0` },
      { path: `${SNP}/chipIds`, message: 'expected at least one item' },
    ]);
  });

  it('checks ranges and types of numbers, enums and text', () => {
    const doc = edit((m) => {
      m.name = '';
      m.roles.worker.snp.vmpl = 1.5;
      m.roles.worker.snp.minimumGuestSvn = -1;
      m.roles.worker.snp.minimumTcb.Milan.microcode = 256;
      m.roles.worker.snp.signingKeys = ['VCEK'];
      m.roles.worker.snp.measurements = [];
      m.roles.worker.snp.minimumTcb.Genoa = 'latest';
      m.roles.worker.note = 'line\nbreak';
    });
    expect(errorsOf(doc)).toEqual([
      { path: '/name', message: 'expected a string of 1 to 128 characters without control characters' },
      { path: `${SNP}/measurements`, message: 'expected at least one item' },
      { path: `${SNP}/minimumTcb/Milan/microcode`, message: 'expected an integer in [0, 255]' },
      { path: `${SNP}/minimumTcb/Genoa`, message: 'expected an object' },
      { path: `${SNP}/signingKeys/0`, message: 'expected one of "vcek", "vlek"' },
      { path: `${SNP}/vmpl`, message: 'expected an integer in [0, 3]' },
      { path: `${SNP}/minimumGuestSvn`, message: 'expected an integer in [0, 4294967295]' },
      {
        path: '/roles/worker/note',
        message: 'expected a string of 1 to 512 characters without control characters',
      },
    ]);
  });

  it('requires minimumLaunchTcb products to be accepted products, and at least one product', () => {
    const doc = edit((m) => {
      m.roles.worker.snp.minimumTcb = { Milan: m.roles.worker.snp.minimumTcb.Milan };
      m.roles.worker.snp.minimumLaunchTcb = { Genoa: { bootloader: 1, tee: 0, snp: 1, microcode: 1 } };
      m.roles['attestation-service'].snp.minimumTcb = {};
    });
    expect(errorsOf(doc)).toEqual([
      { path: '/roles/attestation-service/snp/minimumTcb', message: 'expected at least one product' },
      {
        path: `${SNP}/minimumLaunchTcb/Genoa`,
        message: 'product has no minimumTcb, so the role does not accept it',
      },
    ]);
  });

  it('rejects something that is not an object, or not strict JSON', () => {
    for (const v of [null, [], 1, true])
      expect(errorsOf(v)).toEqual([{ path: '', message: 'expected an object' }]);
    expect(errorsOf('[]')).toEqual([{ path: '', message: 'expected an object' }]);
    expect(errorsOf('{"version":1,"version":1}')).toEqual([
      { path: '/version', message: expect.stringContaining('duplicate member name') },
    ]);
    expect(errorsOf(new Uint8Array([0xc3]))).toEqual([
      { path: '', message: 'manifest bytes are not valid UTF-8' },
    ]);
  });
});

describe('parseManifest: trust anchors', () => {
  it.each([
    [
      'an unknown root without "simulated"',
      (m: Doc) => m.trustAnchors.snp.push({ sha256: 'ee'.repeat(32), product: 'Milan' }),
      '/trustAnchors/snp/3/sha256',
      'not an AMD ARK fingerprint; a development root needs "simulated": true',
    ],
    [
      '"simulated": false',
      (m: Doc) => m.trustAnchors.snp.push({ sha256: 'ee'.repeat(32), product: 'Milan', simulated: false }),
      '/trustAnchors/snp/3/simulated',
      'expected true (omit the field for AMD roots)',
    ],
    [
      'an AMD root marked simulated',
      (m: Doc) => (m.trustAnchors.snp[0].simulated = true),
      '/trustAnchors/snp/0/simulated',
      "this is AMD's Milan ARK, not a simulated root",
    ],
    [
      'an AMD root under the wrong product',
      (m: Doc) => (m.trustAnchors.snp[2].product = 'Genoa'),
      '/trustAnchors/snp/2/product',
      "this fingerprint is AMD's Turin ARK",
    ],
    [
      'a product with no anchor',
      (m: Doc) => m.trustAnchors.snp.splice(2, 1),
      '/roles/attestation-service/snp/minimumTcb/Turin',
      'no trust anchor for Turin in /trustAnchors/snp',
    ],
    ['no anchors', (m: Doc) => (m.trustAnchors.snp = []), '/trustAnchors/snp', 'expected at least one item'],
  ])('rejects %s', (_what, f, path, message) => {
    expect(errorsOf(edit(f))).toContainEqual({ path, message });
  });
});

describe('parseManifest: key policy', () => {
  const kp = (
    rotationIntervalSeconds: unknown,
    overlapSeconds: unknown,
    lifetimeSeconds: unknown,
  ): ManifestIssue[] =>
    errorsOf(edit((m) => (m.keyPolicy = { rotationIntervalSeconds, overlapSeconds, lifetimeSeconds })));

  it('accepts overlap < interval and interval + overlap ≤ lifetime, at the bounds', () => {
    const doc = edit(
      (m) => (m.keyPolicy = { rotationIntervalSeconds: 60, overlapSeconds: 59, lifetimeSeconds: 119 }),
    );
    expect(parseManifest(doc).keyPolicy).toEqual(doc.keyPolicy);
  });

  it('rejects an overlap not shorter than the interval', () => {
    expect(kp(600, 600, 3600)).toEqual([
      { path: '/keyPolicy/overlapSeconds', message: 'must be less than rotationIntervalSeconds' },
    ]);
  });

  it('rejects a lifetime that ends before the overlap does', () => {
    expect(kp(3600, 300, 3899)).toEqual([
      {
        path: '/keyPolicy/lifetimeSeconds',
        message: 'must be at least rotationIntervalSeconds + overlapSeconds (3900)',
      },
    ]);
  });

  it('rejects values outside the bounds or not integers', () => {
    expect(kp(59, 0, 7776001)).toEqual([
      { path: '/keyPolicy/rotationIntervalSeconds', message: 'expected an integer in [60, 2592000]' },
      { path: '/keyPolicy/overlapSeconds', message: 'expected an integer in [1, 2592000]' },
      { path: '/keyPolicy/lifetimeSeconds', message: 'expected an integer in [60, 7776000]' },
    ]);
    expect(kp(3600.5, '300', 14400)).toEqual([
      { path: '/keyPolicy/rotationIntervalSeconds', message: 'expected an integer in [60, 2592000]' },
      { path: '/keyPolicy/overlapSeconds', message: 'expected an integer in [1, 2592000]' },
    ]);
  });
});
