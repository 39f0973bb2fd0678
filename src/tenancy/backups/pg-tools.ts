/**
 * Running PostgreSQL's own client tools (pg_dump, pg_restore) against a tenant's server. The
 * password goes through PGPASSWORD, never the command line (other users can read argv in `ps`),
 * and the tools must have the server's major version: an older pg_dump refuses a newer server,
 * and a newer one writes archives an older pg_restore cannot read.
 */
import { spawn } from 'node:child_process';
import type pg from 'pg';

export type ServerConnection = { host: string; port: string; user: string; password: string };

export function connectionOf(serverUrl: string): ServerConnection {
  const url = new URL(serverUrl);
  return {
    host: url.hostname,
    port: url.port || '5432',
    user: decodeURIComponent(url.username) || 'postgres',
    password: decodeURIComponent(url.password),
  };
}

export class PgToolError extends Error {
  override readonly name = 'PgToolError';
}

/** The major version a tool reports, e.g. 15 for "pg_dump (PostgreSQL) 15.20 (Debian ...)". */
export async function toolMajorVersion(tool: 'pg_dump' | 'pg_restore'): Promise<number> {
  const { code, stdout, stderr } = await run(tool, ['--version'], {});
  const match = /\(PostgreSQL\) (\d+)/.exec(stdout);
  if (code !== 0 || !match) {
    throw new PgToolError(`${tool} was not found or did not report a version (${stderr.trim() || `exit ${code}`}). Install the PostgreSQL client tools of your server's major version (Debian: postgresql-client-15).`);
  }
  return Number(match[1]);
}

/** Refuses, with the fix, when the tool and the server differ in major version. */
export async function assertToolMatchesServer(tool: 'pg_dump' | 'pg_restore', pool: Pick<pg.Pool, 'query'>): Promise<void> {
  const [toolMajor, server] = await Promise.all([toolMajorVersion(tool), pool.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")]);
  const serverMajor = Math.floor(Number(server.rows[0]!.v) / 10_000);
  if (toolMajor !== serverMajor) {
    throw new PgToolError(`${tool} is version ${toolMajor} but the server is PostgreSQL ${serverMajor}: install the client tools of version ${serverMajor} and put them first on PATH.`);
  }
}

/** Runs a tool to completion; resolves with its exit code and output (stderr kept for errors). */
export function run(tool: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(tool, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => resolve({ code: -1, stdout, stderr: error.message }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Environment that lets a tool connect without a password on its command line. */
export function connectionEnv(connection: ServerConnection): Record<string, string> {
  return {
    PGHOST: connection.host,
    PGPORT: connection.port,
    PGUSER: connection.user,
    ...(connection.password ? { PGPASSWORD: connection.password } : {}),
    PGAPPNAME: 'tenantgraph:backup',
  };
}
