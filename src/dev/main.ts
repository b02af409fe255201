/**
 * `tsx src/dev/main.ts [DIR]` (default `.sealgate-dev`): writes a SIMULATED development setup —
 * `DIR/dev-chain.json` (made once, then kept) and `DIR/manifest.dev.json` trusting only that
 * chain's root, requiring SEALGATE_GPUS (default 1, as `npm start`) SIMULATED GPUs of the worker,
 * whose chain is `DIR/gpu-chain.json` — and prints how to start the services on it.
 */

import { readFile } from 'node:fs/promises';
import { manifestDigest } from '../policy/manifest-digest.js';
import { writeDevelopmentFiles } from './files.js';

const dir = process.argv[2] ?? '.sealgate-dev';
const gpus = Number(process.env.SEALGATE_GPUS || '1');
if (!Number.isInteger(gpus) || gpus < 0 || gpus > 8) throw new Error('SEALGATE_GPUS must be 0..8');
const { chainPath, manifestPath, gpuChainPath, created, chain } = await writeDevelopmentFiles(dir, {
  now: new Date(),
  gpus,
});
const digest = await manifestDigest(await readFile(manifestPath));
process.stdout.write(
  [
    'SIMULATED HARDWARE development setup',
    `  dev chain  ${chainPath} (${created ? 'created' : 'kept'}; root ${chain.arkSha256})`,
    `  manifest   ${manifestPath} (digest ${digest})`,
    `  GPUs       ${gpus} SIMULATED (chain ${gpuChainPath})`,
    '',
    'Start the attestation service on the simulator:',
    `  SEALGATE_PLATFORM=simulator SEALGATE_DEV_CHAIN=${chainPath} SEALGATE_MANIFEST=${manifestPath} npx tsx src/attestation-service/main.ts`,
    'and the AI worker:',
    `  SEALGATE_PLATFORM=simulator SEALGATE_DEV_CHAIN=${chainPath} SEALGATE_MANIFEST=${manifestPath} SEALGATE_GPUS=${gpus} SEALGATE_DEV_GPU_CHAIN=${gpuChainPath} SEALGATE_SERVICE_URL=http://127.0.0.1:8788 npx tsx src/ai-worker/main.ts`,
    '',
  ].join('\n'),
);
