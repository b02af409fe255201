/**
 * Property tests for the open side, filling what fuzz.test.ts leaves out: mutated REAL sealed
 * responses (any character of the JSON text, any member added or dropped) and stream records (any
 * byte of the binary body),
 * header fields of a sealed request (v, ts within the window), and confusion between requests —
 * a response or stream opened under another request's context (other rid, kid, route or DEK),
 * frames spliced in from another stream, a request relabelled with another known key id. Nothing
 * opens; the error is always a SealgateError of the expected codes; no plaintext of a frame that
 * did not authenticate is released.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RequestContext } from '../../src/envelope/data-key.js';
import { openRequest, sealRequest } from '../../src/envelope/request.js';
import { openResponse, sealResponse } from '../../src/envelope/response.js';
import { createStreamOpener, sealStream } from '../../src/envelope/stream.js';
import { SealgateError } from '../../src/errors.js';
import { createKek } from '../../src/keys/kek.js';
import { KeyRing } from '../../src/keys/key-ring.js';

const T = 1_767_225_600;
const ROUTE = '/v1/chat/completions';
const CHUNKS = ['{"a":1}', '{"b":2}', '[DONE]'];
const BODY = { model: 'm', stream: true, max_tokens: 5, messages: [{ role: 'user', content: 'secret' }] };

async function outcome(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'accepted';
  } catch (e) {
    if (!(e instanceof SealgateError)) throw new Error(`non-SealgateError thrown: ${String(e)}`);
    return e.code;
  }
}

async function exchange(kek: Awaited<ReturnType<typeof createKek>>, requestId: string, route = ROUTE) {
  const { sealed, context } = await sealRequest({ kek, route, requestId, body: BODY, now: T });
  const frames: Uint8Array[] = [];
  for await (const f of sealStream(
    context,
    CHUNKS.map((c) => [c]),
  ))
    frames.push(f);
  const response = JSON.stringify(
    await sealResponse(context, { choices: [{ text: 'x' }], usage: { prompt_tokens: 3, total_tokens: 5 } }),
  );
  return { sealed, context, frames, response };
}

const fixture = (async () => {
  const a = await createKek({ notBefore: T - 60, notAfter: T + 3600 });
  const b = await createKek({ notBefore: T - 60, notAfter: T + 3600 });
  const ring = await KeyRing.from([a, b]);
  const one = await exchange(a, 'req-1');
  const other = await exchange(a, 'req-2');
  const otherRoute = await exchange(a, 'req-1', '/v1/completions');
  const otherKey = await exchange(b, 'req-1');
  return { a, b, ring, one, other, otherRoute, otherKey };
})();

/** Replaces the character at `at` (mod length) with `ch`, if that changes the text. */
function edit(text: string, at: number, ch: string): string | undefined {
  const i = at % text.length;
  return text[i] === ch ? undefined : text.slice(0, i) + ch + text.slice(i + 1);
}
const anyChar = fc.oneof(
  fc.constantFrom('A', 'B', '0', '1', '-', '_', '"', ',', '{', '}', ':', ' ', 't', 'e'),
  fc.string({ minLength: 1, maxLength: 1 }),
);

/** Pushes each record as its own read; what was released, and the outcome. */
async function openStream(context: RequestContext, frames: Uint8Array[]) {
  const released: string[] = [];
  const opener = createStreamOpener(context);
  const code = await outcome(async () => {
    for (const f of frames) {
      await opener.push(f, (events) => {
        for (const e of events) released.push(new TextDecoder().decode(e));
      });
    }
    opener.finish();
  });
  return { code, released };
}

describe('open side: mutated real responses and frames', () => {
  it('a sealed response with any one character changed never opens', async () => {
    const { one } = await fixture;
    await fc.assert(
      fc.asyncProperty(fc.nat(), anyChar, async (at, ch) => {
        const text = edit(one.response, at, ch);
        fc.pre(text !== undefined);
        // Whitespace between tokens, or an escape that spells the same value, is not a change.
        let same = false;
        try {
          same = JSON.stringify(JSON.parse(text!)) === JSON.stringify(JSON.parse(one.response));
        } catch {}
        const code = await outcome(() => openResponse(one.context, text));
        expect(code).toBe(same ? 'accepted' : 'decryption_failed');
      }),
      { numRuns: 300 },
    );
  });

  it('a sealed response with a member dropped, added or retyped never opens', async () => {
    const { one } = await fixture;
    const base = JSON.parse(one.response) as Record<string, Record<string, unknown>>;
    const paths: [string | null, string][] = [
      [null, 'usage'],
      [null, 'sealgate'],
      ['sealgate', 'v'],
      ['sealgate', 'rs'],
      ['sealgate', 'ct'],
      ['usage', 'prompt_tokens'],
      ['usage', 'total_tokens'],
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.constantFrom('drop', 'retype', 'add'),
        fc.jsonValue({ maxDepth: 1 }),
        async ([holder, key], op, value) => {
          const doc = structuredClone(base) as Record<string, unknown>;
          const target = (holder === null ? doc : doc[holder]) as Record<string, unknown>;
          if (op === 'drop') delete target[key];
          else if (op === 'add') target[`${key}_extra`] = value;
          else {
            fc.pre(JSON.stringify(value) !== JSON.stringify(target[key]));
            target[key] = value;
          }
          expect(await outcome(() => openResponse(one.context, doc))).toBe('decryption_failed');
        },
      ),
      { numRuns: 200 },
    );
  });

  it('stream records with any one byte changed: only real chunks before it are released', async () => {
    const { one } = await fixture;
    await fc.assert(
      fc.asyncProperty(
        fc.nat(one.frames.length - 1),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (which, at, flip) => {
          const frame = Uint8Array.from(one.frames[which]!);
          frame[at % frame.length]! ^= flip;
          const frames = one.frames.map((f, i) => (i === which ? frame : f));
          const { code, released } = await openStream(one.context, frames);
          expect(released).toEqual(CHUNKS.slice(0, released.length));
          // Every byte is bound: the magic, rs (the key), each record's type, length and tag.
          expect(['decryption_failed', 'stream_truncated']).toContain(code);
          expect(released.length).toBeLessThanOrEqual(which);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('open side: confusion between requests', () => {
  it("another request's response or stream does not open under this context (rid, kid, route)", async () => {
    const { one, other, otherRoute, otherKey } = await fixture;
    for (const [name, x] of [
      ['other rid', other],
      ['other route', otherRoute],
      ['other key', otherKey],
    ] as const) {
      expect(await outcome(() => openResponse(one.context, x.response)), name).toBe('decryption_failed');
      const { code, released } = await openStream(one.context, x.frames);
      expect(code, name).toBe('decryption_failed');
      expect(released, name).toEqual([]);
    }
  });

  it('a context with one field changed opens nothing (the AAD binds rid, kid and route)', async () => {
    const { one, other } = await fixture;
    const contexts: [string, RequestContext][] = [
      ['rid', { ...one.context, requestId: 'req-x' }],
      ['route', { ...one.context, route: '/v1/embeddings' }],
      [
        'kid',
        { ...one.context, kid: other.context.kid === one.context.kid ? 'A'.repeat(22) : other.context.kid },
      ],
      ['dek', { ...one.context, dek: other.context.dek }],
    ];
    for (const [name, ctx] of contexts) {
      expect(await outcome(() => openResponse(ctx, one.response)), name).toBe('decryption_failed');
      expect((await openStream(ctx, one.frames)).released, name).toEqual([]);
    }
  });

  it('frames spliced in from another stream of the same key: refused at the first foreign frame', async () => {
    const { one, other } = await fixture;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.boolean(), fc.nat(one.frames.length - 1)), { minLength: 1, maxLength: 6 }),
        async (picks) => {
          const frames = picks.map(([mine, i]) => (mine ? one.frames[i]! : other.frames[i]!));
          const { code, released } = await openStream(one.context, frames);
          expect(released).toEqual(CHUNKS.slice(0, released.length));
          const firstForeign = picks.findIndex(([mine]) => !mine);
          if (firstForeign >= 0) expect(released.length).toBeLessThanOrEqual(firstForeign);
          if (code === 'accepted') expect(frames).toEqual(one.frames);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('request header fields: another known kid, v, ts inside the window, rid — never opens', async () => {
    const { one, a, b, ring } = await fixture;
    const s = one.sealed as unknown as { sealgate: Record<string, unknown> };
    const cases: [string, Record<string, unknown>, string][] = [
      ['kid of another known key', { kid: a.kid === s.sealgate.kid ? b.kid : a.kid }, 'decryption_failed'],
      ['v 2', { v: 2 }, 'decryption_failed'],
      ['v "1"', { v: '1' }, 'decryption_failed'],
      ['ts − 1', { ts: T - 1 }, 'decryption_failed'],
      ['ts + 1', { ts: T + 1 }, 'decryption_failed'],
      ['ts as string', { ts: String(T) }, 'decryption_failed'],
      ['ts fractional', { ts: T + 0.5 }, 'decryption_failed'],
      ['rid changed', { rid: 'req-2' }, 'decryption_failed'],
      ['rid with a space', { rid: 'req 1' }, 'decryption_failed'],
      ['an extra member', { extra: 1 }, 'decryption_failed'],
    ];
    for (const [name, change, code] of cases) {
      const mutated = { ...one.sealed, sealgate: { ...s.sealgate, ...change } };
      const got = await outcome(() =>
        openRequest(mutated, ring, { route: ROUTE, now: T, maxAgeSeconds: 300 }),
      );
      expect(got, name).toBe(code);
    }
    // The unmodified request opens (the cases above are not failing for another reason).
    expect(
      await outcome(() => openRequest(one.sealed, ring, { route: ROUTE, now: T, maxAgeSeconds: 300 })),
    ).toBe('accepted');
  });
});
