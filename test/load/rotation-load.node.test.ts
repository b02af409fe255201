/**
 * Load across key rotations (issue #6 part 3), `npm run test:load`: 200 concurrent streaming
 * clients through the REAL local stack (`startStack`: gateway Worker under `wrangler dev` with its
 * key-rotation Durable Object, attestation service and AI worker with the built-in model, on
 * SIMULATED hardware) while the gateway rotates its key at least 3 times. The stack runs the
 * shortest rotation the manifest parser allows (interval 60 s), so 3 rotations take ~3 minutes.
 *
 * Every request must succeed and every answer must be complete and correct: the built-in model is
 * deterministic (`chatReplyWords`), so the streamed text is compared with what it must be, and the
 * stream must end with `[DONE]` and no error event. Figures go to docs/load.md (generated; the
 * machine is shared, so the load average is written beside them). Nothing asserts a duration.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningStack, startStack } from '../../src/dev/stack.js';
import { chatReplyWords } from '../../src/model/builtin-text.js';
import { parseSseStream } from '../../src/model/sse.js';
import { LIMITS } from '../../src/policy/manifest-fields.js';
import { freePort } from '../e2e/support.js';
import { runGatewayInMiniflare } from './miniflare-gateway.js';

const CLIENTS = Number(process.env.SEALGATE_LOAD_CLIENTS ?? 200);
/** `wrangler` runs the gateway under `wrangler dev` instead (to see its dev proxy drop POSTs). */
const RUNNER = process.env.SEALGATE_LOAD_GATEWAY === 'wrangler' ? 'wrangler dev' : 'Miniflare';
const ROTATIONS = 3;
const KEY_POLICY = {
  rotationIntervalSeconds: LIMITS.rotationIntervalSeconds.min,
  overlapSeconds: 30,
  lifetimeSeconds: 240,
};
/** Only bounds a hang (3 rotations are due ~3 min after the first key). */
const DEADLINE_MS = 9 * 60_000;

let stack: RunningStack;
/** Connections that failed before any response and were retried (see streamOnce). */
let connectionRetries = 0;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-load-'));
  stack = await startStack({
    port: await freePort(),
    servicePort: 0,
    workerPort: 0,
    devDir: join(dir, 'dev'),
    persistTo: join(dir, 'state'),
    verbose: process.env.SEALGATE_E2E_VERBOSE === '1',
    readyTimeoutMs: 150_000,
    keyPolicy: KEY_POLICY,
    workerPollIntervalMs: 1000,
    ...(RUNNER === 'Miniflare' ? { runGateway: (input) => runGatewayInMiniflare(dir, input) } : {}),
  });
}, 240_000);

afterAll(async () => {
  await stack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

interface Outcome {
  ok: boolean;
  /** Seconds since the load started, when the request ended. */
  at?: number;
  kid: string | null;
  ms: number;
  error?: string;
}

/** One streamed chat completion, checked end to end. */
async function streamOnce(client: number, n: number): Promise<Outcome> {
  const content = `load client ${client} request ${n} says hello`;
  const expected = chatReplyWords(content).join(' ');
  const started = performance.now();
  try {
    // A connection that fails before any response (reset keep-alive socket, refused under the
    // start burst) is retried, at most twice, as the OpenAI SDKs do; nothing else ever is — an
    // HTTP error, a typed error event, a cut or wrong answer is a failure. Retries are counted.
    let res: Response | undefined;
    for (let attempt = 0; !res; attempt++) {
      try {
        res = await fetch(`${stack.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'sealgate-builtin',
            stream: true,
            messages: [{ role: 'user', content }],
          }),
        });
      } catch (e) {
        if (attempt >= 2) throw e;
        connectionRetries++;
      }
    }
    const kid = res.headers.get('x-sealgate-key-id');
    if (res.status !== 200 || !res.body) {
      return {
        ok: false,
        kid,
        ms: performance.now() - started,
        error: `HTTP ${res.status}: ${await res.text()}`,
      };
    }
    let text = '';
    let done = false;
    let finish: string | null = null;
    for await (const event of parseSseStream(res.body)) {
      if (done) return { ok: false, kid, ms: performance.now() - started, error: 'data after [DONE]' };
      if (event.data === '[DONE]') {
        done = true;
        continue;
      }
      const chunk = JSON.parse(event.data) as {
        error?: { code: string };
        choices?: { delta?: { content?: string }; finish_reason?: string | null }[];
      };
      if (chunk.error)
        return { ok: false, kid, ms: performance.now() - started, error: `event ${chunk.error.code}` };
      text += chunk.choices?.[0]?.delta?.content ?? '';
      finish = chunk.choices?.[0]?.finish_reason ?? finish;
    }
    const ms = performance.now() - started;
    if (!done) return { ok: false, kid, ms, error: 'no [DONE]' };
    if (finish !== 'stop') return { ok: false, kid, ms, error: `finish_reason ${finish}` };
    if (text !== expected) return { ok: false, kid, ms, error: `wrong answer: ${JSON.stringify(text)}` };
    return { ok: true, kid, ms };
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause ? ` (${cause.code ?? ''} ${cause.message ?? ''})` : '';
    return { ok: false, kid: null, ms: performance.now() - started, error: `${(e as Error).message}${why}` };
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

describe('load across key rotations', () => {
  it(
    `${CLIENTS} concurrent streaming clients through ${ROTATIONS} rotations: zero failures, every answer complete and correct`,
    async () => {
      const outcomes: Outcome[] = [];
      const kids: string[] = []; // in order of first appearance
      let stop = false;
      const load1 = loadavg()[0]!;
      const started = Date.now();
      const client = async (i: number) => {
        for (let n = 0; !stop; n++) {
          const o = await streamOnce(i, n);
          o.at = (Date.now() - started) / 1000;
          outcomes.push(o);
          if (o.kid && !kids.includes(o.kid)) kids.push(o.kid);
          if (kids.length > ROTATIONS) stop = true; // seen the first key and 3 successors
          if (Date.now() - started > DEADLINE_MS) stop = true;
        }
      };
      await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
      const seconds = (Date.now() - started) / 1000;
      const load2 = loadavg()[0]!;

      const failures = outcomes.filter((o) => !o.ok);
      const ms = outcomes.map((o) => o.ms).sort((a, b) => a - b);
      const perKid = kids.map((kid) => outcomes.filter((o) => o.kid === kid).length);
      const errorKinds = [...new Set(failures.map((f) => f.error))].slice(0, 5);
      // When failures ended (10 s buckets since the start), and when each key id was first seen.
      const failureTimes = [...new Set(failures.map((f) => Math.floor((f.at ?? 0) / 10) * 10))]
        .sort((a, b) => a - b)
        .map(
          (t) =>
            `${t}–${t + 10} s: ${failures.filter((f) => Math.floor((f.at ?? 0) / 10) * 10 === t).length}`,
        );
      const firstSeen = kids.map((kid) =>
        Math.min(...outcomes.filter((o) => o.kid === kid).map((o) => o.at ?? 0)).toFixed(0),
      );
      const report = [
        '# Load across key rotations',
        '',
        'Generated by `npm run test:load` (test/load/rotation-load.node.test.ts); do not edit by hand.',
        `The real local stack (the gateway Worker under ${RUNNER}, one workerd with real KV and its`,
        'key-rotation Durable Object; attestation service and AI worker with the built-in model,',
        'simulated hardware), key policy',
        `interval ${KEY_POLICY.rotationIntervalSeconds} s / overlap ${KEY_POLICY.overlapSeconds} s / lifetime ${KEY_POLICY.lifetimeSeconds} s.`,
        `${CLIENTS} clients each stream chat completions back to back (raw fetch, SSE; a connection that`,
        'fails before any response is retried at most twice, as the OpenAI SDKs do) until the gateway',
        `has sealed under ${ROTATIONS + 1} keys (${ROTATIONS} rotations); every answer is checked complete (\`[DONE]\`,`,
        '`finish_reason: stop`, no error event) and equal to the deterministic expected text.',
        '',
        '| figure | value |',
        '|---|---|',
        `| run | ${new Date(started).toISOString()} |`,
        `| concurrent clients | ${CLIENTS} |`,
        `| requests | ${outcomes.length} |`,
        `| failed requests | ${failures.length} |`,
        `| connection-level retries (no response; at most 2 per request) | ${connectionRetries} |`,
        `| rotations seen (distinct key ids − 1) | ${kids.length - 1} |`,
        `| requests per key id, in order | ${perKid.join(', ')} |`,
        `| key id first seen (s after start) | ${firstSeen.join(', ')} |`,
        `| duration | ${seconds.toFixed(1)} s |`,
        `| throughput | ${(outcomes.length / seconds).toFixed(1)} streamed requests/s |`,
        `| latency p50 (whole stream) | ${percentile(ms, 50).toFixed(0)} ms |`,
        `| latency p99 (whole stream) | ${percentile(ms, 99).toFixed(0)} ms |`,
        `| latency max | ${(ms.at(-1) ?? 0).toFixed(0)} ms |`,
        `| errors | ${failures.length === 0 ? 'none' : errorKinds.join('; ')} |`,
        ...(failures.length > 0 ? [`| failures by time | ${failureTimes.join('; ')} |`] : []),
        `| machine | ${process.platform} ${process.arch}, Node ${process.versions.node}; load average (1 min) ${load1.toFixed(2)} at start, ${load2.toFixed(2)} at end — shared with other jobs |`,
        '',
        'Latency is measured in the same process that runs the AI worker and the attestation service,',
        'on a shared 2-core machine: it shows that nothing is dropped across rotations, not production',
        'speed (`npm run bench` measures speed).',
        '',
        'Without those retries, a run on 2026-11-28 had 62 of 9042 requests fail, every one a reset',
        'socket before any response (42 of them in the first 10 s, as 200 connections open at once);',
        'none was a gateway error or a wrong or incomplete answer.',
        '',
        'Why Miniflare and not `wrangler dev`: wrangler puts its dev ProxyWorker (a second workerd) in',
        'front of the Worker, and under this load that hop drops POSTs before the gateway sees them —',
        "wrangler's own `503 Your worker restarted mid-request` or a reset socket (cloudflare/workers-sdk",
        '#14641, #15317). Same test through `wrangler dev` on 2026-11-28 (`SEALGATE_LOAD_GATEWAY=wrangler`):',
        '3439 requests, 895 failed, every failure one of those two dev-proxy errors; none was a gateway',
        'error, a wrong or incomplete answer; 3 rotations seen. The gateway code is the same bundle',
        '(`wrangler deploy --dry-run` builds it).',
        '',
      ].join('\n');
      await writeFile(join(import.meta.dirname, '..', '..', 'docs', 'load.md'), report);
      console.log(report);

      expect(failures.map((f) => f.error).slice(0, 5)).toEqual([]);
      expect(kids.length).toBeGreaterThanOrEqual(ROTATIONS + 1);
      expect(perKid.every((n) => n > 0)).toBe(true);
    },
    DEADLINE_MS + 120_000,
  );
});
