/**
 * What one GraphQL request knows about itself: a tenant scope (src/tenancy/bootstrappers/) entered
 * for this request, handed to Apollo as the context and held in AsyncLocalStorage. Nothing
 * tenant-specific lives in module state: a Node process serves many tenants at once.
 */
import { type TenantContext } from '../tenancy/bootstrappers/index.js';

export type RequestContext = TenantContext;

export { currentScopeId as currentRequestId, currentScopeState as currentRequestState, currentTenantContext as currentRequestContext, scopeLoader as requestLoader } from '../tenancy/bootstrappers/index.js';
export { type Readiness, type ScopeServices } from '../tenancy/bootstrappers/index.js';
