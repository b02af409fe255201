/**
 * What one small step of a sealed exchange costs when a request comes alone (issue #18 target 5,
 * docs/gateway.md "Where the time to first chunk goes"). The AI worker's own envelope backend
 * (src/ai-worker/node-envelope-crypto.ts) opens a 4 KiB sealed request's key and body — AES-KW
 * unwrap, HKDF, AES-256-GCM open — timed step by step with `process.hrtime`, in three conditions:
 *
 *   hot    back to back, as a tight loop or a loaded server runs them;
 *   idle   after the thread slept `ms` (a timer), as a request that comes alone finds the process;
 *   spin   after the thread ran `ms` of other JavaScript (a busy loop), as a step finds it after
 *          the code of the step before.
 *
 * Medians of `rounds` samples per condition. `npm run bench` reports the idle figures against the
 * hot ones (`node.envelope.coldStep.*`: ratio = the factor); run alone it prints every condition:
 *
 *   [COLD_ROUNDS=300] [COLD_MS=1,5] npx tsx bench/micro/cold-steps.ts
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { nodeEnvelopeCrypto as backend } from '../../src/ai-worker/node-envelope-crypto.js';
import { HKDF_INFO } from '../../src/envelope/data-key.js';
import { createKek } from '../../src/keys/kek.js';
import type { MicroResult } from './run-micro.js';

const STEPS = ['unwrap', 'hkdf', 'gcmOpen'] as const;
const WHAT: Record<(typeof STEPS)[number], string> = {
  unwrap: 'AES-KW unwrap of the DEK',
  hkdf: 'HKDF-SHA256 of the request key',
  gcmOpen: 'AES-256-GCM open of a 4 KiB body',
};

/** The three conditions' medians per step (µs), each condition `rounds` openings. */
export async function coldSteps(
  rounds: number,
  gapsMs: readonly number[],
): Promise<{ condition: string; us: number[] }[]> {
  const kek = await createKek({ notBefore: 0, notAfter: 4_000_000_000 });
  const { dek, wk } = await backend.importAndWrapDek(kek, randomBytes(32));
  const key = await backend.deriveAesKey(dek, new Uint8Array(0), HKDF_INFO.request);
  const iv = randomBytes(12);
  const aad = randomBytes(160);
  const ct = await backend.gcmSeal(key, iv, aad, randomBytes(4096));
  const us = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1000;
  const open = async (): Promise<number[]> => {
    let t = process.hrtime.bigint();
    const d = await backend.unwrapDek(kek, wk, 'cold-steps');
    const unwrap = us(t);
    t = process.hrtime.bigint();
    const k = await backend.deriveAesKey(d, new Uint8Array(0), HKDF_INFO.request);
    const hkdf = us(t);
    t = process.hrtime.bigint();
    await backend.gcmOpen(k, iv, aad, ct, 'cold-steps');
    return [unwrap, hkdf, us(t)];
  };
  const condition = async (before: () => Promise<void> | void): Promise<number[]> => {
    const samples: number[][] = STEPS.map(() => []);
    for (let i = 0; i < rounds; i++) {
      await before();
      for (const [j, v] of (await open()).entries()) samples[j]!.push(v);
    }
    return samples.map((s) => s.sort((a, b) => a - b)[s.length >> 1]!);
  };
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const spin = (ms: number) => {
    const end = performance.now() + ms;
    while (performance.now() < end);
  };
  for (let i = 0; i < 2000; i++) await open(); // JIT and OpenSSL warm
  const out = [{ condition: 'hot', us: await condition(() => undefined) }];
  for (const ms of gapsMs) out.push({ condition: `idle${ms}ms`, us: await condition(() => sleep(ms)) });
  for (const ms of gapsMs) out.push({ condition: `spin${ms}ms`, us: await condition(() => spin(ms)) });
  return out;
}

/** `node.envelope.coldStep.<step>.idle<ms>ms` against the hot figure of the same step. */
export async function coldStepResults(
  rounds = 200,
  gapsMs: readonly number[] = [1, 5],
): Promise<MicroResult[]> {
  const rows = await coldSteps(rounds, gapsMs);
  const hot = rows[0]!.us;
  return rows
    .filter((r) => r.condition.startsWith('idle'))
    .flatMap((r) =>
      STEPS.map((step, j) => ({
        name: `envelope.coldStep.${step}.${r.condition}`,
        what: `${WHAT[step]} (the AI worker's node:crypto backend) after the thread slept ${r.condition.slice(4)}; baseline: the same step back to back`,
        bytes: 0,
        msPerOp: r.us[j]! / 1000,
        minMsPerOp: r.us[j]! / 1000,
        samples: rounds,
        iterationsPerSample: 1,
        baselineMsPerOp: hot[j]! / 1000,
      })),
    );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rounds = Number(process.env.COLD_ROUNDS ?? 300);
  const rows = await coldSteps(rounds, (process.env.COLD_MS ?? '1,5').split(',').map(Number));
  const hot = rows[0]!.us;
  process.stdout.write(`µs (median of ${rounds})   ${STEPS.map((s) => s.padStart(16)).join('')}\n`);
  for (const { condition, us } of rows) {
    const cells = us.map((x, j) => `${x.toFixed(1)} (${(x / hot[j]!).toFixed(1)}×)`.padStart(16));
    process.stdout.write(`${condition.padEnd(22)} ${cells.join('')}\n`);
  }
}
