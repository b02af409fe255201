/**
 * The SGX extensions of a PCK certificate (Intel "SGX PCK Certificate and Certificate Revocation
 * List Profile Specification", §1.3.5 "Intel SGX Extensions"): OID 1.2.840.113741.1.13.1, whose
 * value is SEQUENCE OF SEQUENCE { OID, value }:
 *   .1 PPID OCTET STRING (16)      .2 TCB SEQUENCE { .2.1–.2.16 INTEGER component SVNs,
 *   .3 PCE-ID OCTET STRING (2)                        .2.17 INTEGER PCESVN, .2.18 OCTET STRING CPUSVN (16) }
 *   .4 FMSPC OCTET STRING (6)      .5 SGX Type ENUMERATED; optional .6 PlatformInstanceID, .7 Configuration.
 * Strict: each element once, every required one present, sizes exact, SVNs in range (component
 * 0..255, PCESVN 0..65535), DER minimal integers. Failures are `malformed_certificate`.
 */

import { readTlv, type Tlv } from '../../der/der.js';
import { childTlvs, decodeOid } from '../../der/x509-fields.js';
import { SealgateError } from '../../errors.js';

export const OID_SGX_EXTENSIONS = '1.2.840.113741.1.13.1';
const SGX = OID_SGX_EXTENSIONS;

export interface PckExtensions {
  ppid: Uint8Array;
  /** SGX TCB component SVNs 1..16 (index 0 = component 1). */
  sgxTcbComponents: number[];
  pceSvn: number;
  cpuSvn: Uint8Array;
  pceId: Uint8Array;
  fmspc: Uint8Array;
  /** 0 Standard, 1 Scalable, 2 Scalable with integrity. */
  sgxType: number;
}

function bad(message: string): SealgateError {
  return new SealgateError('malformed_certificate', `PCK SGX extensions: ${message}`);
}

function guard<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof SealgateError && e.message.startsWith('PCK SGX')) throw e;
    throw bad((e as Error).message.replace(/^certificate: /, ''));
  }
}

function kids(der: Uint8Array, t: Tlv, name: string, tag = 0x30): Tlv[] {
  if (t.tag !== tag) throw bad(`${name}: expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`);
  return guard(() => childTlvs(der, t, name));
}

function unsigned(der: Uint8Array, t: Tlv, max: number, name: string, tag = 0x02): number {
  if (t.tag !== tag) throw bad(`${name}: expected tag 0x${tag.toString(16)}`);
  const v = der.subarray(t.start, t.end);
  if (v.length === 0 || v[0]! & 0x80) throw bad(`${name}: not a non-negative INTEGER`);
  if (v.length > 1 && v[0] === 0 && v[1]! < 0x80) throw bad(`${name}: non-minimal INTEGER`);
  let n = 0;
  for (const b of v) n = n * 256 + b;
  if (n > max) throw bad(`${name}: ${n} exceeds ${max}`);
  return n;
}

function octets(der: Uint8Array, t: Tlv, size: number, name: string): Uint8Array {
  if (t.tag !== 0x04) throw bad(`${name}: expected an OCTET STRING`);
  if (t.end - t.start !== size) throw bad(`${name}: expected ${size} bytes, got ${t.end - t.start}`);
  return der.slice(t.start, t.end);
}

/** SEQUENCE OF SEQUENCE { OID, value } → OID → value TLV, each OID once. */
function pairs(der: Uint8Array, t: Tlv, name: string): Map<string, Tlv> {
  const out = new Map<string, Tlv>();
  for (const item of kids(der, t, name)) {
    const parts = kids(der, item, `${name} entry`);
    if (parts.length !== 2 || parts[0]!.tag !== 0x06) throw bad(`${name}: an entry is not { OID, value }`);
    const oid = guard(() => decodeOid(der, parts[0]!.start, parts[0]!.end, `${name} OID`));
    if (out.has(oid)) throw bad(`${name}: ${oid} appears twice`);
    out.set(oid, parts[1]!);
  }
  return out;
}

function need(m: Map<string, Tlv>, oid: string, name: string): Tlv {
  const t = m.get(oid);
  if (t === undefined) throw bad(`${name} (${oid}) missing`);
  return t;
}

/** Decodes the extnValue of the SGX extensions (the DER inside the OCTET STRING). */
export function decodePckExtensions(value: Uint8Array): PckExtensions {
  const der = value.slice();
  const top = guard(() => readTlv(der, 0, 'SGX extensions'));
  if (top.end !== der.length) throw bad('trailing bytes');
  const m = pairs(der, top, 'SGX extensions');
  const known = new Set(['.1', '.2', '.3', '.4', '.5', '.6', '.7'].map((s) => SGX + s));
  for (const oid of m.keys()) if (!known.has(oid)) throw bad(`unknown element ${oid}`);

  const tcb = pairs(der, need(m, `${SGX}.2`, 'TCB'), 'TCB');
  if (tcb.size !== 18) throw bad(`TCB: expected 18 elements, got ${tcb.size}`);
  const sgxTcbComponents: number[] = [];
  for (let i = 1; i <= 16; i++) {
    sgxTcbComponents.push(
      unsigned(der, need(tcb, `${SGX}.2.${i}`, `TCB component ${i}`), 255, `TCB component ${i}`),
    );
  }
  return {
    ppid: octets(der, need(m, `${SGX}.1`, 'PPID'), 16, 'PPID'),
    sgxTcbComponents,
    pceSvn: unsigned(der, need(tcb, `${SGX}.2.17`, 'PCESVN'), 0xffff, 'PCESVN'),
    cpuSvn: octets(der, need(tcb, `${SGX}.2.18`, 'CPUSVN'), 16, 'CPUSVN'),
    pceId: octets(der, need(m, `${SGX}.3`, 'PCE-ID'), 2, 'PCE-ID'),
    fmspc: octets(der, need(m, `${SGX}.4`, 'FMSPC'), 6, 'FMSPC'),
    sgxType: unsigned(der, need(m, `${SGX}.5`, 'SGX Type'), 2, 'SGX Type', 0x0a),
  };
}
