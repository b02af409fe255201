/**
 * Stage 3 rules, one at a time, on a hand-built clean report (runs without the real vectors):
 * each case breaks exactly one rule and must get exactly that violation, with field, expected and
 * actual; several broken rules must all be reported.
 */
import { describe, expect, it } from 'vitest';
import example from '../../manifests/example.json' with { type: 'json' };
import { fromHex, toHex } from '../../src/bytes.js';
import { isSealgateError } from '../../src/errors.js';
import type { SnpClaims } from '../../src/evidence/snp/types.js';
import { evaluateRole } from '../../src/policy/evaluate-role.js';
import { evaluateSnp } from '../../src/policy/evaluate-snp.js';
import type { SnpReferenceValues } from '../../src/policy/manifest-types.js';
import { parseManifest } from '../../src/policy/parse-manifest.js';
import type { ViolationCode } from '../../src/verify/violations.js';
import { syntheticClaims, syntheticReference } from './claims-fixture.js';

const REPORT_DATA = new Uint8Array(64).fill(0xda);

function codes(claims: SnpClaims, ref: SnpReferenceValues, reportData = REPORT_DATA): ViolationCode[] {
  return evaluateSnp(claims, ref, { expectedReportData: reportData }).map((v) => v.code);
}

describe('evaluateSnp: the clean baseline', () => {
  it('accepts claims that meet every rule, and higher TCBs than the minimum', () => {
    const claims = syntheticClaims();
    expect(evaluateSnp(claims, syntheticReference(claims), { expectedReportData: REPORT_DATA })).toEqual([]);
    claims.reportedTcb = { bootloader: 9, tee: 9, snp: 9, microcode: 99 };
    expect(codes(claims, syntheticReference(syntheticClaims()))).toEqual([]);
  });
});

interface Case {
  name: string;
  code: ViolationCode;
  field: string;
  expected: unknown;
  actual: unknown;
  claims?: (c: SnpClaims) => void;
  ref?: (r: SnpReferenceValues) => void;
  product?: 'Milan' | 'Turin';
  reportData?: Uint8Array;
}

const hex48 = (b: number): string => toHex(new Uint8Array(48).fill(b));

const CASES: Case[] = [
  {
    name: 'measurement not in the manifest',
    code: 'measurement_not_allowed',
    field: 'measurement',
    claims: (c) => c.report.measurement.fill(0x3f),
    expected: [hex48(0x3e)],
    actual: hex48(0x3f),
  },
  {
    name: 'REPORT_DATA differs from the expected binding',
    code: 'report_data_mismatch',
    field: 'reportData',
    reportData: new Uint8Array(64).fill(0xdb),
    expected: 'db'.repeat(64),
    actual: 'da'.repeat(64),
  },
  {
    name: 'HOST_DATA differs',
    code: 'host_data_mismatch',
    field: 'hostData',
    claims: (c) => {
      c.report.hostData[31] = 0x41;
    },
    expected: '40'.repeat(32),
    actual: `${'40'.repeat(31)}41`,
  },
  {
    name: 'DEBUG set, not allowed',
    code: 'debug_not_allowed',
    field: 'policy.debug',
    claims: (c) => {
      c.report.policy.debug = true;
    },
    expected: false,
    actual: true,
  },
  {
    name: 'MIGRATE_MA set, not allowed',
    code: 'migration_agent_not_allowed',
    field: 'policy.migrateMa',
    claims: (c) => {
      c.report.policy.migrateMa = true;
    },
    expected: false,
    actual: true,
  },
  {
    name: 'SMT set, not allowed',
    code: 'smt_not_allowed',
    field: 'policy.smt',
    claims: (c) => {
      c.report.policy.smt = true;
    },
    expected: false,
    actual: true,
  },
  {
    name: 'SINGLE_SOCKET required but clear',
    code: 'single_socket_required',
    field: 'policy.singleSocket',
    ref: (r) => {
      r.policy = { ...r.policy, requireSingleSocket: true };
    },
    expected: true,
    actual: false,
  },
  {
    name: 'ABI major below the minimum',
    code: 'abi_too_old',
    field: 'policy.abi',
    ref: (r) => {
      r.policy = { ...r.policy, minAbi: { major: 2, minor: 0 } };
    },
    expected: '2.0',
    actual: '1.2',
  },
  {
    name: 'ABI minor below the minimum at the same major',
    code: 'abi_too_old',
    field: 'policy.abi',
    ref: (r) => {
      r.policy = { ...r.policy, minAbi: { major: 1, minor: 3 } };
    },
    expected: '1.3',
    actual: '1.2',
  },
  ...(['bootloader', 'tee', 'snp', 'microcode'] as const).map(
    (c): Case => ({
      name: `REPORTED_TCB ${c} below the minimum`,
      code: 'tcb_below_minimum',
      field: `reportedTcb.${c}`,
      claims: (cl) => {
        cl.reportedTcb[c] -= 1;
      },
      expected: syntheticClaims().reportedTcb[c],
      actual: syntheticClaims().reportedTcb[c] - 1,
    }),
  ),
  {
    name: 'Turin REPORTED_TCB fmc below the minimum',
    code: 'tcb_below_minimum',
    field: 'reportedTcb.fmc',
    product: 'Turin',
    claims: (c) => {
      c.reportedTcb.fmc = 2;
    },
    expected: 3,
    actual: 2,
  },
  {
    name: 'Turin REPORTED_TCB without fmc (fails closed)',
    code: 'tcb_below_minimum',
    field: 'reportedTcb.fmc',
    product: 'Turin',
    claims: (c) => {
      delete c.reportedTcb.fmc;
    },
    expected: 3,
    actual: null,
  },
  {
    name: 'LAUNCH_TCB snp below the launch minimum',
    code: 'launch_tcb_below_minimum',
    field: 'launchTcb.snp',
    claims: (c) => {
      c.launchTcb.snp = 5;
    },
    expected: 6,
    actual: 5,
  },
  {
    name: 'Turin LAUNCH_TCB fmc below the launch minimum',
    code: 'launch_tcb_below_minimum',
    field: 'launchTcb.fmc',
    product: 'Turin',
    claims: (c) => {
      c.launchTcb.fmc = 0;
    },
    expected: 3,
    actual: 0,
  },
  {
    name: 'VMPL other than the one allowed',
    code: 'vmpl_not_allowed',
    field: 'vmpl',
    claims: (c) => {
      c.report.vmpl = 1;
    },
    expected: 0,
    actual: 1,
  },
  {
    name: 'GUEST_SVN below the minimum',
    code: 'guest_svn_below_minimum',
    field: 'guestSvn',
    ref: (r) => {
      r.minimumGuestSvn = 8;
    },
    expected: 8,
    actual: 7,
  },
  {
    name: 'ID key not allowed',
    code: 'id_key_not_allowed',
    field: 'idKeyDigest',
    claims: (c) => c.report.idKeyDigest.fill(0x1f),
    expected: [hex48(0x1e)],
    actual: hex48(0x1f),
  },
  {
    name: 'author key not allowed',
    code: 'author_key_not_allowed',
    field: 'authorKeyDigest',
    claims: (c) => c.report.authorKeyDigest.fill(0xa1),
    expected: [hex48(0xa0)],
    actual: hex48(0xa1),
  },
  {
    name: 'author keys required but AUTHOR_KEY_EN is 0 (even with a matching digest field)',
    code: 'author_key_not_allowed',
    field: 'authorKeyEn',
    claims: (c) => {
      c.report.authorKeyEn = false;
    },
    expected: true,
    actual: false,
  },
  {
    name: 'CHIP_ID not allowed (masked to zero)',
    code: 'chip_id_not_allowed',
    field: 'chipId',
    claims: (c) => c.report.chipId.fill(0),
    expected: ['c1'.repeat(64)],
    actual: '00'.repeat(64),
  },
  {
    name: 'FAMILY_ID differs',
    code: 'family_id_mismatch',
    field: 'familyId',
    claims: (c) => c.report.familyId.fill(0xf2),
    expected: 'f1'.repeat(16),
    actual: 'f2'.repeat(16),
  },
  {
    name: 'IMAGE_ID differs',
    code: 'image_id_mismatch',
    field: 'imageId',
    claims: (c) => c.report.imageId.fill(0x1c),
    expected: '1d'.repeat(16),
    actual: '1c'.repeat(16),
  },
  {
    name: 'product without a minimum TCB in the role',
    code: 'product_not_allowed',
    field: 'product',
    ref: (r) => {
      r.minimumTcb = { Genoa: { bootloader: 0, tee: 0, snp: 0, microcode: 0 } };
      delete r.minimumLaunchTcb;
    },
    expected: ['Genoa'],
    actual: 'Milan',
  },
  {
    name: 'VLEK-signed report where only VCEK is allowed',
    code: 'signing_key_not_allowed',
    field: 'signingKey',
    claims: (c) => {
      c.signingKey = 'vlek';
    },
    expected: ['vcek'],
    actual: 'vlek',
  },
];

describe('evaluateSnp: each rule alone', () => {
  it.each(CASES)('$name → $code', (t) => {
    const claims = syntheticClaims(t.product);
    const ref = syntheticReference(claims);
    t.ref?.(ref);
    t.claims?.(claims);
    const got = evaluateSnp(claims, ref, { expectedReportData: t.reportData ?? REPORT_DATA });
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ code: t.code, field: t.field, expected: t.expected, actual: t.actual });
    expect(got[0]?.message.length).toBeGreaterThan(0);
  });
});

describe('evaluateSnp: all violations, defaults', () => {
  it('reports all five of five broken rules', () => {
    const claims = syntheticClaims();
    const ref = syntheticReference(claims);
    claims.report.measurement[0] = 0;
    claims.report.policy.debug = true;
    claims.report.vmpl = 2;
    claims.reportedTcb.microcode = 1;
    claims.report.chipId[63] = 0;
    expect(codes(claims, ref).sort()).toEqual(
      [
        'chip_id_not_allowed',
        'debug_not_allowed',
        'measurement_not_allowed',
        'tcb_below_minimum',
        'vmpl_not_allowed',
      ].sort(),
    );
  });

  it('reports one tcb violation per component below its minimum', () => {
    const claims = syntheticClaims('Turin');
    const ref = syntheticReference(claims);
    claims.reportedTcb = { fmc: 0, bootloader: 0, tee: 0, snp: 0, microcode: 0 };
    const got = evaluateSnp(claims, ref).filter((v) => v.code === 'tcb_below_minimum');
    expect(got.map((v) => v.field)).toEqual([
      'reportedTcb.fmc',
      'reportedTcb.bootloader',
      'reportedTcb.tee',
      'reportedTcb.snp',
      'reportedTcb.microcode',
    ]);
  });

  it('applies the strict defaults when optional members are absent', () => {
    const claims = syntheticClaims();
    claims.report.policy.debug = true;
    claims.report.policy.smt = true;
    claims.report.policy.migrateMa = true;
    claims.report.vmpl = 1;
    claims.signingKey = 'vlek';
    const minimal: SnpReferenceValues = {
      measurements: [toHex(claims.report.measurement)],
      minimumTcb: { Milan: { bootloader: 0, tee: 0, snp: 0, microcode: 0 } },
    };
    expect(codes(claims, minimal).sort()).toEqual(
      [
        'debug_not_allowed',
        'migration_agent_not_allowed',
        'signing_key_not_allowed',
        'smt_not_allowed',
        'vmpl_not_allowed',
      ].sort(),
    );
    // Without expectedReportData no REPORT_DATA rule runs: a caller's choice, documented.
    expect(evaluateSnp(syntheticClaims(), minimal)).toEqual([]);
  });

  it('lets explicit reference values relax the defaults', () => {
    const claims = syntheticClaims();
    Object.assign(claims.report.policy, { debug: true, smt: true, migrateMa: true });
    claims.report.vmpl = 2;
    claims.signingKey = 'vlek';
    const ref = syntheticReference(syntheticClaims());
    ref.policy = { ...ref.policy, allowDebug: true, allowSmt: true, allowMigrationAgent: true };
    ref.vmpl = 2;
    ref.signingKeys = ['vcek', 'vlek'];
    expect(codes(claims, ref)).toEqual([]);
  });

  it('accepts any one of several allowed measurements', () => {
    const claims = syntheticClaims();
    const ref = syntheticReference(claims);
    ref.measurements = [hex48(0x01), toHex(claims.report.measurement), hex48(0x02)];
    expect(codes(claims, ref)).toEqual([]);
  });

  it('rejects an expectedReportData that is not 64 bytes', () => {
    expect(() =>
      evaluateSnp(syntheticClaims(), syntheticReference(), { expectedReportData: new Uint8Array(32) }),
    ).toThrow('expectedReportData: expected 64 bytes, got 32');
    try {
      evaluateSnp(syntheticClaims(), syntheticReference(), { expectedReportData: fromHex('00') });
      expect.unreachable();
    } catch (e) {
      expect(isSealgateError(e, 'invalid_argument')).toBe(true);
    }
  });
});

describe('evaluateRole', () => {
  const manifest = parseManifest(example);

  it.each(['tdx-worker', '__proto__', 'constructor', ''])('role %j → role_unknown', (role) => {
    const got = evaluateRole(manifest, role, syntheticClaims());
    expect(got).toEqual([expect.objectContaining({ code: 'role_unknown', field: 'role', actual: role })]);
  });

  it('a role the manifest leaves out is role_unknown', () => {
    const workerOnly = { ...manifest, roles: { worker: manifest.roles.worker! } };
    const got = evaluateRole(workerOnly, 'attestation-service', syntheticClaims());
    expect(got).toEqual([expect.objectContaining({ code: 'role_unknown', actual: 'attestation-service' })]);
  });

  it("evaluates a known role against that role's reference values", () => {
    const claims = syntheticClaims();
    claims.report.measurement.set(fromHex(manifest.roles.worker!.snp!.measurements[0]!));
    const tcb = { bootloader: 4, tee: 0, snp: 24, microcode: 217 };
    claims.reportedTcb = { ...tcb };
    claims.currentTcb = { ...tcb };
    claims.committedTcb = { ...tcb };
    claims.launchTcb = { ...tcb };
    claims.leaf.extensions.tcb = { ...tcb };
    claims.report.policy.smt = true;
    expect(evaluateRole(manifest, 'worker', claims)).toEqual([]);
    // The same claims are not the attestation service: its measurement differs.
    expect(evaluateRole(manifest, 'attestation-service', claims).map((v) => v.code)).toEqual([
      'measurement_not_allowed',
    ]);
  });
});
