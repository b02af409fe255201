/**
 * The workers this service registered: certificate serial → the worker's attested `hpke` key. The
 * certificate carries only the key's SHA-256 (a certificate is not the place for a 1216-byte key),
 * so `POST /v1/workers/keys` looks the key up here and checks it against that hash. Entries live as
 * long as their certificate; the map is bounded (registration needs valid evidence, but memory is
 * still finite) and refuses new entries rather than forgetting valid workers.
 */
import { constantTimeEqual } from '../bytes.js';

export const MAX_REGISTERED_WORKERS = 4096;

export interface RegisteredWorker {
  serialNumber: string;
  hpkeKey: Uint8Array;
  hpkeKeySha256: Uint8Array;
  /** Unix seconds: the certificate's notAfter. */
  notAfter: number;
  /** The issued certificate (DER), shown read-only by `GET /v1/workers` (worker-list.ts). */
  certificate?: Uint8Array;
}

export class WorkerRegistry {
  readonly #bySerial = new Map<string, RegisteredWorker>();
  readonly #max: number;

  constructor(opts: { max?: number } = {}) {
    this.#max = opts.max ?? MAX_REGISTERED_WORKERS;
  }

  /** False when full of workers whose certificates are still valid. */
  add(worker: RegisteredWorker, now: number): boolean {
    if (this.#bySerial.size >= this.#max) this.prune(now);
    if (this.#bySerial.size >= this.#max) return false;
    this.#bySerial.set(worker.serialNumber, { ...worker, hpkeKey: worker.hpkeKey.slice() });
    return true;
  }

  /** The worker's hpke key when `serialNumber` is registered, unexpired, and its key hashes to `hpkeKeySha256`. */
  lookup(serialNumber: string, hpkeKeySha256: Uint8Array, now: number): RegisteredWorker | undefined {
    const w = this.#bySerial.get(serialNumber);
    if (!w || now >= w.notAfter) return undefined;
    return constantTimeEqual(w.hpkeKeySha256, hpkeKeySha256) ? w : undefined;
  }

  prune(now: number): void {
    for (const [serial, w] of this.#bySerial) if (now >= w.notAfter) this.#bySerial.delete(serial);
  }

  /** Workers whose certificates are valid at `now`, oldest first (read-only copies). */
  list(now: number): RegisteredWorker[] {
    return [...this.#bySerial.values()].filter((w) => now < w.notAfter).map((w) => ({ ...w }));
  }

  get size(): number {
    return this.#bySerial.size;
  }
}
