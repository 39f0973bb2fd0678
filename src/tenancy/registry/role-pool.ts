/**
 * Per-tenant PostgreSQL roles on shared pools. A registry pool connects as the server's admin
 * role; each tenant's clients see the pool through a view that, on every connection checkout,
 * switches the connection to the tenant's role (`SET ROLE`) — or back to the login role
 * (`RESET ROLE`) for clients without one — before any statement runs. The role a connection holds
 * is remembered on it, so a connection used by the same tenant again costs nothing: only a switch
 * between tenants costs one round trip (measured in bench/set-role.ts).
 *
 * Why a view and not SET ROLE per lease: a lease is a Prisma client, and Prisma checks out a pool
 * connection per statement (per transaction inside $transaction), so the checkout is the one place
 * every statement passes.
 */
import pg from 'pg';
import { quoteIdent } from '../../infra/sql-names.js';

type RoleTracked = pg.PoolClient & { tenantgraphRole?: string | null };

async function assumeRole(client: RoleTracked, role: string | null): Promise<void> {
  if ((client.tenantgraphRole ?? null) === role) return;
  // Forget the role first: if the statement fails, the connection is discarded below anyway.
  client.tenantgraphRole = undefined;
  // Past the registry's statement counter (budgeted-client.ts): bookkeeping, not the caller's SQL,
  // and how often it runs depends on which connection a statement gets.
  await (pg.Client.prototype.query as (this: pg.PoolClient, sql: string) => Promise<unknown>).call(client, role === null ? 'RESET ROLE' : `SET ROLE ${quoteIdent(role)}`);
  client.tenantgraphRole = role;
}

async function checkout(pool: pg.Pool, role: string | null): Promise<pg.PoolClient> {
  const client = (await pool.connect()) as RoleTracked;
  try {
    await assumeRole(client, role);
  } catch (error) {
    client.release(error instanceof Error ? error : true); // never hand the connection out again
    throw error;
  }
  return client;
}

/**
 * The pool as `role` sees it (null: the login role). It is the pool for everything else (events,
 * options; `instanceof pg.Pool` holds, which the Prisma adapter checks); only `connect` and `query`
 * assume the role first.
 */
export function poolAsRole(pool: pg.Pool, role: string | null): pg.Pool {
  const view = Object.create(pool) as pg.Pool;
  Object.defineProperties(view, {
    connect: {
      value: (callback?: (error: Error | undefined, client?: pg.PoolClient, done?: (release?: unknown) => void) => void) => {
        const connecting = checkout(pool, role);
        if (!callback) return connecting;
        connecting.then(
          (client) => callback(undefined, client, (release?: unknown) => client.release(release as boolean | Error | undefined)),
          (error: Error) => callback(error),
        );
        return undefined;
      },
    },
    query: {
      value: async (...args: unknown[]) => {
        const client = await checkout(pool, role);
        let failed: unknown;
        try {
          return await (client.query as (...a: unknown[]) => Promise<unknown>)(...args);
        } catch (error) {
          failed = error;
          throw error;
        } finally {
          // A connection whose statement failed on the wire is still fine; pg-pool decides by the error kind.
          client.release(failed instanceof Error && !('code' in failed) ? failed : undefined);
        }
      },
    },
  });
  return view;
}
