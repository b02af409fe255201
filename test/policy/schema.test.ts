/**
 * manifests/manifest.schema.json and the parser must not drift apart:
 * - structurally: each object `$def` lists exactly the members MANIFEST_FIELDS gives the parser
 *   (same required ones, additionalProperties false), and the numeric bounds equal LIMITS;
 * - behaviourally: the example manifests pass both; systematically broken documents (a wrong type
 *   at every leaf, an unknown member in every object, a missing required member everywhere) fail
 *   both; the rules only the parser can state are listed and shown to pass the schema.
 */
import { describe, expect, it } from 'vitest';
import example from '../../manifests/example.json' with { type: 'json' };
import schema from '../../manifests/manifest.schema.json' with { type: 'json' };
import testVectors from '../../manifests/test-vectors.json' with { type: 'json' };
import { isSealgateError } from '../../src/errors.js';
import { LIMITS, MANIFEST_FIELDS } from '../../src/policy/manifest-fields.js';
import { parseManifest } from '../../src/policy/parse-manifest.js';
import { validate } from './schema-subset.js';

type Def = {
  type?: string;
  properties?: Record<string, Def>;
  required?: string[];
  additionalProperties?: boolean;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  $ref?: string;
};
const defs = schema.$defs as unknown as Record<string, Def>;
const root = schema as unknown as Record<string, unknown>;
const sorted = (a: readonly string[]): string[] => [...a].sort();

function parserRejects(doc: unknown): boolean {
  try {
    parseManifest(doc);
    return false;
  } catch (e) {
    if (!isSealgateError(e, 'invalid_manifest')) throw e;
    return true;
  }
}

/** Every [path, parent, key] of a JSON value, objects and leaves alike. */
function* walk(v: unknown, path: (string | number)[] = []): Generator<(string | number)[]> {
  yield path;
  if (Array.isArray(v)) for (let i = 0; i < v.length; i++) yield* walk(v[i], [...path, i]);
  else if (typeof v === 'object' && v !== null)
    for (const [k, x] of Object.entries(v)) yield* walk(x, [...path, k]);
}

function get(doc: unknown, path: (string | number)[]): unknown {
  // biome-ignore lint/suspicious/noExplicitAny: walking a JSON value.
  return path.reduce((o: any, k) => o[k], doc);
}

function withEdit(
  path: (string | number)[],
  f: (parent: Record<string | number, unknown>, key: string | number) => void,
) {
  const doc = structuredClone(example) as unknown;
  f(get(doc, path.slice(0, -1)) as Record<string | number, unknown>, path.at(-1)!);
  return doc;
}

describe('schema ⇔ parser: structure', () => {
  it('has one object $def per parser object, with the same members and required members', () => {
    const objectDefs = Object.keys(defs).filter((k) => defs[k]?.type === 'object');
    expect(sorted(objectDefs)).toEqual(sorted(Object.keys(MANIFEST_FIELDS)));
    for (const [name, spec] of Object.entries(MANIFEST_FIELDS)) {
      const def = defs[name]!;
      expect(def.additionalProperties, name).toBe(false);
      expect(sorted(Object.keys(def.properties ?? {})), name).toEqual(
        sorted([...spec.required, ...spec.optional]),
      );
      expect(sorted(def.required ?? []), name).toEqual(sorted(spec.required));
    }
    expect(root.$ref).toBe('#/$defs/manifest');
  });

  it('states the same numeric bounds as the parser', () => {
    const kp = defs.keyPolicy!.properties!;
    for (const k of ['rotationIntervalSeconds', 'overlapSeconds', 'lifetimeSeconds'] as const) {
      expect([kp[k]!.minimum, kp[k]!.maximum], k).toEqual([LIMITS[k].min, LIMITS[k].max]);
    }
    expect(defs.u8!.maximum).toBe(LIMITS.u8Max);
    expect(defs.snpReferenceValues!.properties!.minimumGuestSvn!.maximum).toBe(LIMITS.u32Max);
    expect(defs.snpReferenceValues!.properties!.vmpl!.maximum).toBe(LIMITS.vmplMax);
    expect(defs.name!.maxLength).toBe(LIMITS.nameMaxLength);
    expect(defs.note!.maxLength).toBe(LIMITS.noteMaxLength);
  });
});

describe('schema ⇔ parser: behaviour', () => {
  it.each([
    ['example.json', example],
    ['test-vectors.json', testVectors],
  ])('%s passes the schema and the parser', (_name, doc) => {
    expect(validate(root, doc)).toEqual([]);
    expect(() => parseManifest(doc)).not.toThrow();
  });

  const paths = [...walk(example)].filter((p) => p.length > 0);

  it('a value of the wrong type anywhere fails both', () => {
    let n = 0;
    for (const path of paths) {
      const current = get(example, path);
      const wrong = typeof current === 'string' ? 7 : 'x';
      const doc = withEdit(path, (o, k) => {
        o[k] = wrong;
      });
      expect(validate(root, doc).length, path.join('/')).toBeGreaterThan(0);
      expect(parserRejects(doc), path.join('/')).toBe(true);
      n++;
    }
    expect(n).toBeGreaterThan(80);
  });

  it('an unknown member in any object fails both', () => {
    for (const path of [[], ...paths]) {
      const target = get(example, path);
      if (typeof target !== 'object' || target === null || Array.isArray(target)) continue;
      const doc = structuredClone(example) as unknown;
      (get(doc, path) as Record<string, unknown>).zz = 1;
      expect(validate(root, doc), path.join('/')).toContainEqual({
        path: `${path.map((p) => `/${p}`).join('')}/zz`,
        keyword: 'additionalProperties',
      });
      expect(parserRejects(doc), path.join('/')).toBe(true);
    }
  });

  it('a missing member fails both exactly when it is required', () => {
    for (const path of paths) {
      if (typeof path.at(-1) === 'number') continue;
      const doc = withEdit(path, (o, k) => {
        delete o[k];
      });
      const schemaRejects = validate(root, doc).length > 0;
      // Parser-only: a role names "snp", "tdx" or both — the schema cannot say "at least one of".
      const onlyTee = path.length === 3 && path[0] === 'roles' && path[2] === 'snp';
      expect(parserRejects(doc), path.join('/')).toBe(schemaRejects || onlyTee);
    }
  });

  // What the parser enforces beyond the schema (documented in the schema's description).
  it.each([
    ['an unknown fingerprint without "simulated"', ['trustAnchors', 'snp', 0, 'sha256'], 'ee'.repeat(32)],
    ['an AMD root marked simulated', ['trustAnchors', 'snp', 0, 'simulated'], true],
    ['overlap ≥ interval', ['keyPolicy', 'overlapSeconds'], 3600],
    ['interval + overlap > lifetime', ['keyPolicy', 'lifetimeSeconds'], 3700],
    ['an all-zero chip id', ['roles', 'worker', 'snp', 'chipIds'], ['00'.repeat(64)]],
    [
      'a launch minimum for a product not accepted',
      ['roles', 'worker', 'snp', 'minimumLaunchTcb'],
      { Genoa: { bootloader: 0, tee: 0, snp: 0, microcode: 0 } },
    ],
  ])('parser-only rule: %s', (_what, path, value) => {
    const doc = withEdit(path, (o, k) => {
      o[k] = value;
    });
    if (path.includes('minimumLaunchTcb')) {
      const snp = get(doc, ['roles', 'worker', 'snp']) as { minimumTcb: Record<string, unknown> };
      snp.minimumTcb = { Milan: snp.minimumTcb.Milan };
    }
    expect(validate(root, doc)).toEqual([]);
    expect(parserRejects(doc)).toBe(true);
  });
});
