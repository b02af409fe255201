/**
 * Property tests for the manifest parser (`parseManifest`, over `parseStrictJson`): whatever it is
 * given — random JSON values, valid manifests with fields dropped, added, renamed or retyped, huge
 * numbers, deep nesting, duplicate member names, lone surrogates, a BOM, invalid UTF-8 — it either
 *
 * - returns a manifest that is valid by every rule we can state independently (the JSON Schema in
 *   manifests/manifest.schema.json, the key-policy and anchoring rules), equals what was written,
 *   is deep-frozen, re-serialises to itself and digests to the same value as its input; or
 * - throws `SealgateError('invalid_manifest')` whose `detail.errors` are RFC 6901 pointers into the
 *   document (for a parsed value: to a member whose parent exists);
 *
 * and nothing else: no TypeError, RangeError or stack overflow. fast-check prints the seed and the
 * shrunk counterexample of any failure.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import example from '../../manifests/example.json' with { type: 'json' };
import schema from '../../manifests/manifest.schema.json' with { type: 'json' };
import testVectors from '../../manifests/test-vectors.json' with { type: 'json' };
import { utf8 } from '../../src/bytes.js';
import { SealgateError } from '../../src/errors.js';
import { manifestDigest } from '../../src/policy/manifest-digest.js';
import { type Manifest, ROLES } from '../../src/policy/manifest-types.js';
import { parseManifest } from '../../src/policy/parse-manifest.js';
import { validate } from './schema-subset.js';

// biome-ignore lint/suspicious/noExplicitAny: documents are deliberately anything.
type Doc = any;
const BASES: Doc[] = [example, testVectors];
const POINTER = /^(\/([^~/]|~[01])*)*$/;

type Outcome = { ok: true; manifest: Manifest } | { ok: false; errors: { path: string; message: string }[] };

function outcome(input: unknown): Outcome {
  try {
    return { ok: true, manifest: parseManifest(input) };
  } catch (e) {
    if (!(e instanceof SealgateError)) throw new Error(`parseManifest threw ${String(e)}`);
    expect(e.code).toBe('invalid_manifest');
    const errors = (e.detail as { errors: { path: string; message: string }[] }).errors;
    expect(errors.length).toBeGreaterThan(0);
    for (const x of errors) {
      expect(x.path).toMatch(POINTER);
      expect(typeof x.message).toBe('string');
    }
    return { ok: false, errors };
  }
}

const unescapeToken = (t: string) => t.replace(/~1/g, '/').replace(/~0/g, '~');

/** For a parsed document: every error names a member whose parent is in the document. */
function expectPointersInto(doc: unknown, errors: { path: string }[]): void {
  for (const { path } of errors) {
    if (path === '') continue;
    const tokens = path.split('/').slice(1).map(unescapeToken);
    let node: unknown = doc;
    for (const t of tokens.slice(0, -1)) {
      expect(node !== null && typeof node === 'object' && Object.hasOwn(node, t), path).toBe(true);
      node = (node as Record<string, unknown>)[t];
    }
  }
}

function expectDeepFrozen(v: unknown): void {
  if (typeof v !== 'object' || v === null) return;
  expect(Object.isFrozen(v)).toBe(true);
  for (const child of Object.values(v)) expectDeepFrozen(child);
}

/** Everything an accepted manifest must be, checked without the parser's own code. */
async function expectValid(m: Manifest, written: unknown, text?: string): Promise<void> {
  expect(validate(schema as Record<string, unknown>, m)).toEqual([]);
  expect(m).toEqual(written);
  expectDeepFrozen(m);
  const { rotationIntervalSeconds: r, overlapSeconds: o, lifetimeSeconds: l } = m.keyPolicy;
  expect(o).toBeLessThan(r);
  expect(r + o).toBeLessThanOrEqual(l);
  expect(ROLES.some((role) => m.roles[role] !== undefined)).toBe(true);
  const anchored = new Set(m.trustAnchors.snp.map((a) => a.product));
  expect(new Set(m.trustAnchors.snp.map((a) => a.sha256)).size).toBe(m.trustAnchors.snp.length);
  for (const role of ROLES) {
    for (const product of Object.keys(m.roles[role]?.snp?.minimumTcb ?? {})) {
      expect(anchored.has(product as never)).toBe(true);
    }
  }
  // Re-serialises to itself and digests like its input.
  const again = JSON.stringify(m);
  // (As text: a written -0 stays -0 in the copy and is "0" in JSON and in JCS alike.)
  expect(JSON.stringify(parseManifest(again))).toBe(again);
  const digest = await manifestDigest(m);
  expect(await manifestDigest(again)).toBe(digest);
  if (text !== undefined) expect(await manifestDigest(text)).toBe(digest);
}

// ---- mutations of a parsed document ----

const FIELD_NAMES = [
  'version',
  'name',
  'trustAnchors',
  'snp',
  'sha256',
  'product',
  'simulated',
  'note',
  'roles',
  'worker',
  'attestation-service',
  'measurements',
  'minimumTcb',
  'minimumLaunchTcb',
  'Milan',
  'Genoa',
  'Turin',
  'fmc',
  'bootloader',
  'microcode',
  'policy',
  'allowDebug',
  'vmpl',
  'hostData',
  'chipIds',
  'keyPolicy',
  'overlapSeconds',
  'lifetimeSeconds',
  '__proto__',
  'constructor',
  'a/b~c',
  'tdx',
];

const nest = (v: unknown, depth: number): unknown => {
  let out = v;
  for (let i = 0; i < depth; i++) out = i % 2 ? [out] : { snp: out };
  return out;
};

/** Values that are wrong in interesting ways — and some that are plausibly right. */
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    1e308,
    -1e308,
    2 ** 53,
    2 ** 53 + 2,
    2 ** 64,
    -0,
    0.5,
    1.0000001,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    0,
    1,
    3,
    4,
    255,
    256,
    -1,
    60,
    3600,
    86400,
    2_592_000,
    true,
    false,
    null,
    '',
    'Milan',
    'Genoa',
    'Turin',
    'vcek',
    'vlek',
    '\ud800',
    'x\udfff',
    'tab\there',
    '\ufeffname',
    'ab'.repeat(32),
    'ab'.repeat(48),
    'AB'.repeat(48),
    'ab'.repeat(47),
    '00'.repeat(48),
    'cd'.repeat(64),
    'n'.repeat(129),
  ),
  fc.constantFrom(['ab'.repeat(48)], ['ab'.repeat(48), 'ab'.repeat(48)], [], [1]),
  fc.nat(40).map((d) => nest('x', d)),
  fc.constant(nest(1, 5000)),
);

type Mutation =
  | { op: 'delete'; at: number }
  | { op: 'add'; at: number; name: string; value: unknown }
  | { op: 'rename'; at: number; name: string }
  | { op: 'replace'; at: number; value: unknown }
  | { op: 'duplicateItem'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('add' as const),
    at: fc.nat(),
    name: fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.string({ maxLength: 6 })),
    value: oddValue,
  }),
  fc.record({
    op: fc.constant('rename' as const),
    at: fc.nat(),
    name: fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.string({ maxLength: 6 })),
  }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: oddValue }),
  fc.record({ op: fc.constant('duplicateItem' as const), at: fc.nat() }),
);

/** Every (container, key) slot of a document, down to the manifest's own depth. */
function slots(doc: unknown): { holder: Doc; key: string | number }[] {
  const out: { holder: Doc; key: string | number }[] = [];
  const walk = (v: unknown, depth = 0) => {
    if (depth > 8) return;
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        out.push({ holder: v, key: i });
        walk(x, depth + 1);
      });
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        out.push({ holder: v, key: k });
        walk(x, depth + 1);
      }
    }
  };
  walk(doc);
  return out;
}

function containers(doc: unknown): Doc[] {
  const out: Doc[] = [doc];
  for (const { holder, key } of slots(doc)) {
    const v = holder[key];
    if (v !== null && typeof v === 'object') out.push(v);
  }
  return out;
}

const define = (o: Doc, k: string, value: unknown) =>
  Object.defineProperty(o, k, { value, enumerable: true, writable: true, configurable: true });

function apply(doc: Doc, m: Mutation): void {
  if (m.op === 'add' || m.op === 'duplicateItem') {
    const all = containers(doc);
    const c = all[m.at % all.length];
    if (m.op === 'add') {
      if (Array.isArray(c)) c.push(m.value);
      else define(c, m.name, m.value);
    } else if (Array.isArray(c) && c.length > 0) c.push(c[0]); // the same value again (a reference: the parser only reads)
    return;
  }
  const all = slots(doc);
  if (all.length === 0) return;
  const { holder, key } = all[m.at % all.length]!;
  if (m.op === 'replace') holder[key] = m.value;
  else if (Array.isArray(holder)) holder.splice(key as number, 1);
  else if (m.op === 'delete') delete holder[key];
  else {
    const v = holder[key];
    delete holder[key];
    define(holder, m.name, v);
  }
}

const mutated = fc
  .tuple(fc.nat(BASES.length - 1), fc.array(mutation, { minLength: 1, maxLength: 3 }))
  .map(([base, ms]) => {
    const doc = structuredClone(BASES[base]);
    for (const m of ms) apply(doc, m);
    return doc;
  });

/** JSON text of a document, or undefined (a value JSON cannot write, e.g. 5000 levels deep). */
function textOf(doc: unknown): string | undefined {
  try {
    return JSON.stringify(doc);
  } catch {
    return undefined;
  }
}

describe('parseManifest: random and mutated documents', () => {
  it('the valid bases pass every independent check', async () => {
    for (const base of BASES) {
      const text = JSON.stringify(base, null, 2);
      const r = outcome(text);
      expect(r.ok).toBe(true);
      if (r.ok) await expectValid(r.manifest, base, text);
    }
  });

  it('random JSON values (as values, text and bytes): valid or invalid_manifest, nothing else', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.anything()), async (v) => {
        const r = outcome(v);
        expect(r.ok).toBe(false);
        // A string is read as JSON text, not as the document: a text that does not parse (`[[`) has
        // errors at pointers of the document it began (`/0/0`), which `v` itself does not hold.
        if (!r.ok && typeof v !== 'string') expectPointersInto(v, r.errors);
        const text = textOf(v);
        if (text !== undefined) {
          expect(outcome(text).ok).toBe(false);
          expect(outcome(utf8.encode(text)).ok).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('mutated manifests: accepted only when valid, refused with pointers into the document', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(mutated, async (doc) => {
        const asValue = outcome(doc);
        if (asValue.ok) {
          accepted++;
          await expectValid(asValue.manifest, doc);
        } else {
          expectPointersInto(doc, asValue.errors);
        }
        const text = textOf(doc);
        if (text === undefined) return;
        const asText = outcome(text);
        // Text and value agree, except where only text can be wrong (I-JSON: depth, surrogates).
        if (asText.ok) {
          expect(asValue.ok).toBe(true);
          await expectValid(asText.manifest, JSON.parse(text), text);
        }
        const asBytes = outcome(utf8.encode(text));
        expect(asBytes.ok).toBe(asText.ok);
      }),
      { numRuns: 400 },
    );
    // The mutations are not all fatal: acceptance is exercised, not only refusal.
    expect(accepted).toBeGreaterThan(0);
  });
});

// ---- mutations of the text and bytes ----

describe('parseManifest: text and byte level', () => {
  const base = JSON.stringify(example, null, 2);

  it('a duplicate member name anywhere is refused, at its pointer', () => {
    const names = [...base.matchAll(/"([^"\\]+)": /g)];
    fc.assert(
      fc.property(fc.nat(names.length - 1), fc.jsonValue({ maxDepth: 1 }), (i, value) => {
        const m = names[i]!;
        const text = `${base.slice(0, m.index)}"${m[1]}": ${JSON.stringify(value)}, ${base.slice(m.index)}`;
        const r = outcome(text);
        expect(r.ok).toBe(false);
        if (!r.ok) {
          expect(r.errors).toHaveLength(1);
          expect(r.errors[0]!.message).toMatch(/duplicate member name/);
          expect(r.errors[0]!.path.endsWith(`/${m[1]}`)).toBe(true);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('a lone surrogate, escaped or raw, anywhere is refused', () => {
    const strings = [...base.matchAll(/": "/g)];
    fc.assert(
      fc.property(
        fc.nat(strings.length - 1),
        fc.constantFrom('\\ud800', '\\udfff', '\\ud83d', '\ud800', '\udc00'),
        fc.nat(),
        (i, s, anywhere) => {
          const at = strings[i]!.index + 4;
          expect(outcome(`${base.slice(0, at)}${s}${base.slice(at)}`).ok).toBe(false);
          const j = anywhere % (base.length + 1);
          if (s.length === 1) expect(outcome(`${base.slice(0, j)}${s}${base.slice(j)}`).ok).toBe(false);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('a parsed value with an unpaired surrogate in any string is refused (it could not be digested)', () => {
    // Without the check, parseManifest(value) accepted {"name": "x\ud800", …} and manifestDigest
    // then threw invalid_argument (JCS cannot encode it). Text input was always refused.
    const strings = slots(example).filter(({ holder, key }) => typeof holder[key] === 'string');
    fc.assert(
      fc.property(fc.nat(strings.length - 1), fc.constantFrom('\ud800', '\udfff'), fc.nat(8), (i, s, at) => {
        const doc = structuredClone(example) as Doc;
        const { holder, key } = slots(doc).filter(({ holder, key }) => typeof holder[key] === 'string')[i]!;
        const value: string = holder[key];
        holder[key] = value.slice(0, at) + s + value.slice(at);
        const r = outcome(doc);
        expect(r.ok).toBe(false);
        if (!r.ok) expectPointersInto(doc, r.errors);
      }),
      { numRuns: 100 },
    );
    expect(strings.length).toBeGreaterThan(10);
  });

  it('a BOM: refused in text (not JSON), ignored in bytes — and the digest agrees either way', async () => {
    expect(outcome(`\ufeff${base}`).ok).toBe(false);
    const bytes = utf8.encode(`\ufeff${base}`);
    const r = outcome(bytes);
    // TextDecoder drops one leading BOM (RFC 8259 §8.1 lets a parser ignore it); the digest
    // reads bytes the same way, so both name the same document.
    expect(r.ok).toBe(true);
    if (r.ok) expect(await manifestDigest(bytes)).toBe(await manifestDigest(r.manifest));
  });

  it('deep nesting is refused without a stack overflow, in text and as a value', () => {
    for (const depth of [33, 1000, 100_000]) {
      const r = outcome(`${'['.repeat(depth)}${']'.repeat(depth)}`);
      expect(r.ok).toBe(false);
      const inside = base.replace('"vmpl": 0', `"vmpl": ${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
      expect(outcome(inside).ok).toBe(false);
    }
    const doc = structuredClone(example) as Doc;
    doc.roles.worker.snp.vmpl = nest(1, 100_000);
    expect(outcome(doc).ok).toBe(false);
  });

  it('huge, tiny and oddly written numbers: refused out of range; equal values digest equally', async () => {
    const spellings = ['1e400', '-1e400', `1${'0'.repeat(400)}`, '0.5', '-0', '1E+2', '100e-2', '1.0', '0e0'];
    for (const s of spellings) {
      const text = base.replace('"vmpl": 0', `"vmpl": ${s}`);
      const r = outcome(text);
      const value = Number(s);
      expect(r.ok).toBe(Number.isInteger(value) && value >= 0 && value <= 3);
      if (r.ok) await expectValid(r.manifest, JSON.parse(text), text);
    }
  });

  it('random character and byte edits: valid or invalid_manifest, nothing else', async () => {
    const bytes = utf8.encode(base);
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            at: fc.nat(),
            byte: fc.oneof(
              fc.integer({ min: 0x80, max: 0xff }),
              fc.constantFrom(0x22, 0x5c, 0x7b, 0x5d, 0x2c, 0x3a, 0x00),
            ),
            remove: fc.boolean(),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        async (edits) => {
          let b = bytes.slice();
          for (const e of edits) {
            const i = e.at % b.length;
            b = e.remove ? new Uint8Array([...b.subarray(0, i), ...b.subarray(i + 1)]) : b;
            if (!e.remove) b[i] = e.byte;
          }
          const r = outcome(b);
          if (r.ok) {
            const text = utf8.decode(b);
            await expectValid(r.manifest, JSON.parse(text), text);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
