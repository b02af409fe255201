/**
 * Serving the attestation service on Node (@hono/node-server): `startService` parses the manifest,
 * makes the service's keys (in memory, at start), checks that the platform and the manifest fit
 * together, and listens. In-process and awaitable, so tests and `npm start` run the same code as
 * `main.ts`. Port 0 picks a free port; the returned `url` has the real one.
 */

import type { Hono } from 'hono';
import { loadManifestForPlatform } from '../dev/program-config.js';
import { listen } from '../dev/serve.js';
import { SealgateError } from '../errors.js';
import { nodeSignatures } from '../platform/node-signature-backend.js';
import { bannerBox, simulatedTee } from '../platform/simulated-banner.js';
import type { AttestationPlatform } from '../platform/types.js';
import type { Manifest } from '../policy/manifest-types.js';
import { manifestTrustsSimulator } from '../policy/trust-anchors.js';
import type { KdsOptions } from '../verify/kds.js';
import type { OcspFetchOptions } from '../verify/nvidia/ocsp-fetch.js';
import type { PcsOptions } from '../verify/tdx/pcs.js';
import { createServiceApp } from './app.js';
import type { ServiceLog } from './runtime.js';
import { generateServiceKeys, type ServiceKeys } from './service-keys.js';

export const DEFAULT_PORT = 8788;
export const DEFAULT_HOST = '127.0.0.1';

/**
 * The loud notice of a simulated platform, naming the TEE it simulates (its evidence proves nothing
 * about real hardware, whichever it is).
 */
export function simulatedBanner(kind: AttestationPlatform['kind']): string {
  return bannerBox([
    `SIMULATED HARDWARE: this attestation service runs on the ${simulatedTee(kind)}`,
    'simulator. Its evidence proves nothing about real hardware. Never',
    'send it keys that protect real prompts.',
  ]);
}

export interface StartServiceOptions {
  /** The exact manifest bytes (UTF-8 JSON), loaded once. */
  manifestBytes: Uint8Array;
  platform: AttestationPlatform;
  /** Default 8788; 0 for an ephemeral port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  now?: () => Date;
  log?: ServiceLog;
  /** Default: fresh keys made now. */
  keys?: ServiceKeys;
  kds?: KdsOptions;
  /** TDX collateral for workers' quotes that arrive without it (Intel PCS or a PCCS). */
  pcs?: PcsOptions;
  /** OCSP for the workers' GPU certificates; absent → none asked ("require" refuses GPUs). */
  gpuOcsp?: OcspFetchOptions;
  /**
   * Development only, and only on the simulator: start with a manifest that pins no gateway
   * (`gateway.uploadKey`) and take UNAUTHENTICATED key uploads. Without it such a manifest is refused.
   */
  allowUnpinnedGateway?: boolean;
}

export const UNPINNED_GATEWAY_BANNER = [
  '************************************************************************',
  '*  NO GATEWAY PINNED: the manifest has no gateway.uploadKey, and this  *',
  '*  development service takes KEK uploads from ANYONE who can reach it. *',
  '************************************************************************',
].join('\n');

/**
 * A manifest must pin the gateway the service takes keys from (docs/manifest.md "gateway"); the one
 * exception is an explicit development flag on the simulator, said loudly.
 */
function checkGatewayPinned(manifest: Manifest, opts: StartServiceOptions, log: ServiceLog): boolean {
  if (manifest.gateway !== undefined) return false;
  if (!opts.allowUnpinnedGateway) {
    throw new SealgateError(
      'invalid_manifest',
      'attestation service: the manifest pins no gateway (gateway.uploadKey); see `sealgate manifest gateway-key`',
    );
  }
  if (!opts.platform.simulated) {
    throw new SealgateError(
      'invalid_manifest',
      'attestation service: an unpinned gateway is allowed on the simulator only',
    );
  }
  log('warn', 'GATEWAY_NOT_PINNED', { banner: UNPINNED_GATEWAY_BANNER });
  return true;
}

export interface RunningService {
  url: string;
  port: number;
  manifestDigest: string;
  simulated: boolean;
  app: Hono;
  close(): Promise<void>;
}

/** JSON lines on stderr: one object per event, `time` first. */
export const jsonLinesLog: ServiceLog = (level, event, detail = {}) => {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, event, ...detail })}\n`);
};

export async function startService(opts: StartServiceOptions): Promise<RunningService> {
  const log = opts.log ?? jsonLinesLog;
  const { platform } = opts;
  const { manifest, manifestDigest } = await loadManifestForPlatform(
    opts.manifestBytes,
    platform,
    'attestation service',
  );
  const allowUnpinnedGateway = checkGatewayPinned(manifest, opts, log);
  if (platform.simulated) {
    log('warn', 'SIMULATED_HARDWARE', {
      banner: simulatedBanner(platform.kind),
      platform: platform.description,
    });
  } else if (manifestTrustsSimulator(manifest)) {
    log('warn', 'manifest_trusts_simulator', {
      message: 'the manifest trusts a SIMULATED root: workers on the simulator will be accepted',
    });
  }
  const app = createServiceApp({
    manifestBytes: opts.manifestBytes.slice(),
    manifest,
    manifestDigest,
    platform,
    keys: opts.keys ?? (await generateServiceKeys()),
    now: opts.now ?? (() => new Date()),
    log,
    ...(opts.kds ? { kds: opts.kds } : {}),
    ...(opts.pcs ? { pcs: opts.pcs } : {}),
    // Node: signatures through node:crypto (src/platform/node-signature-backend.ts).
    signatures: nodeSignatures,
    ...(opts.gpuOcsp ? { gpuOcsp: opts.gpuOcsp } : {}),
    ...(allowUnpinnedGateway ? { allowUnpinnedGateway } : {}),
  });
  const listening = await listen(app.fetch, {
    port: opts.port ?? DEFAULT_PORT,
    host: opts.host ?? DEFAULT_HOST,
  });
  const { url, port } = listening;
  log('info', 'service_started', {
    url,
    manifestDigest,
    simulated: platform.simulated,
    platform: platform.description,
  });
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    manifestDigest,
    simulated: platform.simulated,
    app,
    close: () => {
      closing ??= listening.close().then(() => log('info', 'service_stopped', { url }));
      return closing;
    },
  };
}
