/**
 * What a streamed answer looks like on the client's socket (issue #18: the load generator's CPU per
 * stream, `macro.stream.c8.cpu.load`, is higher on the sealed path than through the passthrough):
 * the macro bench's streamed chat request, sent `CHUNKS_N` times one at a time over one kept-alive
 * raw TCP connection to the sealed stack's gateway and to the passthrough through the Node hop,
 * each answer read until its chunked terminator. Per target: the socket reads per answer (each a
 * `data` event, which is a parse by node:http in a real client), the bytes per answer, and the read
 * sizes of the last few answers (the first read holding the head or not).
 *
 *   [CHUNKS_N=40] npx tsx bench/macro/client-chunks.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startModelServerProcess } from './model-process.js';
import { benchBody, startPassthroughTarget, startSealedTarget, type Target } from './stack-targets.js';

const root = join(import.meta.dirname, '../..');
const N = Number(process.env.CHUNKS_N ?? 40);
const TERMINATOR = '0\r\n\r\n';

/** One answer's socket reads (their sizes), up to and including its chunked terminator. */
function answer(socket: Socket, request: string): Promise<number[]> {
  return new Promise((resolve) => {
    const sizes: number[] = [];
    let tail = '';
    const onData = (data: Buffer) => {
      sizes.push(data.length);
      tail = (tail + data.toString('latin1')).slice(-TERMINATOR.length - 2);
      if (tail.endsWith(`\r\n${TERMINATOR}`) || tail === TERMINATOR) {
        socket.off('data', onData);
        resolve(sizes);
      }
    };
    socket.on('data', onData);
    socket.write(request);
  });
}

async function measure(name: string, target: Target): Promise<void> {
  const url = new URL(target.url);
  const body = benchBody(true);
  const request =
    `POST ${target.path} HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${target.apiKey}\r\n` +
    `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const socket = connect(Number(url.port), url.hostname);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.setNoDelay(true);
  const answers: number[][] = [];
  for (let i = 0; i < N; i++) {
    answers.push(await answer(socket, request));
    await new Promise((resolve) => setTimeout(resolve, 10)); // nothing of this answer still in flight
  }
  socket.destroy();
  const reads = answers.map((a) => a.length).sort((a, b) => a - b);
  const bytes = answers.map((a) => a.reduce((x, y) => x + y, 0)).sort((a, b) => a - b);
  const at = (xs: number[], q: number) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))];
  console.log(
    `${name}: reads per answer p50 ${at(reads, 0.5)} (min ${reads[0]}, max ${reads.at(-1)}); ` +
      `bytes p50 ${at(bytes, 0.5)}; last answers' reads ${JSON.stringify(answers.slice(-4))}`,
  );
}

const dir = await mkdtemp(join(tmpdir(), 'sealgate-chunks-'));
const model = await startModelServerProcess(root);
try {
  const sealed = await startSealedTarget(root, join(dir, 'sealed'), model.url, { port: 18_941 });
  try {
    await measure('sealed', sealed);
  } finally {
    await sealed.close();
  }
  const hop = await startPassthroughTarget(root, join(dir, 'hop'), model.url, { port: 18_942 }, true);
  try {
    await measure('passthrough via the hop', hop);
  } finally {
    await hop.close();
  }
} finally {
  model.child.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);
