/**
 * A SIMULATED Intel TD: answers `getEvidence(reportData)` with a v4 quote signed by an attestation
 * key made at launch (as a real QE makes one per boot) and certified by the simulated PCK key, and
 * with SIMULATED collateral for it (tdx-collateral.ts), re-issued when half its window has passed —
 * the shape the configfs-tsm TDX provider plus a PCCS give on real hardware.
 */
import { SealgateError } from '../../errors.js';
import type { TdxCollateral } from '../../verify/tdx/collateral.js';
import type { TdxEvidence, TdxPlatform } from '../types.js';
import { ECDSA_P256, type TdxDevChain } from './tdx-chain.js';
import { issueTdxCollateral } from './tdx-collateral.js';
import { type SimulatedTdConfig, signTdxQuote } from './tdx-quote.js';

const COLLATERAL_DAYS = 30;

export class SimulatedTdxPlatform implements TdxPlatform {
  readonly kind = 'tdx' as const;
  readonly simulated = true as const;
  readonly description: string;
  readonly #chain: TdxDevChain;
  readonly #td: SimulatedTdConfig;
  readonly #now: () => Date;
  #attestationKey: Promise<CryptoKeyPair> | null = null;
  #collateral: { value: TdxCollateral; renewAt: number } | null = null;

  constructor(chain: TdxDevChain, td: SimulatedTdConfig, opts: { label: string; now?: () => Date }) {
    if (chain?.simulated !== true)
      throw new SealgateError('invalid_argument', 'simulated TD: expected a TdxDevChain');
    if (!(td?.mrTd instanceof Uint8Array) || td.mrTd.length !== 48)
      throw new SealgateError('invalid_argument', 'simulated TD: mrTd must be 48 bytes');
    this.#chain = chain;
    this.#td = td;
    this.#now = opts.now ?? (() => new Date());
    this.description = `SIMULATED HARDWARE: simulated Intel TD "${opts.label}" (development SGX root ${chain.rootSha256.slice(0, 16)}…)`;
  }

  /** What a manifest's `trustAnchors.tdx` must name to trust this platform's quotes. */
  get rootSha256(): string {
    return this.#chain.rootSha256;
  }

  async getEvidence(reportData: Uint8Array): Promise<TdxEvidence> {
    if (!(reportData instanceof Uint8Array) || reportData.length !== 64)
      throw new SealgateError('invalid_argument', 'simulated TD: REPORT_DATA must be exactly 64 bytes');
    this.#attestationKey ??= crypto.subtle.generateKey(ECDSA_P256, true, [
      'sign',
      'verify',
    ]) as Promise<CryptoKeyPair>;
    const quote = await signTdxQuote(this.#chain, await this.#attestationKey, this.#td, reportData);
    return { quote, collateral: await this.#currentCollateral() };
  }

  async #currentCollateral(): Promise<TdxCollateral> {
    const now = this.#now();
    if (this.#collateral === null || now.getTime() >= this.#collateral.renewAt) {
      const value = await issueTdxCollateral(this.#chain, { now, validDays: COLLATERAL_DAYS });
      this.#collateral = { value, renewAt: now.getTime() + (COLLATERAL_DAYS / 2) * 86_400_000 };
    }
    return this.#collateral.value;
  }
}
