/**
 * The SSE parser against WHATWG HTML §9.2.6 ("Interpreting an event stream"), including every way
 * the network can cut the bytes, and the encoder against the parser.
 */
import { describe, expect, it } from 'vitest';
import {
  encodeSseEvent,
  parseSseBatches,
  parseSseStream,
  type SseEvent,
  SseParser,
} from '../../src/model/sse.js';

function parseAll(...chunks: string[]): SseEvent[] {
  const parser = new SseParser();
  const out = chunks.flatMap((c) => parser.push(c));
  parser.end();
  return out;
}
const data = (events: SseEvent[]) => events.map((e) => e.data);

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const chunk of chunks) c.enqueue(chunk);
      c.close();
    },
  });
}

describe('SseParser (WHATWG HTML §9.2.6)', () => {
  it('dispatches on a blank line, with LF, CRLF and CR line ends alike', () => {
    for (const eol of ['\n', '\r\n', '\r']) {
      expect(data(parseAll(`data: a${eol}${eol}data: b${eol}${eol}`))).toEqual(['a', 'b']);
    }
  });
  it('joins multi-line data with LF and drops exactly one leading space', () => {
    const [e] = parseAll('data: line 1\ndata:line 2\ndata:  indented\n\n');
    expect(e).toEqual({ type: 'message', data: 'line 1\nline 2\n indented', lastEventId: '' });
  });
  it('ignores comments, unknown fields, and events without data', () => {
    expect(parseAll(': keep-alive\n\nfoo: bar\n\nevent: ping\n\ndata: x\n\n')).toEqual([
      { type: 'message', data: 'x', lastEventId: '' },
    ]);
  });
  it('a field with no colon has an empty value ("data" alone is an empty data line)', () => {
    expect(data(parseAll('data\n\n'))).toEqual(['']);
    expect(data(parseAll('data\ndata\n\n'))).toEqual(['\n']);
  });
  it('reads event types and ids; an id with NUL is ignored; the type resets after dispatch', () => {
    const events = parseAll('event: error\nid: 7\ndata: e\n\nid: a\0b\ndata: m\n\n');
    expect(events).toEqual([
      { type: 'error', data: 'e', lastEventId: '7' },
      { type: 'message', data: 'm', lastEventId: '7' },
    ]);
  });
  it('keeps the last valid retry value, ignoring non-digits', () => {
    const p = new SseParser();
    p.push('retry: 1500\n\nretry: 1x\n\n');
    expect(p.retry).toBe(1500);
  });
  it('drops one leading BOM only', () => {
    expect(data(parseAll('\ufeffdata: a\n\n'))).toEqual(['a']);
    expect(parseAll('\ufeff\ufeffdata: a\n\n')).toEqual([]); // the second BOM is part of the field name
  });
  it('discards an event the stream cuts before its blank line', () => {
    expect(data(parseAll('data: a\n\ndata: cut'))).toEqual(['a']);
    expect(data(parseAll('data: a\n\ndata: cut\n'))).toEqual(['a']);
  });
  it('gives the same events however the bytes are split (CRLF split across chunks included)', () => {
    const text = ': c\r\ndata: {"a":1}\r\n\r\nevent: x\rdata: two\rdata: lines\r\rdata: [DONE]\n\n';
    const whole = parseAll(text);
    expect(data(whole)).toEqual(['{"a":1}', 'two\nlines', '[DONE]']);
    for (let i = 0; i <= text.length; i++) {
      expect(parseAll(text.slice(0, i), text.slice(i)), `split at ${i}`).toEqual(whole);
    }
    expect(parseAll(...text.split(''))).toEqual(whole);
  });
  it('an empty read between a CR and its LF leaves them one line end (one event, not two)', () => {
    const whole = parseAll('data: a\r\ndata: b\r\n\r\n');
    expect(data(whole)).toEqual(['a\nb']);
    expect(parseAll('data: a\r', '', '\ndata: b\r\n\r\n')).toEqual(whole);
    expect(parseAll('data: a\r', '', '', '\ndata: b\r', '', '\n\r\n')).toEqual(whole);
  });
  it('reads fields in place: a field name is matched whole, a colon later in the read is not its own', () => {
    const p = new SseParser();
    // "dat" and "datas" are unknown fields; the line without a colon is a field with an empty value.
    expect(p.push('dat: no\ndatas: no\ndata\n\nevent: e:1\ndata: x:y\n\n')).toEqual([
      { type: 'message', data: '', lastEventId: '' },
      { type: 'e:1', data: 'x:y', lastEventId: '' },
    ]);
  });
  it('an event in a read that is mostly padding, or begun in an earlier read, comes out whole', () => {
    // Both take the copying paths (detached / flatCopy): the events must be the same as without.
    const p = new SseParser();
    const padding = `: ${'p'.repeat(4096)}\n`;
    expect(p.push(`${padding}data: small event text\n\n${padding}`)).toEqual([
      { type: 'message', data: 'small event text', lastEventId: '' },
    ]);
    expect(p.push('event: typed\ndata: first line of it\ndata: sec')).toEqual([]);
    expect(p.push(`ond\n${padding}\n`)).toEqual([
      { type: 'typed', data: 'first line of it\nsecond', lastEventId: '' },
    ]);
  });
  it('refuses to hold more than maxPending characters without an event boundary', () => {
    const p = new SseParser({ maxPending: 16 });
    expect(() => p.push('data: 0123456789abcdef')).toThrow(/without an event boundary/);
  });
});

describe('parseSseStream', () => {
  it('decodes UTF-8 split inside a character and yields events as bytes arrive', async () => {
    const bytes = new TextEncoder().encode('data: Grüße 👋\n\ndata: [DONE]\n\n');
    const chunks = Array.from(bytes, (b) => Uint8Array.of(b));
    const out: string[] = [];
    for await (const e of parseSseStream(streamOf(chunks))) out.push(e.data);
    expect(out).toEqual(['Grüße 👋', '[DONE]']);
  });
  it('a zero-length read between CR and LF leaves them one line end (one event, not two)', async () => {
    const enc = new TextEncoder();
    const chunks = [
      enc.encode('data: a\r'),
      new Uint8Array(0),
      enc.encode('\ndata: b\r'),
      new Uint8Array(0),
      enc.encode('\n\r\n'),
    ];
    const out: string[] = [];
    for await (const e of parseSseStream(streamOf(chunks))) out.push(e.data);
    expect(out).toEqual(['a\nb']);
  });
  it('cancels the body when the reader stops early', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(new TextEncoder().encode('data: x\n\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const e of parseSseStream(body)) {
      expect(e.data).toBe('x');
      break;
    }
    expect(cancelled).toBe(true);
  });
});

describe('parseSseBatches', () => {
  it('one batch per read that completes events, none for a read that completes none', async () => {
    const enc = new TextEncoder();
    const chunks = [
      'data: a\n\ndata: b\n\nda',
      'ta: c',
      '\n\n',
      ': only a comment\n',
      'data: [DONE]\n\ndata: cut',
    ];
    const out: string[][] = [];
    for await (const batch of parseSseBatches(streamOf(chunks.map((c) => enc.encode(c))))) {
      out.push(batch.map((e) => e.data));
    }
    expect(out).toEqual([['a', 'b'], ['c'], ['[DONE]']]);
  });
  it('cancels the body when the reader stops early', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(new TextEncoder().encode('data: x\n\ndata: y\n\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const batch of parseSseBatches(body)) {
      expect(batch.map((e) => e.data)).toEqual(['x', 'y']);
      break;
    }
    expect(cancelled).toBe(true);
  });
});

describe('encodeSseEvent', () => {
  it('writes one data line per payload line and round-trips through the parser', () => {
    expect(encodeSseEvent('{"seq":0}')).toBe('data: {"seq":0}\n\n');
    expect(encodeSseEvent('a\nb', 'error')).toBe('event: error\ndata: a\ndata: b\n\n');
    for (const payload of ['', ' leading space', 'a\r\nb\rc\nd', 'only\rcr', 'x\n', '[DONE]']) {
      const [e] = parseAll(encodeSseEvent(payload));
      expect(e?.data).toBe(payload.replace(/\r\n|\r/g, '\n'));
    }
  });
  it('refuses an event type with a line break', () => {
    expect(() => encodeSseEvent('x', 'a\nb')).toThrow(TypeError);
  });
});
