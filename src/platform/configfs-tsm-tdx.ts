/**
 * Real Intel TDX hardware through configfs-tsm (Documentation/ABI/testing/configfs-tsm-report):
 * with provider `tdx_guest`, writing the 64-byte REPORT_DATA to `inblob` makes the kernel get a
 * TDREPORT from the TDX module and have the host's Quoting Enclave turn it into a quote (GetQuote,
 * TDX GHCI §3.3); `outblob` is that quote (v4 or v5) with the PCK chain inside it. There is no
 * `auxblob` and no `privlevel` for TDX. The request protocol (generation check, entry removal) is
 * configfs-tsm.ts's.
 *
 * Collateral: a verifier fetches it from Intel's PCS or a PCCS (src/verify/tdx/pcs.ts) when the
 * bundle lacks it; `collateral` lets the TD attach what its own PCCS gave (still verified by the
 * verifier, like any bytes in a bundle).
 */
import type { TdxCollateral } from '../verify/tdx/collateral.js';
import { CONFIGFS_TSM_REPORT_ROOT, requestTsmReport, type TsmLocation } from './configfs-tsm.js';
import type { TdxEvidence, TdxPlatform } from './types.js';

export class ConfigfsTsmTdxPlatform implements TdxPlatform {
  readonly kind = 'tdx' as const;
  readonly simulated = false;
  readonly description: string;
  private readonly at: TsmLocation;
  private readonly collateral: ((quote: Uint8Array) => Promise<TdxCollateral | null>) | undefined;

  constructor(
    opts: TsmLocation & { collateral?: (quote: Uint8Array) => Promise<TdxCollateral | null> } = {},
  ) {
    this.at = {
      ...(opts.root ? { root: opts.root } : {}),
      ...(opts.fileOps ? { fileOps: opts.fileOps } : {}),
    };
    this.collateral = opts.collateral;
    this.description = `configfs-tsm tdx_guest at ${opts.root ?? CONFIGFS_TSM_REPORT_ROOT}`;
  }

  async getEvidence(reportData: Uint8Array): Promise<TdxEvidence> {
    const { outblob } = await requestTsmReport(this.at, 'tdx_guest', reportData);
    const collateral = this.collateral ? await this.collateral(outblob) : null;
    return { quote: outblob, ...(collateral ? { collateral } : {}) };
  }
}
