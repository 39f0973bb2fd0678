/**
 * `tenantgraph tenants:list [--level L] [--status S] [--parent slug] [--json]` and the lifecycle
 * commands: `tenants:suspend --tenant s --reason r`, `tenants:resume --tenant s`,
 * `tenants:down --tenant s [--message m]` / `tenants:up --tenant s` (maintenance mode),
 * `tenants:delete --tenant s [--hard --confirm s]`, `tenants:restore-deleted --tenant s`,
 * `tenants:create ... [--no-wait]` and `tenants:retry --tenant s` (provisioning-progress.ts).
 * They act as a system administrator, through the same service as the GraphQL mutations.
 * Exit codes: 0 done, 1 failed, 2 bad usage (including a refused state change's bad input).
 */
import { InvalidArgumentError, type Command } from 'commander';
import Table from 'cli-table3';
import { type Runtime } from '../runtime.js';
import { ISOLATIONS, SLUG_PATTERN, TENANT_LEVELS, TENANT_STATUSES, type Isolation } from '../tenancy/model.js';
import { EXIT, withRuntime } from './cli-runtime.js';
import { printJson, reporting } from './cli-output.js';
import { UsageError } from './tenant-selection.js';
import { followProvisioning } from './provisioning-progress.js';

const SYSTEM = { kind: 'system' } as const;

type ListOptions = { level?: string; status?: string; parent?: string; json?: boolean };

export function registerTenantsLifecycleCommands(program: Command): void {
  program
    .command('tenants:list')
    .description('List tenants (every level, deleted ones included with --status DELETED) as a table.')
    .option('--level <level>', `one of ${TENANT_LEVELS.join(', ')}`, oneOf(TENANT_LEVELS))
    .option('--status <status>', `one of ${TENANT_STATUSES.join(', ')}`, oneOf(TENANT_STATUSES))
    .option('--parent <slug>', 'direct children of this tenant', slug)
    .option('--json', 'print one JSON object instead of a table')
    .action(async (options: ListOptions) => {
      await withRuntime(options, (runtime) =>
        reporting(options.json, async () => {
          const tenants = await listTenants(runtime, options);
          if (options.json) return printJson({ ok: true, tenants });
          const table = new Table({ head: ['slug', 'name', 'level', 'isolation', 'status', 'maintenance', 'parent', 'server'], style: { head: [] } });
          for (const t of tenants) table.push([t.slug, t.name, t.level, t.level === 'TENANT' ? t.isolation : '', t.status, t.maintenance ? 'yes' : '', t.parent ?? '', t.server ?? '']);
          process.stdout.write(`${table.toString()}\n${tenants.length} tenant(s)\n`);
        }),
      );
    });

  program
    .command('tenants:create')
    .description('Create a tenant and provision it, showing each step as it completes; exits 0 once ACTIVE, 1 if it FAILED.')
    .requiredOption('--level <level>', `one of ${TENANT_LEVELS.join(', ')}`, oneOf(TENANT_LEVELS))
    .option('--parent <slug>', 'the parent tenant (an APP for a CENTRAL_TENANT, a CENTRAL_TENANT for a TENANT)', slug)
    .requiredOption('--slug <slug>', 'public name (subdomain, X-Tenant)', slug)
    .requiredOption('--name <name>', 'display name')
    .option('--key <key>', 'storage key; default the slug with - as _')
    .option('--isolation <isolation>', `TENANT only: ${ISOLATIONS.join(' or ')}`, oneOf(ISOLATIONS))
    .option('--domain <host>', 'a host name (repeat for several; the first is primary)', (value: string, previous: string[] = []) => [...previous, value])
    .option('--server <name>', 'TENANT only: the database server; default the one with the fewest tenants')
    .option('--plan <key>', "TENANT only: the plan; its default seeders run in the new tenant")
    .option('--timezone <name>', 'IANA time zone, e.g. Europe/Berlin; default UTC')
    .option('--admin-email <email>', 'TENANT and CENTRAL_TENANT: the first admin')
    .option('--admin-name <name>', 'the first admin\'s name; default the email')
    .option('--no-wait', 'return once the provisioning is queued (status PROVISIONING)')
    .option('--json', 'print one JSON object (the final tenant with its steps) instead of text')
    .action(
      async (options: {
        level: string;
        parent?: string;
        slug: string;
        name: string;
        key?: string;
        isolation?: Isolation;
        domain?: string[];
        server?: string;
        plan?: string;
        timezone?: string;
        adminEmail?: string;
        adminName?: string;
        wait: boolean;
        json?: boolean;
      }) => {
        await withRuntime(options, (runtime) =>
          reporting(options.json, async () => {
            let parentId: string | null = null;
            if (options.parent) {
              const parent = await runtime.central.pool.query<{ id: string }>('SELECT id FROM tenants WHERE slug = $1', [options.parent]);
              if (!parent.rows[0]) throw new UsageError(`no tenant has the slug ${JSON.stringify(options.parent)}`);
              parentId = parent.rows[0].id;
            }
            const made = await runtime.services.administration.createTenant(SYSTEM, {
              level: options.level,
              parentId,
              slug: options.slug,
              name: options.name,
              key: options.key ?? null,
              isolation: options.isolation ?? null,
              domains: options.domain ?? null,
              dbServer: options.server ?? null,
              planKey: options.plan ?? null,
              timezone: options.timezone ?? null,
              admin: options.adminEmail ? { email: options.adminEmail, name: options.adminName ?? null } : null,
            });
            if (!options.json && options.wait) process.stdout.write(`Provisioning ${made.level} ${made.slug} (id ${made.id})\n`);
            await followProvisioning(runtime, made.id, { json: options.json, wait: options.wait, firstAdminInvitation: options.adminEmail ? made.firstAdminInvitation : undefined });
          }),
        );
      },
    );

  lifecycleCommand(program, 'tenants:retry', 'Start a FAILED provisioning again from the beginning, showing each step; exits 0 once ACTIVE, 1 if it FAILED.', (cmd) =>
    cmd.option('--no-wait', 'return once the new attempt is queued'),
  ).action(async (options: { tenant: string; wait: boolean; json?: boolean }) => {
    await withRuntime(options, (runtime) =>
      reporting(options.json, async () => {
        const { rows } = await runtime.central.pool.query<{ id: string }>('SELECT id FROM tenants WHERE slug = $1', [options.tenant]);
        if (!rows[0]) return usageError(`no tenant has the slug ${JSON.stringify(options.tenant)}`, options.json);
        await runtime.services.administration.provisioning.retry(SYSTEM, rows[0].id);
        await followProvisioning(runtime, rows[0].id, { json: options.json, wait: options.wait });
      }),
    );
  });

  lifecycleCommand(program, 'tenants:suspend', 'Suspend a tenant (read-only for everyone but system admins).', (cmd) =>
    cmd.requiredOption('--reason <text>', 'why (kept with the tenant)'),
  ).action(async (options: { tenant: string; reason: string; json?: boolean }) =>
    act(options, (runtime, id) => runtime.services.administration.lifecycle.suspend(SYSTEM, id, options.reason), 'suspended'),
  );

  lifecycleCommand(program, 'tenants:resume', 'Resume a suspended tenant.').action(async (options: { tenant: string; json?: boolean }) =>
    act(options, (runtime, id) => runtime.services.administration.lifecycle.resume(SYSTEM, id), 'resumed'),
  );

  lifecycleCommand(program, 'tenants:down', 'Put a tenant into maintenance mode.', (cmd) => cmd.option('--message <text>', 'shown to its users')).action(
    async (options: { tenant: string; message?: string; json?: boolean }) =>
      act(options, (runtime, id) => runtime.services.administration.lifecycle.setMaintenance(SYSTEM, id, true, options.message ?? null), 'is in maintenance'),
  );

  lifecycleCommand(program, 'tenants:up', 'End maintenance mode.').action(async (options: { tenant: string; json?: boolean }) =>
    act(options, (runtime, id) => runtime.services.administration.lifecycle.setMaintenance(SYSTEM, id, false, null), 'is out of maintenance'),
  );

  lifecycleCommand(program, 'tenants:delete', 'Soft-delete a tenant (restorable), or with --hard --confirm <slug> remove it and its data for good.', (cmd) =>
    cmd.option('--hard', 'drop storage, role, files and the row').option('--confirm <slug>', 'the slug again, required with --hard'),
  ).action(async (options: { tenant: string; hard?: boolean; confirm?: string; json?: boolean }) => {
    if (options.confirm !== undefined && !options.hard) return usageError('--confirm goes with --hard');
    await act(
      options,
      (runtime, id) =>
        options.hard
          ? runtime.services.administration.lifecycle.hardDelete(SYSTEM, id, options.confirm ?? null)
          : runtime.services.administration.lifecycle.softDelete(SYSTEM, id),
      options.hard ? 'deleted for good' : 'deleted (restorable)',
    );
  });

  lifecycleCommand(program, 'tenants:undelete', 'Restore a soft-deleted tenant within TENANT_DELETE_GRACE_DAYS.').action(async (options: { tenant: string; json?: boolean }) =>
    act(options, (runtime, id) => runtime.services.administration.lifecycle.restore(SYSTEM, id), 'restored'),
  );
}

function lifecycleCommand(program: Command, name: string, description: string, extra: (cmd: Command) => Command = (cmd) => cmd): Command {
  return extra(program.command(name).description(description).requiredOption('--tenant <slug>', 'the tenant (any level)', slug)).option('--json', 'print one JSON object instead of text');
}

async function act(options: { tenant: string; json?: boolean }, change: (runtime: Runtime, id: string) => Promise<unknown>, done: string): Promise<void> {
  await withRuntime(options, (runtime) =>
    reporting(options.json, async () => {
      const { rows } = await runtime.central.pool.query<{ id: string }>('SELECT id FROM tenants WHERE slug = $1', [options.tenant]);
      if (!rows[0]) return usageError(`no tenant has the slug ${JSON.stringify(options.tenant)}`, options.json);
      const result = await change(runtime, rows[0].id);
      if (options.json) return printJson({ ok: true, tenant: result });
      process.stdout.write(`${options.tenant} ${done}\n`);
    }),
  );
}

type ListedTenant = { id: string; slug: string; name: string; level: string; isolation: string; status: string; maintenance: boolean; parent: string | null; server: string | null };

async function listTenants(runtime: Runtime, options: ListOptions): Promise<ListedTenant[]> {
  let parentId: string | null = null;
  if (options.parent) {
    const parent = await runtime.central.pool.query<{ id: string }>('SELECT id FROM tenants WHERE slug = $1', [options.parent]);
    if (!parent.rows[0]) throw new UsageError(`no tenant has the slug ${JSON.stringify(options.parent)}`);
    parentId = parent.rows[0].id;
  }
  const { rows } = await runtime.central.pool.query<ListedTenant>(
    `SELECT t.id, t.slug, t.name, t.level, t.isolation, t.status, t.maintenance, p.slug AS parent, s.name AS server
       FROM tenants t LEFT JOIN tenants p ON p.id = t.parent_id LEFT JOIN db_servers s ON s.id = t.db_server_id
      WHERE ($1::text IS NULL OR t.level = $1) AND ($3::uuid IS NULL OR t.parent_id = $3)
        AND (CASE WHEN $2::text IS NULL THEN t.status <> 'DELETED' ELSE t.status = $2 END)
      ORDER BY t.slug`,
    [options.level ?? null, options.status ?? null, parentId],
  );
  return rows;
}

function usageError(message: string, json?: boolean): void {
  if (json) printJson({ ok: false, error: message, code: 'BAD_USAGE' });
  else process.stderr.write(`tenantgraph: ${message}\n`);
  process.exitCode = EXIT.usage;
}

function oneOf(values: readonly string[]) {
  return (value: string): string => {
    if (!values.includes(value)) throw new InvalidArgumentError(`expected one of ${values.join(', ')}`);
    return value;
  };
}

function slug(value: string): string {
  if (!SLUG_PATTERN.test(value)) throw new InvalidArgumentError('expected a tenant slug');
  return value;
}
