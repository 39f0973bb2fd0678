import { migrationsDir } from '../paths.js';
import { loadMigrationFiles, checksumOf, type MigrationFile, type MigrationTarget } from './migrator/index.js';
import { CLUSTER_MODULES, type ClusterModule } from './model.js';

export type LevelTargetName = 'app' | 'group' | 'tenant' | ClusterModule;

export type MigrationSets = Readonly<Record<LevelTargetName, readonly MigrationFile[]>>;

/** Reads every non-central migration folder once; the files do not change while we run. */
export async function loadMigrationSets(): Promise<MigrationSets> {
  const names: LevelTargetName[] = ['app', 'group', 'tenant', ...CLUSTER_MODULES];
  const entries = await Promise.all(names.map(async (name) => [name, await loadMigrationFiles(migrationsDir(name))] as const));
  return Object.freeze(Object.fromEntries(entries) as Record<LevelTargetName, MigrationFile[]>);
}

/** Identifies a set of files: a template built from them is reused only while it matches. */
export function fingerprintOf(files: readonly MigrationFile[]): string {
  return checksumOf(files.map((file) => `${file.name}:${file.checksum}`).join('\n')).slice(0, 10);
}

/** The central database's migration target. */
export async function centralMigrationTarget(): Promise<MigrationTarget> {
  return { label: 'central', files: await loadMigrationFiles(migrationsDir('central')) };
}
