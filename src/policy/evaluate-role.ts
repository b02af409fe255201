/**
 * `evaluateRole`: evaluate a party's verified claims against the reference values the manifest
 * gives its role. The role name comes from the protocol (which endpoint was called), so an unknown
 * one is a finding (`role_unknown`), not an exception.
 */
import type { SnpClaims } from '../evidence/snp/types.js';
import type { TdxClaims } from '../verify/tdx/tdx-claims.js';
import { type Violation, violation } from '../verify/violations.js';
import type { EvaluateOptions } from './evaluate-options.js';
import { evaluateSnp } from './evaluate-snp.js';
import { evaluateTdx } from './evaluate-tdx.js';
import { type Manifest, ROLES, type RoleName, type RoleReference } from './manifest-types.js';

export function isRoleName(role: string): role is RoleName {
  return (ROLES as readonly string[]).includes(role);
}

/** The role's reference values, or the `role_unknown` finding. */
function referenceFor(manifest: Manifest, role: string): RoleReference | Violation[] {
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
  return reference;
}

function teeNotAllowed(role: string, tee: 'snp' | 'tdx', reference: RoleReference): Violation[] {
  const allowed = (['snp', 'tdx'] as const).filter((t) => reference[t] !== undefined);
  return [
    violation(
      'tee_not_allowed',
      `role ${role} does not accept ${tee === 'snp' ? 'SEV-SNP' : 'Intel TDX'} evidence`,
      {
        field: 'tee',
        expected: allowed,
        actual: tee,
      },
    ),
  ];
}

/** `role_unknown` or `tee_not_allowed` before any evidence is looked at; empty when the role takes `tee`. */
export function checkTeeAllowed(manifest: Manifest, role: string, tee: 'snp' | 'tdx'): Violation[] {
  const reference = referenceFor(manifest, role);
  if (Array.isArray(reference)) return reference;
  return reference[tee] === undefined ? teeNotAllowed(role, tee, reference) : [];
}

export function evaluateRole(
  manifest: Manifest,
  role: string,
  claims: SnpClaims,
  opts: EvaluateOptions = {},
): Violation[] {
  const reference = referenceFor(manifest, role);
  if (Array.isArray(reference)) return reference;
  if (reference.snp === undefined) return teeNotAllowed(role, 'snp', reference);
  return evaluateSnp(claims, reference.snp, opts);
}

/** `evaluateRole` for a TD: the role's `tdx` reference values against verified TDX claims. */
export function evaluateRoleTdx(
  manifest: Manifest,
  role: string,
  claims: TdxClaims,
  opts: EvaluateOptions = {},
): Violation[] {
  const reference = referenceFor(manifest, role);
  if (Array.isArray(reference)) return reference;
  if (reference.tdx === undefined) return teeNotAllowed(role, 'tdx', reference);
  return evaluateTdx(claims, reference.tdx, opts);
}
