import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeTenantTree, type TenantTree } from '../helpers/auth.js';
import { scriptArgs } from '../helpers/entry.js';

const JWT_SECRET = 'cli-test-secret-cli-test-secret-0123456789';
const pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
let tree: TenantTree;

/** Runs one `tenantgraph` subcommand the way bin/tenantgraph.js does, with stdin when given. */
function runCli(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `
    const { Command } = await import('commander');
    const program = new Command().name('tenantgraph').exitOverride();
    (await import('./src/cli/token.command.ts')).registerTokenCommand(program);
    (await import('./src/cli/accounts.command.ts')).registerAccountsCommand(program);
    (await import('./src/cli/impersonate.command.ts')).registerImpersonateCommand(program);
    await program.parseAsync(['node', 'tenantgraph', ...JSON.parse(process.env.CLI_ARGS)]);
  `;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, scriptArgs(script), {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', LOG_LEVEL: 'warn', DATABASE_URL: inject('databaseUrl'), JWT_SECRET, CLI_ARGS: JSON.stringify(args), ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

beforeAll(async () => {
  tree = await makeTenantTree(pool);
});
afterAll(() => pool.end());

describe('tenantgraph token', () => {
  it('refuses a role the catalogue does not know (--role nurse), naming the known ones', async () => {
    const { code, stdout, stderr } = await runCli(['token', '--role', 'nurse']);
    expect(code).not.toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/unknown role "nurse"; expected one of system_admin, admin, member/);
  });

  it('refuses an unknown ability', async () => {
    const { code, stderr } = await runCli(['token', '--role', 'member', '--ability', 'patients:read', 'patient:delete']);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/unknown ability "patient:delete"/);
  });
});

describe('tenantgraph accounts:create', () => {
  it('creates a system admin with a password from stdin (hashed with argon2id), audited, and refuses a duplicate', async () => {
    const email = `root-${randomBytes(3).toString('hex')}@example.test`;
    const password = 'a long enough bootstrap password';
    const created = await runCli(['accounts:create', '--email', email, '--system-admin', '--password-stdin'], { stdin: `${password}\n` });
    expect(created.stderr).toMatch(/created account .* \(system admin\)/);
    expect(created.code).toBe(0);
    const id = created.stdout.trim();
    const row = (await pool.query('SELECT * FROM accounts WHERE id = $1', [id])).rows[0];
    expect(row).toMatchObject({ email, is_system_admin: true });
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    const audit = (await pool.query(`SELECT * FROM audit_logs WHERE action = 'account.created' AND target_id = $1`, [id])).rows[0];
    expect(audit.actor_label).toMatch(/^cli:/);
    expect(JSON.stringify(audit)).not.toContain(password);
    const again = await runCli(['accounts:create', '--email', email, '--password-stdin'], { stdin: `${password}\n` });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists already/);
  });

  it('refuses a short password', async () => {
    const { code, stderr } = await runCli(['accounts:create', '--email', `short-${randomBytes(3).toString('hex')}@example.test`, '--password-stdin'], { stdin: 'short\n' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/at least 12 characters/);
  });
});

describe('tenantgraph impersonate', () => {
  it('prints a single-use code for the tenant’s first admin, audited as a CLI actor', async () => {
    const account = (await pool.query<{ id: string }>(`INSERT INTO accounts (email, name) VALUES ($1, 'x') RETURNING id`, [`adm-${randomBytes(3).toString('hex')}@example.test`]))
      .rows[0]!.id;
    await pool.query(`INSERT INTO memberships (account_id, tenant_id, role) VALUES ($1, $2, 'admin')`, [account, tree.clinicA]);
    const { code, stdout, stderr } = await runCli(['impersonate', '--tenant', tree.slugs.clinica, '--reason', 'on-call check']);
    expect(stderr).toMatch(/impersonation code for account/);
    expect(code).toBe(0);
    const exchange = stdout.trim();
    expect(exchange).toMatch(/^imp_/);
    const audit = (await pool.query(`SELECT * FROM audit_logs WHERE action = 'impersonation.requested' AND tenant_id = $1`, [tree.clinicA])).rows[0];
    expect(audit).toMatchObject({ target_id: account, actor_account_id: null });
    expect(audit.actor_label).toMatch(/^cli:/);
    expect(JSON.stringify(audit)).not.toContain(exchange);
  });
});
