/**
 * `tsx src/dev/main.ts [DIR]` (default `.sealgate-dev`): writes a SIMULATED development setup —
 * `DIR/dev-chain.json` (made once, then kept) and `DIR/manifest.dev.json` trusting only that
 * chain's root — and prints how to start the attestation service on it.
 */

import { readFile } from 'node:fs/promises';
import { manifestDigest } from '../policy/manifest-digest.js';
import { writeDevelopmentFiles } from './files.js';

const dir = process.argv[2] ?? '.sealgate-dev';
const { chainPath, manifestPath, created, chain } = await writeDevelopmentFiles(dir, { now: new Date() });
const digest = await manifestDigest(await readFile(manifestPath));
process.stdout.write(
  [
    'SIMULATED HARDWARE development setup',
    `  dev chain  ${chainPath} (${created ? 'created' : 'kept'}; root ${chain.arkSha256})`,
    `  manifest   ${manifestPath} (digest ${digest})`,
    '',
    'Start the attestation service on the simulator:',
    `  SEALGATE_PLATFORM=simulator SEALGATE_DEV_CHAIN=${chainPath} SEALGATE_MANIFEST=${manifestPath} npx tsx src/attestation-service/main.ts`,
    '',
  ].join('\n'),
);
