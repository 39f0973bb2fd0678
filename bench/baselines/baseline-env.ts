/**
 * Settings every baseline server reads from its environment (set by bench/run.ts): where the
 * hot tenant's database is, which port, and how many connections its pool may open (the same
 * DB_POOL_MAX tenantgraph gives one tenant, so the comparison is connection-for-connection).
 */
export type BaselineSettings = { databaseUrl: string; port: number; poolMax: number };

export function baselineSettings(env: NodeJS.ProcessEnv = process.env): BaselineSettings {
  const databaseUrl = env.BENCH_TENANT_DATABASE_URL;
  const port = Number(env.PORT);
  const poolMax = Number(env.BENCH_POOL_MAX ?? 5);
  if (!databaseUrl || !Number.isInteger(port) || port <= 0 || !Number.isInteger(poolMax) || poolMax <= 0) {
    throw new Error('baseline: set BENCH_TENANT_DATABASE_URL, PORT and BENCH_POOL_MAX (bench/run.ts does)');
  }
  return { databaseUrl, port, poolMax };
}

/**
 * How long a baseline keeps an unused connection: as long as tenantgraph keeps an unused pool
 * (DB_IDLE_TTL_MS, 60 s), longer than the pauses between a server's rounds. With pg's default
 * 10 s, connections closed while another server was measured, and PostgreSQL's accounting put
 * their whole lifetime's CPU into that window ("ended backends").
 */
export const BASELINE_IDLE_MS = 60_000;

/** Same cursor format as src/resolvers/common/cursor.ts, so the baselines do the same work per row. */
export function encodeCursor(scopeId: string, position: readonly string[]): string {
  return Buffer.from(JSON.stringify([scopeId, ...position])).toString('base64url');
}
