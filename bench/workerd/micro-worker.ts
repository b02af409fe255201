/**
 * The micro benchmarks inside workerd. Bundled with esbuild and run by bench/run.ts through
 * miniflare (the real workerd binary). Timing is performance.now() inside workerd, many iterations
 * per sample (bench/micro/cases.ts `measure`).
 *
 *   GET  /first          the very first SNP verification of this isolate (call it first)
 *   GET  /cases          [{name, what, bytes}]
 *   POST /run {name, sampleMs?, samples?}   → Sample
 *
 * Bindings: SNP_VECTOR (JSON text of an SnpVector, or ""), TDX_VECTOR (JSON text of a TdxVector, or
 * ""), SEALGATE_KV (a KV namespace).
 */

import type { KvNamespace } from '../../src/gateway/cf-types.js';
import { type StoredKek, unwrapKek, wrapKek } from '../../src/gateway/kv/at-rest.js';
import {
  type AttestationRecord,
  type PublishedKeys,
  putAttestation,
  putPublishedKeys,
  readAttestation,
  readPublishedKeys,
} from '../../src/gateway/kv/kv-store.js';
import { createKek } from '../../src/keys/kek.js';
import { KeyRing } from '../../src/keys/key-ring.js';
import { firstVerification, type MicroCase, measure, microCases, type SnpVector } from '../micro/cases.js';
import type { TdxVector } from '../micro/tdx-cases.js';

interface Env {
  SNP_VECTOR: string;
  TDX_VECTOR: string;
  SEALGATE_KV: KvNamespace;
}

const DIGEST = 'a'.repeat(64);
const SECRET = 'bench-gateway-secret-0123456789abcdef';

/** workerd-only cases: what a cache hit costs on the gateway (KV reads). */
async function kvCases(kv: KvNamespace): Promise<MicroCase[]> {
  const now = Math.floor(Date.now() / 1000);
  const nonce = 'b'.repeat(64);
  const record: AttestationRecord = {
    v: 1,
    manifestDigest: DIGEST,
    nonce,
    verifiedAt: now,
    expiresAt: now + 3600,
    simulated: false,
    product: 'Milan',
    measurement: 'c'.repeat(96),
    reportedTcb: { bootloader: 3, tee: 0, snp: 8, microcode: 115 },
    leafSha256: 'd'.repeat(64),
    leafNotAfter: now + 86_400 * 365,
    rootSha256: 'e'.repeat(64),
    hpke: 'A'.repeat(1622),
    signing: 'B'.repeat(87),
  };
  await putAttestation(kv, SECRET, record, 3600);
  const kek = await createKek({ notBefore: now - 60, notAfter: now + 86_400 });
  const stored: StoredKek = await wrapKek(SECRET, DIGEST, kek);
  const published: PublishedKeys = { v: 1, manifestDigest: DIGEST, updatedAt: now, keys: [stored] };
  await putPublishedKeys(kv, SECRET, published, now);
  return [
    {
      name: 'snp.verdict.kv',
      what: 'the KV-cached verdict: read att:<digest>:current, then att:<digest>:<nonce>, verify both MACs, parse, check expiry (miniflare KV, local)',
      bytes: 0,
      run: async () => {
        const r = await readAttestation(kv, SECRET, DIGEST, Math.floor(Date.now() / 1000));
        if (!r.ok) throw new Error(`no record: ${r.reason}`);
        return r.value;
      },
    },
    {
      name: 'gateway.keys.kvRefresh',
      what: "the request path's key refresh (every 30 s per isolate): read keys:<digest>, verify its MAC, unwrap the KEK at rest, build the KeyRing",
      bytes: 0,
      run: async () => {
        const p = await readPublishedKeys(kv, SECRET, DIGEST);
        if (!p.ok) throw new Error(`no keys: ${p.reason}`);
        const ring = new KeyRing();
        for (const k of p.value.keys) await ring.add(await unwrapKek(SECRET, DIGEST, k));
        return ring.current(Math.floor(Date.now() / 1000));
      },
    },
  ];
}

let cases: Promise<MicroCase[]> | undefined;

function snpVector(env: Env): SnpVector | null {
  return env.SNP_VECTOR ? (JSON.parse(env.SNP_VECTOR) as SnpVector) : null;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    try {
      if (url.pathname === '/first') {
        const v = snpVector(env);
        return Response.json({ ms: v ? await firstVerification(v) : null });
      }
      const tdx = env.TDX_VECTOR ? (JSON.parse(env.TDX_VECTOR) as TdxVector) : null;
      cases ??= (async () => [
        ...(await microCases(snpVector(env), { tdx })),
        ...(await kvCases(env.SEALGATE_KV)),
      ])();
      const all = await cases;
      if (url.pathname === '/cases') {
        return Response.json(all.map(({ name, what, bytes }) => ({ name, what, bytes })));
      }
      if (url.pathname === '/run' && request.method === 'POST') {
        const { name, sampleMs, samples } = (await request.json()) as {
          name: string;
          sampleMs?: number;
          samples?: number;
        };
        const c = all.find((x) => x.name === name);
        if (!c) return Response.json({ error: `no case ${name}` }, { status: 404 });
        return Response.json(await measure(c, sampleMs, samples));
      }
      return new Response('not found', { status: 404 });
    } catch (e) {
      return Response.json(
        { error: e instanceof Error ? (e.stack ?? e.message) : String(e) },
        { status: 500 },
      );
    }
  },
};
