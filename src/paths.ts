import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding package.json, whether we run from src/ (tsx, vitest) or dist/src/ (build). */
function findProjectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('tenantgraph: cannot find package.json above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

export const projectRoot = findProjectRoot();
/** A migration folder, under MIGRATIONS_DIR when configured (`root`), else the project's `migrations/`. */
export const migrationsDir = (target: string, root?: string) => path.join(root ? path.resolve(root) : path.join(projectRoot, 'migrations'), target);
