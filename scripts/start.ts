/**
 * `npm start`: the whole local stack on SIMULATED hardware (src/dev/stack.ts), until Ctrl-C or
 * SIGTERM, which stop everything — also while it is still starting — so nothing is left running.
 *
 *   PORT (8787) · DEV_API_KEY (sk-sealgate-local-development-key) · MODEL_URL / MODEL_API_KEY (default: built-in model)
 *   SEALGATE_SERVICE_PORT (8788) · SEALGATE_WORKER_PORT (8789) · SEALGATE_DEV_DIR (.sealgate-dev)
 *   SEALGATE_TEE (sev-snp): `tdx` runs both services on the SIMULATED Intel TDX platform
 *   SEALGATE_GPUS (1): SIMULATED GPUs the worker attests with its CPU (SEV-SNP or TDX); 0 for a CPU-only worker
 */
import { startStack } from '../src/dev/stack.js';

const env = process.env;
const say = (line: string): void => {
  process.stdout.write(`[sealgate] ${line}\n`);
};

const tee = env.SEALGATE_TEE || 'sev-snp';
if (tee !== 'sev-snp' && tee !== 'tdx') {
  process.stderr.write(`[sealgate] SEALGATE_TEE must be "sev-snp" or "tdx", got ${JSON.stringify(tee)}\n`);
  process.exit(2);
}
const gpus = env.SEALGATE_GPUS === undefined || env.SEALGATE_GPUS === '' ? 1 : Number(env.SEALGATE_GPUS);
if (!Number.isInteger(gpus) || gpus < 0 || gpus > 8) {
  process.stderr.write(`[sealgate] SEALGATE_GPUS must be 0..8, got ${env.SEALGATE_GPUS}\n`);
  process.exit(2);
}
const abort = new AbortController();
say(
  `starting the local stack on SIMULATED ${tee === 'tdx' ? 'Intel TDX' : 'AMD SEV-SNP'} HARDWARE (attestation service, AI worker, gateway)…`,
);
const starting = startStack({
  tee,
  ...(env.PORT ? { port: Number(env.PORT) } : {}),
  ...(env.SEALGATE_SERVICE_PORT ? { servicePort: Number(env.SEALGATE_SERVICE_PORT) } : {}),
  ...(env.SEALGATE_WORKER_PORT ? { workerPort: Number(env.SEALGATE_WORKER_PORT) } : {}),
  ...(env.DEV_API_KEY ? { apiKey: env.DEV_API_KEY } : {}),
  ...(env.SEALGATE_DEV_DIR ? { devDir: env.SEALGATE_DEV_DIR } : {}),
  ...(env.MODEL_URL ? { modelUrl: env.MODEL_URL } : {}),
  ...(env.MODEL_API_KEY ? { modelApiKey: env.MODEL_API_KEY } : {}),
  gpus,
  signal: abort.signal,
});

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  abort.abort(); // while starting: startStack stops what it started and rejects
  await starting.then(
    (stack) => stack.close(),
    () => undefined,
  );
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

try {
  const s = await starting;
  say('');
  say(
    `gateway     ${s.url}   (OpenAI-compatible; SIMULATED ${tee === 'tdx' ? 'Intel TDX' : 'SEV-SNP'} hardware)`,
  );
  say(`manifest    ${s.manifestDigest}`);
  say(`API key     ${s.apiKey}`);
  say(
    `GPUs        ${gpus === 0 ? 'none (SEALGATE_GPUS=0: CPU-only worker)' : `${gpus} SIMULATED Hopper GPU(s), attested with the worker's CPU (SEALGATE_GPUS)`}`,
  );
  if (s.gpuOcspUrl) say(`GPU OCSP    ${s.gpuOcspUrl} (SIMULATED responder; revocation required)`);
  say(
    `model       ${env.MODEL_URL ? `MODEL_URL ${env.MODEL_URL}` : 'sealgate-builtin (set MODEL_URL for a real server)'}`,
  );
  say('');
  say(`try: curl ${s.url}/v1/chat/completions -H 'authorization: Bearer ${s.apiKey}' \\`);
  say(
    `       -H 'content-type: application/json' -d '{"model":"sealgate-builtin","messages":[{"role":"user","content":"hello"}]}'`,
  );
  say('Ctrl-C stops everything.');
} catch (e) {
  if (!stopping) {
    process.stderr.write(`[sealgate] start failed: ${e instanceof Error ? e.message : String(e)}\n`);
    await stop(1);
  }
}
