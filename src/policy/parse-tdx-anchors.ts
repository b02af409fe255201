/**
 * `trustAnchors.tdx` (docs/manifest.md "Trust anchors"): the SGX Root CAs a manifest trusts for
 * Intel TDX, by SHA-256 of the DER. The same rule as for AMD's ARKs: Intel's root is a fact
 * (src/verify/tdx/intel-root.ts) and must not be marked `simulated`; any other root can only be the
 * simulator's development root and must say `"simulated": true`, so trusting it is never an
 * accident and simulated TDX evidence never passes a manifest that names only Intel's root.
 */
import { INTEL_SGX_ROOT_CA_SHA256 } from '../verify/tdx/intel-root.js';
import { at, checkHex, checkList, checkObject, checkText, has, type Issues } from './manifest-checks.js';
import { LIMITS, MANIFEST_FIELDS } from './manifest-fields.js';
import type { TdxTrustAnchor } from './manifest-types.js';

function checkTdxAnchor(iss: Issues, v: unknown, path: string): TdxTrustAnchor | undefined {
  const o = checkObject(iss, v, path, MANIFEST_FIELDS.tdxTrustAnchor);
  if (!o) return undefined;
  const sha256 = has(o, 'sha256') ? checkHex(iss, o.sha256, at(path, 'sha256'), 32) : undefined;
  let simulated: true | undefined;
  if (has(o, 'simulated')) {
    if (o.simulated === true) simulated = true;
    else iss.add(at(path, 'simulated'), "expected true (omit the field for Intel's root)");
  }
  const note = has(o, 'note') ? checkText(iss, o.note, at(path, 'note'), LIMITS.noteMaxLength) : undefined;
  if (!sha256) return undefined;
  if (sha256 === INTEL_SGX_ROOT_CA_SHA256) {
    if (simulated) iss.add(at(path, 'simulated'), "this is Intel's SGX Root CA, not a simulated root");
  } else if (!simulated && !has(o, 'simulated')) {
    iss.add(
      at(path, 'sha256'),
      'not Intel\'s SGX Root CA fingerprint; a development root needs "simulated": true',
    );
  }
  const out: TdxTrustAnchor = { sha256 };
  if (simulated) out.simulated = true;
  if (note !== undefined) out.note = note;
  return out;
}

/** The list at `/trustAnchors/tdx`: non-empty, unique by fingerprint. */
export function checkTdxAnchors(iss: Issues, v: unknown): TdxTrustAnchor[] | undefined {
  return checkList(
    iss,
    v,
    '/trustAnchors/tdx',
    (x, p) => checkTdxAnchor(iss, x, p),
    (a) => a.sha256,
  );
}
