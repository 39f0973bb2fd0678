/**
 * `tenantgraph tenants:run --tenants a,b|--all [--parallel N] [--json] -- <module>`: runs a module's
 * exported function once in each tenant's context (the same bootstrappers as a request: database
 * handles, cache, files, logger), with progress and a summary. Exit 0 when every tenant succeeded,
 * 1 when any failed, 2 for bad usage.
 *
 * The module exports `default` or `run`: `(context: TenantContext) => unknown | Promise<unknown>`;
 * what it returns (JSON-serialisable) is reported per tenant with --json.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError, type Command } from 'commander';
import { type TenantContext } from '../tenancy/bootstrappers/index.js';
import { EXIT, usage, withRuntime } from './cli-runtime.js';
import { formatFleetSummary, runFleet } from './fleet.js';
import { parseSlugList, selectTenants } from './tenant-selection.js';

type RunOptions = { tenants?: string[]; all?: boolean; parallel: number; json?: boolean };
type TenantFunction = (context: TenantContext) => unknown;

export function registerTenantsRunCommand(program: Command): void {
  program
    .command('tenants:run')
    .description("Run a module's exported function (default or `run`) in each tenant's context.")
    .argument('<module>', 'path of a .js/.mjs module (or .ts when tsx is installed), after `--`')
    .option('--tenants <slugs>', 'comma-separated tenant slugs (any level)', parseSlugList)
    .option('--all', 'every live TENANT')
    .option('--parallel <n>', 'tenants at once', parseParallel, 4)
    .option('--json', 'print one JSON object with per-tenant results instead of text')
    .action(async (modulePath: string, options: RunOptions) => {
      let fn: TenantFunction;
      try {
        fn = await loadTenantFunction(modulePath);
      } catch (error) {
        process.stderr.write(`tenantgraph: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = EXIT.usage;
        return;
      }
      await withRuntime(options, async (runtime) => {
        const tenants = await usage(() => selectTenants(runtime.central.pool, options));
        if (!tenants) return;
        const principal = { kind: 'system', actor: `cli:tenants:run:${path.basename(modulePath)}` } as const;
        const summary = await runFleet(
          tenants,
          (tenant) => runtime.scopes.runInTenant(tenant.id, principal, async (context) => await fn(context)),
          { parallel: options.parallel, quiet: options.json, label: `tenants:run ${modulePath}` },
        );
        if (options.json) process.stdout.write(`${JSON.stringify({ ok: summary.failed === 0, ...summary })}\n`);
        else process.stdout.write(`${formatFleetSummary(summary, `tenants:run ${modulePath}`)}\n`);
        if (summary.failed > 0) process.exitCode = EXIT.failed;
      });
    });
}

async function loadTenantFunction(modulePath: string): Promise<TenantFunction> {
  const absolute = path.resolve(modulePath);
  const url = pathToFileURL(absolute).href;
  let loaded: Record<string, unknown>;
  if (/\.[cm]?ts$/.test(absolute)) {
    let tsImport: (specifier: string, parent: string) => Promise<Record<string, unknown>>;
    try {
      ({ tsImport } = (await import('tsx/esm/api')) as { tsImport: typeof tsImport });
    } catch {
      throw new Error(`${modulePath} is TypeScript and tsx is not installed; compile it to .js or install tsx`);
    }
    loaded = await tsImport(url, import.meta.url);
  } else {
    loaded = (await import(url)) as Record<string, unknown>;
  }
  const fn = typeof loaded.default === 'function' ? loaded.default : loaded.run;
  if (typeof fn !== 'function') throw new Error(`${modulePath} exports neither a default function nor \`run\``);
  return fn as TenantFunction;
}

function parseParallel(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError('expected a whole number from 1 to 64');
  return n;
}
