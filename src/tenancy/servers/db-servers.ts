/**
 * The database servers tenants are placed on (`db_servers`). The central server (DATABASE_URL) is
 * registered as `central` on first use, with no stored password: it connects with the central
 * credentials. Other servers are added with an admin role whose password is stored encrypted
 * (src/infra/crypto/key-ring.ts) and decrypted only into this process's memory.
 *
 * Routing needs a tenant's server synchronously (per request), so servers are loaded into a map:
 * `ensure(id)` loads one on first sight; the tenancy's directory calls it before handing out a
 * chain, so a server added by another process is picked up on its first tenant.
 */
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { AppError, ErrorCode } from '../../errors/index.js';
import { type KeyRing } from '../../infra/crypto/key-ring.js';
import { type Logger } from '../../infra/logger.js';
import { type ServerAdmins } from '../isolation/isolation-strategy.js';
import { makeServerAdmin, withDatabaseUrl, type CentralServerAdmin, type ServerAdmin } from '../isolation/server-admin.js';
import { SLUG_PATTERN } from '../model.js';
import { adminPasswordContext } from '../secrets/stored-secrets.js';

/** Name of the central server's row. */
export const CENTRAL_SERVER_NAME = 'central';

/** What callers see of a server: never its password. */
export type DbServerInfo = {
  id: string;
  name: string;
  host: string;
  port: number;
  adminUsername: string;
  maxTenants: number | null;
  isDefault: boolean;
  isActive: boolean;
  /** TENANT-level tenants stored there (any status but FAILED). */
  tenantCount: number;
  createdAt: Date;
};

export type AddDbServerInput = {
  name: string;
  host: string;
  port?: number | null;
  adminUsername: string;
  adminPassword: string;
  maxTenants?: number | null;
};

export interface DbServers extends ServerAdmins {
  /** Loads a server's admin access unless known. null/undefined: the central server. */
  ensure(serverId: string | null | undefined): Promise<void>;
  isLoaded(serverId: string | null | undefined): boolean;
  list(): Promise<DbServerInfo[]>;
  /** Validates, connects with the given credentials (refused when that fails), then stores the server. */
  add(input: AddDbServerInput): Promise<DbServerInfo>;
  /**
   * Picks the server for a new TENANT inside the caller's transaction: the named (or id'd) one,
   * else the active server with the fewest tenants under its max_tenants. Locks the server rows,
   * so concurrent placements never overfill a server.
   */
  place(transaction: pg.PoolClient, requested?: string | null): Promise<string>;
  /** The id of the central server's row, registering it on first call. */
  centralServerId(): Promise<string>;
  close(): Promise<void>;
}


const HOST_PATTERN = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[?[0-9a-fA-F:]+\]?$/;
const ROLE_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/;
const CONNECT_TIMEOUT_MS = 5000;

type ServerRow = {
  id: string;
  name: string;
  host: string;
  port: number;
  admin_username: string;
  admin_password_ciphertext: string | null;
  admin_password_key_id: string | null;
  max_tenants: number | null;
  is_default: boolean;
  is_active: boolean;
  metadata: { central?: boolean } | null;
  created_at: Date;
  tenant_count?: number;
};

export function adminUrl(server: { host: string; port: number; username: string; password: string }, database = 'postgres'): string {
  const url = new URL('postgres://placeholder/');
  url.hostname = server.host;
  url.port = String(server.port);
  url.username = encodeURIComponent(server.username);
  url.password = encodeURIComponent(server.password);
  return withDatabaseUrl(url.toString(), database);
}

export function makeDbServers(options: { central: CentralServerAdmin; keyRing: KeyRing; logger: Logger }): DbServers {
  const { central, keyRing } = options;
  const centralPool = central.centralPool;
  const admins = new Map<string, ServerAdmin>();
  const loading = new Map<string, Promise<void>>();
  let centralId: Promise<string> | undefined;

  function toInfo(row: ServerRow): DbServerInfo {
    return {
      id: row.id,
      name: row.name,
      host: row.host,
      port: row.port,
      adminUsername: row.admin_username,
      maxTenants: row.max_tenants,
      isDefault: row.is_default,
      isActive: row.is_active,
      tenantCount: row.tenant_count ?? 0,
      createdAt: row.created_at,
    };
  }

  function adminOf(row: ServerRow): ServerAdmin {
    if (row.metadata?.central === true) return central;
    if (row.admin_password_ciphertext === null || row.admin_password_key_id === null) {
      throw new Error(`database server ${row.name} has no stored admin password`);
    }
    const password = keyRing.decrypt({ ciphertext: row.admin_password_ciphertext, keyId: row.admin_password_key_id }, adminPasswordContext(row.id));
    return makeServerAdmin(adminUrl({ host: row.host, port: row.port, username: row.admin_username, password }));
  }

  async function registerCentral(): Promise<string> {
    const url = new URL(central.serverUrl);
    // One statement: concurrent first calls (several processes) end with one row.
    const result = await centralPool.query<{ id: string }>(
      `WITH inserted AS (
         INSERT INTO db_servers (name, host, port, admin_username, is_default, metadata)
         VALUES ($1, $2, $3, $4, NOT EXISTS (SELECT 1 FROM db_servers WHERE is_default), '{"central": true}')
         ON CONFLICT (name) DO NOTHING RETURNING id)
       SELECT id FROM inserted UNION ALL SELECT id FROM db_servers WHERE name = $1 LIMIT 1`,
      [CENTRAL_SERVER_NAME, url.hostname, Number(url.port || 5432), decodeURIComponent(url.username) || 'postgres'],
    );
    const id = result.rows[0]!.id;
    admins.set(id, central);
    return id;
  }

  const servers: DbServers = {
    central,
    adminFor(serverId) {
      if (serverId === null || serverId === undefined) return central;
      const admin = admins.get(serverId);
      if (!admin) throw new Error(`database server ${serverId} is not loaded`);
      return admin;
    },
    isLoaded: (serverId) => serverId === null || serverId === undefined || admins.has(serverId),
    async ensure(serverId) {
      if (servers.isLoaded(serverId)) return;
      const id = serverId!;
      let pending = loading.get(id);
      if (!pending) {
        pending = (async () => {
          const result = await centralPool.query<ServerRow>('SELECT * FROM db_servers WHERE id = $1', [id]);
          const row = result.rows[0];
          if (!row) throw new Error(`database server ${id} does not exist`);
          admins.set(id, adminOf(row));
        })().finally(() => loading.delete(id));
        loading.set(id, pending);
      }
      await pending;
    },
    centralServerId: () =>
      (centralId ??= registerCentral().catch((error: unknown) => {
        centralId = undefined;
        throw error;
      })),
    async list() {
      const centralServer = await servers.centralServerId();
      const result = await centralPool.query<ServerRow>(
        `SELECT s.*, (SELECT count(*)::int FROM tenants t
                      WHERE t.level = 'TENANT' AND t.status <> 'FAILED' AND COALESCE(t.db_server_id, $1) = s.id) AS tenant_count
         FROM db_servers s ORDER BY s.name`,
        [centralServer],
      );
      return result.rows.map(toInfo);
    },
    async add(input) {
      const server = validateServerInput(input);
      await servers.centralServerId();
      await assertUnregistered(centralPool, server);
      await verifyServer(server);
      const id = randomUUID();
      const secret = keyRing.encrypt(server.adminPassword, adminPasswordContext(id));
      try {
        const result = await centralPool.query<ServerRow>(
          `INSERT INTO db_servers (id, name, host, port, admin_username, admin_password_ciphertext, admin_password_key_id, max_tenants)
           SELECT $1, $2, $3, $4, $5, $6, $7, $8
           WHERE NOT EXISTS (SELECT 1 FROM db_servers WHERE lower(host) = lower($3) AND port = $4)
           RETURNING *`,
          [id, server.name, server.host, server.port, server.adminUsername, secret.ciphertext, secret.keyId, server.maxTenants],
        );
        const row = result.rows[0];
        if (!row) throw hostConflict(server);
        options.logger.info({ serverId: id, name: server.name, host: server.host, port: server.port }, 'database server added');
        return toInfo(row);
      } catch (error) {
        if ((error as { code?: string }).code === '23505') throw nameConflict(server);
        throw error;
      }
    },
    async place(transaction, requested) {
      const centralServer = await servers.centralServerId();
      // Row locks on every server serialise placements: the counts below cannot go stale.
      const rows = (await transaction.query<ServerRow>('SELECT * FROM db_servers ORDER BY is_default DESC, name FOR UPDATE')).rows;
      const counts = new Map(
        (
          await transaction.query<{ id: string; n: number }>(
            `SELECT COALESCE(db_server_id, $1) AS id, count(*)::int AS n FROM tenants
             WHERE level = 'TENANT' AND status <> 'FAILED' GROUP BY 1`,
            [centralServer],
          )
        ).rows.map((row) => [row.id, row.n]),
      );
      const hasRoom = (row: ServerRow) => row.max_tenants === null || (counts.get(row.id) ?? 0) < row.max_tenants;
      let chosen: ServerRow | undefined;
      if (requested) {
        chosen = rows.find((row) => row.name === requested || row.id === requested);
        if (!chosen) throw new AppError(ErrorCode.BAD_USER_INPUT, `No database server is named ${JSON.stringify(requested)}`, { details: { field: 'dbServer' } });
        if (!chosen.is_active) throw new AppError(ErrorCode.BAD_USER_INPUT, `Database server ${chosen.name} is not active`, { details: { field: 'dbServer' } });
        if (!hasRoom(chosen)) {
          throw new AppError(ErrorCode.BAD_USER_INPUT, `Database server ${chosen.name} is full (${chosen.max_tenants} tenants)`, { details: { field: 'dbServer' } });
        }
      } else {
        for (const row of rows) {
          if (!row.is_active || !hasRoom(row)) continue;
          if (!chosen || (counts.get(row.id) ?? 0) < (counts.get(chosen.id) ?? 0)) chosen = row;
        }
        if (!chosen) throw new AppError(ErrorCode.SERVICE_UNAVAILABLE, 'No active database server has room for another tenant; add one (servers:add)');
      }
      return chosen.id;
    },
    async close() {
      const all = new Set([central, ...admins.values()]);
      admins.clear();
      await Promise.all([...all].map((admin) => admin.close()));
    },
  };
  return servers;
}

const nameConflict = (server: ValidServer) =>
  new AppError(ErrorCode.CONFLICT, `A database server named ${server.name} exists already`, { details: { field: 'name' } });
const hostConflict = (server: ValidServer) =>
  new AppError(ErrorCode.CONFLICT, `A server at ${server.host}:${server.port} is registered already`, { details: { field: 'host' } });

/** Refuses a name or address in use before connecting anywhere (the insert checks again, for races). */
async function assertUnregistered(pool: pg.Pool, server: ValidServer): Promise<void> {
  const taken = await pool.query<{ same_name: boolean }>(
    'SELECT name = $1 AS same_name FROM db_servers WHERE name = $1 OR (lower(host) = lower($2) AND port = $3) ORDER BY 1 DESC LIMIT 1',
    [server.name, server.host, server.port],
  );
  const row = taken.rows[0];
  if (row) throw row.same_name ? nameConflict(server) : hostConflict(server);
}

type ValidServer = { name: string; host: string; port: number; adminUsername: string; adminPassword: string; maxTenants: number | null };

function validateServerInput(input: AddDbServerInput): ValidServer {
  const bad = (field: string, message: string) => new AppError(ErrorCode.BAD_USER_INPUT, message, { details: { field } });
  const name = input.name.trim();
  if (!SLUG_PATTERN.test(name)) throw bad('name', 'A server name is 1 to 63 characters: lower-case letters, digits and -, not starting with -');
  const host = input.host.trim();
  if (!HOST_PATTERN.test(host)) throw bad('host', `${JSON.stringify(host)} is not a host name or IP address`);
  const port = input.port ?? 5432;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad('port', 'port must be a whole number from 1 to 65535');
  if (!ROLE_PATTERN.test(input.adminUsername)) throw bad('adminUsername', 'adminUsername must be a PostgreSQL role name (letters, digits, _ . -)');
  if (input.adminPassword.length === 0 || input.adminPassword.length > 1024) throw bad('adminPassword', 'adminPassword must be 1 to 1024 characters');
  const maxTenants = input.maxTenants ?? null;
  if (maxTenants !== null && (!Number.isInteger(maxTenants) || maxTenants < 1)) throw bad('maxTenants', 'maxTenants must be a whole number above 0');
  return { name, host, port, adminUsername: input.adminUsername, adminPassword: input.adminPassword, maxTenants };
}

/** Connects as the given admin and checks it may create databases and roles. The message never holds the password. */
async function verifyServer(server: ValidServer): Promise<void> {
  const client = new pg.Client({
    connectionString: adminUrl({ host: server.host, port: server.port, username: server.adminUsername, password: server.adminPassword }),
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'tenantgraph:admin',
  });
  client.on('error', () => {});
  try {
    await client.connect();
    const result = await client.query<{ ok: boolean }>('SELECT (rolsuper OR (rolcreatedb AND rolcreaterole)) AS ok FROM pg_roles WHERE rolname = current_user');
    if (result.rows[0]?.ok !== true) {
      throw new AppError(ErrorCode.BAD_USER_INPUT, `Role ${server.adminUsername} may not create databases and roles on ${server.host}:${server.port}`, {
        details: { field: 'adminUsername' },
      });
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    const cause = error instanceof Error ? error.message.replaceAll(server.adminPassword, '***') : 'unknown error';
    throw new AppError(ErrorCode.BAD_USER_INPUT, `Could not connect to ${server.host}:${server.port} as ${server.adminUsername}: ${cause}`, {
      details: { field: 'connection' },
    });
  } finally {
    await client.end().catch(() => {});
  }
}
