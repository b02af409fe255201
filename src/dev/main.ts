/**
 * `tsx src/dev/main.ts [--tee tdx] [DIR]` (default `.sealgate-dev`): writes a SIMULATED development
 * setup — `DIR/dev-chain.json` (SEV-SNP; with `--tee tdx`, `DIR/tdx-dev-chain.json`), made once, then
 * kept, and `DIR/manifest.dev.json` (`manifest.dev-tdx.json`) trusting only that chain's root and
 * requiring SEALGATE_GPUS (default 1, as `npm start`) SIMULATED GPUs of the worker, whose chain is
 * `DIR/gpu-chain.json` — and prints how to start the services on it.
 */

import { readFile } from 'node:fs/promises';
import { manifestDigest } from '../policy/manifest-digest.js';
import { writeDevelopmentFiles, writeTdxDevelopmentFiles } from './files.js';

const args = process.argv.slice(2);
const tdx = args[0] === '--tee' && args[1] === 'tdx';
if (args[0] === '--tee' && !tdx) {
  process.stderr.write(`--tee must be "tdx" (SEV-SNP is the default), got ${JSON.stringify(args[1])}\n`);
  process.exit(2);
}
const dir = (tdx ? args[2] : args[0]) ?? '.sealgate-dev';
const gpus = Number(process.env.SEALGATE_GPUS || '1');
if (!Number.isInteger(gpus) || gpus < 0 || gpus > 8) throw new Error('SEALGATE_GPUS must be 0..8');
const files = tdx
  ? await writeTdxDevelopmentFiles(dir, { now: new Date(), gpus })
  : await writeDevelopmentFiles(dir, { now: new Date(), gpus });
const root = 'rootSha256' in files.chain ? files.chain.rootSha256 : files.chain.arkSha256;
const digest = await manifestDigest(await readFile(files.manifestPath));
const env = `SEALGATE_PLATFORM=simulator${tdx ? ' SEALGATE_TEE=tdx' : ''} SEALGATE_DEV_CHAIN=${files.chainPath} SEALGATE_MANIFEST=${files.manifestPath}`;
const gpuEnv = gpus > 0 ? ` SEALGATE_GPUS=${gpus} SEALGATE_DEV_GPU_CHAIN=${files.gpuChainPath}` : '';
// The service answers OCSP for the simulated GPU chain itself (src/attestation-service/gpu-ocsp-env.ts).
const serviceGpuEnv = gpus > 0 ? ` SEALGATE_DEV_GPU_CHAIN=${files.gpuChainPath}` : '';
process.stdout.write(
  [
    `SIMULATED HARDWARE development setup (${tdx ? 'Intel TDX' : 'AMD SEV-SNP'})`,
    `  dev chain  ${files.chainPath} (${files.created ? 'created' : 'kept'}; root ${root})`,
    `  manifest   ${files.manifestPath} (digest ${digest})`,
    ...(gpus > 0 ? [`  GPUs       ${gpus} SIMULATED (chain ${files.gpuChainPath})`] : []),
    '',
    'Start the attestation service on the simulator:',
    `  ${env}${serviceGpuEnv} npx tsx src/attestation-service/main.ts`,
    'and the AI worker:',
    `  ${env}${gpuEnv} SEALGATE_SERVICE_URL=http://127.0.0.1:8788 npx tsx src/ai-worker/main.ts`,
    '',
  ].join('\n'),
);
