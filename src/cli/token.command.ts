import { InvalidArgumentError, type Command } from 'commander';
import { ABILITIES, isAbility, isRole, ROLES } from '../auth/catalogue.js';
import { mintAccessToken } from '../tenancy/identification/access-tokens.js';
import { chainTarget } from '../tenancy/identification/identification-types.js';
import { PgTenantSource } from '../tenancy/identification/tenant-records.js';
import { withRuntime } from './cli-runtime.js';

type TokenOptions = { tenant?: string; role: string[]; subject: string; ability?: string[]; ttl?: number };

/** Subject of CLI tokens unless --subject is given. */
const DEFAULT_SUBJECT = 'tenantgraph-cli';

/**
 * `tenantgraph token`: mints an access token for development and tests. Refused in production,
 * where tokens come from sign-in. The token is printed alone on the last line of stdout, so
 * `TOKEN=$(tenantgraph token --role admin --tenant clinic-a)` works; the hint goes to stderr.
 */
export function registerTokenCommand(program: Command): void {
  program
    .command('token')
    .description('Mint a development access token (refused when NODE_ENV=production).')
    .option('--tenant <slug>', 'tenant (any level) the token is for; default none (a central token)')
    .requiredOption('--role <role>', 'role to grant, e.g. admin, member, system_admin (repeat for several)', collect)
    .option('--subject <id>', 'account id the token speaks for', DEFAULT_SUBJECT)
    .option('--ability <abilities...>', 'abilities to grant, e.g. patients:read', collectAbilities)
    .option('--ttl <seconds>', 'lifetime in seconds; default ACCESS_TOKEN_TTL_SECONDS', parseTtl)
    .action(async (options: TokenOptions) => {
      await withRuntime({}, async ({ config, central, tokens: keys }) => {
        if (config.env === 'production') {
          throw new Error('`token` is refused when NODE_ENV=production; production tokens come from sign-in');
        }
        let tenantId: string | null = null;
        let tenantLabel = 'none (central)';
        if (options.tenant !== undefined) {
          const chain = await new PgTenantSource(central.pool).find({ by: 'slug', value: options.tenant });
          if (!chain) throw new Error(`no tenant has the slug ${JSON.stringify(options.tenant)}`);
          const target = chainTarget(chain);
          tenantId = target.id;
          tenantLabel = `${target.slug} (${target.level}, ${target.status}${target.deletedAt ? ', deleted' : ''}, id ${target.id})`;
        }
        const ttlSeconds = options.ttl ?? keys.ttlSeconds;
        const token = await mintAccessToken(
          keys,
          { subject: options.subject, tenantId, roles: options.role, abilities: options.ability ?? [] },
          { ttlSeconds },
        );
        const expires = new Date(Date.now() + ttlSeconds * 1000).toISOString();
        process.stderr.write(
          `tenantgraph: access token for ${options.subject}, roles ${options.role.join(',')}, tenant ${tenantLabel}, expires ${expires}. Send it as "Authorization: Bearer <token>".\n`,
        );
        process.stdout.write(`${token}\n`);
      });
    });
}

function collect(value: string, previous: string[] | undefined): string[] {
  if (!isRole(value)) throw new InvalidArgumentError(`unknown role ${JSON.stringify(value)}; expected one of ${ROLES.join(', ')}`);
  return [...(previous ?? []), value];
}

function collectAbilities(value: string, previous: string[] | undefined): string[] {
  if (!isAbility(value)) throw new InvalidArgumentError(`unknown ability ${JSON.stringify(value)}; known abilities: ${ABILITIES.join(', ')}`);
  return [...(previous ?? []), value];
}

function parseTtl(value: string): number {
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds <= 0) throw new InvalidArgumentError('expected a whole number of seconds above 0');
  return seconds;
}
