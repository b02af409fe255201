/**
 * TD QE Identity v2 (Intel PCS API v4, "Enclave Identity" JSON, GET /tdx/certification/v4/qe/identity):
 * the identity of the Quoting Enclave allowed to sign TD quotes, and its TCB levels by ISVSVN.
 */
import { parseStrictJson } from '../../json/strict-json.js';
import { Fields, malformed } from './json-fields.js';
import { type IsvTcbLevel, readIsvTcbLevels } from './tcb-info.js';

export interface QeIdentity {
  id: 'TD_QE';
  version: 2;
  issueDate: Date;
  nextUpdate: Date;
  tcbEvaluationDataNumber: number;
  miscSelect: Uint8Array;
  miscSelectMask: Uint8Array;
  attributes: Uint8Array;
  attributesMask: Uint8Array;
  mrSigner: Uint8Array;
  isvProdId: number;
  tcbLevels: IsvTcbLevel[];
}

const WHAT = 'QE identity';

/** Decodes the `enclaveIdentity` body text (throws `malformed_evidence` or `invalid_json`). */
export function parseQeIdentity(text: string): QeIdentity {
  const f = Fields.of(WHAT, parseStrictJson(text));
  if (f.str('id') !== 'TD_QE') throw malformed(WHAT, `id "${f.str('id')}" is not "TD_QE"`);
  if (f.int('version', 0xffff) !== 2) throw malformed(WHAT, `version ${f.int('version', 0xffff)} is not 2`);
  const tcbLevels = readIsvTcbLevels(f);
  if (tcbLevels.length === 0) throw malformed(WHAT, '/tcbLevels is empty');
  return {
    id: 'TD_QE',
    version: 2,
    issueDate: f.date('issueDate'),
    nextUpdate: f.date('nextUpdate'),
    tcbEvaluationDataNumber: f.int('tcbEvaluationDataNumber', 0xffffffff),
    miscSelect: f.hex('miscselect', 4),
    miscSelectMask: f.hex('miscselectMask', 4),
    attributes: f.hex('attributes', 16),
    attributesMask: f.hex('attributesMask', 16),
    mrSigner: f.hex('mrsigner', 32),
    isvProdId: f.int('isvprodid', 0xffff),
    tcbLevels,
  };
}
