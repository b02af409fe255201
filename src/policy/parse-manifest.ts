import { EVENT_TYPE_NAMES } from '../evidence/tdx/event-log/event-types.js';
import { OCSP_POLICIES } from '../verify/nvidia/revocation.js';
import { TCB_STATUSES } from '../verify/tdx/tcb-info.js';
import {
  at,
  checkBool,
  checkEnum,
  checkHex,
  checkInt,
  checkList,
  checkObject,
  checkText,
  deepFreeze,
  has,
  Issues,
  isPlainOrNullProtoObject,
} from './manifest-checks.js';
import { invalidManifest, manifestJsonValue } from './manifest-error.js';
import { type FieldSpec, LIMITS, MANIFEST_FIELDS } from './manifest-fields.js';
import {
  type GatewayPin,
  GPU_ARCHITECTURES,
  GPU_MEASUREMENT_SOURCES,
  type GpuGoldenMeasurement,
  type GpuMeasurements,
  type GpuReferenceValues,
  type KeyPolicy,
  type Manifest,
  MODEL_API_KEY_RULES,
  type ModelRules,
  ROLES,
  type RoleName,
  type RoleReference,
  SNP_PRODUCTS,
  SNP_SIGNING_KEYS,
  type SnpGuestPolicyRules,
  type SnpProduct,
  type SnpReferenceValues,
  type SnpTcbMinimum,
  type SnpTcbMinimums,
  type SnpTrustAnchor,
  type TdxEventDigestRule,
  type TdxReferenceValues,
  type TrustAnchors,
} from './manifest-types.js';
import { BUILTIN_ENDPOINT, isLoopbackEndpoint, normalizeModelEndpoint } from './model-endpoint.js';
import { LOOPBACK_ENTRY } from './model-policy.js';
import { checkNvidiaAnchors } from './parse-nvidia-anchors.js';
import { checkTdxAnchors } from './parse-tdx-anchors.js';
import { amdArkProduct } from './trust-anchors.js';

/**
 * Parses and checks a manifest given as JSON text, UTF-8 bytes, or an already-parsed JSON value.
 * Text goes through the strict JSON parser (duplicate names and lone surrogates rejected).
 */
export function parseManifest(input: unknown): Manifest {
  const value = manifestJsonValue(input);
  const iss = new Issues();
  const manifest = checkManifest(iss, value);
  if (iss.list.length > 0 || manifest === undefined) throw invalidManifest(iss.list);
  return deepFreeze(manifest);
}

/** Builds the copy only from members that passed; `undefined` members are left out. */
function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

function checkManifest(iss: Issues, v: unknown): Manifest | undefined {
  const o = checkObject(iss, v, '', MANIFEST_FIELDS.manifest);
  if (!o) return undefined;
  if (has(o, 'version') && o.version !== 1) iss.add('/version', 'expected 1');
  const name = has(o, 'name') ? checkText(iss, o.name, '/name', LIMITS.nameMaxLength) : undefined;
  const before = iss.list.length;
  const anchors = has(o, 'trustAnchors') ? checkTrustAnchors(iss, o.trustAnchors) : undefined;
  // A broken anchor is reported once, not again as "no trust anchor for …" under each role.
  const anchorsClean = iss.list.length === before;
  const roles = has(o, 'roles') ? checkRoles(iss, o.roles) : undefined;
  const keyPolicy = has(o, 'keyPolicy') ? checkKeyPolicy(iss, o.keyPolicy) : undefined;
  const gateway = has(o, 'gateway') ? checkGatewayPin(iss, o.gateway) : undefined;
  if (anchors && anchorsClean && roles) checkProductsAnchored(iss, anchors, roles);
  const nvidia =
    isPlainOrNullProtoObject(o.trustAnchors) && has(o.trustAnchors, 'nvidia')
      ? checkNvidiaAnchors(iss, o.trustAnchors.nvidia, '/trustAnchors/nvidia')
      : undefined;
  if (iss.list.length > 0 || !name || !anchors || !roles || !keyPolicy) return undefined;
  const trustAnchors = defined({ ...anchors, nvidia });
  return defined<Manifest>({ version: 1, name, trustAnchors, roles, keyPolicy, gateway });
}

/** `gateway.uploadKey`: a 32-byte Ed25519 public key (RFC 8032 §5.1.5), hex. */
function checkGatewayPin(iss: Issues, v: unknown): GatewayPin | undefined {
  const o = checkObject(iss, v, '/gateway', MANIFEST_FIELDS.gateway);
  if (!o) return undefined;
  const uploadKey = has(o, 'uploadKey')
    ? checkHex(iss, o.uploadKey, '/gateway/uploadKey', 32, { nonZero: true })
    : undefined;
  const note = has(o, 'note') ? checkText(iss, o.note, '/gateway/note', LIMITS.noteMaxLength) : undefined;
  return uploadKey ? defined({ uploadKey, note }) : undefined;
}

function checkTrustAnchors(iss: Issues, v: unknown): TrustAnchors | undefined {
  const o = checkObject(iss, v, '/trustAnchors', MANIFEST_FIELDS.trustAnchors);
  if (!o || !has(o, 'snp')) return undefined;
  const snp = checkList(
    iss,
    o.snp,
    '/trustAnchors/snp',
    (x, p) => checkAnchor(iss, x, p),
    (a) => a.sha256,
  );
  const tdx = has(o, 'tdx') ? checkTdxAnchors(iss, o.tdx) : undefined;
  return snp ? defined({ snp, tdx }) : undefined;
}

/**
 * AMD's roots are known by fingerprint (trust-anchors.ts). Anything else can only be the
 * simulator's development root, which must be marked `simulated: true` so that trusting it is
 * never an accident; and AMD's roots must not be marked.
 */
function checkAnchor(iss: Issues, v: unknown, path: string): SnpTrustAnchor | undefined {
  const o = checkObject(iss, v, path, MANIFEST_FIELDS.snpTrustAnchor);
  if (!o) return undefined;
  const sha256 = has(o, 'sha256') ? checkHex(iss, o.sha256, at(path, 'sha256'), 32) : undefined;
  const product = has(o, 'product')
    ? checkEnum(iss, o.product, at(path, 'product'), SNP_PRODUCTS)
    : undefined;
  let simulated: true | undefined;
  if (has(o, 'simulated')) {
    if (o.simulated === true) simulated = true;
    else iss.add(at(path, 'simulated'), 'expected true (omit the field for AMD roots)');
  }
  const note = has(o, 'note') ? checkText(iss, o.note, at(path, 'note'), LIMITS.noteMaxLength) : undefined;
  if (!sha256 || !product) return undefined;
  const amd = amdArkProduct(sha256);
  if (amd !== undefined) {
    if (simulated) iss.add(at(path, 'simulated'), `this is AMD's ${amd} ARK, not a simulated root`);
    if (amd !== product) iss.add(at(path, 'product'), `this fingerprint is AMD's ${amd} ARK`);
  } else if (!simulated && !has(o, 'simulated')) {
    iss.add(at(path, 'sha256'), 'not an AMD ARK fingerprint; a development root needs "simulated": true');
  }
  return defined({ sha256, product, simulated, note });
}

function checkRoles(iss: Issues, v: unknown): Partial<Record<RoleName, RoleReference>> | undefined {
  const o = checkObject(iss, v, '/roles', MANIFEST_FIELDS.roles);
  if (!o) return undefined;
  const out: Partial<Record<RoleName, RoleReference>> = {};
  for (const role of ROLES) {
    if (!has(o, role)) continue;
    const path = at('/roles', role);
    const spec = role === 'worker' ? MANIFEST_FIELDS.workerRoleReference : MANIFEST_FIELDS.roleReference;
    const r = checkObject(iss, o[role], path, spec);
    const snp = r && has(r, 'snp') ? checkSnpReference(iss, r.snp, at(path, 'snp')) : undefined;
    const tdx = r && has(r, 'tdx') ? checkTdxReference(iss, r.tdx, at(path, 'tdx')) : undefined;
    const gpu = r && has(r, 'gpu') ? checkGpuReference(iss, r.gpu, at(path, 'gpu')) : undefined;
    const model = r && has(r, 'model') ? checkModelRules(iss, r.model, at(path, 'model')) : undefined;
    const note =
      r && has(r, 'note') ? checkText(iss, r.note, at(path, 'note'), LIMITS.noteMaxLength) : undefined;
    // A role names the TEEs it accepts: SEV-SNP, Intel TDX or both; with neither it trusts nothing.
    if (r && !has(r, 'snp') && !has(r, 'tdx')) iss.add(path, 'expected "snp", "tdx" or both');
    if (snp || tdx) out[role] = defined({ snp, tdx, gpu, model, note });
  }
  // A role the manifest does not describe is never trusted (evaluation: `role_unknown`); a
  // manifest that describes none trusts nothing and is a mistake.
  if (!ROLES.some((role) => has(o, role)))
    iss.add('/roles', `at least one role is required (${ROLES.join(', ')})`);
  return out;
}

/**
 * `model`: endpoints are `builtin`, `loopback`, or a URL written exactly as the worker normalizes it
 * (one spelling per endpoint, so allowed means equal). Plain http only to a loopback address: to
 * any other host it would carry prompts in the clear.
 */
function checkModelRules(iss: Issues, v: unknown, path: string): ModelRules | undefined {
  const o = checkObject(iss, v, path, MANIFEST_FIELDS.modelRules);
  if (!o) return undefined;
  const endpoints = has(o, 'endpoints')
    ? checkList(iss, o.endpoints, at(path, 'endpoints'), (x, p) => checkEndpointEntry(iss, x, p))
    : undefined;
  const apiKey = has(o, 'apiKey')
    ? checkEnum(iss, o.apiKey, at(path, 'apiKey'), MODEL_API_KEY_RULES)
    : undefined;
  if (!endpoints || (has(o, 'apiKey') && apiKey === undefined)) return undefined;
  return defined({ endpoints, apiKey });
}

function checkEndpointEntry(iss: Issues, v: unknown, path: string): string | undefined {
  const text = checkText(iss, v, path, LIMITS.endpointMaxLength);
  if (text === undefined || text === BUILTIN_ENDPOINT || text === LOOPBACK_ENTRY) return text;
  let normalized: string;
  try {
    normalized = normalizeModelEndpoint(text, 'an endpoint');
  } catch (e) {
    iss.add(path, `expected "builtin", "loopback" or an http(s) URL: ${(e as Error).message}`);
    return undefined;
  }
  if (normalized !== text) {
    iss.add(path, `not in normalized form: write ${JSON.stringify(normalized)}`);
    return undefined;
  }
  if (normalized.startsWith('http:') && !isLoopbackEndpoint(normalized)) {
    iss.add(path, 'plain http is allowed only to a loopback address: use https');
    return undefined;
  }
  return text;
}

/** Every product with a minimumLaunchTcb has a minimumTcb: else the role never accepts it. */
function checkLaunchTcbProducts(
  iss: Issues,
  path: string,
  minimumTcb: object,
  minimumLaunchTcb: object,
): void {
  for (const product of Object.keys(minimumLaunchTcb)) {
    if (!has(minimumTcb, product)) {
      iss.add(at(path, product), 'product has no minimumTcb, so the role does not accept it');
    }
  }
}

function checkSnpReference(iss: Issues, v: unknown, path: string): SnpReferenceValues | undefined {
  const o = checkObject(iss, v, path, MANIFEST_FIELDS.snpReferenceValues);
  if (!o) return undefined;
  const p = (k: string): string => at(path, k);
  const hexList = (k: string, bytes: number, nonZero = false): string[] | undefined =>
    has(o, k) ? checkList(iss, o[k], p(k), (x, q) => checkHex(iss, x, q, bytes, { nonZero })) : undefined;
  const hex = (k: string, bytes: number): string | undefined =>
    has(o, k) ? checkHex(iss, o[k], p(k), bytes) : undefined;

  const measurements = has(o, 'measurements') ? hexList('measurements', 48) : undefined;
  const minimumTcb = has(o, 'minimumTcb') ? checkTcbMinimums(iss, o.minimumTcb, p('minimumTcb')) : undefined;
  const minimumLaunchTcb = has(o, 'minimumLaunchTcb')
    ? checkTcbMinimums(iss, o.minimumLaunchTcb, p('minimumLaunchTcb'))
    : undefined;
  if (minimumTcb && minimumLaunchTcb)
    checkLaunchTcbProducts(iss, p('minimumLaunchTcb'), minimumTcb, minimumLaunchTcb);
  const out: SnpReferenceValues = defined({
    measurements: measurements ?? [],
    signingKeys: has(o, 'signingKeys')
      ? checkList(iss, o.signingKeys, p('signingKeys'), (x, q) => checkEnum(iss, x, q, SNP_SIGNING_KEYS))
      : undefined,
    policy: has(o, 'policy') ? checkGuestPolicy(iss, o.policy, p('policy')) : undefined,
    platformInfo: has(o, 'platformInfo')
      ? checkFlags(iss, o.platformInfo, p('platformInfo'), MANIFEST_FIELDS.snpPlatformInfoRules)
      : undefined,
    minimumTcb: minimumTcb ?? {},
    minimumLaunchTcb,
    vmpl: has(o, 'vmpl') ? checkInt(iss, o.vmpl, p('vmpl'), 0, LIMITS.vmplMax) : undefined,
    hostData: hex('hostData', 32),
    idKeyDigests: hexList('idKeyDigests', 48, true),
    authorKeyDigests: hexList('authorKeyDigests', 48, true),
    chipIds: hexList('chipIds', 64, true),
    minimumGuestSvn: has(o, 'minimumGuestSvn')
      ? checkInt(iss, o.minimumGuestSvn, p('minimumGuestSvn'), 0, LIMITS.u32Max)
      : undefined,
    allowProvisionalFirmware: has(o, 'allowProvisionalFirmware')
      ? checkBool(iss, o.allowProvisionalFirmware, p('allowProvisionalFirmware'))
      : undefined,
    familyId: hex('familyId', 16),
    imageId: hex('imageId', 16),
  });
  return measurements && minimumTcb ? out : undefined;
}

function checkTdxReference(iss: Issues, v: unknown, path: string): TdxReferenceValues | undefined {
  const o = checkObject(iss, v, path, MANIFEST_FIELDS.tdxReferenceValues);
  if (!o) return undefined;
  const p = (k: string): string => at(path, k);
  const hexList = (k: string, bytes: number): string[] | undefined =>
    has(o, k) ? checkList(iss, o[k], p(k), (x, q) => checkHex(iss, x, q, bytes)) : undefined;
  const hex = (k: string, bytes: number): string | undefined =>
    has(o, k) ? checkHex(iss, o[k], p(k), bytes) : undefined;
  const mrTd = hexList('mrTd', 48);
  const out: TdxReferenceValues = defined({
    mrTd: mrTd ?? [],
    rtmr0: hexList('rtmr0', 48),
    rtmr1: hexList('rtmr1', 48),
    rtmr2: hexList('rtmr2', 48),
    rtmr3: hexList('rtmr3', 48),
    mrConfigId: hex('mrConfigId', 48),
    mrOwner: hex('mrOwner', 48),
    mrOwnerConfig: hex('mrOwnerConfig', 48),
    mrSeam: hexList('mrSeam', 48),
    tdAttributesAllowed: hex('tdAttributesAllowed', 8),
    tdAttributesRequired: hex('tdAttributesRequired', 8),
    xfam: hexList('xfam', 8),
    minimumTeeTcbSvn: hex('minimumTeeTcbSvn', 16),
    tcbStatuses: has(o, 'tcbStatuses')
      ? checkList(iss, o.tcbStatuses, p('tcbStatuses'), (x, q) => checkEnum(iss, x, q, TCB_STATUSES))
      : undefined,
    advisoryIds: has(o, 'advisoryIds')
      ? checkList(iss, o.advisoryIds, p('advisoryIds'), (x, q) => checkAdvisoryId(iss, x, q))
      : undefined,
    eventDigests: has(o, 'eventDigests')
      ? checkList(
          iss,
          o.eventDigests,
          p('eventDigests'),
          (x, q) => checkEventDigestRule(iss, x, q),
          (r) => `${r.rtmr}/${r.eventType}`,
        )
      : undefined,
  });
  return mrTd ? out : undefined;
}

/** One `tdx.eventDigests` rule; (rtmr, eventType) pairs are unique within the list. */
function checkEventDigestRule(iss: Issues, v: unknown, path: string): TdxEventDigestRule | undefined {
  const o = checkObject(iss, v, path, MANIFEST_FIELDS.tdxEventDigestRule);
  if (!o) return undefined;
  const rtmr = has(o, 'rtmr') ? checkInt(iss, o.rtmr, at(path, 'rtmr'), 0, LIMITS.rtmrMax) : undefined;
  const eventType = has(o, 'eventType')
    ? checkEnum(iss, o.eventType, at(path, 'eventType'), EVENT_TYPE_NAMES)
    : undefined;
  const digests = has(o, 'digests')
    ? checkList(iss, o.digests, at(path, 'digests'), (x, q) => checkHex(iss, x, q, 48))
    : undefined;
  if (rtmr === undefined || eventType === undefined || digests === undefined) return undefined;
  return { rtmr: rtmr as TdxEventDigestRule['rtmr'], eventType, digests };
}

/** Intel security advisory IDs as TCB info lists them: INTEL-SA-NNNNN. */
function checkAdvisoryId(iss: Issues, v: unknown, path: string): string | undefined {
  if (typeof v !== 'string' || !/^INTEL-SA-[0-9]{5}$/.test(v)) {
    iss.add(path, 'expected an Intel advisory ID (INTEL-SA-NNNNN)');
    return undefined;
  }
  return v;
}

/** A version string as the GPU report carries it: digits and dots (VBIOS: lower-case hex and dots). */
function checkVersion(iss: Issues, v: unknown, path: string, pattern: RegExp): string | undefined {
  const s = checkText(iss, v, path, LIMITS.gpuVersionMaxLength);
  if (s !== undefined && !pattern.test(s)) {
    iss.add(
      path,
      `expected a version like ${pattern === VBIOS_VERSION ? '"96.00.9f.00.01" (lower-case)' : '"550.90.07"'}`,
    );
    return undefined;
  }
  return s;
}

const DRIVER_VERSION = /^[0-9]+(\.[0-9]+)*$/;
const VBIOS_VERSION = /^[0-9a-f]{2}(\.[0-9a-f]{2}){4}$/;

function checkGpuReference(iss: Issues, v: unknown, path: string): GpuReferenceValues | undefined {
  const o = checkObject(iss, v, path, MANIFEST_FIELDS.gpuReferenceValues);
  if (!o) return undefined;
  const p = (k: string): string => at(path, k);
  let count: { min: number; max: number } | undefined;
  if (has(o, 'count')) {
    const c = checkObject(iss, o.count, p('count'), MANIFEST_FIELDS.gpuCount);
    const min =
      c && has(c, 'min') ? checkInt(iss, c.min, at(p('count'), 'min'), 0, LIMITS.gpuCountMax) : undefined;
    const max =
      c && has(c, 'max') ? checkInt(iss, c.max, at(p('count'), 'max'), 1, LIMITS.gpuCountMax) : undefined;
    if (min !== undefined && max !== undefined) {
      if (min > max) iss.add(p('count'), 'min is greater than max');
      else count = { min, max };
    }
  }
  const architecture = has(o, 'architecture')
    ? checkEnum(iss, o.architecture, p('architecture'), GPU_ARCHITECTURES)
    : undefined;
  const versions = (k: string, pattern: RegExp): string[] | undefined =>
    has(o, k) ? checkList(iss, o[k], p(k), (x, q) => checkVersion(iss, x, q, pattern)) : undefined;
  const driverVersions = versions('driverVersions', DRIVER_VERSION);
  const vbiosVersions = versions('vbiosVersions', VBIOS_VERSION);
  const measurements = has(o, 'measurements')
    ? checkGpuMeasurements(iss, o.measurements, p('measurements'))
    : undefined;
  const allowMissingFwid = has(o, 'allowMissingFwid')
    ? checkBool(iss, o.allowMissingFwid, p('allowMissingFwid'))
    : undefined;
  const ocsp = has(o, 'ocsp') ? checkEnum(iss, o.ocsp, p('ocsp'), OCSP_POLICIES) : undefined;
  if (!count || !architecture || !driverVersions || !vbiosVersions || !measurements) return undefined;
  return defined({
    count,
    architecture,
    driverVersions,
    vbiosVersions,
    measurements,
    allowMissingFwid,
    ocsp,
  });
}

function checkGpuMeasurements(iss: Issues, v: unknown, path: string): GpuMeasurements | undefined {
  const o = checkObject(iss, v, path, MANIFEST_FIELDS.gpuMeasurements);
  if (!o) return undefined;
  const source = has(o, 'source')
    ? checkEnum(iss, o.source, at(path, 'source'), GPU_MEASUREMENT_SOURCES)
    : undefined;
  if (source === 'rim' && has(o, 'golden'))
    iss.add(at(path, 'golden'), 'golden values are only read with source "golden"');
  if (source === 'golden' && !has(o, 'golden')) iss.add(at(path, 'golden'), 'required with source "golden"');
  const golden = has(o, 'golden')
    ? checkList(
        iss,
        o.golden,
        at(path, 'golden'),
        (x, q): GpuGoldenMeasurement | undefined => {
          const g = checkObject(iss, x, q, MANIFEST_FIELDS.gpuGoldenMeasurement);
          if (!g) return undefined;
          const index = has(g, 'index')
            ? checkInt(iss, g.index, at(q, 'index'), 1, LIMITS.gpuBlockIndexMax)
            : undefined;
          const values = has(g, 'values')
            ? checkList(iss, g.values, at(q, 'values'), (y, r) => checkHex(iss, y, r, 48))
            : undefined;
          return index !== undefined && values ? { index, values } : undefined;
        },
        (g) => String(g.index),
      )
    : undefined;
  if (!source || (source === 'golden' && !golden)) return undefined;
  return defined({ source, golden });
}

function checkGuestPolicy(iss: Issues, v: unknown, path: string): SnpGuestPolicyRules | undefined {
  const o = checkObject(iss, v, path, MANIFEST_FIELDS.snpGuestPolicyRules);
  if (!o) return undefined;
  const flag = (k: string): boolean | undefined =>
    has(o, k) ? checkBool(iss, o[k], at(path, k)) : undefined;
  let minAbi: { major: number; minor: number } | undefined;
  if (has(o, 'minAbi')) {
    const q = at(path, 'minAbi');
    const a = checkObject(iss, o.minAbi, q, MANIFEST_FIELDS.abiVersion);
    const major = a && has(a, 'major') ? checkInt(iss, a.major, at(q, 'major'), 0, LIMITS.u8Max) : undefined;
    const minor = a && has(a, 'minor') ? checkInt(iss, a.minor, at(q, 'minor'), 0, LIMITS.u8Max) : undefined;
    if (major !== undefined && minor !== undefined) minAbi = { major, minor };
  }
  return defined({
    allowDebug: flag('allowDebug'),
    allowMigrationAgent: flag('allowMigrationAgent'),
    allowSmt: flag('allowSmt'),
    requireSingleSocket: flag('requireSingleSocket'),
    minAbi,
    allowCxl: flag('allowCxl'),
    requireMemAes256Xts: flag('requireMemAes256Xts'),
    requireRaplDisabled: flag('requireRaplDisabled'),
    requireCiphertextHiding: flag('requireCiphertextHiding'),
    requirePageSwapDisabled: flag('requirePageSwapDisabled'),
  });
}

/** An object whose members are all optional booleans (`fields` names them). */
function checkFlags(
  iss: Issues,
  v: unknown,
  path: string,
  fields: FieldSpec,
): Record<string, boolean> | undefined {
  const o = checkObject(iss, v, path, fields);
  if (!o) return undefined;
  const out: Record<string, boolean> = {};
  for (const k of fields.optional) {
    const b = has(o, k) ? checkBool(iss, o[k], at(path, k)) : undefined;
    if (b !== undefined) out[k] = b;
  }
  return out;
}

function checkTcbMinimums(iss: Issues, v: unknown, path: string): SnpTcbMinimums | undefined {
  const o = checkObject(iss, v, path, MANIFEST_FIELDS.snpTcbMinimums);
  if (!o) return undefined;
  if (Object.keys(o).length === 0) iss.add(path, 'expected at least one product');
  const out: SnpTcbMinimums = {};
  for (const product of SNP_PRODUCTS) {
    if (!has(o, product)) continue;
    const tcb = checkTcb(iss, o[product], at(path, product), product);
    if (tcb) out[product] = tcb;
  }
  return out;
}

function checkTcb(iss: Issues, v: unknown, path: string, product: SnpProduct): SnpTcbMinimum | undefined {
  const spec =
    product === 'Turin' ? MANIFEST_FIELDS.snpTcbMinimumTurin : MANIFEST_FIELDS.snpTcbMinimumMilanGenoa;
  const o = checkObject(iss, v, path, spec);
  if (!o) return undefined;
  const spl = (k: string): number | undefined =>
    has(o, k) && (spec.required as readonly string[]).includes(k)
      ? checkInt(iss, o[k], at(path, k), 0, LIMITS.u8Max)
      : undefined;
  const t = defined({
    fmc: spl('fmc'),
    bootloader: spl('bootloader'),
    tee: spl('tee'),
    snp: spl('snp'),
    microcode: spl('microcode'),
  });
  return Object.keys(t).length === spec.required.length ? (t as SnpTcbMinimum) : undefined;
}

/**
 * A KEK is current for `rotationIntervalSeconds`, then decrypt-only for `overlapSeconds`; its
 * not-after (`lifetimeSeconds` after creation) must cover both, or requests in flight under the
 * old key fail before the overlap ends. Overlap shorter than the interval keeps at most two keys live.
 */
function checkKeyPolicy(iss: Issues, v: unknown): KeyPolicy | undefined {
  const o = checkObject(iss, v, '/keyPolicy', MANIFEST_FIELDS.keyPolicy);
  if (!o) return undefined;
  const num = (k: 'rotationIntervalSeconds' | 'overlapSeconds' | 'lifetimeSeconds'): number | undefined =>
    has(o, k) ? checkInt(iss, o[k], `/keyPolicy/${k}`, LIMITS[k].min, LIMITS[k].max) : undefined;
  const rotationIntervalSeconds = num('rotationIntervalSeconds');
  const overlapSeconds = num('overlapSeconds');
  const lifetimeSeconds = num('lifetimeSeconds');
  if (
    rotationIntervalSeconds === undefined ||
    overlapSeconds === undefined ||
    lifetimeSeconds === undefined
  ) {
    return undefined;
  }
  let ok = true;
  if (overlapSeconds >= rotationIntervalSeconds) {
    iss.add('/keyPolicy/overlapSeconds', 'must be less than rotationIntervalSeconds');
    ok = false;
  }
  if (rotationIntervalSeconds + overlapSeconds > lifetimeSeconds) {
    iss.add(
      '/keyPolicy/lifetimeSeconds',
      `must be at least rotationIntervalSeconds + overlapSeconds (${rotationIntervalSeconds + overlapSeconds})`,
    );
    ok = false;
  }
  return ok ? { rotationIntervalSeconds, overlapSeconds, lifetimeSeconds } : undefined;
}

/** A product a role accepts but no anchor roots can never verify: a mistake, said at parse time. */
function checkProductsAnchored(
  iss: Issues,
  { snp: anchors }: TrustAnchors,
  roles: Partial<Record<RoleName, RoleReference>>,
): void {
  const anchored = new Set(anchors.map((a) => a.product));
  for (const role of ROLES) {
    const snp = roles[role]?.snp;
    if (!snp) continue;
    for (const product of Object.keys(snp.minimumTcb) as SnpProduct[]) {
      if (!anchored.has(product)) {
        iss.add(
          `/roles/${role}/snp/minimumTcb/${product}`,
          `no trust anchor for ${product} in /trustAnchors/snp`,
        );
      }
    }
  }
}
