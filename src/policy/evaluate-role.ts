/**
 * `evaluateRole`: evaluate a party's verified claims against the reference values the manifest
 * gives its role. The role name comes from the protocol (which endpoint was called), so an unknown
 * one is a finding (`role_unknown`), not an exception.
 */
import type { SnpClaims } from '../evidence/snp/types.js';
import { type Violation, violation } from '../verify/violations.js';
import { type EvaluateOptions, evaluateSnp } from './evaluate-snp.js';
import { type Manifest, ROLES, type RoleName } from './manifest-types.js';

export function isRoleName(role: string): role is RoleName {
  return (ROLES as readonly string[]).includes(role);
}

export function evaluateRole(
  manifest: Manifest,
  role: string,
  claims: SnpClaims,
  opts: EvaluateOptions = {},
): Violation[] {
  // A list lookup, not `role in manifest.roles`: "constructor" or "__proto__" must not resolve.
  if (!isRoleName(role)) {
    return [
      violation('role_unknown', `role ${JSON.stringify(role)} is not defined by the manifest`, {
        field: 'role',
        expected: [...ROLES],
        actual: role,
      }),
    ];
  }
  const reference = manifest.roles[role];
  if (!reference) {
    return [
      violation('role_unknown', `the manifest defines no reference values for role ${role}`, {
        field: 'role',
        expected: Object.keys(manifest.roles),
        actual: role,
      }),
    ];
  }
  return evaluateSnp(claims, reference.snp, opts);
}
