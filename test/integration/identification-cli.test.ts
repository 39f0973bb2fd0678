import { spawn } from 'node:child_process';
import pg from 'pg';
import { TEST_ENCRYPTION_KEYS } from '../helpers/app.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { loadAccessTokenKeys } from '../../src/tenancy/identification/jwt-secret.js';
import { verifyAccessToken } from '../../src/tenancy/identification/access-tokens.js';
import { scriptArgs } from '../helpers/entry.js';

const JWT_SECRET = 'cli-test-secret-cli-test-secret-0123456789';
const suffix = `${inject('runId')}${Math.random().toString(36).slice(2, 6)}`;
const pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
let tenantId: string;

/** Runs `tenantgraph token ...` as the CLI would (the lead registers it in src/cli/main.ts). */
function runToken(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `
    const { Command } = await import('commander');
    const { registerTokenCommand } = await import('./src/cli/token.command.ts');
    const program = new Command().name('tenantgraph').exitOverride();
    registerTokenCommand(program);
    await program.parseAsync(['node', 'tenantgraph', 'token', ...JSON.parse(process.env.TOKEN_ARGS)]);
  `;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, scriptArgs(script), {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        DATABASE_URL: inject('databaseUrl'),
        JWT_SECRET,
        TENANCY_ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
        TOKEN_ARGS: JSON.stringify(args),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  const app = await pool.query<{ id: string }>(
    `INSERT INTO tenants (level, key, slug, name, status) VALUES ('APP', $1, $2, 'CLI app', 'ACTIVE') RETURNING id`,
    [`cli_app_${suffix}`, `cli-app-${suffix}`],
  );
  const group = await pool.query<{ id: string }>(
    `INSERT INTO tenants (level, parent_id, key, slug, name, status) VALUES ('CENTRAL_TENANT', $1, $2, $3, 'CLI group', 'ACTIVE') RETURNING id`,
    [app.rows[0]!.id, `cli_group_${suffix}`, `cli-group-${suffix}`],
  );
  const tenant = await pool.query<{ id: string }>(
    `INSERT INTO tenants (level, parent_id, key, slug, name, status) VALUES ('TENANT', $1, $2, $3, 'CLI clinic', 'ACTIVE') RETURNING id`,
    [group.rows[0]!.id, `cli_clinic_${suffix}`, `cli-clinic-${suffix}`],
  );
  tenantId = tenant.rows[0]!.id;
});

afterAll(() => pool.end());

describe('tenantgraph token', () => {
  it('prints a token for the tenant alone on the last line of stdout, a hint on stderr', async () => {
    const { code, stdout, stderr } = await runToken(['--tenant', `cli-clinic-${suffix}`, '--role', 'admin', '--role', 'member', '--subject', 'acc-7', '--ability', 'patients:read', 'visits:write', '--ttl', '120']);
    expect(stderr).toMatch(/access token for acc-7, roles admin,member, tenant cli-clinic-/);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    const token = lines.at(-1)!;
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const keys = await loadAccessTokenKeys(parseConfig({ NODE_ENV: 'test', JWT_SECRET }));
    expect(await verifyAccessToken(keys, token)).toEqual({
      kind: 'user',
      subject: 'acc-7',
      tenantId,
      roles: ['admin', 'member'],
      abilities: ['patients:read', 'visits:write'],
      isSystemAdmin: false,
      impersonatorId: null,
    });
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number; iat: number };
    expect(payload.exp - payload.iat).toBe(120);
  });

  it('mints a central system-admin token without --tenant', async () => {
    const { code, stdout } = await runToken(['--role', 'system_admin']);
    expect(code).toBe(0);
    const keys = await loadAccessTokenKeys(parseConfig({ NODE_ENV: 'test', JWT_SECRET }));
    expect(await verifyAccessToken(keys, stdout.trimEnd().split('\n').at(-1)!)).toMatchObject({ tenantId: null, isSystemAdmin: true });
  });

  it('refuses an unknown tenant slug', async () => {
    const { code, stdout, stderr } = await runToken(['--tenant', `nobody-${suffix}`, '--role', 'admin']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(`no tenant has the slug "nobody-${suffix}"`);
  });

  it('refuses in production', async () => {
    const { code, stdout, stderr } = await runToken(['--role', 'admin'], { NODE_ENV: 'production' });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/refused when NODE_ENV=production/);
  });
});
