/**
 * How resolvers reach a tenant's yearly cluster schemas (emr_<year>, pos_<year>): the year of a
 * record in the tenant's time zone, the years a request may name, and what a missing schema means
 * (a read finds nothing; a write is CLUSTER_NOT_READY, naming the mutation that makes the schema).
 */
import { AppError, ErrorCode } from '../../errors/index.js';
import { type ScopeServices, type TenantContext } from '../../tenancy/bootstrappers/index.js';
import { assertYearInRange, clusterYearRange, yearInTimeZone } from '../../tenancy/cluster-years.js';
import { type ClusterModule } from '../../tenancy/model.js';

/** What cluster-schema services use: the scope's databases and loaders, and whether a year's schema exists. */
export type ClusterDeps = Pick<TenantContext, 'db' | 'loaders'> & { services: Pick<ScopeServices, 'clusterExists' | 'clusterYearsMin'> };

/** The year `date` falls in for this tenant. */
export function tenantYear(context: ClusterDeps, date: Date): number {
  return yearInTimeZone(date, context.db.tenantRecord().timezone);
}

/** BAD_USER_INPUT unless `year` is within CLUSTER_YEARS_MIN..next year. */
export function assertRequestYear(context: ClusterDeps, year: number): void {
  assertYearInRange(year, clusterYearRange(context.services.clusterYearsMin, context.db.tenantRecord().timezone));
}

/** Whether the year is allowed and its schema exists; false (read nothing) when it does not exist yet. */
export async function clusterReadable(context: ClusterDeps, module: ClusterModule, year: number): Promise<boolean> {
  assertRequestYear(context, year);
  return context.services.clusterExists(context.db.tenantRecord(), module, year);
}

/** Refuses a write into a year whose schema this tenant does not have yet (instead of a SQL error). */
export async function assertClusterWritable(context: ClusterDeps, module: ClusterModule, year: number): Promise<void> {
  assertRequestYear(context, year);
  if (!(await context.services.clusterExists(context.db.tenantRecord(), module, year))) {
    throw new AppError(
      ErrorCode.CLUSTER_NOT_READY,
      `The ${module.toUpperCase()} schema for ${year} does not exist yet; an administrator creates it with the generateClusterSchemas mutation (or \`tenantgraph clusters:generate --year ${year}\`)`,
      { details: { module, year, mutation: 'generateClusterSchemas' } },
    );
  }
}
