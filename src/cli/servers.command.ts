/**
 * `tenantgraph servers:list [--json]` and `servers:add --name n --host h [--port p] --user u
 * (--password-stdin | --password p) [--max-tenants n] [--json]`: the database servers tenants are
 * placed on. The password is checked by connecting, then stored encrypted; it is never printed.
 */
import { InvalidArgumentError, type Command } from 'commander';
import Table from 'cli-table3';
import { type DbServerInfo } from '../tenancy/servers/db-servers.js';
import { EXIT, withRuntime } from './cli-runtime.js';
import { printJson, readStdin, reporting } from './cli-output.js';

type AddOptions = { name: string; host: string; port: number; user: string; password?: string; passwordStdin?: boolean; maxTenants?: number; json?: boolean };

export function registerServersCommands(program: Command): void {
  program
    .command('servers:list')
    .description('List the database servers tenants are placed on, with their tenant counts.')
    .option('--json', 'print one JSON object instead of a table')
    .action(async (options: { json?: boolean }) => {
      await withRuntime(options, (runtime) =>
        reporting(options.json, async () => {
          const servers = await runtime.services.administration.listDbServers();
          if (options.json) return printJson({ ok: true, servers });
          process.stdout.write(`${serverTable(servers)}\n`);
        }),
      );
    });

  program
    .command('servers:add')
    .description('Register a database server (the admin role must be able to create databases and roles).')
    .requiredOption('--name <name>', 'a name for the server (lower-case letters, digits, -)')
    .requiredOption('--host <host>', 'host name or IP address')
    .option('--port <port>', 'port', parseWhole('a port from 1 to 65535', 1, 65535), 5432)
    .requiredOption('--user <role>', 'admin role')
    .option('--password-stdin', 'read the admin password from stdin (keeps it out of the process list)')
    .option('--password <password>', 'the admin password (visible to other users in the process list; prefer --password-stdin)')
    .option('--max-tenants <n>', 'most tenants placed on this server', parseWhole('a whole number above 0', 1, Number.MAX_SAFE_INTEGER))
    .option('--json', 'print one JSON object instead of text')
    .action(async (options: AddOptions) => {
      if ((options.password === undefined) === !options.passwordStdin) {
        process.stderr.write('tenantgraph: give exactly one of --password-stdin and --password\n');
        process.exitCode = EXIT.usage;
        return;
      }
      const password = options.passwordStdin ? await readStdin() : options.password!;
      await withRuntime(options, (runtime) =>
        reporting(options.json, async () => {
          const server = await runtime.services.administration.addDbServer({
            name: options.name,
            host: options.host,
            port: options.port,
            adminUsername: options.user,
            adminPassword: password,
            maxTenants: options.maxTenants ?? null,
          });
          if (options.json) return printJson({ ok: true, server });
          process.stdout.write(`Added database server ${server.name} (${server.host}:${server.port}, id ${server.id}).\n`);
        }),
      );
    });
}

function serverTable(servers: DbServerInfo[]): string {
  const table = new Table({ head: ['name', 'host', 'port', 'admin', 'tenants', 'max', 'active', 'default'], style: { head: [] } });
  for (const s of servers) table.push([s.name, s.host, s.port, s.adminUsername, s.tenantCount, s.maxTenants ?? '-', s.isActive ? 'yes' : 'no', s.isDefault ? 'yes' : '']);
  return table.toString();
}

function parseWhole(expected: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected ${expected}`);
    return n;
  };
}
