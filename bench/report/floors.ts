/**
 * The physical floor beside each cost (issue #18 target 7): what the cryptography of one sealed
 * answer costs on each side when nothing else is done, summed from the floor and primitive figures
 * of the same run (bench/micro/floor-cases.ts, node-floor-cases.ts). A cost can approach its floor,
 * never go below it while it does that cryptography.
 *
 * One sealed non-streamed 4 KiB chat answer (docs/protocol.md):
 *   gateway (workerd, WebCrypto)   AES-KW wrap + HKDF (request key) + AES-GCM seal of the body
 *                                  + HKDF (response key) + AES-GCM open of the answer + ES256 verify
 *   AI worker (Node, node:crypto)  AES-KW unwrap + HKDF + AES-GCM open + HKDF + AES-GCM seal + ES256 sign
 * The answer is about as large as the prompt here (the built-in model repeats it), so both AES-GCM
 * figures are the 4 KiB one.
 *
 * SEV-SNP verification in Node (node:crypto): the report's ECDSA P-384 verify plus AMD's RSA-4096 PSS
 * verifies, ARK → ASK → VCEK: two with nothing cached, one with ARK → ASK cached.
 */
import type { Result } from '../results.js';

export interface Floor {
  /** Milliseconds of CPU, the sum of the parts. */
  ms: number;
  /** The parts, as `name ×n`, for the page. */
  parts: string[];
}

const GATEWAY: [string, number][] = [
  ['workerd.floor.aes-kw.wrap', 1],
  ['workerd.floor.hkdf-sha256', 2],
  ['workerd.aes-gcm.webcrypto.4KiB', 2],
  ['workerd.floor.ecdsa-p256.verify', 1],
];

const AI_WORKER: [string, number][] = [
  ['node.floor.aes-kw.unwrap.nodeCrypto', 1],
  ['node.floor.hkdf-sha256.nodeCrypto', 2],
  ['node.floor.aes-gcm.4KiB.nodeCrypto', 2],
  ['node.floor.ecdsa-p256.sign.nodeCrypto', 1],
];

function sum(results: Result[], parts: [string, number][]): Floor | null {
  let ms = 0;
  for (const [name, n] of parts) {
    const v = results.find((r) => r.name === name)?.value;
    if (v == null) return null;
    ms += v * n;
  }
  return { ms, parts: parts.map(([name, n]) => `\`${name}\`${n > 1 ? ` ×${n}` : ''}`) };
}

/** The gateway's crypto floor for one sealed answer, or null when the run lacks a part. */
export const gatewayFloor = (results: Result[]) => sum(results, GATEWAY);

/** The AI worker's crypto floor for one sealed answer, or null when the run lacks a part. */
export const aiWorkerFloor = (results: Result[]) => sum(results, AI_WORKER);

/**
 * SEV-SNP verification's floor in Node: one P-384 verify and two RSA-4096 verifies cold, one with a
 * new VCEK under a cached ARK → ASK, none with the whole chain cached. For the cached cases, the
 * floor timed in the same interleaved rounds as the figure (the `vsFloor` baselines) when the run
 * has it: the same load and process state as the figure it is set beside.
 */
export function snpNodeFloor(results: Result[], cached: 'cold' | 'newVcek' | 'chainCached'): Floor | null {
  if (cached !== 'cold') {
    const name = `node.snp.verify.${cached}.vsFloor`;
    const inRounds = results.find((r) => r.name === name)?.baseline;
    if (inRounds != null) {
      const what = cached === 'chainCached' ? 'the signature check' : 'its two signature checks';
      return { ms: inRounds, parts: [`${what} in the same rounds, the baseline of \`${name}\``] };
    }
  }
  const rsa = cached === 'cold' ? 2 : cached === 'newVcek' ? 1 : 0;
  return sum(results, [
    ['node.floor.ecdsa-p384.verify.nodeCrypto', 1],
    ...(rsa > 0 ? [['node.floor.rsa4096-pss.verify.nodeCrypto', rsa] as [string, number]] : []),
  ]);
}
