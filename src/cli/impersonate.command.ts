import { type Command } from 'commander';
import { chainTarget } from '../tenancy/identification/identification-types.js';
import { withRuntime } from './cli-runtime.js';
import { operatorLabel } from './operator.js';

type ImpersonateOptions = { tenant: string; account?: string; reason: string };

/**
 * `tenantgraph impersonate --tenant <slug> [--account <id>] --reason <why>`: prints a single-use
 * 60-second exchange code for operators (redeem it with the `redeemImpersonation` mutation).
 * Audited with the actor `cli:<os user>`; the resulting token's `act` claim is `cli`.
 */
export function registerImpersonateCommand(program: Command): void {
  program
    .command('impersonate')
    .description('Print a single-use impersonation code (60 s) for a tenant member; audited.')
    .requiredOption('--tenant <slug>', 'tenant to act in')
    .option('--account <id>', 'account to act as; default the tenant’s first admin')
    .requiredOption('--reason <reason>', 'why (kept in the audit log)')
    .action(async (options: ImpersonateOptions) => {
      await withRuntime({}, async ({ tenancy, auth }) => {
        const chain = await tenancy.directory.findBySlug(options.tenant);
        if (!chain) throw new Error(`no tenant has the slug ${JSON.stringify(options.tenant)}`);
        const impersonations = auth.impersonations;
        const label = operatorLabel().slice('cli:'.length);
        const started = await impersonations.start(
          { kind: 'cli', label },
          { tenantId: chainTarget(chain).id, accountId: options.account ?? null, reason: options.reason },
          { requestId: null, ip: null, userAgent: 'tenantgraph-cli' },
        );
        process.stderr.write(
          `tenantgraph: impersonation code for account ${started.targetAccountId} in ${options.tenant}, valid until ${started.expiresAt.toISOString()}; redeem it once with mutation redeemImpersonation(code: ...).\n`,
        );
        process.stdout.write(`${started.code}\n`);
      });
    });
}
