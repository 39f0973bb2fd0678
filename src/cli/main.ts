/**
 * The `tenantgraph` command. Every subcommand opens the same runtime as the server (src/runtime.ts):
 * DATABASE_URL when set, else the embedded server (attached to when the API server runs it,
 * started for the command otherwise). Exit codes: 0 done, 1 failed, 2 bad usage.
 */
import { Command, type CommanderError } from 'commander';
import { version } from '../version.js';
import { EXIT } from './cli-runtime.js';
import { registerKeysCommands } from './keys.command.js';
import { registerAccountsCommand } from './accounts.command.js';
import { registerMembersCommands } from './members.command.js';
import { registerImpersonateCommand } from './impersonate.command.js';
import { registerMigrateCommand } from './migrate.command.js';
import { registerMonitorCommand } from './tenants-monitor.command.js';
import { registerBackupCommands } from './tenants-backup.command.js';
import { registerClustersCommands } from './clusters.command.js';
import { registerTenantsMigrateCommands } from './tenants-migrate.command.js';
import { registerImportSingleDbCommand } from './import-single-db.command.js';
import { registerTenantsSeedCommand } from './tenants-seed.command.js';
import { registerServersCommands } from './servers.command.js';
import { registerDomainsCommands } from './domains.command.js';
import { registerPlansCommands } from './plans.command.js';
import { registerTenantsPurgeCommand } from './tenants-purge.command.js';
import { registerTenantsLifecycleCommands } from './tenants-lifecycle.command.js';
import { registerTenantsRunCommand } from './tenants-run.command.js';
import { registerTokenCommand } from './token.command.js';
import { registerWorkerCommand } from './worker.command.js';

const program = new Command()
  .name('tenantgraph')
  .description('Operate a tenantgraph installation: migrations, tenants, tokens.')
  .version(version)
  .showHelpAfterError()
  // commander exits 1 on bad usage; ours is 2 (help and --version stay 0).
  .exitOverride((error: CommanderError) => {
    process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage);
  });

registerMigrateCommand(program);
registerTokenCommand(program);
registerTenantsRunCommand(program);
registerTenantsMigrateCommands(program);
registerClustersCommands(program);
registerTenantsSeedCommand(program);
registerImportSingleDbCommand(program);
registerBackupCommands(program);
registerServersCommands(program);
registerTenantsLifecycleCommands(program);
registerDomainsCommands(program);
registerPlansCommands(program);
registerTenantsPurgeCommand(program);
registerKeysCommands(program);
registerMonitorCommand(program);
registerAccountsCommand(program);
registerMembersCommands(program);
registerImpersonateCommand(program);
registerWorkerCommand(program);

await program.parseAsync(process.argv);
