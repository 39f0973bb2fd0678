/**
 * The central (landlord) database: where it is (embedded or DATABASE_URL), making sure it exists,
 * its pool and Prisma client, and its migrations.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { type Config } from '../config.js';
import { PrismaClient } from '../generated/central/client.js';
import { quoteIdent } from './sql-names.js';
import { closeLockSessions } from './advisory-lock.js';
import { embeddedUrl, startEmbeddedPostgres, type EmbeddedPostgresHandle } from './embedded-postgres.js';
import { redactUrl, type Logger } from './logger.js';
import { ignoreCheckedOutError } from '../tenancy/registry/client-registry.js';

export type CentralPrisma = PrismaClient;

/** Name of the central database on the embedded server. */
const EMBEDDED_CENTRAL_DATABASE = 'tenantgraph';

export type CentralDatabase = {
  /** Connection string of the central database (contains credentials: never log it as is). */
  url: string;
  pool: pg.Pool;
  prisma: CentralPrisma;
  /** Set when the database runs on embedded PostgreSQL. */
  embedded: EmbeddedPostgresHandle | undefined;
  close(): Promise<void>;
};

export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
}

/** Where the central database lives, starting embedded PostgreSQL when no DATABASE_URL is set. */
export async function resolveCentralUrl(
  config: Config,
  logger: Logger,
): Promise<{ url: string; embedded: EmbeddedPostgresHandle | undefined }> {
  const db = config.database;
  switch (db.kind) {
    case 'external':
      return { url: db.url, embedded: undefined };
    case 'embedded': {
      const embedded = await startEmbeddedPostgres({ dataDir: db.dataDir, port: db.port });
      const url = embeddedUrl(Number(new URL(embedded.url).port), EMBEDDED_CENTRAL_DATABASE);
      logger.info(
        { dataDir: db.dataDir, port: Number(new URL(url).port), startedHere: embedded.startedHere },
        `Using embedded PostgreSQL 15 (data in ${db.dataDir}). To use your own server, set DATABASE_URL=postgres://user:password@host:5432/tenantgraph`,
      );
      return { url, embedded };
    }
    default: {
      const unreachable: never = db;
      throw new Error(`unknown database kind ${JSON.stringify(unreachable)}`);
    }
  }
}

/** Opens the central database, creating it on its server when it does not exist yet. */
export async function openCentralDatabase(config: Config, logger: Logger): Promise<CentralDatabase> {
  const { url, embedded } = await resolveCentralUrl(config, logger);
  try {
    await ensureDatabaseExists(url, logger);
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  const pool = new pg.Pool({ connectionString: url, max: config.database.centralPoolMax, application_name: 'tenantgraph:central' });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', (error) => logger.warn({ err: error }, 'central database connection lost'));
  // A connection that dies while checked out has no pg-pool listener: without this one its
  // 'error' would crash the process (the query or release using it reports the failure).
  pool.on('connect', (client) => client.on('error', ignoreCheckedOutError));
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    url,
    pool,
    prisma,
    embedded,
    async close() {
      await prisma.$disconnect();
      await closeLockSessions(pool);
      await pool.end();
    },
  };
}

/** Creates the database named in `url` through the server's `postgres` database when missing. */
export async function ensureDatabaseExists(url: string, logger: Logger): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1)) || 'postgres';
  const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await probe.connect();
    return;
  } catch (error) {
    if ((error as { code?: string }).code !== '3D000') throw unreachable(url, error);
  } finally {
    await probe.end().catch(() => {});
  }
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: maintenance.toString(), connectionTimeoutMillis: 10_000 });
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${quoteIdent(name)}`).catch((error: { code?: string }) => {
      if (error.code !== '42P04') throw error; // created meanwhile by another process
    });
    logger.info({ database: name }, 'created the central database');
  } catch (error) {
    throw unreachable(maintenance.toString(), error);
  } finally {
    await admin.end().catch(() => {});
  }
}

function unreachable(url: string, error: unknown): DatabaseUnavailableError {
  const reason = error instanceof Error ? error.message || (error as { code?: string }).code : String(error);
  return new DatabaseUnavailableError(
    `Cannot use PostgreSQL at ${redactUrl(url)}: ${reason}. Check DATABASE_URL and that the server is running, or unset DATABASE_URL to use the embedded database.`,
    { cause: error },
  );
}
