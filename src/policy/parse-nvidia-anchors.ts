/**
 * `trustAnchors.nvidia` (docs/manifest.md): the roots GPU evidence may chain to. The same simulator
 * rule as for AMD's roots: NVIDIA's two roots (src/verify/nvidia/nvidia-roots.ts) are known by
 * fingerprint and must not say `simulated`, and must be named for the chain they root; any other
 * root can only be the simulator's and must say `"simulated": true`.
 */
import { NVIDIA_DEVICE_IDENTITY_CA_SHA256, NVIDIA_RIM_ROOT_SHA256 } from '../verify/nvidia/nvidia-roots.js';
import {
  at,
  checkEnum,
  checkHex,
  checkList,
  checkObject,
  checkText,
  has,
  type Issues,
} from './manifest-checks.js';
import { LIMITS, MANIFEST_FIELDS } from './manifest-fields.js';
import { NVIDIA_ANCHOR_USES, type NvidiaAnchorUse, type NvidiaTrustAnchor } from './manifest-types.js';

const NVIDIA_ROOT_USE: Readonly<Record<string, NvidiaAnchorUse>> = {
  [NVIDIA_DEVICE_IDENTITY_CA_SHA256]: 'device',
  [NVIDIA_RIM_ROOT_SHA256]: 'rim',
};

function checkNvidiaAnchor(iss: Issues, v: unknown, path: string): NvidiaTrustAnchor | undefined {
  const o = checkObject(iss, v, path, MANIFEST_FIELDS.nvidiaTrustAnchor);
  if (!o) return undefined;
  const sha256 = has(o, 'sha256') ? checkHex(iss, o.sha256, at(path, 'sha256'), 32) : undefined;
  const use = has(o, 'use') ? checkEnum(iss, o.use, at(path, 'use'), NVIDIA_ANCHOR_USES) : undefined;
  if (has(o, 'simulated') && o.simulated !== true) {
    iss.add(at(path, 'simulated'), "expected true (omit the field for NVIDIA's roots)");
  }
  const simulated = o.simulated === true ? (true as const) : undefined;
  const note = has(o, 'note') ? checkText(iss, o.note, at(path, 'note'), LIMITS.noteMaxLength) : undefined;
  if (!sha256 || !use) return undefined;
  const nvidia = NVIDIA_ROOT_USE[sha256];
  if (nvidia !== undefined) {
    if (simulated) iss.add(at(path, 'simulated'), `this is NVIDIA's ${nvidia} root, not a simulated one`);
    if (nvidia !== use) iss.add(at(path, 'use'), `this fingerprint is NVIDIA's ${nvidia} root`);
  } else if (!simulated) {
    iss.add(at(path, 'sha256'), 'not an NVIDIA root fingerprint; a development root needs "simulated": true');
  }
  const out: NvidiaTrustAnchor = { sha256, use };
  if (simulated) out.simulated = true;
  if (note !== undefined) out.note = note;
  return out;
}

export function checkNvidiaAnchors(iss: Issues, v: unknown, path: string): NvidiaTrustAnchor[] | undefined {
  return checkList(
    iss,
    v,
    path,
    (x, p) => checkNvidiaAnchor(iss, x, p),
    (a) => a.sha256,
  );
}
