import { AppError, ErrorCode } from '../../errors/index.js';
import { SLUG_PATTERN, UUID_PATTERN } from '../model.js';
import {
  ancestorIds,
  chainTarget,
  TENANT_ADMIN_ROLE,
  type IdentificationInput,
  type Principal,
  type TenantChain,
} from './identification-types.js';
import { type IdentifierResult, type TenantIdentifier } from './tenant-identifier.js';
import { type TenantDirectory } from './tenant-directory.js';

/**
 * `X-Tenant: <slug or id>`, for operators acting on a tenant from a central host.
 *
 * Honoured only for a system admin, an `admin` of an ancestor of the named tenant (the token's
 * tenant is its group or app), or a principal naming its own token tenant (which adds no access).
 * Anyone else gets FORBIDDEN, whether or not the tenant exists, so the header cannot be used to
 * discover tenants. A system admin naming an unknown tenant gets TENANT_NOT_FOUND.
 */
export class HeaderIdentifier implements TenantIdentifier {
  readonly name = 'header' as const;

  async identify(input: IdentificationInput, principal: Principal, directory: TenantDirectory): Promise<IdentifierResult> {
    const value = input.tenantHeader?.trim().toLowerCase();
    if (value === undefined) return undefined;
    if (value === '') throw new AppError(ErrorCode.BAD_REQUEST, 'X-Tenant is empty; send a tenant slug or id, or leave the header out');
    const isId = UUID_PATTERN.test(value);
    if (!isId && !SLUG_PATTERN.test(value)) {
      throw new AppError(ErrorCode.BAD_REQUEST, 'X-Tenant must be a tenant slug or id');
    }
    const chain = isId ? await directory.findById(value) : await directory.findBySlug(value);
    if (!mayUseHeader(principal, chain)) throw new AppError(ErrorCode.FORBIDDEN, 'You are not allowed to select this tenant with X-Tenant');
    if (!chain) throw new AppError(ErrorCode.TENANT_NOT_FOUND, 'Tenant not found');
    return chain;
  }
}

function mayUseHeader(principal: Principal, chain: TenantChain | undefined): boolean {
  if (principal.kind !== 'user') return false;
  if (principal.isSystemAdmin) return true;
  if (!chain || principal.tenantId === null) return false;
  if (chainTarget(chain).id === principal.tenantId) return true;
  return principal.roles.includes(TENANT_ADMIN_ROLE) && ancestorIds(chain).includes(principal.tenantId);
}
