/**
 * What one network read of a streamed body costs a workerd request (issue #18, the gateway's
 * streams), run by bench/macro/stream-slope.ts: `GET /?op=<name>&k=<K>` fetches a body that the
 * driver's upstream writes as K separate chunks (`UPSTREAM`, one event loop turn apart) and answers:
 *
 *   pass       the upstream body handed to the runtime as it is (what the plaintext passthrough
 *              does: workerd pumps it natively, no JavaScript per chunk)
 *   drain      every chunk read in JavaScript (`reader.read()`), nothing sent on
 *   relay      every chunk read in JavaScript and written to an `IdentityTransformStream` that is the
 *              response body (what the sealed relay does per network read, without its crypto)
 *   relayCopy  relay, each chunk copied first (the cost of one fresh buffer per read)
 *
 * `drain` answers the number of reads it made in `x-reads`, so the driver can check that K chunks
 * were K reads. The driver reads the workerd process's CPU from /proc; the slope over K is one
 * chunk's in-request cost.
 */
const UPSTREAM = 'http://127.0.0.1:18899';
const SSE = { 'content-type': 'text/event-stream' };

interface Pipe {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

async function drain(body: ReadableStream<Uint8Array>): Promise<Response> {
  const reader = body.getReader();
  let reads = 0;
  while (!(await reader.read()).done) reads++;
  return new Response(String(reads), { headers: { 'x-reads': String(reads) } });
}

function relay(body: ReadableStream<Uint8Array>, copy: boolean): Response {
  const Ctor = (globalThis as unknown as { IdentityTransformStream: new () => Pipe }).IdentityTransformStream;
  const pipe = new Ctor();
  const writer = pipe.writable.getWriter();
  const reader = body.getReader();
  const pump = async () => {
    for (;;) {
      const next = await reader.read();
      if (next.done) break;
      await writer.write(copy ? next.value.slice() : next.value);
    }
    await writer.close();
  };
  void pump();
  return new Response(pipe.readable, { headers: SSE });
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const op = url.searchParams.get('op');
    const upstream = await fetch(`${UPSTREAM}/?k=${Number(url.searchParams.get('k'))}`);
    const body = upstream.body;
    if (!body) return new Response('no upstream body', { status: 502 });
    if (op === 'pass') return new Response(body, { headers: SSE });
    if (op === 'drain') return drain(body);
    if (op === 'relay' || op === 'relayCopy') return relay(body, op === 'relayCopy');
    return new Response(`unknown op ${op}`, { status: 400 });
  },
};
