import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { centralMigrationTarget } from '../../src/tenancy/migration-targets.js';
import { projectRoot } from '../../src/paths.js';
import { checksumOf, migrate } from '../../src/tenancy/migrator/index.js';

/** Changes whenever any migration file changes, so a stale template is never reused. */
export async function templateFingerprint(): Promise<string> {
  const root = path.join(projectRoot, 'migrations');
  const parts: string[] = [];
  for (const target of (await readdir(root)).sort()) {
    for (const file of (await readdir(path.join(root, target))).sort()) {
      parts.push(`${target}/${file}:${checksumOf(await readFile(path.join(root, target, file), 'utf8'))}`);
    }
  }
  return checksumOf(parts.join('\n'));
}

/** Applies the central migrations to the template database. */
export async function migrateTemplate(url: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await migrate(pool, await centralMigrationTarget());
  } finally {
    await pool.end();
  }
}
