/**
 * Custom domains from the command line, as a system administrator, through the same service as the
 * GraphQL mutations (src/tenancy/domains/tenant-domains.ts):
 *   domains:list [--tenant s] [--json]
 *   domains:add --tenant s --domain host [--json]      (stored unverified)
 *   domains:verify --domain host [--json]              (a system admin vouches: verified at once)
 *   domains:primary --domain host [--json]
 *   domains:remove --domain host [--json]
 * Exit codes: 0 done, 1 failed (unknown domain, taken, refused), 2 bad usage.
 */
import { type Command } from 'commander';
import Table from 'cli-table3';
import { type Runtime } from '../runtime.js';
import { type TenantDomainRecord } from '../tenancy/domains/tenant-domains.js';
import { withRuntime } from './cli-runtime.js';
import { printJson, reporting } from './cli-output.js';
import { selectTenants, UsageError } from './tenant-selection.js';

const SYSTEM = { kind: 'system' } as const;

type DomainRow = { id: string; domain: string; tenant: string; isPrimary: boolean; isVerified: boolean; verifiedAt: Date | null; verificationError: string | null };

export function registerDomainsCommands(program: Command): void {
  program
    .command('domains:list')
    .description('List custom domains (of one tenant with --tenant), with their primary and verified state.')
    .option('--tenant <slug>', 'only this tenant')
    .option('--json', 'print one JSON object instead of a table')
    .action(async (options: { tenant?: string; json?: boolean }) => {
      await withRuntime(options, (runtime) =>
        reporting(options.json, async () => {
          const tenantId = options.tenant ? (await selectTenants(runtime.central.pool, { tenants: [options.tenant] }))[0]!.id : null;
          const { rows } = await runtime.central.pool.query<DomainRow>(
            `SELECT d.id, d.domain, t.slug AS tenant, d.is_primary AS "isPrimary", d.is_verified AS "isVerified",
                    d.verified_at AS "verifiedAt", d.verification_error AS "verificationError"
               FROM domains d JOIN tenants t ON t.id = d.tenant_id
              WHERE $1::uuid IS NULL OR d.tenant_id = $1 ORDER BY t.slug, d.domain`,
            [tenantId],
          );
          if (options.json) return printJson({ ok: true, domains: rows });
          const table = new Table({ head: ['domain', 'tenant', 'primary', 'verified', 'last check'], style: { head: [] } });
          for (const row of rows) table.push([row.domain, row.tenant, row.isPrimary ? 'yes' : '', row.isVerified ? 'yes' : 'no', row.verificationError ?? '']);
          process.stdout.write(`${table.toString()}\n${rows.length} domain(s)\n`);
        }),
      );
    });

  program
    .command('domains:add')
    .description("Add a custom domain to a tenant (unverified until domains:verify or the tenant's own check).")
    .requiredOption('--tenant <slug>', 'the tenant')
    .requiredOption('--domain <host>', 'the host name')
    .option('--json', 'print one JSON object instead of text')
    .action(async (options: { tenant: string; domain: string; json?: boolean }) => {
      await withRuntime(options, (runtime) =>
        reporting(options.json, async () => {
          const tenant = (await selectTenants(runtime.central.pool, { tenants: [options.tenant] }))[0]!;
          const domain = await runtime.services.administration.domains.add(SYSTEM, tenant.id, options.domain);
          report(options.json, `Added ${domain.domain} to ${tenant.slug}`, domain);
        }),
      );
    });

  const byDomain = (name: string, description: string, act: (runtime: Runtime, domainId: string) => Promise<TenantDomainRecord>, verb: string) =>
    program
      .command(name)
      .description(description)
      .requiredOption('--domain <host>', 'the host name')
      .option('--json', 'print one JSON object instead of text')
      .action(async (options: { domain: string; json?: boolean }) => {
        await withRuntime(options, (runtime) =>
          reporting(options.json, async () => {
            const domain = await act(runtime, await domainId(runtime, options.domain));
            report(options.json, `${verb} ${domain.domain}`, domain);
          }),
        );
      });

  byDomain('domains:verify', 'Mark a domain verified (a system administrator vouches for it).', async (runtime, id) => (await runtime.services.administration.domains.verify(SYSTEM, id)).domain, 'Verified');
  byDomain('domains:primary', "Make a domain its tenant's primary one.", (runtime, id) => runtime.services.administration.domains.setPrimary(SYSTEM, id), 'Primary now:');
  byDomain('domains:remove', 'Remove a custom domain (the next one becomes primary when it was).', (runtime, id) => runtime.services.administration.domains.remove(SYSTEM, id), 'Removed');
}

async function domainId(runtime: Runtime, host: string): Promise<string> {
  const { rows } = await runtime.central.pool.query<{ id: string }>('SELECT id FROM domains WHERE domain = $1', [host.trim().toLowerCase()]);
  if (!rows[0]) throw new UsageError(`no tenant has the domain ${JSON.stringify(host)}`);
  return rows[0].id;
}

/** The record without its verification token: the CLI prints what an operator acts on. */
function report(json: boolean | undefined, line: string, domain: TenantDomainRecord): void {
  const { verificationToken: _token, ...shown } = domain;
  if (json) return printJson({ ok: true, domain: shown });
  process.stdout.write(`${line} (primary: ${domain.isPrimary ? 'yes' : 'no'}, verified: ${domain.isVerified ? 'yes' : 'no'})\n`);
}
