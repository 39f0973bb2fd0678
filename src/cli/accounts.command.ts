import { type Command } from 'commander';
import { createInterface } from 'node:readline';
import { createAccount } from '../auth/accounts.js';
import { AuditLog } from '../auth/audit.js';
import { withRuntime } from './cli-runtime.js';
import { operatorLabel } from './operator.js';

type CreateOptions = { email: string; name?: string; systemAdmin?: boolean; passwordStdin?: boolean };

/**
 * `tenantgraph accounts:create --email e [--system-admin]`: bootstraps accounts (the first system
 * admin above all). The password comes from stdin (`--password-stdin`) or a prompt that does not
 * echo; never from an argument, which would land in shell history and `ps`.
 */
export function registerAccountsCommand(program: Command): void {
  program
    .command('accounts:create')
    .description('Create an account with a password (e.g. the first system admin).')
    .requiredOption('--email <email>', 'sign-in email')
    .option('--name <name>', 'display name; default the email')
    .option('--system-admin', 'make the account a system admin')
    .option('--password-stdin', 'read the password from stdin (first line) instead of prompting')
    .action(async (options: CreateOptions) => {
      await withRuntime({}, async ({ central }) => {
        const password = options.passwordStdin ? await readFirstLine(process.stdin) : await promptHidden('Password: ');
        const account = await createAccount(central.pool, { email: options.email, name: options.name, password, systemAdmin: options.systemAdmin === true });
        await new AuditLog(central.pool).record({ subject: operatorLabel(), impersonatorId: null }, { requestId: null, ip: null, userAgent: 'tenantgraph-cli' }, {
          action: 'account.created',
          targetType: 'account',
          targetId: account.id,
          details: { email: account.email, systemAdmin: options.systemAdmin === true },
        });
        process.stderr.write(`tenantgraph: created account ${account.email}${options.systemAdmin ? ' (system admin)' : ''}\n`);
        process.stdout.write(`${account.id}\n`);
      });
    });
}

async function readFirstLine(stream: NodeJS.ReadableStream): Promise<string> {
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  throw new Error('--password-stdin: stdin was empty');
}

/** Reads a line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  if (!process.stdin.isTTY) return Promise.reject(new Error('no terminal to prompt for a password; use --password-stdin'));
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const output = rl as unknown as { _writeToOutput: (text: string) => void };
    let asked = false;
    output._writeToOutput = (text: string) => {
      if (!asked) {
        asked = true;
        process.stderr.write(text);
      }
    };
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    rl.on('SIGINT', () => {
      rl.close();
      reject(new Error('cancelled'));
    });
  });
}
