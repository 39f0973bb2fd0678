/**
 * Following a provisioning from the CLI: `tenants:create` and `tenants:retry` wait for the attempt
 * and print each step as it completes (plain lines on stderr, so stdout stays one JSON object
 * with --json), then a summary. The command drives the attempt itself while it waits — the advisory
 * lock lets only one process run it, so a worker that got there first simply keeps it — which
 * makes the command work with or without a worker running.
 */
import { type Runtime } from '../runtime.js';
import { type ProvisioningView } from '../tenancy/provisioning/provisioning-runs.js';
import { type IssuedInvitation } from '../auth/invitations.js';
import { EXIT } from './cli-runtime.js';
import { printJson } from './cli-output.js';
import { invitationJson, invitationLine } from './members.command.js';

const POLL_MS = 100;

export type FollowedTenant = { id: string; slug: string; level: string; isolation: string; status: string; timezone: string; provisioning: ProvisioningView | null };

/** `firstAdminInvitation`: tenants:create's, printed once at the end (with --json: in the object). */
export async function followProvisioning(
  runtime: Runtime,
  tenantId: string,
  options: { json?: boolean; wait: boolean; firstAdminInvitation?: IssuedInvitation | null },
): Promise<void> {
  const provisioning = runtime.services.administration.provisioning;
  if (options.wait) {
    const driving = provisioning.drive(tenantId);
    const printed = new Set<string>();
    let done = false;
    void driving.finally(() => (done = true));
    for (;;) {
      const [view] = await provisioning.views([tenantId]);
      for (const step of view?.steps ?? []) {
        if (!printed.has(step.name) && (step.status === 'DONE' || step.status === 'FAILED')) {
          printed.add(step.name);
          if (!options.json) process.stdout.write(`  ${step.status === 'DONE' ? '✔' : '✖'} ${step.name.padEnd(16)} ${String(step.durationMs ?? 0).padStart(6)} ms${step.error ? `  ${step.error}` : ''}\n`);
        }
      }
      const status = await tenantStatus(runtime, tenantId);
      if (status !== 'PROVISIONING' && done) break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    await driving;
  }
  const tenant = await describe(runtime, tenantId);
  const invitation = options.firstAdminInvitation;
  if (options.json) printJson({ ok: tenant.status !== 'FAILED', tenant, ...(invitation !== undefined ? { firstAdminInvitation: invitationJson(invitation) } : {}) });
  else if (tenant.status === 'PROVISIONING') process.stdout.write(`${tenant.level} ${tenant.slug} (id ${tenant.id}) is PROVISIONING; follow it with tenants:list or tenant.provisioning\n`);
  else {
    const total = (tenant.provisioning?.steps ?? []).reduce((sum, step) => sum + (step.durationMs ?? 0), 0);
    process.stdout.write(`${tenant.level} ${tenant.slug} (id ${tenant.id}): ${tenant.status} after attempt ${tenant.provisioning?.attempt ?? 1}, ${total} ms in steps${tenant.provisioning?.error ? ` — ${tenant.provisioning.error}` : ''}\n`);
  }
  // Printed even when provisioning failed: the invitation outlives a retry (tenants:retry).
  if (!options.json && invitation) process.stdout.write(invitationLine(invitation));
  if (tenant.status === 'FAILED') process.exitCode = EXIT.failed;
}

async function tenantStatus(runtime: Runtime, tenantId: string): Promise<string> {
  const { rows } = await runtime.central.pool.query<{ status: string }>('SELECT status FROM tenants WHERE id = $1', [tenantId]);
  return rows[0]?.status ?? 'GONE';
}

async function describe(runtime: Runtime, tenantId: string): Promise<FollowedTenant> {
  const { rows } = await runtime.central.pool.query<Omit<FollowedTenant, 'provisioning'>>(
    'SELECT id, slug, level, isolation, status, timezone FROM tenants WHERE id = $1',
    [tenantId],
  );
  const row = rows[0];
  if (!row) throw new Error(`tenant ${tenantId} is gone`);
  return { ...row, provisioning: (await runtime.services.administration.provisioning.views([tenantId]))[0] ?? null };
}
