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
 * Medians of ROUNDS samples per condition. Nothing in src/ is changed to measure.
 *
 *   [COLD_ROUNDS=300] [COLD_MS=1,5] npx tsx bench/macro/cold-steps.ts
 */
import { randomBytes } from 'node:crypto';
import { nodeEnvelopeCrypto as backend } from '../../src/ai-worker/node-envelope-crypto.js';
import { HKDF_INFO } from '../../src/envelope/data-key.js';
import { createKek } from '../../src/keys/kek.js';

const ROUNDS = Number(process.env.COLD_ROUNDS ?? 300);
const GAPS = (process.env.COLD_MS ?? '1,5').split(',').map(Number);
const STEPS = ['unwrap', 'hkdf', 'gcmOpen'] as const;

const kek = await createKek({ notBefore: 0, notAfter: 4_000_000_000 });
const { dek, wk } = await backend.importAndWrapDek(kek, randomBytes(32));
const key = await backend.deriveAesKey(dek, new Uint8Array(0), HKDF_INFO.request);
const iv = randomBytes(12);
const aad = randomBytes(160);
const ct = await backend.gcmSeal(key, iv, aad, randomBytes(4096));

const us = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1000;

/** One opening, each step timed (µs). */
async function open(): Promise<number[]> {
  let t = process.hrtime.bigint();
  const d = await backend.unwrapDek(kek, wk, 'cold-steps');
  const unwrap = us(t);
  t = process.hrtime.bigint();
  const k = await backend.deriveAesKey(d, new Uint8Array(0), HKDF_INFO.request);
  const hkdf = us(t);
  t = process.hrtime.bigint();
  await backend.gcmOpen(k, iv, aad, ct, 'cold-steps');
  return [unwrap, hkdf, us(t)];
}

async function condition(before: () => Promise<void> | void): Promise<number[]> {
  const samples: number[][] = STEPS.map(() => []);
  for (let i = 0; i < ROUNDS; i++) {
    await before();
    (await open()).forEach((v, j) => samples[j]!.push(v));
  }
  return samples.map((s) => s.sort((a, b) => a - b)[s.length >> 1]!);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const spin = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

for (let i = 0; i < 2000; i++) await open(); // JIT and OpenSSL warm
const rows: [string, number[]][] = [['hot', await condition(() => undefined)]];
for (const ms of GAPS) rows.push([`idle ${ms} ms`, await condition(() => sleep(ms))]);
for (const ms of GAPS) rows.push([`spin ${ms} ms`, await condition(() => spin(ms))]);
const hot = rows[0]![1];
process.stdout.write(`µs (median of ${ROUNDS})   ${STEPS.map((s) => s.padStart(16)).join('')}\n`);
for (const [name, v] of rows) {
  const cells = v.map((x, j) => `${x.toFixed(1)} (${(x / hot[j]!).toFixed(1)}×)`.padStart(16));
  process.stdout.write(`${name.padEnd(22)} ${cells.join('')}\n`);
}
