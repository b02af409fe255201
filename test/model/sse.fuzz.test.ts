/**
 * Property tests for the SSE parser (WHATWG HTML §9.2.6), the one parser both the gateway (sealed
 * frames from a worker) and the worker (a model server's stream) run on bytes from the network
 * before anything is authenticated:
 *
 * - chunk-boundary invariance: a valid stream, written with any mix of LF / CRLF / CR line ends and
 *   any text (astral characters included), gives the same events however its UTF-8 bytes are cut —
 *   inside a CRLF, inside a multi-byte character, one byte at a time;
 * - garbage (random bytes, random text, any cut) never crashes it: events or, past the pending
 *   limit, `SealgateError('model_error')` — never a TypeError or RangeError;
 * - what it holds is bounded: an unterminated line is refused at `maxPending`, however it arrives,
 *   and a long line fed in small pieces costs linear work (the old parser rescanned it: quadratic),
 *   and so does an event of many lines, a line per read.
 *
 * fast-check prints the seed and the shrunk counterexample of any failure.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSealgateError } from '../../src/errors.js';
import { parseSseStream, type SseEvent, SseParser } from '../../src/model/sse.js';

interface ModelEvent {
  type: string;
  lines: string[];
  id: string | null;
  comment: string | null;
}

/** Text without CR or LF (a field value cannot hold a line end), including astral characters. */
const lineText = fc
  .string({
    unit: fc.oneof(
      fc.constantFrom('a', ' ', ':', '€', '👋', '\u0000', 'é'),
      fc.string({ unit: 'binary', maxLength: 1 }),
    ),
    maxLength: 12,
  })
  .map((s) => s.replace(/[\r\n]/g, ''));
const fieldText = lineText.map((s) => s.replace(/\0/g, '')); // an id with NUL is ignored by the spec

const modelEvent: fc.Arbitrary<ModelEvent> = fc.record({
  type: fc.oneof(
    fc.constant(''),
    fieldText.filter((s) => !s.startsWith(' ')),
  ),
  lines: fc.array(lineText, { minLength: 1, maxLength: 3 }),
  id: fc.option(
    fieldText.filter((s) => !s.startsWith(' ')),
    { nil: null },
  ),
  comment: fc.option(lineText, { nil: null }),
});
const eol = fc.constantFrom('\n', '\r\n', '\r');

/** Writes events as SSE text, each line with its own end-of-line style. */
function write(events: ModelEvent[], eols: string[], bom: boolean): string {
  let k = 0;
  let out = bom ? '\ufeff' : '';
  const line = (content: string) => {
    let e = eols[k++ % eols.length]!;
    // A CR line end followed by an empty line ending in LF would read as one CRLF: not a blank line.
    if (content === '' && out.endsWith('\r') && e === '\n') e = '\r\n';
    out += content + e;
  };
  for (const e of events) {
    if (e.comment !== null) line(`:${e.comment}`);
    if (e.type !== '') line(`event: ${e.type}`);
    if (e.id !== null) line(`id: ${e.id}`);
    for (const l of e.lines) line(`data: ${l}`);
    line('');
  }
  return out;
}

/** What §9.2.6 dispatches for these events. */
function expected(events: ModelEvent[]): SseEvent[] {
  let lastEventId = '';
  return events.map((e) => {
    if (e.id !== null) lastEventId = e.id;
    return { type: e.type === '' ? 'message' : e.type, data: e.lines.join('\n'), lastEventId };
  });
}

/** Cuts `bytes` at the given positions (sorted, deduplicated). */
function cut(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const points = [...new Set(at.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.slice(prev, p));
    prev = p;
  }
  return out;
}

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (i < chunks.length) c.enqueue(chunks[i++]!);
      else c.close();
    },
  });
}

async function collect(chunks: Uint8Array[], maxPending?: number): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  const options = maxPending === undefined ? {} : { maxPending };
  for await (const e of parseSseStream(streamOf(chunks), options)) out.push(e);
  return out;
}

describe('SSE parser: chunk-boundary invariance', () => {
  it('any byte cuts of a valid stream (mixed LF/CRLF/CR, split UTF-8) give the same events', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(modelEvent, { minLength: 1, maxLength: 5 }),
        fc.array(eol, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 12 }),
        async (events, eols, bom, at) => {
          const bytes = new TextEncoder().encode(write(events, eols, bom));
          const want = expected(events);
          expect(await collect(cut(bytes, at))).toEqual(want);
          // The parser on text too, cut at UTF-16 positions (a CRLF split across pushes included).
          const text = write(events, eols, bom);
          const parser = new SseParser();
          const got: SseEvent[] = [];
          let prev = 0;
          for (const p of [...new Set(at.map((x) => x % (text.length + 1)))].sort((a, b) => a - b)) {
            got.push(...parser.push(text.slice(prev, p)));
            prev = p;
          }
          got.push(...parser.push(text.slice(prev)));
          parser.end();
          expect(got).toEqual(want);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('one byte at a time gives the same events as one chunk', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(modelEvent, { minLength: 1, maxLength: 3 }),
        fc.array(eol, { minLength: 1, maxLength: 3 }),
        async (events, eols) => {
          const bytes = new TextEncoder().encode(write(events, eols, false));
          const singles = Array.from(bytes, (b) => Uint8Array.of(b));
          expect(await collect(singles)).toEqual(await collect([bytes]));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('an event cut off before its blank line is never dispatched, wherever the stream ends', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(modelEvent, { minLength: 1, maxLength: 4 }),
        eol,
        fc.nat(),
        async (events, e, at) => {
          const bytes = new TextEncoder().encode(write(events, [e], false));
          const end = at % (bytes.length + 1);
          const got = await collect([bytes.slice(0, end)]);
          // Only whole events come out, and they are a prefix of the real ones.
          expect(got).toEqual(expected(events).slice(0, got.length));
          if (end < bytes.length - e.length) expect(got.length).toBeLessThan(events.length);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('SSE parser: garbage', () => {
  it('random bytes, cut anywhere: events or model_error, never another exception', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 600 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.integer({ min: 8, max: 256 }),
        async (bytes, at, maxPending) => {
          try {
            const events = await collect(cut(bytes, at), maxPending);
            for (const e of events) {
              expect(typeof e.data).toBe('string');
              expect(typeof e.type).toBe('string');
            }
          } catch (e) {
            expect(isSealgateError(e, 'model_error'), String(e)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('random text with line ends: the same outcome whether whole or split', async () => {
    const noisy = fc.string({
      unit: fc.oneof(
        fc.constantFrom('\n', '\r', ':', ' ', 'data', 'event', 'id', 'retry', '\ufeff'),
        fc.string({ maxLength: 1 }),
      ),
      maxLength: 80,
    });
    await fc.assert(
      fc.asyncProperty(noisy, fc.nat(), async (text, at) => {
        const whole = new SseParser();
        const a = [...whole.push(text)];
        const split = new SseParser();
        const i = at % (text.length + 1);
        const b = [...split.push(text.slice(0, i)), ...split.push(text.slice(i))];
        expect(b).toEqual(a);
      }),
      { numRuns: 300 },
    );
  });
});

describe('SSE parser: bounded memory and work', () => {
  it('an unterminated line is refused at maxPending, whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 16, max: 512 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (maxPending, at) => {
          const bytes = new TextEncoder().encode(`data: ${'x'.repeat(maxPending + 1)}`);
          const err = await collect(cut(bytes, at), maxPending).then(
            () => null,
            (e: unknown) => e,
          );
          expect(isSealgateError(err, 'model_error'), String(err)).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('many data lines of one unfinished event count towards the limit too', () => {
    const p = new SseParser({ maxPending: 100 });
    expect(() => {
      for (let i = 0; i < 50; i++) p.push('data: abc\n');
    }).toThrow(/without an event boundary/);
  });

  it('a long line in one-character pieces is parsed (linear: each piece is scanned once)', () => {
    // 200 000 pushes: the rescanning parser needed minutes for this; the suite's timeout catches it.
    const p = new SseParser();
    p.push('data: ');
    for (let i = 0; i < 200_000; i++) p.push('y');
    const [e] = p.push('\r\n\r\n');
    expect(e?.data.length).toBe(200_000);
  });

  it('an event of many data lines, a line per read, is parsed (linear: each line is copied once)', () => {
    // A pending event's lines are copied out of their read once, at that read's end. Copying the
    // whole event at every read is quadratic: ~10^11 characters, minutes (43 s at 100 000 lines on
    // the development host); the suite's timeout catches it. Linear: well under a second.
    const p = new SseParser();
    const line = `data: ${'z'.repeat(8)}\n`;
    let events = 0;
    for (let i = 0; i < 150_000; i++) events += p.push(line).length;
    expect(events).toBe(0);
    const [e] = p.push('\n');
    expect(e?.data.length).toBe(150_000 * 9 - 1);
    expect(e?.data.startsWith('zzzzzzzz\nzzzzzzzz\n')).toBe(true);
  });
});
