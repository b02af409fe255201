/**
 * Floods on the REAL stack (`npm run test:faults`; issue #14): after 50 unauthenticated KEK uploads
 * and 2,000 worker challenges against the attestation service, the gateway still rotates its key
 * (its signed uploads are the only ones the service takes) and a new worker still registers (the
 * challenges left nothing behind). The in-process versions run in `npm test`:
 * test/attestation-service/floods.node.test.ts.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerSession } from '../../src/ai-worker/attest-to-service.js';
import { parseEvidenceBundle } from '../../src/attestation/evidence-bundle.js';
import { encodeWorkerConfig, workerConfig } from '../../src/attestation/worker-config.js';
import { toBase64Url } from '../../src/bytes.js';
import { DEV_MEASUREMENT_LABELS, DevSnpPlatform } from '../../src/dev/environment.js';
import { deriveGatewayKey } from '../../src/keys/gateway-key.js';
import { createKek } from '../../src/keys/kek.js';
import { sealKek } from '../../src/keys/kek-transport.js';
import { signKekUpload } from '../../src/keys/kek-upload.js';
import { importDevChain } from '../../src/platform/simulator/dev-chain-json.js';
import { measurementFor } from '../../src/platform/simulator/measurement.js';
import { manifestDigest } from '../../src/policy/manifest-digest.js';
import { LIMITS } from '../../src/policy/manifest-fields.js';
import { kekContext } from '../../src/service-client/kek-binding.js';
import { type E2eStack, startE2eStack, waitUntil } from '../e2e/support.js';

const KEY_POLICY = {
  rotationIntervalSeconds: LIMITS.rotationIntervalSeconds.min,
  overlapSeconds: 30,
  lifetimeSeconds: 240,
};
let stack: E2eStack;

beforeAll(async () => {
  stack = await startE2eStack({ keyPolicy: KEY_POLICY });
}, 240_000);

afterAll(async () => {
  if (stack) expect((await stack.stop()).leftover).toEqual([]);
}, 60_000);

const nowSeconds = () => Math.floor(Date.now() / 1000);
const post = (path: string, body: unknown) =>
  fetch(`${stack.serviceUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

async function serviceKids(): Promise<string[]> {
  const res = await fetch(`${stack.serviceUrl}/v1/keys`);
  return ((await res.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
}

describe('floods against the attestation service on the real stack', () => {
  it('after 50 unauthenticated uploads and 2,000 challenges the gateway rotates and a worker registers', async () => {
    const digest = await manifestDigest(
      new Uint8Array(await readFile(join(stack.dir, 'dev', 'manifest.dev.json'))),
    );
    const context = kekContext(digest);
    const answer = await post('/v1/attestation', {
      nonce: toBase64Url(crypto.getRandomValues(new Uint8Array(32))),
    });
    const hpke = parseEvidenceBundle(await answer.json()).keys.hpke!;
    const attacker = await deriveGatewayKey('an-attacker-who-read-the-public-hpke-key-0123');
    const before = await serviceKids();
    for (let i = 0; i < 50; i++) {
      const kek = await createKek({ notBefore: nowSeconds() + i, notAfter: nowSeconds() + i + 200 });
      const sealed = await sealKek(hpke, kek, { purpose: 'kek-upload', context });
      const body =
        i % 2 === 0
          ? sealed
          : signKekUpload(attacker, sealed, { manifestDigest: context, serviceHpkeKey: hpke });
      expect((await post('/v1/keys', body)).status).toBeGreaterThanOrEqual(400);
    }
    for (let i = 0; i < 2000; i++) expect((await post('/v1/workers/challenge', {})).status).toBe(200);
    expect(await serviceKids()).toEqual(before);

    // The gateway's next rotation still lands: a kid it uploaded after the flood.
    const successor = await waitUntil(
      'the gateway uploaded its successor key',
      async () => (await serviceKids()).find((kid) => !before.includes(kid)),
      { deadlineMs: 150_000, intervalMs: 1000 },
    );
    expect(successor).toMatch(/^[A-Za-z0-9_-]{22}$/);

    // A new worker registers and receives the keys.
    const chain = await importDevChain(
      JSON.parse(await readFile(join(stack.dir, 'dev', 'dev-chain.json'), 'utf8')),
    );
    const session = new WorkerSession({
      serviceUrl: stack.serviceUrl,
      platform: new DevSnpPlatform(chain, await measurementFor(DEV_MEASUREMENT_LABELS.worker), 'worker'),
      manifest: new Uint8Array(await readFile(join(stack.dir, 'dev', 'manifest.dev.json'))),
      manifestDigest: digest,
      config: encodeWorkerConfig(workerConfig({ apiKey: false })),
      log: () => undefined,
    });
    session.start();
    await session.ready;
    expect(session.state).toBe('registered');
    await session.close();
  });
});
