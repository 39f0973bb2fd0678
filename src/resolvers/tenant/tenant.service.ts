import DataLoader from 'dataloader';
import { scopeLoader, type TenantContext } from '../../tenancy/bootstrappers/index.js';
import { AppError, ErrorCode } from '../../errors/index.js';
import { type Prisma } from '../../generated/central/client.js';
import { mayDescribeScope } from '../../permissions/rules.js';
import { chainTarget, type TenantRecord } from '../../tenancy/identification/identification-types.js';
import { byIds, groupedBy } from '../common/batch.js';
import { decodeCursor, encodeCursor, pageSize } from '../common/cursor.js';
import { isUuid } from '../common/prisma-errors.js';
import { type TenantIsolation, type TenantLevel, type TenantStatus } from '../common/tenant-level.enum.js';
import { type Tenant, type TenantConnection, type TenantDomain, type TenantFilter, type TenantProvisioning } from './tenant.type.js';

/** What tenant administration reads use: who asks, the central database, and loaders. */
type TenantAdminDeps = Pick<TenantContext, 'principal' | 'db' | 'loaders'>;

type TenantRow = { id: string; slug: string; name: string; level: string; isolation: string; status: string; maintenance: boolean; parentId: string | null };

const CENTRAL_CURSOR_SCOPE = 'central';

export function toTenant(row: TenantRow | TenantRecord): Tenant {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    level: row.level as TenantLevel,
    isolation: row.level === 'TENANT' ? (row.isolation as TenantIsolation) : null,
    status: row.status as TenantStatus,
    maintenance: row.maintenance,
    parentId: row.parentId,
  };
}

/**
 * What a principal may list: everything for a system admin, otherwise the subtree of the tenant
 * its admin token was issued for (itself, its children, their children).
 */
function visibleTo(context: Pick<TenantContext, 'principal'>): Prisma.TenantWhereInput {
  const principal = context.principal;
  if (principal.kind === 'user' && principal.isSystemAdmin) return {};
  const root = principal.kind === 'user' ? principal.tenantId : null;
  if (!root) return { id: { in: [] } };
  return { OR: [{ id: root }, { parentId: root }, { parent: { parentId: root } }] };
}

export async function listTenants(
  context: TenantAdminDeps,
  args: { first?: number | null; after?: string | null; filter?: TenantFilter | null },
): Promise<TenantConnection> {
  const take = pageSize(args.first);
  const and: Prisma.TenantWhereInput[] = [{ deletedAt: null }, visibleTo(context)];
  const filter = args.filter;
  if (filter?.level) and.push({ level: filter.level });
  if (filter?.status) and.push({ status: filter.status });
  if (filter?.parentId) and.push({ parentId: isUuid(filter.parentId) ? filter.parentId : '00000000-0000-0000-0000-000000000000' });
  const search = filter?.search?.trim();
  if (search) and.push({ OR: [{ slug: { contains: search } }, { name: { contains: search, mode: 'insensitive' } }] });
  if (args.after) {
    const [slug] = decodeCursor(args.after, CENTRAL_CURSOR_SCOPE, ['text']) as [string];
    and.push({ slug: { gt: slug } });
  }
  const rows = await context.db.central().tenant.findMany({ where: { AND: and }, orderBy: { slug: 'asc' }, take: take + 1 });
  const edges = rows.slice(0, take).map((row) => ({ node: toTenant(row), cursor: encodeCursor(CENTRAL_CURSOR_SCOPE, [row.slug]) }));
  return { edges, pageInfo: { hasNextPage: rows.length > take, endCursor: edges.at(-1)?.cursor ?? null } };
}

export async function getTenant(context: TenantAdminDeps, args: { id?: string | null; slug?: string | null }): Promise<Tenant> {
  if ((args.id ? 1 : 0) + (args.slug ? 1 : 0) !== 1) throw new AppError(ErrorCode.BAD_USER_INPUT, 'Give exactly one of id and slug');
  if (args.id && !isUuid(args.id)) throw new AppError(ErrorCode.NOT_FOUND, 'Tenant not found');
  const row = await context.db.central().tenant.findFirst({
    where: { AND: [{ deletedAt: null }, visibleTo(context), args.id ? { id: args.id } : { slug: args.slug! }] },
  });
  if (!row) throw new AppError(ErrorCode.NOT_FOUND, 'Tenant not found');
  return toTenant(row);
}

export function tenantByIdLoader(context: TenantAdminDeps): DataLoader<string, Tenant | null> {
  return scopeLoader(context, 'central:tenantById', () =>
    new DataLoader<string, Tenant | null>(async (ids) => {
      const rows = await context.db.central().tenant.findMany({ where: { id: { in: [...ids] }, deletedAt: null } });
      return byIds(ids, rows.map(toTenant));
    }),
  );
}

export function domainsByTenantLoader(context: TenantAdminDeps): DataLoader<string, TenantDomain[]> {
  return scopeLoader(context, 'central:domainsByTenant', () =>
    new DataLoader<string, TenantDomain[]>(async (ids) => {
      const rows = await context.db.central().domain.findMany({ where: { tenantId: { in: [...ids] } }, orderBy: [{ isPrimary: 'desc' }, { domain: 'asc' }] });
      return groupedBy(ids, rows, (row) => row.tenantId);
    }),
  );
}

/** Each tenant's latest provisioning attempt: a list of tenants reads them in one go (provisioning-runs.ts). */
export function provisioningByTenantLoader(context: Pick<TenantContext, 'loaders' | 'services'>): DataLoader<string, TenantProvisioning | undefined> {
  return scopeLoader(context, 'central:provisioningByTenant', () => new DataLoader<string, TenantProvisioning | undefined>((ids) => context.services.administration.provisioning.views(ids)));
}

export function currentTenantOf(context: Pick<TenantContext, 'scope' | 'principal'>) {
  const scope = context.scope;
  if (scope.level === 'CENTRAL') return { level: 'CENTRAL' as TenantLevel, tenant: null, app: null, group: null };
  // An outsider (anonymous, or signed in elsewhere) gets the public view; the Tenant field rules
  // refuse everything but slug, name and status on it (permissions.ts).
  const detailsHidden = !mayDescribeScope(context);
  const view = (record: TenantRecord): Tenant => (detailsHidden ? { ...toTenant(record), detailsHidden } : toTenant(record));
  return {
    level: scope.level as TenantLevel,
    tenant: view(chainTarget(scope)),
    app: view(scope.app),
    group: scope.level === 'APP' ? null : view(scope.group),
  };
}
