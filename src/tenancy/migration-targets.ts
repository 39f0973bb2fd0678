import { migrationsDir } from '../paths.js';
import { checksumOf, loadMigrationFiles, type MigrationFile, type MigrationTarget } from './migrator/index.js';
import { CLUSTER_MODULES, type ClusterModule } from './model.js';

export type LevelTargetName = 'app' | 'group' | 'tenant' | ClusterModule;

export type MigrationSets = Readonly<Record<LevelTargetName, readonly MigrationFile[]>>;

export const LEVEL_TARGET_NAMES: readonly LevelTargetName[] = ['app', 'group', 'tenant', ...CLUSTER_MODULES];

/**
 * Reads every non-central migration folder once; the files do not change while we run.
 * @param root MIGRATIONS_DIR; default the project's `migrations/`
 */
export async function loadMigrationSets(root?: string): Promise<MigrationSets> {
  const entries = await Promise.all(LEVEL_TARGET_NAMES.map(async (name) => [name, await loadMigrationFiles(migrationsDir(name, root))] as const));
  return Object.freeze(Object.fromEntries(entries) as Record<LevelTargetName, MigrationFile[]>);
}

/**
 * Identifies what new tenant storage made ahead of need carries: the tenant and cluster migrations
 * and the year of its cluster schemas (the DATABASE template, spare SCHEMA storage). Storage whose
 * fingerprint differs is never handed to a tenant.
 */
export function storageFingerprint(migrations: MigrationSets, year: number): string {
  const parts = [`year:${year}`, ...(['tenant', ...CLUSTER_MODULES] as const).flatMap((set) => migrations[set].map((file) => `${set}/${file.name}:${file.checksum}`))];
  return checksumOf(parts.join('\n')).slice(0, 10);
}

/** The central database's migration target. */
export async function centralMigrationTarget(root?: string): Promise<MigrationTarget> {
  return { label: 'central', files: await loadMigrationFiles(migrationsDir('central', root)) };
}
