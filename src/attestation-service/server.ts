/**
 * Serving the attestation service on Node (@hono/node-server): `startService` parses the manifest,
 * makes the service's keys (in memory, at start), checks that the platform and the manifest fit
 * together, and listens. In-process and awaitable, so tests and `npm start` run the same code as
 * `main.ts`. Port 0 picks a free port; the returned `url` has the real one.
 */
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import { SealgateError } from '../errors.js';
import type { AttestationPlatform } from '../platform/types.js';
import { manifestDigest as digestOf } from '../policy/manifest-digest.js';
import { parseManifest } from '../policy/parse-manifest.js';
import { manifestTrustsSimulator } from '../policy/trust-anchors.js';
import type { KdsOptions } from '../verify/kds.js';
import { createServiceApp } from './app.js';
import type { ServiceLog } from './runtime.js';
import { generateServiceKeys, type ServiceKeys } from './service-keys.js';

export const DEFAULT_PORT = 8788;
export const DEFAULT_HOST = '127.0.0.1';
const CLOSE_GRACE_MS = 5_000;

export const SIMULATED_BANNER = [
  '************************************************************************',
  '*  SIMULATED HARDWARE: this attestation service runs on the SEV-SNP    *',
  '*  simulator. Its evidence proves nothing about real hardware. Never   *',
  '*  send it keys that protect real prompts.                             *',
  '************************************************************************',
].join('\n');

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
  const manifest = parseManifest(opts.manifestBytes);
  const manifestDigest = await digestOf(opts.manifestBytes);
  const { platform } = opts;
  if (platform.simulated) {
    if (!manifestTrustsSimulator(manifest)) {
      throw new SealgateError(
        'invalid_argument',
        'attestation service: the platform is simulated but the manifest trusts no simulated root: no verifier would accept this service',
      );
    }
    log('warn', 'SIMULATED_HARDWARE', { banner: SIMULATED_BANNER, platform: platform.description });
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
  });
  const host = opts.host ?? DEFAULT_HOST;
  // overrideGlobalObjects: false — do not replace the process's Request/Response (tests share it).
  const server = createAdaptorServer({ fetch: app.fetch, overrideGlobalObjects: false });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? DEFAULT_PORT, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
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
      closing ??= new Promise<void>((resolve, reject) => {
        const http = server as HttpServer;
        // Requests in flight may finish; idle keep-alive connections would hold close() open, and
        // anything still open after the grace period is cut.
        const force = setTimeout(() => http.closeAllConnections(), CLOSE_GRACE_MS);
        force.unref();
        http.close((e) => {
          clearTimeout(force);
          if (e) reject(e);
          else resolve();
        });
        http.closeIdleConnections();
      }).then(() => log('info', 'service_stopped', { url }));
      return closing;
    },
  };
}
