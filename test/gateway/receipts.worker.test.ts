/**
 * Receipts through the real gateway inside workerd (docs/protocol.md "Receipts"): the key-rotation
 * DO attests the REAL service and records its evidence for receipts; every answer — JSON and
 * stream — comes with `x-sealgate-receipt`, and `GET /v1/receipts/{id}` returns a bundle that
 * verifies offline (verifyReceiptBundle, here in workerd) and holds no prompt or answer. A
 * receipt that is missing, altered or from a certificate no verified service issued is a 502
 * `upstream_tampered` (a stream ends with that error instead of [DONE]); nothing is stored then.
 * By default (RECEIPT_STORAGE off) nothing is written per answer: the kept receipt comes with the
 * answer (a header, a stream's comment line) and verifies with the evidence route's bundle.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueWorkerCertificate } from '../../src/attestation-service/issue-certificate.js';
import { generateServiceKeys } from '../../src/attestation-service/service-keys.js';
import { toBase64Url } from '../../src/bytes.js';
import { sealKvEntry } from '../../src/gateway/kv/kv-auth.js';
import { resetReceiptCache } from '../../src/gateway/sealing/receipt-check.js';
import worker from '../../src/gateway/worker.js';
import { KEPT_RECEIPT_HEADER, parseKeptReceipt, toReceiptBundle } from '../../src/receipts/kept-receipt.js';
import { verifyReceiptBundle } from '../../src/receipts/verify-receipt.js';
import { parseWorkerCertificate } from '../../src/service-client/worker-certificate.js';
import { putApiKeyEntry, stackPerFile } from './do-helpers.js';
import { env, gatewayDescribe, KEY, PROMPT, type Stack, sseData, WORKER_A, WORKER_B } from './stack.js';

let stack: Stack;
let digest: string;

// A stream's receipt is checked, and its KV write handed to `waitUntil`, while the body is read:
// after the caller has read it. So the contexts are kept, and awaited again before a receipt is read.
const contexts: ReturnType<typeof createExecutionContext>[] = [];
// The tests of stored receipts run with the operator's storage on; `withoutStorage` is the default.
const storing = { ...env, RECEIPT_STORAGE: 'kv' };
let gatewayEnv: typeof env = storing;
async function call(path: string, init: RequestInit = {}): Promise<Response> {
  for (const earlier of contexts.splice(0)) await waitOnExecutionContext(earlier);
  const ctx = createExecutionContext();
  contexts.push(ctx);
  const res = await worker.fetch(new Request(`https://gateway.test${path}`, init), gatewayEnv, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}
const post = (path: string, body: unknown) =>
  call(path, { method: 'POST', headers: KEY, body: JSON.stringify(body) });
const getReceipt = (id: string, headers: Record<string, string> = KEY) =>
  call(`/v1/receipts/${id}`, { headers });
const storedReceipts = async () =>
  (
    await (env.SEALGATE_KV as unknown as { list(o: { prefix: string }): Promise<{ keys: unknown[] }> }).list({
      prefix: 'rcpt:',
    })
  ).keys.length;
const mode = (m: Stack['modes'][string]) => {
  stack.modes[WORKER_A] = m;
  stack.modes[WORKER_B] = m;
};

/** A certificate for our worker's keys, issued by a service key no verified service holds. */
async function rogueCertificate() {
  const rogue = await generateServiceKeys();
  const real = await parseWorkerCertificate(stack.session.certificate!);
  const issued = await issueWorkerCertificate({
    issuer: rogue.signing,
    workerSigningKey: real.signingKeySpki,
    workerHpkeKey: new Uint8Array(1216).fill(7),
    measurement: real.measurement,
    manifestDigest: digest,
    configDigest: real.configDigest,
    simulated: true,
    now: new Date(Date.now()),
    lifetimeSeconds: 3600,
  });
  return { rogue, issued };
}

stackPerFile({ keyed: true }, (s) => {
  stack = s;
  digest = s.dev.manifestDigest;
  resetReceiptCache();
});

gatewayDescribe('receipts', () => {
  it('the DO stores the verified service evidence once, and lists its signing key', async () => {
    // Authenticated entries (kv-auth.ts): the value is the `data`, under a MAC bound to the name.
    const entry = JSON.parse((await env.SEALGATE_KV.get(`rcpt-svc:${digest}`, 'text'))!) as { data: string };
    const list = JSON.parse(entry.data) as {
      services: { signing: string; evidenceSha256: string; simulated: boolean }[];
    };
    expect(list.services).toHaveLength(1);
    expect(list.services[0]!.simulated).toBe(true); // the dev stack's anchor is the simulator's
    const evidence = await env.SEALGATE_KV.get(`rcpt-ev:${list.services[0]!.evidenceSha256}`, 'text');
    expect(JSON.parse(JSON.parse(evidence!).data).role).toBe('attestation-service');
  });

  it('a JSON answer comes with a receipt id whose bundle verifies offline and holds no prompt', async () => {
    mode('ok');
    const res = await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT });
    expect(res.status).toBe(200);
    const answer = await res.text();
    const id = res.headers.get('x-sealgate-receipt')!;
    expect(id).toMatch(/^gw-[0-9a-f]{32}$/);
    const got = await getReceipt(id);
    expect(got.status).toBe(200);
    const text = await got.text();
    expect(text).not.toContain('secret prompt');
    expect(text).not.toContain(JSON.parse(answer).choices[0].message.content);
    const v = await verifyReceiptBundle({ bundle: text });
    expect(v.steps.filter((s) => s.status !== 'ok')).toEqual([]);
    expect(v.verdict).toBe('verified');
    expect(v.claims).toMatchObject({
      id,
      route: '/v1/chat/completions',
      model: 'sealgate-builtin',
      stream: false,
    });
    expect(v.claims!.kid).toBe(res.headers.get('x-sealgate-key-id'));
    expect(v.manifestDigest).toBe(digest);
  });

  it('a streamed answer: the receipt id up front, [DONE] after the receipt verified', async () => {
    const res = await post('/v1/chat/completions', {
      model: 'sealgate-builtin',
      messages: PROMPT,
      stream: true,
    });
    const id = res.headers.get('x-sealgate-receipt')!;
    const data = await sseData(res);
    expect(data.at(-1)).toBe('[DONE]');
    expect(data.some((d) => d.includes('receipt'))).toBe(false); // the trailer is not forwarded
    const v = await verifyReceiptBundle({ bundle: await (await getReceipt(id)).text() });
    expect(v.verdict).toBe('verified');
    expect(v.claims).toMatchObject({ id, stream: true });
  });

  it('embeddings and completions come with receipts too', async () => {
    for (const [route, body] of [
      ['/v1/embeddings', { model: 'sealgate-builtin', input: 'hello' }],
      ['/v1/completions', { model: 'sealgate-builtin', prompt: 'hello' }],
    ] as const) {
      const res = await post(route, body);
      expect(res.status).toBe(200);
      const v = await verifyReceiptBundle({
        bundle: await (await getReceipt(res.headers.get('x-sealgate-receipt')!)).text(),
      });
      expect([v.verdict, v.claims?.route]).toEqual(['verified', route]);
    }
  });

  it('GET /v1/receipts/{id}: API key required, 404 for unknown ids, 405 for other methods', async () => {
    expect((await getReceipt('gw-00', { 'content-type': 'application/json' })).status).toBe(401);
    const unknown = await getReceipt('gw-ffffffffffffffffffffffffffffffff');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('not_found');
    expect((await getReceipt('not%20an%20id')).status).toBe(404);
    const wrong = await call('/v1/receipts/gw-00', { method: 'POST', headers: KEY, body: '{}' });
    expect(wrong.status).toBe(405);
  });

  for (const [m, what] of [
    ['tamper-receipt', 'an altered receipt'],
    ['no-receipt', 'a missing receipt'],
    ['no-certificate', 'a missing worker certificate'],
  ] as const) {
    it(`a JSON answer with ${what} is 502 upstream_tampered, nothing of the answer, nothing stored`, async () => {
      const before = await storedReceipts();
      mode(m);
      const res = await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT });
      mode('ok');
      expect(await storedReceipts()).toBe(before);
      expect(res.status).toBe(502);
      const body = (await res.json()) as { error: { code: string }; choices?: unknown };
      expect(body.error.code).toBe('upstream_tampered');
      expect(body.choices).toBeUndefined();
      expect(res.headers.get('x-sealgate-receipt')).toBeNull();
    });
  }

  for (const [m, what] of [
    ['drop-trailer', 'without its receipt'],
    ['tamper-trailer', 'with an altered receipt'],
  ] as const) {
    it(`a stream ${what} ends with upstream_tampered instead of [DONE]; nothing stored`, async () => {
      mode(m);
      const res = await post('/v1/chat/completions', {
        model: 'sealgate-builtin',
        messages: PROMPT,
        stream: true,
      });
      const data = await sseData(res);
      mode('ok');
      expect(data).not.toContain('[DONE]');
      expect((JSON.parse(data.at(-1)!) as { error: { code: string } }).error.code).toBe('upstream_tampered');
      expect((await getReceipt(res.headers.get('x-sealgate-receipt')!)).status).toBe(404);
    });
  }

  it('a worker certificate from an issuer the DO never verified is refused before any answer', async () => {
    const { issued } = await rogueCertificate();
    stack.swapCertificate = toBase64Url(issued.der);
    for (const stream of [false, true]) {
      mode('swap-certificate');
      const res = await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT, stream });
      mode('ok');
      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('upstream_tampered');
    }
  });

  it("a certificate from the verified service whose simulated flag contradicts the service's anchor is refused", async () => {
    // Issued by the very key the DO verified, for the worker's real keys, and the worker presents it
    // and signs its receipts naming it: signature, manifest and receipt all hold — only `simulated`
    // lies (the stack's anchor is the simulator's; the certificate claims real hardware).
    const real = await parseWorkerCertificate(stack.session.certificate!);
    const issue = async (simulated: boolean) =>
      (
        await issueWorkerCertificate({
          issuer: stack.serviceKeys.signing,
          workerSigningKey: real.signingKeySpki,
          workerHpkeKey: new Uint8Array(1216).fill(7),
          measurement: real.measurement,
          manifestDigest: digest,
          configDigest: real.configDigest,
          simulated,
          now: new Date(Date.now()),
          lifetimeSeconds: 3600,
        })
      ).der;
    mode('ok');
    const stored = await storedReceipts();
    try {
      stack.workerCertificate = await issue(false);
      for (const stream of [false, true]) {
        const res = await post('/v1/chat/completions', {
          model: 'sealgate-builtin',
          messages: PROMPT,
          stream,
        });
        expect(res.status).toBe(502);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('upstream_tampered');
      }
      expect(await storedReceipts()).toBe(stored);
      // Control: the same certificate with the true flag is accepted, so the flag alone decided.
      stack.workerCertificate = await issue(true);
      const ok = await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT });
      expect(ok.status).toBe(200);
    } finally {
      stack.workerCertificate = undefined;
    }
  });

  it('a receipt is read only with the API key that made the request', async () => {
    mode('ok');
    const res = await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT });
    const id = res.headers.get('x-sealgate-receipt')!;
    expect((await getReceipt(id)).status).toBe(200);
    const other = 'sk-another-valid-key-0123456789abcdef';
    await putApiKeyEntry(other, { name: 'other' });
    const res2 = await getReceipt(id, { authorization: `Bearer ${other}` });
    expect(res2.status).toBe(404); // as if there were none: ids tell other keys nothing
    expect(await res2.text()).not.toContain('receipt"');
  });

  it('a receipt or evidence written into KV by anyone but the gateway is never served', async () => {
    mode('ok');
    const res = await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT });
    const id = res.headers.get('x-sealgate-receipt')!;
    const name = `rcpt:${id}`;
    const genuine = (await env.SEALGATE_KV.get(name, 'text'))!;
    const record = JSON.parse(JSON.parse(genuine).data) as Record<string, unknown>;
    const planted = `rcpt:gw-${'ab'.repeat(16)}`;
    for (const [key, text] of [
      [planted, JSON.stringify(record)], // plain JSON, as any KV writer could put it
      [planted, await sealKvEntry('another-secret-of-at-least-32-characters!', planted, record)],
      [planted, genuine], // an authentic entry moved under another id
    ] as const) {
      await env.SEALGATE_KV.put(key, text);
      expect((await getReceipt(planted.slice(5))).status, text.slice(0, 40)).toBe(404);
    }
    // The evidence a genuine receipt points at, replaced by a KV writer: not served either.
    const evName = `rcpt-ev:${record.serviceEvidenceSha256 as string}`;
    const evidence = (await env.SEALGATE_KV.get(evName, 'text'))!;
    await env.SEALGATE_KV.put(evName, JSON.parse(evidence).data);
    expect((await getReceipt(id)).status).toBe(404);
    await env.SEALGATE_KV.put(evName, evidence);
    expect((await getReceipt(id)).status).toBe(200);
  });

  it('an authentic but stale service list (written back from the past) vouches for nothing', async () => {
    const name = `rcpt-svc:${digest}`;
    const genuine = (await env.SEALGATE_KV.get(name, 'text'))!;
    const list = JSON.parse(JSON.parse(genuine).data) as { services: { verifiedAt: number }[] };
    const interval = stack.dev.manifest.keyPolicy.rotationIntervalSeconds;
    const old = {
      ...list,
      services: list.services.map((s) => ({ ...s, verifiedAt: s.verifiedAt - 2 * interval - 1 })),
    };
    await env.SEALGATE_KV.put(name, await sealKvEntry(env.GATEWAY_SECRET!, name, old));
    resetReceiptCache();
    const res = await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('no_attested_service');
    await env.SEALGATE_KV.put(name, genuine);
    resetReceiptCache();
    expect((await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT })).status).toBe(
      200,
    );
  });

  it('a service key written into KV by anyone but the DO never vouches for a worker certificate', async () => {
    // KV is not trusted: `rcpt-svc:` lists the keys that vouch for worker certificates, so a forged
    // list naming a rogue key (plain JSON, or MAC'd under another secret) must count as no list.
    const { rogue, issued } = await rogueCertificate();
    const name = `rcpt-svc:${digest}`;
    const genuine = (await env.SEALGATE_KV.get(name, 'text'))!;
    const rogueSpki = new Uint8Array(await crypto.subtle.exportKey('spki', rogue.signing.publicKey));
    const forgedList = {
      v: 1,
      manifestDigest: digest,
      services: [{ signing: toBase64Url(rogueSpki), evidenceSha256: '00'.repeat(32), verifiedAt: 0 }],
    };
    stack.swapCertificate = toBase64Url(issued.der);
    const stored = await storedReceipts();
    for (const forged of [
      JSON.stringify(forgedList),
      await sealKvEntry('another-secret-of-at-least-32-characters!', name, forgedList),
    ]) {
      await env.SEALGATE_KV.put(name, forged);
      resetReceiptCache();
      mode('swap-certificate');
      const res = await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT });
      mode('ok');
      // Fail closed: no verified service vouches for the certificate, so nothing of the answer.
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('no_attested_service');
      expect(await storedReceipts()).toBe(stored);
    }
    await env.SEALGATE_KV.put(name, genuine);
    resetReceiptCache();
    const ok = await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT });
    expect(ok.status).toBe(200);
  });

  describe('with receipt storage off (the default)', () => {
    beforeAll(() => {
      gatewayEnv = env;
    });
    afterAll(() => {
      gatewayEnv = storing;
    });
    const evidenceOf = async (kept: string) => {
      const { serviceEvidenceSha256 } = parseKeptReceipt(kept);
      const res = await call(`/v1/receipt-evidence/${serviceEvidenceSha256}`, { headers: KEY });
      expect(res.status).toBe(200);
      return await res.json();
    };
    const verifyKept = async (kept: string) => {
      const bundle = await toReceiptBundle(parseKeptReceipt(kept), await evidenceOf(kept));
      return await verifyReceiptBundle({ bundle });
    };

    it('a JSON answer carries its receipt in a header that verifies; no KV write', async () => {
      mode('ok');
      const before = await storedReceipts();
      const res = await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT });
      expect(res.status).toBe(200);
      await res.text();
      const kept = res.headers.get(KEPT_RECEIPT_HEADER)!;
      expect(kept.length).toBeGreaterThan(100);
      expect(kept).not.toContain('secret prompt');
      const v = await verifyKept(kept);
      expect(v.steps.filter((s) => s.status !== 'ok')).toEqual([]);
      expect(v.claims).toMatchObject({ id: res.headers.get('x-sealgate-receipt'), stream: false });
      expect(await storedReceipts()).toBe(before);
      const got = await getReceipt(res.headers.get('x-sealgate-receipt')!);
      expect(got.status).toBe(404);
      expect(await got.text()).toContain('RECEIPT_STORAGE is off');
    });

    it('a stream carries its receipt as a comment line just before [DONE]; no KV write', async () => {
      const before = await storedReceipts();
      const res = await post('/v1/chat/completions', {
        model: 'sealgate-builtin',
        messages: PROMPT,
        stream: true,
      });
      const text = await res.text();
      const tail = text.slice(text.lastIndexOf(': sealgate-receipt '));
      expect(tail).toMatch(/^: sealgate-receipt \{[^\n]+\}\ndata: \[DONE\]\n\n$/);
      const v = await verifyKept(tail.split('\n')[0]!);
      expect([v.verdict, v.claims?.id, v.claims?.stream]).toEqual([
        'verified',
        res.headers.get('x-sealgate-receipt'),
        true,
      ]);
      expect(await storedReceipts()).toBe(before);
    });

    it('a kept receipt altered in one byte, or joined to other evidence, does not verify', async () => {
      const res = await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT });
      const kept = parseKeptReceipt(res.headers.get(KEPT_RECEIPT_HEADER)!);
      const evidence = (await evidenceOf(res.headers.get(KEPT_RECEIPT_HEADER)!)) as Record<string, unknown>;
      const sig = kept.receipt.length - 5;
      const flipped = kept.receipt[sig] === 'A' ? 'B' : 'A';
      const altered = {
        ...kept,
        receipt: kept.receipt.slice(0, sig) + flipped + kept.receipt.slice(sig + 1),
      };
      const v = await verifyReceiptBundle({ bundle: await toReceiptBundle(altered, evidence) });
      expect(v.verdict).toBe('rejected');
      await expect(toReceiptBundle(kept, { ...evidence, extra: 1 })).rejects.toThrow(/SHA-256 differs/);
    });

    it('a RECEIPT_STORAGE other than off or kv refuses to serve (never silently no storage)', async () => {
      gatewayEnv = { ...env, RECEIPT_STORAGE: 'yes' };
      const res = await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT });
      gatewayEnv = env;
      expect(res.status).toBe(503);
      expect(await res.text()).not.toContain('You said');
    });

    it('GET /v1/receipt-evidence/{sha256}: API key required, 404 for unknown digests', async () => {
      const sha = 'ab'.repeat(32);
      expect((await call(`/v1/receipt-evidence/${sha}`)).status).toBe(401);
      expect((await call(`/v1/receipt-evidence/${sha}`, { headers: KEY })).status).toBe(404);
      expect((await call('/v1/receipt-evidence/xyz', { headers: KEY })).status).toBe(404);
    });
  });
});
