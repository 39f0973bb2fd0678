/**
 * The PostgreSQL side of `tenants:monitor`: `pg_stat_activity` grouped by database and
 * application_name, mapped back to tenants through the central `tenants` table.
 *
 * Only this installation's databases are shown (the central one, the shared database of SCHEMA
 * tenants, and every DATABASE tenant's own), never another installation's on the same server.
 * Statement text is never read: it can carry patient data, and the monitor's output is often pasted.
 * Connections to the shared database cannot be told apart by schema, so they are reported for
 * the shared database as a whole.
 */
import type pg from 'pg';

export type DatabaseRole = 'central' | 'shared' | 'tenant';

export type DatabaseActivity = {
  database: string;
  role: DatabaseRole;
  /** The tenant owning this database (DATABASE isolation), else undefined. */
  tenant: string | undefined;
  level: string | undefined;
  /** SCHEMA tenants living in the shared database. */
  schemaTenants: number | undefined;
  total: number;
  active: number;
  idle: number;
  idleInTransaction: number;
  /** Connections by pg application_name (`tenantgraph:tenant`, `tenantgraph:central`, ...). */
  applications: Record<string, number>;
  /** The longest statement running now, in ms (0 when none is active). */
  longestRunningMs: number;
};

export type DatabaseView = {
  connections: { total: number; active: number; idle: number; idleInTransaction: number; serverTotal: number; maxConnections: number };
  databases: DatabaseActivity[];
  /** Databases with the longest statement running now, longest first (at most 5). */
  slowest: { database: string; tenant: string | undefined; runningMs: number }[];
};

type TenantStorage = { slug: string; level: string; isolation: string; database_name: string | null };
type ActivityRow = { datname: string; application: string; state: string | null; connections: number; longest_ms: number | null };

export async function readDatabaseActivity(central: Pick<pg.Pool, 'query'>, sharedDatabase: string): Promise<DatabaseView> {
  const [{ rows: storage }, { rows: [server] }] = await Promise.all([
    central.query<TenantStorage>('SELECT slug, level, isolation, database_name FROM tenants WHERE deleted_at IS NULL').catch((error: unknown) => {
      // undefined_table: pointed at a database tenantgraph never migrated.
      if ((error as { code?: unknown }).code === '42P01') throw new Error('the central database has no tenants table: is DATABASE_URL right, and has `tenantgraph migrate` run?');
      throw error;
    }),
    central.query<{ database: string; total: number; max_connections: number }>(
      "SELECT current_database() AS database, (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend') AS total, current_setting('max_connections')::int AS max_connections",
    ),
  ]);
  const databases = new Map<string, DatabaseActivity>();
  const add = (database: string, role: DatabaseRole, tenant?: TenantStorage) =>
    databases.set(database, { database, role, tenant: tenant?.slug, level: tenant?.level, schemaTenants: undefined, total: 0, active: 0, idle: 0, idleInTransaction: 0, applications: {}, longestRunningMs: 0 });
  add(server!.database, 'central');
  add(sharedDatabase, 'shared');
  let schemaTenants = 0;
  for (const tenant of storage) {
    if (tenant.isolation === 'DATABASE' && tenant.database_name && !databases.has(tenant.database_name)) add(tenant.database_name, 'tenant', tenant);
    if (tenant.isolation === 'SCHEMA' && tenant.level === 'TENANT') schemaTenants++;
  }
  databases.get(sharedDatabase)!.schemaTenants = schemaTenants;

  const { rows } = await central.query<ActivityRow>(
    `SELECT datname, coalesce(nullif(application_name, ''), '(none)') AS application, state, count(*)::int AS connections,
            max(extract(epoch FROM clock_timestamp() - query_start) * 1000) FILTER (WHERE state = 'active')::float8 AS longest_ms
       FROM pg_stat_activity
      WHERE datname = ANY($1::text[]) AND pid <> pg_backend_pid() AND backend_type = 'client backend'
      GROUP BY 1, 2, 3`,
    [[...databases.keys()]],
  );
  for (const row of rows) {
    const entry = databases.get(row.datname)!;
    entry.total += row.connections;
    if (row.state === 'active') entry.active += row.connections;
    else if (row.state === 'idle') entry.idle += row.connections;
    else if (row.state?.startsWith('idle in transaction')) entry.idleInTransaction += row.connections;
    entry.applications[row.application] = (entry.applications[row.application] ?? 0) + row.connections;
    entry.longestRunningMs = Math.max(entry.longestRunningMs, Math.round(row.longest_ms ?? 0));
  }

  // Central and shared first, then tenant databases with connections, busiest first.
  const listed = [...databases.values()].filter((entry) => entry.role !== 'tenant' || entry.total > 0).sort((a, b) => order(a) - order(b) || b.total - a.total || a.database.localeCompare(b.database));
  const sum = (pick: (entry: DatabaseActivity) => number) => listed.reduce((total, entry) => total + pick(entry), 0);
  return {
    connections: {
      total: sum((entry) => entry.total),
      active: sum((entry) => entry.active),
      idle: sum((entry) => entry.idle),
      idleInTransaction: sum((entry) => entry.idleInTransaction),
      serverTotal: server!.total,
      maxConnections: server!.max_connections,
    },
    databases: listed,
    slowest: listed
      .filter((entry) => entry.longestRunningMs > 0)
      .sort((a, b) => b.longestRunningMs - a.longestRunningMs)
      .slice(0, 5)
      .map((entry) => ({ database: entry.database, tenant: entry.tenant, runningMs: entry.longestRunningMs })),
  };
}

const order = (entry: DatabaseActivity) => (entry.role === 'central' ? 0 : entry.role === 'shared' ? 1 : 2);
