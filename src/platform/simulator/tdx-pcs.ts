/**
 * A SIMULATED Intel PCS (PCS API v4) for the simulated TDX platform: the four answers pcs.ts asks
 * for — TDX TCB info with its `TCB-Info-Issuer-Chain` header, TD QE identity with
 * `SGX-Enclave-Identity-Issuer-Chain`, the PCK CRL (DER) with `SGX-PCK-CRL-Issuer-Chain`, and the
 * Root CA CRL — as a fetcher, so a verifier's PCS path runs against simulated collateral exactly as
 * it would against Intel's or a PCCS. The local stack does not need it (its TDs put collateral in
 * their bundles); tests and a stack without bundle collateral do.
 */
import { toHex } from '../../bytes.js';
import type { PcsResponseLike } from '../../verify/tdx/pcs.js';
import type { TdxDevChain } from './tdx-chain.js';
import { issueTdxCollateral, type SimulatedCollateralOptions } from './tdx-collateral.js';

export const SIMULATED_PCS_BASE = 'https://pcs.simulated.invalid';
export const SIMULATED_ROOT_CA_CRL_URL = `${SIMULATED_PCS_BASE}/IntelSGXRootCA.der`;

function answer(
  status: number,
  body: Uint8Array | string,
  headers: Record<string, string> = {},
): PcsResponseLike {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    ok: status >= 200 && status < 300,
    status,
    headers: { get: (name) => lower[name.toLowerCase()] ?? null },
    arrayBuffer: async () => bytes.slice().buffer,
  };
}

/** A fetcher that serves collateral issued at `opts.now` under `SIMULATED_PCS_BASE`; 404 elsewhere. */
export function simulatedPcsFetch(
  chain: TdxDevChain,
  opts: SimulatedCollateralOptions,
  onRequest: (url: string) => void = () => undefined,
): (url: string) => Promise<PcsResponseLike> {
  const fmspc = toHex(chain.platform.fmspc).toUpperCase();
  const issued = issueTdxCollateral(chain, opts);
  return async (url) => {
    onRequest(url);
    const c = await issued;
    const sig = (s: Uint8Array) => toHex(s);
    switch (url) {
      case `${SIMULATED_PCS_BASE}/tdx/certification/v4/tcb?fmspc=${fmspc}`:
        return answer(200, `{"tcbInfo":${c.tcbInfo},"signature":"${sig(c.tcbInfoSignature)}"}`, {
          'TCB-Info-Issuer-Chain': encodeURIComponent(c.tcbInfoIssuerChain),
        });
      case `${SIMULATED_PCS_BASE}/tdx/certification/v4/qe/identity`:
        return answer(
          200,
          `{"enclaveIdentity":${c.qeIdentity},"signature":"${sig(c.qeIdentitySignature)}"}`,
          {
            'SGX-Enclave-Identity-Issuer-Chain': encodeURIComponent(c.qeIdentityIssuerChain),
          },
        );
      case `${SIMULATED_PCS_BASE}/sgx/certification/v4/pckcrl?ca=platform&encoding=der`:
        return answer(200, c.pckCrl!, {
          'SGX-PCK-CRL-Issuer-Chain': encodeURIComponent(c.pckCrlIssuerChain!),
        });
      case SIMULATED_ROOT_CA_CRL_URL:
        return answer(200, c.rootCaCrl!);
      default:
        return answer(404, 'not found');
    }
  };
}
