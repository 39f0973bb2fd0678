/**
 * Tenant homepages (seed 002): what `GET /` on a tenant's domain shows. Settings live in
 * `tenants.homepage_enabled` and `tenants.homepage_settings` ({ title, html, redirectUrl }).
 */
import { z } from 'zod';
import { AppError, ErrorCode } from '../../errors/index.js';
import { type CentralPrisma } from '../../infra/central-database.js';

export const homepageSettingsSchema = z.object({
  title: z.string().trim().min(1).max(200).nullish(),
  /** The tenant's own markup; served under a Content-Security-Policy that runs no script. */
  html: z.string().max(100_000).nullish(),
  /** Where a disabled homepage sends visitors; without it they get 404. */
  redirectUrl: z
    .url({ protocol: /^https?$/, message: 'redirectUrl must be an http(s) URL' })
    .max(2000)
    .nullish(),
});

export type HomepageSettings = z.infer<typeof homepageSettingsSchema>;
export type Homepage = { enabled: boolean } & HomepageSettings;

export async function readHomepage(central: CentralPrisma, tenantId: string): Promise<Homepage> {
  const row = await central.tenant.findUnique({ where: { id: tenantId }, select: { homepageEnabled: true, homepageSettings: true } });
  if (!row) throw new AppError(ErrorCode.NOT_FOUND, 'Tenant not found');
  // Stored by setHomepage only; parsed again so a hand-edited row cannot inject a bad redirect.
  const settings = homepageSettingsSchema.safeParse(row.homepageSettings);
  return { enabled: row.homepageEnabled, ...(settings.success ? settings.data : {}) };
}

export async function setHomepage(central: CentralPrisma, tenantId: string, input: { enabled: boolean } & Record<string, unknown>): Promise<Homepage> {
  const parsed = homepageSettingsSchema.safeParse({ title: input.title, html: input.html, redirectUrl: input.redirectUrl });
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => ({ field: String(issue.path[0] ?? 'input'), message: issue.message }));
    throw new AppError(ErrorCode.BAD_USER_INPUT, fields.map((f) => `${f.field}: ${f.message}`).join('; '), { details: { field: fields[0]?.field, fields } });
  }
  const settings = Object.fromEntries(Object.entries(parsed.data).filter(([, value]) => value !== undefined && value !== null));
  await central.tenant.update({ where: { id: tenantId }, data: { homepageEnabled: input.enabled, homepageSettings: settings } });
  return { enabled: input.enabled, ...settings };
}
