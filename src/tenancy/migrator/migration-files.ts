import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { MigrationError } from './migration-errors.js';

export type MigrationFile = {
  /** File name, e.g. `0001_central_model.sql`; the identity recorded in `_tenantgraph_migrations`. */
  name: string;
  version: number;
  sql: string;
  /** sha256 of the file's bytes with line endings normalised, so a checkout on Windows agrees. */
  checksum: string;
};

const FILE_NAME = /^(\d{4})_[a-z0-9_]+\.sql$/;
/** `NNNN_name.down.sql` undoes `NNNN_name.sql` (tenants:rollback); the forward loader skips it. */
const DOWN_SUFFIX = '.down.sql';

/** Reads a target folder's numbered SQL files in order; refuses odd names and duplicate numbers. */
export async function loadMigrationFiles(dir: string): Promise<MigrationFile[]> {
  const entries = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new MigrationError(`Migration folder ${dir} does not exist.`);
    throw error;
  });
  const files: MigrationFile[] = [];
  for (const name of entries.sort()) {
    if (!name.endsWith('.sql') || name.endsWith(DOWN_SUFFIX)) continue;
    const match = FILE_NAME.exec(name);
    if (!match) {
      throw new MigrationError(`Migration file ${path.join(dir, name)} must be named NNNN_lower_snake_case.sql.`);
    }
    const sql = await readFile(path.join(dir, name), 'utf8');
    files.push({ name, version: Number(match[1]), sql, checksum: checksumOf(sql) });
  }
  for (let i = 1; i < files.length; i++) {
    if (files[i]!.version === files[i - 1]!.version) {
      throw new MigrationError(`Migrations ${files[i - 1]!.name} and ${files[i]!.name} in ${dir} share the number ${files[i]!.version}.`);
    }
  }
  return files;
}

export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}

/**
 * The `.down.sql` files of a folder, keyed by the forward file they undo (`0003_x.down.sql` →
 * `0003_x.sql`). A down file without its forward file is refused.
 */
export async function loadDownFiles(dir: string): Promise<Map<string, MigrationFile>> {
  const entries = await readdir(dir);
  const downs = new Map<string, MigrationFile>();
  for (const name of entries.sort()) {
    if (!name.endsWith(DOWN_SUFFIX)) continue;
    const forward = `${name.slice(0, -DOWN_SUFFIX.length)}.sql`;
    const match = FILE_NAME.exec(forward);
    if (!match) throw new MigrationError(`Rollback file ${path.join(dir, name)} must be named NNNN_lower_snake_case.down.sql.`);
    if (!entries.includes(forward)) throw new MigrationError(`Rollback file ${path.join(dir, name)} has no forward file ${forward}.`);
    const sql = await readFile(path.join(dir, name), 'utf8');
    downs.set(forward, { name, version: Number(match[1]), sql, checksum: checksumOf(sql) });
  }
  return downs;
}
