/**
 * The one catalogue of roles and abilities. Everything that grants a role or an ability (the
 * CLI, memberships, API tokens) checks it here, so an unknown name (`nurse`, `patient:read`) is
 * refused with the list of known ones instead of silently granting nothing.
 */
import { AppError, ErrorCode } from '../errors/index.js';

/** `system_admin` is an account flag surfaced as a role; memberships hold `admin` or `member`. */
export const ROLES = ['system_admin', 'admin', 'member'] as const;
export type Role = (typeof ROLES)[number];
export const MEMBERSHIP_ROLES = ['admin', 'member'] as const satisfies readonly Role[];
export type MembershipRole = (typeof MEMBERSHIP_ROLES)[number];

/** Areas and their actions; `<area>:*` grants every action of an area, `*` everything. */
const AREAS = {
  tenants: ['read'],
  patients: ['read', 'write'],
  visits: ['read', 'write'],
  invoices: ['read', 'write'],
  members: ['read', 'write'],
  audit: ['read'],
  api_tokens: ['read', 'write'],
} as const satisfies Record<string, readonly string[]>;

export const ABILITIES: readonly string[] = Object.freeze([
  '*',
  ...Object.entries(AREAS).flatMap(([area, actions]) => [`${area}:*`, ...actions.map((action) => `${area}:${action}`)]),
]);
const KNOWN_ABILITIES = new Set(ABILITIES);

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function isAbility(value: string): boolean {
  return KNOWN_ABILITIES.has(value);
}

/** The first unknown role, or undefined when all are known. */
export function unknownRole(roles: readonly string[]): string | undefined {
  return roles.find((role) => !isRole(role));
}

export function unknownAbility(abilities: readonly string[]): string | undefined {
  return abilities.find((ability) => !isAbility(ability));
}

/** BAD_USER_INPUT naming the unknown role and the known ones. */
export function assertMembershipRole(role: string): MembershipRole {
  if (!(MEMBERSHIP_ROLES as readonly string[]).includes(role)) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, `Unknown role ${JSON.stringify(role)}; expected one of ${MEMBERSHIP_ROLES.join(', ')}`, {
      details: { field: 'role' },
    });
  }
  return role as MembershipRole;
}

/** BAD_USER_INPUT naming the first unknown ability; returns the list without duplicates. */
export function assertAbilities(abilities: readonly string[]): string[] {
  const unknown = unknownAbility(abilities);
  if (unknown !== undefined) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, `Unknown ability ${JSON.stringify(unknown)}; known abilities: ${ABILITIES.join(', ')}`, {
      details: { field: 'abilities' },
    });
  }
  return [...new Set(abilities)];
}

/** Whether `held` abilities grant `ability` (exact, `<area>:*` or `*`). */
export function grants(held: readonly string[], ability: string): boolean {
  const area = ability.split(':')[0];
  return held.some((entry) => entry === ability || entry === '*' || entry === `${area}:*`);
}
