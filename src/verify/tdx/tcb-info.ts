/**
 * TDX TCB Info v3 (Intel PCS API v4, "TDX TCB Info" JSON, GET /tdx/certification/v4/tcb): the body
 * whose exact bytes the TCB Signing key signs. Decoded strictly (every field read has its type and
 * size); fields Intel may add later are ignored, since they are covered by the signature anyway.
 */
import { parseStrictJson } from '../../json/strict-json.js';
import { Fields, malformed } from './json-fields.js';

export const TCB_STATUSES = [
  'UpToDate',
  'SWHardeningNeeded',
  'ConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
  'OutOfDate',
  'OutOfDateConfigurationNeeded',
  'Revoked',
] as const;
export type TcbStatus = (typeof TCB_STATUSES)[number];

export interface TcbLevel {
  /** SGX TCB component SVNs 1..16. */
  sgxComponents: number[];
  pceSvn: number;
  /** TDX TCB component SVNs 1..16 (compared with TEE_TCB_SVN). */
  tdxComponents: number[];
  tcbDate: Date;
  tcbStatus: TcbStatus;
  advisoryIds: string[];
}

export interface IsvTcbLevel {
  isvSvn: number;
  tcbDate: Date;
  tcbStatus: TcbStatus;
  advisoryIds: string[];
}

export interface TdxModuleIdentity {
  /** "TDX_" + two hex digits of the module's major version (TEE_TCB_SVN[1]). */
  id: string;
  mrSigner: Uint8Array;
  attributes: Uint8Array;
  attributesMask: Uint8Array;
  tcbLevels: IsvTcbLevel[];
}

export interface TcbInfo {
  id: 'TDX';
  version: 3;
  issueDate: Date;
  nextUpdate: Date;
  fmspc: Uint8Array;
  pceId: Uint8Array;
  tcbType: number;
  tcbEvaluationDataNumber: number;
  tdxModule: { mrSigner: Uint8Array; attributes: Uint8Array; attributesMask: Uint8Array };
  tdxModuleIdentities: TdxModuleIdentity[];
  tcbLevels: TcbLevel[];
}

const WHAT = 'TCB info';

export function tcbStatusOf(f: Fields, key = 'tcbStatus'): TcbStatus {
  const s = f.str(key);
  if (!(TCB_STATUSES as readonly string[]).includes(s))
    throw malformed(f.what, `${f.path}/${key} "${s}" is not a TCB status`);
  return s as TcbStatus;
}

export function advisoriesOf(f: Fields): string[] {
  return f.has('advisoryIDs') ? f.strings('advisoryIDs') : [];
}

function components(f: Fields, key: string): number[] {
  const list = f.arr(key);
  if (list.length !== 16)
    throw malformed(WHAT, `${f.path}/${key} must have 16 components, has ${list.length}`);
  return list.map((c) => c.int('svn', 255));
}

function isvLevels(f: Fields): IsvTcbLevel[] {
  return f.arr('tcbLevels').map((l) => ({
    isvSvn: l.obj('tcb').int('isvsvn', 0xffff),
    tcbDate: l.date('tcbDate'),
    tcbStatus: tcbStatusOf(l),
    advisoryIds: advisoriesOf(l),
  }));
}

export { isvLevels as readIsvTcbLevels };

/** Decodes the `tcbInfo` body text (throws `malformed_evidence` or `invalid_json`). */
export function parseTcbInfo(text: string): TcbInfo {
  const f = Fields.of(WHAT, parseStrictJson(text));
  if (f.str('id') !== 'TDX') throw malformed(WHAT, `id "${f.str('id')}" is not "TDX"`);
  if (f.int('version', 0xffff) !== 3) throw malformed(WHAT, `version ${f.int('version', 0xffff)} is not 3`);
  // tcbType 0 is the only one defined: TCB components compared one by one (PCS API v4).
  if (f.int('tcbType', 0xffff) !== 0) throw malformed(WHAT, `tcbType ${f.int('tcbType', 0xffff)} is not 0`);
  const m = f.obj('tdxModule');
  const levels = f.arr('tcbLevels');
  if (levels.length === 0) throw malformed(WHAT, '/tcbLevels is empty');
  return {
    id: 'TDX',
    version: 3,
    issueDate: f.date('issueDate'),
    nextUpdate: f.date('nextUpdate'),
    fmspc: f.hex('fmspc', 6),
    pceId: f.hex('pceId', 2),
    tcbType: f.int('tcbType', 0xffff),
    tcbEvaluationDataNumber: f.int('tcbEvaluationDataNumber', 0xffffffff),
    tdxModule: {
      mrSigner: m.hex('mrsigner', 48),
      attributes: m.hex('attributes', 8),
      attributesMask: m.hex('attributesMask', 8),
    },
    tdxModuleIdentities: f.has('tdxModuleIdentities')
      ? f.arr('tdxModuleIdentities').map((i) => ({
          id: i.str('id'),
          mrSigner: i.hex('mrsigner', 48),
          attributes: i.hex('attributes', 8),
          attributesMask: i.hex('attributesMask', 8),
          tcbLevels: isvLevels(i),
        }))
      : [],
    tcbLevels: levels.map((l) => {
      const t = l.obj('tcb');
      return {
        sgxComponents: components(t, 'sgxtcbcomponents'),
        pceSvn: t.int('pcesvn', 0xffff),
        tdxComponents: components(t, 'tdxtcbcomponents'),
        tcbDate: l.date('tcbDate'),
        tcbStatus: tcbStatusOf(l),
        advisoryIds: advisoriesOf(l),
      };
    }),
  };
}
