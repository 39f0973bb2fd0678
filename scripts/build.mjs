// `npm run build`: compiles src/ to dist/ and stamps the build, so `npm start` (scripts/start.mjs)
// and the tests that start child processes (test/helpers/entry.ts) know which sources the build
// has seen. The stamp is written only when tsc succeeds.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const buildStamp = path.join(root, 'dist', '.build-stamp');
/** What the build compiles from: src/ (including the generated Prisma clients), the tsconfigs and
 * package-lock.json (a dependency change can change types). */
export const buildInputs = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

/** Runs tsc; returns its exit status (0 = built and stamped). */
export function build() {
  // The stamp carries the time tsc started: a file saved while tsc runs may be missing from the
  // build, and must still count as newer than it.
  const started = new Date();
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (result.status === 0) {
    writeFileSync(buildStamp, `${started.toISOString()}\n`);
    utimesSync(buildStamp, started, started);
  }
  return result.status ?? 1;
}

/** Newest modification time (ms) of the files under `paths` (relative to the root; folders walked), 0 when none exist. */
export function newestMtime(paths) {
  let newest = 0;
  const visit = (file) => {
    let stats;
    try {
      stats = statSync(file);
    } catch {
      return; // a missing optional input
    }
    if (stats.isDirectory()) {
      for (const name of readdirSync(file)) visit(path.join(file, name));
    } else if (stats.mtimeMs > newest) {
      newest = stats.mtimeMs;
    }
  };
  for (const p of paths) visit(path.join(root, p));
  return newest;
}

/** True when dist/ was built (and stamped) after the last change to any build input. */
export function buildIsCurrent() {
  const entry = path.join(root, 'dist', 'src', 'main.js');
  if (!existsSync(entry) || !existsSync(buildStamp)) return false;
  return newestMtime(buildInputs) <= statSync(buildStamp).mtimeMs;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exit(build());
