// `npm run build`: compiles src/ to dist/ and stamps the build, so `npm start` (scripts/start.mjs)
// knows which sources the build has seen. The stamp is written only when tsc succeeds.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const buildStamp = path.join(root, 'dist', '.build-stamp');

/** Runs tsc; returns its exit status (0 = built and stamped). */
export function build() {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (result.status === 0) writeFileSync(buildStamp, `${new Date().toISOString()}\n`);
  return result.status ?? 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exit(build());
