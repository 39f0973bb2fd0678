/**
 * `tenantgraph members:invite --tenant s --email e [--role member|admin] [--ability a]... [--json]`:
 * adds a member as a system administrator (audited as `cli:<os user>`), through the same service as
 * inviteMember. The invitation's link (or token, with INVITATION_URL unset) is printed this once on
 * stdout — the only place it is ever shown; give it to the person privately. It is never logged.
 * Exit codes: 0 done, 1 failed, 2 bad usage.
 */
import { type Command } from 'commander';
import { type IssuedInvitation } from '../auth/invitations.js';
import { type UserPrincipal } from '../tenancy/identification/identification-types.js';
import { chainTarget } from '../tenancy/identification/identification-types.js';
import { withRuntime } from './cli-runtime.js';
import { printJson, reporting } from './cli-output.js';
import { operatorLabel } from './operator.js';
import { UsageError } from './tenant-selection.js';

type InviteOptions = { tenant: string; email: string; role: string; ability?: string[]; json?: boolean };

/** The operator as a system admin principal: members.ts checks rights on principals. */
export function operatorPrincipal(): UserPrincipal {
  return { kind: 'user', subject: operatorLabel(), tenantId: null, roles: ['system_admin'], abilities: [], isSystemAdmin: true, impersonatorId: null };
}

/** The JSON form of an invitation in CLI output. */
export function invitationJson(invitation: IssuedInvitation | null): { email: string; token: string; url: string | null; expiresAt: string } | null {
  return invitation && { email: invitation.email, token: invitation.token, url: invitation.url, expiresAt: invitation.expiresAt.toISOString() };
}

/** One human line for an invitation: the link when INVITATION_URL is set, else the token. */
export function invitationLine(invitation: IssuedInvitation): string {
  return `Invitation for ${invitation.email}, valid until ${invitation.expiresAt.toISOString()} (shown once; accept with acceptInvitation):\n${invitation.url ?? invitation.token}\n`;
}

export function registerMembersCommands(program: Command): void {
  program
    .command('members:invite')
    .description('Add a member to a tenant; prints the invitation link once when the account has no password yet.')
    .requiredOption('--tenant <slug>', 'the tenant (any level)')
    .requiredOption('--email <email>', 'the person to invite')
    .option('--role <role>', 'admin or member', 'member')
    .option('--ability <ability>', 'an ability (repeat for several)', (value: string, previous: string[] = []) => [...previous, value])
    .option('--json', 'print one JSON object')
    .action(async (options: InviteOptions) => {
      await withRuntime(options, (runtime) =>
        reporting(options.json, async () => {
          const chain = await runtime.tenancy.directory.findBySlug(options.tenant);
          if (!chain) throw new UsageError(`no tenant has the slug ${JSON.stringify(options.tenant)}`);
          const invited = await runtime.auth.members.invite(
            operatorPrincipal(),
            { tenantId: chainTarget(chain).id, email: options.email, role: options.role, abilities: options.ability ?? [] },
            { requestId: null, ip: null, userAgent: 'tenantgraph-cli' },
          );
          const member = { id: invited.member.id, accountId: invited.member.account_id, tenantId: invited.member.tenant_id, email: invited.member.email, role: invited.member.role };
          if (options.json) return printJson({ ok: true, member, invitation: invitationJson(invited.invitation) });
          process.stdout.write(`Added ${member.email} to ${options.tenant} as ${member.role} (membership ${member.id})\n`);
          process.stdout.write(invited.invitation ? invitationLine(invited.invitation) : 'The account has a password already: it signs in with it.\n');
        }),
      );
    });
}
