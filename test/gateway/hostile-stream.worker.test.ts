/**
 * A hostile AI worker against the gateway's stream relay (format 3, docs/protocol.md "Sealed
 * stream"). The worker holds the request's DEK and its attested receipt key, so every record it
 * sends authenticates and every receipt it signs verifies: what it can still do is send bytes the
 * format or the route does not allow. Through the REAL gateway Worker, what the client gets must be
 * only verified events, in order, then the route's own error event — never the route's final event
 * (`[DONE]`, `message_stop`) — whenever the answer is not a whole, well-formed one.
 */
import { expect, it, vi } from 'vitest';
import { certificateHeader, makeReceipt } from '../../src/ai-worker/receipt-signer.js';
import { utf8 } from '../../src/bytes.js';
import type { RequestContext } from '../../src/envelope/data-key.js';
import { openRequest } from '../../src/envelope/request.js';
import { sealResponse } from '../../src/envelope/response.js';
import { MAX_FRAME_BYTES, receiptRecord, STREAM_CONTENT_TYPE } from '../../src/envelope/stream.js';
import { bodySha256, RECEIPT_HEADER } from '../../src/receipts/receipt.js';
import { cat, eventsPlaintext, forgeRecords, record, split } from '../envelope/stream-support.js';
import { callGateway, stackPerFile } from './do-helpers.js';
import { gatewayDescribe, KEY, PROMPT, type Stack, sseData, WORKER_A, WORKER_B } from './stack.js';

const CHUNK = (s: string) =>
  JSON.stringify({ object: 'chat.completion.chunk', choices: [{ delta: { content: s } }] });

/** What the hostile worker answers with: the bytes it sends, in the reads it sends them (or a whole answer). */
type Script = (w: Hostile) => Promise<Uint8Array[] | Response>;

/** The hostile worker's means: the opened request's context, forging and signing. */
interface Hostile {
  ctx: RequestContext;
  /** Header and authentic records (data frames of these plaintexts, then the end record). */
  forge(...plaintexts: Uint8Array[]): Promise<{ header: Uint8Array; records: Uint8Array[] }>;
  /** The receipt trailer record, signing SHA-256(`hashed`) as the stream's response hash. */
  trailer(hashed: Uint8Array): Promise<Uint8Array>;
  /** An authentic sealed JSON answer with its receipt, as the honest worker sends one. */
  json(answer: Record<string, unknown>): Promise<Response>;
}

let stack: Stack;
let script: Script | undefined;
/** The hostile worker's Content-Type (null: none). */
let contentType: string | null = STREAM_CONTENT_TYPE;

async function hostileAnswer(url: string, init: RequestInit): Promise<Response> {
  const text = init.body as string;
  const route = new URL(url).pathname;
  const now = Math.floor(Date.now() / 1000);
  const { context } = await openRequest(JSON.parse(text), stack.session.keys, {
    route,
    now,
    maxAgeSeconds: 300,
  });
  const requestSha256 = await bodySha256(utf8.encode(text));
  const signer = stack.session.receiptSigner!;
  const receipt = async (bytes: Uint8Array, stream: boolean) =>
    makeReceipt({
      signer,
      context,
      manifestDigest: stack.dev.manifestDigest,
      requestSha256,
      responseSha256: await bodySha256(bytes),
      stream,
      now,
    });
  const w: Hostile = {
    ctx: context,
    forge: (...plaintexts) => forgeRecords(context, plaintexts),
    trailer: async (hashed) => receiptRecord(await receipt(hashed, true)),
    json: async (answer) => {
      const text = JSON.stringify(await sealResponse(context, answer));
      const headers = { 'content-type': 'application/json', ...certificateHeader(signer) };
      const signed = { ...headers, [RECEIPT_HEADER]: await receipt(utf8.encode(text), false) };
      return new Response(text, { status: 200, headers: signed });
    },
  };
  const chunks = await script!(w);
  if (chunks instanceof Response) return chunks;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        const next = chunks.shift();
        if (next === undefined) return c.close();
        c.enqueue(next);
      },
    },
    { highWaterMark: 0 },
  );
  const headers = new Headers(certificateHeader(signer));
  if (contentType !== null) headers.set('content-type', contentType);
  const res = new Response(body, { status: 200, headers });
  // A Response given a ReadableStream has no type of its own; make "none" really none.
  if (contentType === null) res.headers.delete('content-type');
  return res;
}

/** A whole stream (header, frames, end, trailer over header..end) of these plaintexts, as one read. */
async function whole(w: Hostile, ...plaintexts: Uint8Array[]): Promise<Uint8Array> {
  const { header, records } = await w.forge(...plaintexts);
  const hashed = cat(header, ...records);
  return cat(hashed, await w.trailer(hashed));
}

/** The client's SSE data payloads of one streamed request on `route`, the worker playing `s`. */
async function ask(s: Script, route = '/v1/chat/completions'): Promise<string[]> {
  script = s;
  try {
    const body =
      route === '/v1/messages'
        ? { model: 'sealgate-builtin', max_tokens: 16, messages: PROMPT, stream: true }
        : { model: 'sealgate-builtin', messages: PROMPT, stream: true };
    const res = await callGateway(route, { method: 'POST', headers: KEY, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    return await sseData(res);
  } finally {
    script = undefined;
  }
}

/** The error code of the client's last event (OpenAI's error shape). */
function lastError(data: string[]): string | undefined {
  const last = JSON.parse(data.at(-1)!) as { error?: { code?: string } };
  return last.error?.code;
}

stackPerFile({ keyed: true }, async (s) => {
  stack = s;
  // The real worker registered (its keys and receipt key) with the service; it answers once.
  const warm = await callGateway('/v1/chat/completions', {
    method: 'POST',
    headers: KEY,
    body: JSON.stringify({ model: 'sealgate-builtin', messages: PROMPT }),
  });
  expect(warm.status).toBe(200);
  const router = globalThis.fetch;
  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    const origin = new URL(url).origin;
    if (script && init?.method === 'POST' && (origin === WORKER_A || origin === WORKER_B)) {
      return await hostileAnswer(url, init);
    }
    return await router(input, init);
  });
});

gatewayDescribe('a hostile worker holding the DEK: the relay sends only what the format allows', () => {
  it('the harness: an authentic stream relays its events, then [DONE]', async () => {
    const data = await ask(async (w) => [await whole(w, eventsPlaintext(CHUNK('a'), CHUNK('b'), '[DONE]'))]);
    expect(data).toEqual([CHUNK('a'), CHUNK('b'), '[DONE]']);
  });

  it('a stream read a byte at a time (the header and every record head split everywhere) opens the same', async () => {
    const data = await ask(async (w) =>
      split(await whole(w, eventsPlaintext(CHUNK('a')), eventsPlaintext(CHUNK('b'), '[DONE]')), 1),
    );
    expect(data).toEqual([CHUNK('a'), CHUNK('b'), '[DONE]']);
  });

  it('[DONE] mid-stream, then more events: never an early [DONE], never events after it', async () => {
    const data = await ask(async (w) => [
      await whole(w, eventsPlaintext(CHUNK('a'), '[DONE]'), eventsPlaintext(CHUNK('after'), '[DONE]')),
    ]);
    expect(data).not.toContain('[DONE]');
    expect(data).not.toContain(CHUNK('after'));
    expect(data.slice(0, -1)).toEqual([CHUNK('a')]);
    expect(lastError(data)).toBe('upstream_tampered');
  });

  it('an authentic end with no event at all (the end record first): an error, not an empty success', async () => {
    const data = await ask(async (w) => [await whole(w)]);
    expect(data).toHaveLength(1);
    expect(lastError(data)).toBe('upstream_tampered');
  });

  it('an authentic end without the route’s final event: an error, not a silently short answer', async () => {
    const data = await ask(async (w) => [await whole(w, eventsPlaintext(CHUNK('a')))]);
    expect(data.slice(0, -1)).toEqual([CHUNK('a')]);
    expect(lastError(data)).toBe('upstream_tampered');
  });

  it('events with CR, a lone surrogate, an overlong or cut UTF-8 sequence: refused after the frame before', async () => {
    const bad: (string | Uint8Array)[] = [
      'a\rb',
      'a\r\nb',
      new Uint8Array([0x61, 0xed, 0xa0, 0x80]), // U+D800 as UTF-8 bytes
      new Uint8Array([0xc0, 0xaf]), // overlong "/"
      new Uint8Array([0xe0, 0x80, 0xaf]), // overlong "/"
      new Uint8Array([0xe2, 0x82]), // cut
    ];
    for (const event of bad) {
      const data = await ask(async (w) => [
        await whole(w, eventsPlaintext(CHUNK('ok')), eventsPlaintext(CHUNK('x'), event, '[DONE]')),
      ]);
      expect(data.slice(0, -1)).toEqual([CHUNK('ok')]);
      expect(lastError(data)).toBe('upstream_tampered');
    }
  });

  it('an event with LF (a multi-line data field) reaches the client as that one event', async () => {
    const lines = ['{"a":\n1}', '{"c":\n\n"d"}\n'];
    const data = await ask(async (w) => [await whole(w, eventsPlaintext(...lines, '[DONE]'))]);
    expect(data).toEqual([...lines, '[DONE]']);
    // A line break cannot smuggle an early end: the client's SDK would read `[DONE]` first.
    const early = await ask(async (w) => [await whole(w, eventsPlaintext('[DONE]\nx', '[DONE]'))]);
    expect(early).toHaveLength(1);
    expect(lastError(early)).toBe('upstream_tampered');
  });

  it('a chat event that is not a JSON chunk ends with our error event, not the SDK’s parse error', async () => {
    // Without the check, such an event went out as it was; the openai SDK then threw its
    // own JSON parse error — or, for `{"error": …}`, an APIError with the worker's words in it.
    const bad = [
      'garbage',
      '',
      ' ',
      'a\u0000b',
      '"a string"',
      '[1,2]',
      'null',
      '{"choices":[]',
      '{"error":{"message":"from the worker"}}',
      '{"object":"error","message":"old vLLM"}',
    ];
    for (const event of bad) {
      const data = await ask(async (w) => [
        await whole(w, eventsPlaintext(CHUNK('ok')), eventsPlaintext(CHUNK('x'), event, '[DONE]')),
      ]);
      // The verified chunks before it (its own frame's too), then the error; never [DONE].
      expect(data.slice(0, -1), JSON.stringify(event)).toEqual([CHUNK('ok'), CHUNK('x')]);
      expect(lastError(data), JSON.stringify(event)).toBe('upstream_tampered');
    }
    // The same on /v1/completions; a JSON object with `"error": null` is a chunk.
    const fine = JSON.stringify({ choices: [{ text: 'a' }], error: null });
    const data = await ask(
      async (w) => [await whole(w, eventsPlaintext(fine, 'nope', '[DONE]'))],
      '/v1/completions',
    );
    expect(data.slice(0, -1)).toEqual([fine]);
    expect(lastError(data)).toBe('upstream_tampered');
  });

  it('a frame framed in one buffer still releases exactly the events before a bad one', async () => {
    // A frame's events go out framed in one buffer (stream-answer.ts #rawFrame), ASCII or not:
    // every event as sent, then [DONE]; a bad event, first in its frame or later, releases exactly
    // the events before it.
    const wide = [CHUNK('héllo'), CHUNK('☃ — 😀'), CHUNK('plain')];
    expect(await ask(async (w) => [await whole(w, eventsPlaintext(...wide, '[DONE]'))])).toEqual([
      ...wide,
      '[DONE]',
    ]);
    for (const frame of [[CHUNK('ascii')], [CHUNK('ü')]]) {
      const first = await ask(async (w) => [
        await whole(w, eventsPlaintext(...frame), eventsPlaintext('nope', CHUNK('y'), '[DONE]')),
      ]);
      expect(first.slice(0, -1)).toEqual(frame);
      expect(lastError(first)).toBe('upstream_tampered');
      const later = await ask(async (w) => [
        await whole(w, eventsPlaintext(...frame, CHUNK('x'), '{"error":1}', '[DONE]', CHUNK('z'))),
      ]);
      expect(later.slice(0, -1)).toEqual([...frame, CHUNK('x')]);
      expect(lastError(later)).toBe('upstream_tampered');
    }
  });

  it('256 events in a frame relay; 257 are refused with none of them released', async () => {
    const events = Array.from({ length: 256 }, (_, i) => CHUNK(String(i)));
    const ok = await ask(async (w) => [
      await whole(w, eventsPlaintext(...events), eventsPlaintext('[DONE]')),
    ]);
    expect(ok).toEqual([...events, '[DONE]']);
    const over = await ask(async (w) => [
      await whole(w, eventsPlaintext(CHUNK('first')), eventsPlaintext(...events, '[DONE]')),
    ]);
    expect(over.slice(0, -1)).toEqual([CHUNK('first')]);
    expect(lastError(over)).toBe('upstream_tampered');
  });

  it('record lengths out of bounds, refused from their head alone (even with the transport then ending)', async () => {
    for (const [type, length] of [
      [0, 0],
      [0, 16],
      [0, MAX_FRAME_BYTES + 17],
      [0, 2 ** 32 - 1],
      [1, 0],
      [1, 17],
      [2, 0],
      [3, 16],
      [3, 8193],
      [4, 17],
    ] as const) {
      const data = await ask(async (w) => {
        const { header, records } = await w.forge(eventsPlaintext(CHUNK('a')));
        const head = record(type, new Uint8Array(0), length);
        return [cat(header, records[0]!), head];
      });
      expect(data.slice(0, -1)).toEqual([CHUNK('a')]);
      expect(lastError(data)).toBe('upstream_tampered');
    }
  });

  it('a data record after the end, a second end, a trailer before the end: upstream_tampered, no [DONE]', async () => {
    const cases: Script[] = [
      async (w) => {
        const { header, records } = await w.forge(eventsPlaintext(CHUNK('a'), '[DONE]'));
        const later = await w.forge(eventsPlaintext(CHUNK('a'), '[DONE]'), eventsPlaintext(CHUNK('late')));
        return [cat(header, ...records, later.records[1]!)];
      },
      async (w) => {
        const { header, records } = await w.forge(eventsPlaintext(CHUNK('a'), '[DONE]'));
        return [cat(header, ...records, records[1]!)];
      },
      async (w) => {
        const { header, records } = await w.forge(eventsPlaintext(CHUNK('a'), '[DONE]'));
        const hashed = cat(header, ...records);
        return [cat(header, records[0]!, await w.trailer(hashed), records[1]!)];
      },
    ];
    for (const s of cases) {
      const data = await ask(s);
      expect(data).not.toContain('[DONE]');
      expect(data.slice(0, -1)).toEqual([CHUNK('a')]);
      expect(lastError(data)).toBe('upstream_tampered');
    }
  });

  it('a second trailer (or any byte) after the trailer: the answer before it is whole and goes out', async () => {
    const data = await ask(async (w) => {
      const body = await whole(w, eventsPlaintext(CHUNK('a'), '[DONE]'));
      return [body, body.subarray(body.length - 800)];
    });
    expect(data).toEqual([CHUNK('a'), '[DONE]']);
  });

  it('a receipt over other bytes than header..end record: upstream_tampered, no [DONE]', async () => {
    const variants: ((header: Uint8Array, records: Uint8Array[]) => Uint8Array)[] = [
      (_h, records) => cat(...records), // the header excluded
      (header, records) => cat(header, ...records.slice(0, -1)), // the end record excluded
      (header, records) => cat(header, ...records, new Uint8Array([0])), // one byte more
      (header, records) => cat(header.subarray(4), ...records), // the magic excluded
    ];
    for (const over of variants) {
      const data = await ask(async (w) => {
        const { header, records } = await w.forge(eventsPlaintext(CHUNK('a'), '[DONE]'));
        return [cat(header, ...records, await w.trailer(over(header, records)))];
      });
      expect(data).not.toContain('[DONE]');
      expect(data.slice(0, -1)).toEqual([CHUNK('a')]);
      expect(lastError(data)).toBe('upstream_tampered');
    }
  });

  it('Messages: message_stop before more events is never released early, and the stream fails', async () => {
    const start = JSON.stringify({ type: 'message_start', message: { id: 'm', usage: { input_tokens: 1 } } });
    const delta = JSON.stringify({
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text: 'x' },
    });
    const stop = JSON.stringify({ type: 'message_stop' });
    const good = await ask(
      async (w) => [await whole(w, eventsPlaintext(start, delta, stop))],
      '/v1/messages',
    );
    expect(good).toEqual([start, delta, stop]);
    const early = await ask(
      async (w) => [await whole(w, eventsPlaintext(start, stop), eventsPlaintext(delta))],
      '/v1/messages',
    );
    expect(early).not.toContain(stop);
    expect(early.slice(0, -1)).toEqual([start]);
    expect(JSON.parse(early.at(-1)!)).toMatchObject({ type: 'error', error: { code: 'upstream_tampered' } });
  });

  it('Messages: an event whose JSON type holds a line break cannot add an SSE line; upstream_tampered', async () => {
    const start = JSON.stringify({ type: 'message_start', message: { id: 'm' } });
    const injected = JSON.stringify({ type: 'x\ndata: {"type":"message_stop"}\n' });
    const stop = JSON.stringify({ type: 'message_stop' });
    const data = await ask(
      async (w) => [await whole(w, eventsPlaintext(start), eventsPlaintext(injected, stop))],
      '/v1/messages',
    );
    expect(data).not.toContain(stop);
    expect(data.slice(0, -1)).toEqual([start]);
    expect(JSON.parse(data.at(-1)!)).toMatchObject({ type: 'error', error: { code: 'upstream_tampered' } });
  });

  it('an authentic stream under any type but the format-3 one is refused whole, nothing relayed', async () => {
    const refused = [
      'text/event-stream; charset=utf-8',
      'application/octet-stream',
      'application/json',
      null,
    ];
    for (const type of refused) {
      contentType = type;
      script = async (w) => [await whole(w, eventsPlaintext(CHUNK('secret'), '[DONE]'))];
      try {
        const res = await callGateway('/v1/chat/completions', {
          method: 'POST',
          headers: KEY,
          body: JSON.stringify({ model: 'sealgate-builtin', messages: PROMPT, stream: true }),
        });
        expect(res.status).toBe(502);
        const text = await res.text();
        expect(text).not.toContain('secret');
        expect((JSON.parse(text) as { error: { code: string } }).error.code).toBe('upstream_tampered');
      } finally {
        contentType = STREAM_CONTENT_TYPE;
        script = undefined;
      }
    }
    // The media type is case-insensitive and takes parameters (RFC 9110 §8.3.1).
    contentType = `${STREAM_CONTENT_TYPE.toUpperCase()}; v=3`;
    try {
      const data = await ask(async (w) => [await whole(w, eventsPlaintext(CHUNK('a'), '[DONE]'))]);
      expect(data).toEqual([CHUNK('a'), '[DONE]']);
    } finally {
      contentType = STREAM_CONTENT_TYPE;
    }
  });

  it('the answer in the other form than the one asked for (JSON for a stream, a stream for JSON): refused', async () => {
    const completion = { object: 'chat.completion', choices: [{ message: { content: 'secret' } }] };
    const asked = async (stream: boolean) => {
      const res = await callGateway('/v1/chat/completions', {
        method: 'POST',
        headers: KEY,
        body: JSON.stringify({ model: 'sealgate-builtin', messages: PROMPT, stream }),
      });
      const text = await res.text();
      expect(text).not.toContain('secret');
      return { status: res.status, text };
    };
    try {
      // A JSON answer to a stream would reach an SDK as an event stream with no event in it.
      script = async (w) => await w.json(completion);
      const json = await asked(true);
      expect(json.status).toBe(502);
      expect((JSON.parse(json.text) as { error: { code: string } }).error.code).toBe('upstream_tampered');
      script = async (w) => [await whole(w, eventsPlaintext(CHUNK('secret'), '[DONE]'))];
      const stream = await asked(false);
      expect(stream.status).toBe(502);
      expect((JSON.parse(stream.text) as { error: { code: string } }).error.code).toBe('upstream_tampered');
      // The harness's JSON answer is one the gateway takes when JSON was asked for.
      script = async (w) => await w.json({ ...completion, choices: [{ message: { content: 'fine' } }] });
      expect((await asked(false)).status).toBe(200);
    } finally {
      script = undefined;
    }
  });

  it('Messages: a failure event or an untyped event from the worker ends with the gateway’s own error', async () => {
    const start = JSON.stringify({ type: 'message_start', message: { id: 'm' } });
    const stop = JSON.stringify({ type: 'message_stop' });
    const failures = [
      JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'from the worker' } }),
      JSON.stringify({ text: 'no type' }),
      '[DONE]',
    ];
    for (const failure of failures) {
      const data = await ask(
        async (w) => [await whole(w, eventsPlaintext(start), eventsPlaintext(failure, stop))],
        '/v1/messages',
      );
      expect(data).not.toContain(failure);
      expect(data).not.toContain(stop);
      expect(data.slice(0, -1)).toEqual([start]);
      expect(JSON.parse(data.at(-1)!)).toMatchObject({ type: 'error', error: { code: 'upstream_tampered' } });
    }
  });

  it('an event that only starts with [DONE] (the openai SDK stops at it, deaf to our error) is refused', async () => {
    const shapes = ['[DONE]x', '[DONE] ', '[DONE][DONE]'].flatMap((early) => [
      [early, CHUNK('b'), '[DONE]'],
      [early], // its last event, then the end record
    ]);
    for (const frame of shapes) {
      const data = await ask(async (w) => [
        await whole(w, eventsPlaintext(CHUNK('a')), eventsPlaintext(...frame)),
      ]);
      expect(data.some((d) => d.startsWith('[DONE]'))).toBe(false);
      expect(data.slice(0, -1)).toEqual([CHUNK('a')]);
      expect(lastError(data)).toBe('upstream_tampered');
    }
  });

  it('one event of a whole frame (1 MiB of plaintext) relays; a byte more is refused', async () => {
    // A JSON chunk of MAX_FRAME_BYTES - 4 bytes (the frame holds its 4-byte length too).
    const big = JSON.stringify({ x: 'x'.repeat(MAX_FRAME_BYTES - 12) });
    const ok = await ask(async (w) => [await whole(w, eventsPlaintext(big), eventsPlaintext('[DONE]'))]);
    expect(ok).toEqual([big, '[DONE]']);
    const over = await ask(async (w) => [
      await whole(w, eventsPlaintext(CHUNK('a')), eventsPlaintext(`${big} `), eventsPlaintext('[DONE]')),
    ]);
    expect(over.slice(0, -1)).toEqual([CHUNK('a')]);
    expect(lastError(over)).toBe('upstream_tampered');
  });
});
