import { AppError, ErrorCode } from '../../errors/index.js';
import { type IdentificationInput, type Principal } from './identification-types.js';
import { type IdentifierResult, type TenantIdentifier } from './tenant-identifier.js';
import { type TenantDirectory } from './tenant-directory.js';

/**
 * The tenant the bearer token was issued for (`tid`).
 *
 * A token naming a tenant that no longer exists at all is UNAUTHENTICATED: the credential itself is
 * stale, and the client's remedy is to sign in again. (A tenant that still exists but is soft-deleted
 * is found here and refused later as TENANT_NOT_FOUND, like any other way of reaching it.)
 */
export class TokenIdentifier implements TenantIdentifier {
  readonly name = 'token' as const;

  async identify(_input: IdentificationInput, principal: Principal, directory: TenantDirectory): Promise<IdentifierResult> {
    if (principal.kind !== 'user' || principal.tenantId === null) return undefined;
    const chain = await directory.findById(principal.tenantId);
    if (!chain) throw new AppError(ErrorCode.UNAUTHENTICATED, 'The access token names a tenant that no longer exists; sign in again');
    return chain;
  }
}
