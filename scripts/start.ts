/**
 * `npm start`: the whole local stack on SIMULATED hardware, in one command.
 *
 *   attestation service  http://127.0.0.1:8788   (simulated SEV-SNP, in this process)
 *   AI worker            http://127.0.0.1:8789   (simulated SEV-SNP, built-in model or MODEL_URL)
 *   gateway              http://127.0.0.1:${PORT:-8787}  (`wrangler dev`, the real Worker in workerd)
 *
 * The development chain and manifest live in `.sealgate-dev/` (made once, kept: the manifest's
 * digest stays the same across restarts). Ctrl-C or SIGTERM stops everything: wrangler runs in its
 * own process group, which is signalled as a whole, so nothing is left behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { startWorker } from '../src/ai-worker/main.js';
import { startService } from '../src/attestation-service/main.js';
import { DEV_MEASUREMENT_LABELS, DevSnpPlatform } from '../src/dev/environment.js';
import { writeDevelopmentFiles } from '../src/dev/files.js';
import { gatewayDevVars, wranglerVarArgs } from '../src/gateway/dev-vars.js';
import { measurementFor } from '../src/platform/simulator/index.js';
import { manifestDigest } from '../src/policy/manifest-digest.js';

const env = process.env;
const port = Number(env.PORT ?? 8787);
const servicePort = Number(env.SEALGATE_SERVICE_PORT ?? 8788);
const workerPort = Number(env.SEALGATE_WORKER_PORT ?? 8789);
const apiKey = env.DEV_API_KEY ?? 'sk-sealgate-dev';
const devDir = env.SEALGATE_DEV_DIR ?? '.sealgate-dev';
const quiet = env.SEALGATE_QUIET === '1';

const say = (line: string): void => {
  process.stdout.write(`[sealgate] ${line}\n`);
};

const stops: (() => Promise<void>)[] = [];
let wrangler: ChildProcess | undefined;
let stopping = false;

async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    if (wrangler?.pid !== undefined && wrangler.exitCode === null) {
      try {
        process.kill(-wrangler.pid, 'SIGTERM'); // the whole group: wrangler and its workerd
      } catch {
        /* already gone */
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          try {
            process.kill(-wrangler!.pid!, 'SIGKILL');
          } catch {
            /* gone */
          }
          resolve();
        }, 5_000);
        wrangler!.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    for (const s of stops.reverse()) await s().catch(() => undefined);
  }
  process.exit(code);
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

try {
  const files = await writeDevelopmentFiles(devDir, { now: new Date() });
  const manifestBytes = new Uint8Array(await readFile(files.manifestPath));
  const manifestText = new TextDecoder().decode(manifestBytes);
  const digest = await manifestDigest(manifestBytes);
  say(`SIMULATED HARDWARE development stack (dev chain ${files.created ? 'created' : 'kept'} in ${devDir}/)`);

  const service = await startService({
    manifestBytes,
    platform: new DevSnpPlatform(
      files.chain,
      await measurementFor(DEV_MEASUREMENT_LABELS.service),
      'attestation-service',
    ),
    port: servicePort,
    ...(quiet ? { log: () => undefined } : {}),
  });
  stops.push(() => service.close());
  const worker = await startWorker({
    manifestBytes,
    serviceUrl: service.url,
    platform: new DevSnpPlatform(files.chain, await measurementFor(DEV_MEASUREMENT_LABELS.worker), 'worker'),
    port: workerPort,
    ...(env.MODEL_URL ? { modelUrl: env.MODEL_URL } : {}),
    ...(env.MODEL_API_KEY ? { modelApiKey: env.MODEL_API_KEY } : {}),
    ...(quiet ? { log: () => undefined } : {}),
  });
  stops.push(() => worker.close());

  const vars = gatewayDevVars({
    manifestText,
    serviceUrl: service.url,
    workerUrls: [worker.url],
    devApiKey: apiKey,
  });
  wrangler = spawn(
    'npx',
    ['wrangler', 'dev', '--ip', '127.0.0.1', '--port', String(port), ...wranglerVarArgs(vars)],
    {
      detached: true, // its own process group, stopped as one
      stdio: ['ignore', quiet ? 'ignore' : 'inherit', quiet ? 'ignore' : 'inherit'],
      env: { ...env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', NO_COLOR: '1' },
    },
  );
  wrangler.once('exit', (code) => {
    if (!stopping) {
      say(`wrangler dev exited (${code}); stopping`);
      void stop(1);
    }
  });

  const url = `http://127.0.0.1:${port}`;
  await waitFor('the gateway', async () => (await fetch(`${url}/healthz`)).ok, 120_000);
  // The first key: the gateway's key-rotation Durable Object attests the service and uploads one
  // (a request without a key pokes it). Ready when a sealed chat completion comes back.
  await waitFor(
    'the first attested key',
    async () =>
      (
        await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'sealgate-builtin',
            messages: [{ role: 'user', content: 'ping' }],
            max_tokens: 1,
          }),
        })
      ).ok,
    120_000,
  );
  say('');
  say(`gateway     ${url}   (OpenAI-compatible; SIMULATED hardware)`);
  say(`manifest    ${digest}`);
  say(`API key     ${apiKey}`);
  say('');
  say(`try: curl ${url}/v1/chat/completions -H 'authorization: Bearer ${apiKey}' \\`);
  say(
    `       -H 'content-type: application/json' -d '{"model":"sealgate-builtin","messages":[{"role":"user","content":"hello"}]}'`,
  );
  say('Ctrl-C stops everything.');
} catch (e) {
  process.stderr.write(`[sealgate] start failed: ${e instanceof Error ? e.message : String(e)}\n`);
  await stop(1);
}
