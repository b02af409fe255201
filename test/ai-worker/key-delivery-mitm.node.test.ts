/**
 * A man in the middle on the worker ↔ attestation-service hop — a real HTTP proxy on loopback in
 * front of the real service — cannot hand the worker a key (issue #14 item 3/"signed key
 * deliveries"). The worker's `hpke` key is public (it travels in the evidence bundle), so the
 * proxy can seal a KEK of its choosing to it; before key answers were signed, the worker opened
 * and used such a key. Now every key answer carries the attested service key's signature over the
 * keys, the worker's certificate and a nonce (src/service-client/kek-delivery.ts), and the worker
 * refuses an answer that is re-sealed, unsigned, replayed (stale) or addressed to another worker.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerSession } from '../../src/ai-worker/attest-to-service.js';
import { encodeWorkerConfig, workerConfig } from '../../src/attestation/worker-config.js';
import { type RunningService, startService } from '../../src/attestation-service/main.js';
import { fromBase64Url, toBase64Url } from '../../src/bytes.js';
import { createDevelopmentEnvironment, type DevelopmentEnvironment } from '../../src/dev/environment.js';
import { createKek, type Kek } from '../../src/keys/kek.js';
import { sealKek } from '../../src/keys/kek-transport.js';
import { attestService } from '../../src/service-client/attest-service.js';
import { kekContext } from '../../src/service-client/kek-binding.js';
import { uploadKek } from '../../src/service-client/keys.js';

type Json = Record<string, unknown>;
type Mode = 'pass' | 'inject' | 'strip' | 'replay' | 'readdress';

const FAILED = 'cannot get keys from the attestation service; will retry';
const nowSeconds = () => Math.floor(Date.now() / 1000);
const closers: (() => Promise<void>)[] = [];
let env: DevelopmentEnvironment;
let service: RunningService;

/** The proxy: forwards every call to the real service over HTTP, and tampers as `mode` says. */
class Mitm {
  mode: Mode = 'pass';
  /** The worker's `hpke` public key, read from the evidence bundle it registers with. */
  workerHpke: Uint8Array | undefined;
  /** The attacker's own KEK, which it wants the worker to encrypt prompts to / decrypt with. */
  readonly attackerKek: Promise<Kek> = createKek({
    notBefore: nowSeconds() - 5,
    notAfter: nowSeconds() + 600,
  });
  /** A genuine, signed poll answer, recorded to be replayed later. */
  recorded: Json | undefined;
  /** Another worker's certificate, to re-address this worker's polls to it. */
  otherCertificate = '';
  url = '';

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = req.url ?? '/';
    let body = Buffer.concat(chunks).toString('utf8');
    if (path === '/v1/workers/register') {
      const keys = (JSON.parse(body) as { bundle: { keys: Record<string, string> } }).bundle.keys;
      this.workerHpke = fromBase64Url(keys.hpke!);
    }
    if (path === '/v1/workers/keys' && this.mode === 'readdress') {
      body = JSON.stringify({ ...(JSON.parse(body) as Json), certificate: this.otherCertificate });
    }
    const upstream = await fetch(`${service.url}${path}`, {
      method: req.method ?? 'GET',
      ...(req.method === 'POST' ? { body, headers: { 'content-type': 'application/json' } } : {}),
    });
    let text = await upstream.text();
    if (upstream.ok && (path === '/v1/workers/register' || path === '/v1/workers/keys')) {
      text = JSON.stringify(await this.#tamper(path, JSON.parse(text) as Json));
    }
    res.writeHead(upstream.status, { 'content-type': 'application/json' });
    res.end(text);
  }

  async #tamper(path: string, answer: Json): Promise<Json> {
    if (path === '/v1/workers/keys' && this.mode === 'pass') this.recorded = answer;
    if (this.mode === 'replay' && path === '/v1/workers/keys' && this.recorded) return this.recorded;
    if (this.mode !== 'inject' && this.mode !== 'strip') return answer;
    // Re-seal: the attacker's KEK, sealed to the worker's public hpke key exactly as the service would.
    const forged = await sealKek(this.workerHpke!, await this.attackerKek, {
      purpose: 'kek-release',
      context: kekContext(env.manifestDigest),
    });
    const out: Json = { ...answer, keys: [forged] };
    if (this.mode === 'strip') delete out.sig;
    return out;
  }
}

function events() {
  const list: { message: string; detail?: Json }[] = [];
  return {
    list,
    log: (_level: string, message: string, detail?: Json) => {
      list.push({ message, ...(detail ? { detail } : {}) });
    },
    /** The next entry with one of `messages` logged after this call. */
    async next(...messages: string[]): Promise<{ message: string; detail?: Json }> {
      const from = list.length;
      for (;;) {
        const hit = list.slice(from).find((e) => messages.includes(e.message));
        if (hit) return hit;
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

function session(url: string, log: ReturnType<typeof events>): WorkerSession {
  const s = new WorkerSession({
    serviceUrl: url,
    platform: env.workerPlatform,
    manifest: env.manifestBytes,
    manifestDigest: env.manifestDigest,
    config: encodeWorkerConfig(workerConfig({ apiKey: false })),
    pollIntervalMs: 50,
    retryInitialMs: 20,
    retryMaxMs: 50,
    minRefreshIntervalMs: 0,
    log: log.log,
  });
  closers.push(() => s.close());
  return s;
}

/** The gateway's part: a genuine KEK uploaded to the real service. */
async function uploadGenuine(): Promise<Kek> {
  const attested = await attestService({
    baseUrl: service.url,
    fetch: (u, i) => fetch(u, i),
    manifest: env.manifest,
    manifestDigest: env.manifestDigest,
    now: new Date(),
    // Signed as the gateway signs it: the gateway's own bucket, not the anonymous per-caller one the
    // workers' attestations of the service draw from (all of this test's callers share 127.0.0.1).
    gatewayKey: env.gatewayKey,
  });
  const kek = await createKek({ notBefore: nowSeconds() - 5, notAfter: nowSeconds() + 600 });
  await uploadKek({
    gatewayKey: env.gatewayKey,
    baseUrl: service.url,
    fetch: (u, i) => fetch(u, i),
    service: attested,
    kek,
    manifestDigest: env.manifestDigest,
  });
  return kek;
}

const reasonOf = (e: { detail?: Json }) => (e.detail?.detail as Json | undefined)?.reason;

beforeAll(async () => {
  env = await createDevelopmentEnvironment({ now: new Date() });
  service = await startService({
    manifestBytes: env.manifestBytes,
    platform: env.servicePlatform,
    port: 0,
    log: () => undefined,
  });
  closers.push(() => service.close());
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

describe('key deliveries through a man in the middle', () => {
  it('a re-sealed key in the registration answer is refused; the worker keeps no certificate', async () => {
    await uploadGenuine();
    const mitm = new Mitm();
    await mitm.start();
    mitm.mode = 'inject';
    const log = events();
    const victim = session(mitm.url, log);
    victim.start();
    // Whichever comes first: before key answers were signed, the forged key was received.
    const failure = await log.next(FAILED, 'key received');
    expect(victim.keys.ring.has((await mitm.attackerKek).kid)).toBe(false);
    // Stop its retries: each attests the service, which rate-limits attestations per caller.
    await victim.close();
    expect(failure.detail).toMatchObject({ code: 'fetch_failed' });
    expect(reasonOf(failure)).toBe('key_delivery_signature_invalid');
    expect(victim.keys.ring.has((await mitm.attackerKek).kid)).toBe(false);
    expect(victim.keys.count(nowSeconds())).toBe(0);
    expect(victim.certificate).toBeNull();
  });

  it('re-sealed, unsigned, replayed and re-addressed poll answers are refused; genuine ones still work', async () => {
    const genuine = await uploadGenuine();
    const mitm = new Mitm();
    await mitm.start();
    const log = events();
    const victim = session(mitm.url, log);
    victim.start();
    await victim.ready;
    expect(victim.keys.ring.has(genuine.kid)).toBe(true);
    // Another registered worker (straight to the service) whose certificate the proxy borrows.
    const otherLog = events();
    const other = session(service.url, otherLog);
    other.start();
    await other.ready;
    mitm.otherCertificate = toBase64Url(other.certificate!);
    const attackerKid = (await mitm.attackerKek).kid;
    // A genuine signed poll answer passes the proxy and is recorded for the replay below.
    await victim.keys.refresh();
    expect(mitm.recorded?.sig).toEqual(expect.any(String));

    for (const [mode, reason] of [
      ['inject', 'key_delivery_signature_invalid'],
      ['strip', 'key_delivery_unsigned'],
      ['replay', 'key_delivery_signature_invalid'],
    ] as const) {
      mitm.mode = mode;
      const failure = await log.next(FAILED, 'key received');
      expect([mode, failure.message, reasonOf(failure)]).toEqual([mode, FAILED, reason]);
      expect(victim.keys.ring.has(attackerKid)).toBe(false);
    }
    // A poll re-addressed to another worker's certificate no longer reaches a signed answer: the
    // service refuses it, the poll being signed by the victim for its own certificate.
    mitm.mode = 'readdress';
    const REFUSED = 'attestation service no longer accepts our certificate: attesting again';
    expect((await log.next(REFUSED, FAILED, 'key received')).message).toBe(REFUSED);
    expect(victim.keys.ring.has(attackerKid)).toBe(false);

    // Back to an honest hop: a rotated genuine key arrives.
    mitm.mode = 'pass';
    const next = await uploadGenuine();
    await log.next('key received');
    while (!victim.keys.ring.has(next.kid)) await new Promise((r) => setTimeout(r, 10));
    expect(victim.keys.ring.has(attackerKid)).toBe(false);
  });
});
