/**
 * Which tenants a fleet command works on: `--tenants a,b` (slugs of any level, in that order) or
 * `--all` (every live TENANT, by slug). Unknown slugs are refused before anything runs.
 */
import type pg from 'pg';
import { InvalidArgumentError } from 'commander';
import { SLUG_PATTERN } from '../tenancy/model.js';

export type TenantSelection = { tenants?: string[]; all?: boolean };
export type SelectedTenant = { id: string; slug: string; level: string; status: string };

/** commander parser for `--tenants a,b,c`. */
export function parseSlugList(value: string): string[] {
  const slugs = value.split(',').map((part) => part.trim()).filter(Boolean);
  const bad = slugs.find((slug) => !SLUG_PATTERN.test(slug));
  if (slugs.length === 0 || bad !== undefined) throw new InvalidArgumentError(`expected comma-separated tenant slugs${bad ? ` (${JSON.stringify(bad)} is not one)` : ''}`);
  return slugs;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export async function selectTenants(central: Pick<pg.Pool, 'query'>, selection: TenantSelection): Promise<SelectedTenant[]> {
  if ((selection.tenants ? 1 : 0) + (selection.all ? 1 : 0) !== 1) throw new UsageError('give exactly one of --tenants a,b and --all');
  if (selection.all) {
    const { rows } = await central.query<SelectedTenant>(
      "SELECT id, slug, level, status FROM tenants WHERE level = 'TENANT' AND status IN ('ACTIVE', 'SUSPENDED') AND deleted_at IS NULL ORDER BY slug",
    );
    return rows;
  }
  const slugs = selection.tenants!;
  const { rows } = await central.query<SelectedTenant>('SELECT id, slug, level, status FROM tenants WHERE slug = ANY($1::text[])', [slugs]);
  const bySlug = new Map(rows.map((row) => [row.slug, row]));
  const missing = slugs.filter((slug) => !bySlug.has(slug));
  if (missing.length > 0) throw new UsageError(`no tenant has the slug ${missing.map((slug) => JSON.stringify(slug)).join(', ')}`);
  return slugs.map((slug) => bySlug.get(slug)!);
}
