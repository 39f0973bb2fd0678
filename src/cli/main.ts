/**
 * The `tenantgraph` command. Every subcommand uses the same database as the server: DATABASE_URL
 * when set, else the embedded server (attached to when the API server runs it, started for the
 * command otherwise).
 */
import { Command } from 'commander';
import { version } from '../version.js';
import { registerMigrateCommand } from './migrate.command.js';
import { registerTokenCommand } from './token.command.js';
import { registerWorkerCommand } from './worker.command.js';

const program = new Command()
  .name('tenantgraph')
  .description('Operate a tenantgraph installation: migrations, tenants, tokens.')
  .version(version)
  .showHelpAfterError();

registerMigrateCommand(program);
registerTokenCommand(program);
registerWorkerCommand(program);

await program.parseAsync(process.argv);
