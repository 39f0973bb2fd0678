/**
 * Plans and subscriptions from the command line, as a system administrator, through the same
 * service as the GraphQL mutations (src/tenancy/plans/plans.ts):
 *   plans:list [--json]
 *   plans:create --key k --name n [--description d] [--modules emr,pos] [--max-patients n] [--trial-days n] [--inactive] [--json]
 *   plans:update --key k [--name n] [--description d] [--modules ...] [--max-patients n|none] [--trial-days n] [--active|--inactive] [--json]
 *   tenants:plan --tenant s --plan k [--json]                  (changePlan: a new subscription)
 *   tenants:module --tenant s (--enable m | --disable m) [--json]
 * Bad values are refused by the service's own validation (the same messages as over GraphQL).
 * Exit codes: 0 done, 1 failed, 2 bad usage.
 */
import { InvalidArgumentError, type Command } from 'commander';
import Table from 'cli-table3';
import { type PlanInfo, type PlanInput } from '../tenancy/plans/plans.js';
import { withRuntime } from './cli-runtime.js';
import { printJson, reporting } from './cli-output.js';
import { selectTenants, UsageError } from './tenant-selection.js';

const SYSTEM = { kind: 'system' } as const;

type PlanOptions = {
  key: string;
  name?: string;
  description?: string;
  modules?: string[];
  maxPatients?: number | 'none';
  trialDays?: number;
  active?: boolean;
  json?: boolean;
};

export function registerPlansCommands(program: Command): void {
  program
    .command('plans:list')
    .description('List plans with their modules, limits and trial days.')
    .option('--json', 'print one JSON object instead of a table')
    .action(async (options: { json?: boolean }) => {
      await withRuntime(options, (runtime) =>
        reporting(options.json, async () => {
          const plans = await runtime.services.administration.plans.list();
          if (options.json) return printJson({ ok: true, plans });
          const table = new Table({ head: ['key', 'name', 'modules', 'maxPatients', 'trial days', 'seeders', 'active'], style: { head: [] } });
          for (const plan of plans) {
            table.push([plan.key, plan.name, plan.modules.join(','), plan.limits.maxPatients ?? '∞', plan.trialDays, plan.seeders.join(','), plan.isActive ? 'yes' : 'no']);
          }
          process.stdout.write(`${table.toString()}\n${plans.length} plan(s)\n`);
        }),
      );
    });

  const planOptions = (command: Command, creating: boolean) =>
    (creating ? command.requiredOption('--name <name>', 'display name') : command.option('--name <name>', 'display name'))
      .requiredOption('--key <key>', 'the plan key')
      .option('--description <text>', 'what the plan is for')
      .option('--modules <list>', 'comma-separated cluster modules (emr,pos,scm)', (value: string) => value.split(',').map((m) => m.trim()).filter(Boolean))
      .option('--max-patients <n>', "most patients per tenant ('none': no limit)", parseLimit)
      .option('--trial-days <n>', 'days of trial for a new subscription', parseWhole)
      .option('--active', 'offered to new tenants')
      .option('--inactive', 'no longer offered (tenants on it keep it)')
      .option('--json', 'print one JSON object instead of text');

  planOptions(program.command('plans:create').description('Create a plan.'), true).action(async (options: PlanOptions & { inactive?: boolean }) => {
    await withRuntime(options, (runtime) =>
      reporting(options.json, async () => {
        const plan = await runtime.services.administration.plans.create({ key: options.key, ...planInput(options) });
        reportPlan(options.json, 'Created', plan);
      }),
    );
  });

  planOptions(program.command('plans:update').description('Change a plan; every tenant on it sees the change at once.'), false).action(
    async (options: PlanOptions & { inactive?: boolean }) => {
      await withRuntime(options, (runtime) =>
        reporting(options.json, async () => {
          const plan = await runtime.services.administration.plans.update(options.key, planInput(options));
          reportPlan(options.json, 'Updated', plan);
        }),
      );
    },
  );

  program
    .command('tenants:plan')
    .description('Move a tenant to a plan (a new subscription; a trial when the plan has trial days).')
    .requiredOption('--tenant <slug>', 'the tenant')
    .requiredOption('--plan <key>', 'the plan key')
    .option('--json', 'print one JSON object instead of text')
    .action(async (options: { tenant: string; plan: string; json?: boolean }) => {
      await withRuntime(options, (runtime) =>
        reporting(options.json, async () => {
          const tenant = (await selectTenants(runtime.central.pool, { tenants: [options.tenant] }))[0]!;
          const subscription = await runtime.services.administration.plans.changePlan(SYSTEM, tenant.id, options.plan);
          if (options.json) return printJson({ ok: true, subscription });
          const trial = subscription.trialEndsAt ? `, trial until ${subscription.trialEndsAt.toISOString()}` : '';
          process.stdout.write(`${tenant.slug} is on plan ${subscription.planKey}: ${subscription.status}${trial}\n`);
        }),
      );
    });

  program
    .command('tenants:module')
    .description("Switch a cluster module on or off for one tenant, over what its plan says.")
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--enable <module>', 'switch this module on')
    .option('--disable <module>', 'switch this module off')
    .option('--json', 'print one JSON object instead of text')
    .action(async (options: { tenant: string; enable?: string; disable?: string; json?: boolean }) => {
      await withRuntime(options, (runtime) =>
        reporting(options.json, async () => {
          if ((options.enable === undefined) === (options.disable === undefined)) throw new UsageError('give exactly one of --enable and --disable');
          const tenant = (await selectTenants(runtime.central.pool, { tenants: [options.tenant] }))[0]!;
          const modules = await runtime.services.administration.plans.setModule(SYSTEM, tenant.id, (options.enable ?? options.disable)!, options.enable !== undefined);
          if (options.json) return printJson({ ok: true, tenant: tenant.slug, modules });
          process.stdout.write(`${tenant.slug}: modules ${modules.join(', ') || '(none)'}\n`);
        }),
      );
    });
}

function planInput(options: PlanOptions & { inactive?: boolean }): PlanInput {
  if (options.active && options.inactive) throw new UsageError('give at most one of --active and --inactive');
  return {
    name: options.name,
    description: options.description,
    modules: options.modules,
    limits: options.maxPatients === undefined ? undefined : { maxPatients: options.maxPatients === 'none' ? null : options.maxPatients },
    trialDays: options.trialDays,
    isActive: options.active ? true : options.inactive ? false : undefined,
  };
}

function reportPlan(json: boolean | undefined, verb: string, plan: PlanInfo): void {
  if (json) return printJson({ ok: true, plan });
  process.stdout.write(`${verb} plan ${plan.key} (${plan.name}): modules ${plan.modules.join(',') || '(none)'}, maxPatients ${plan.limits.maxPatients ?? 'no limit'}, ${plan.trialDays} trial day(s)${plan.isActive ? '' : ', inactive'}\n`);
}

function parseWhole(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number, 0 or more');
  return n;
}

/** `'none'` stays a word: commander turns a parser's null into an empty string. */
function parseLimit(value: string): number | 'none' {
  return value === 'none' ? 'none' : parseWhole(value);
}
