// `npm start`: runs the built server, building first only when a build input changed.
//
// tsc takes seconds even with nothing to do (it still type-checks); the server itself is ready
// in about one. A stamp file written after each successful build records when that build started:
// when no input is newer than the stamp, the server starts at once from dist/.
// Inputs: src/ (including the generated Prisma clients), the tsconfigs and package-lock.json
// (a dependency change can change types); prisma/ schemas re-run `npm run generate` first.
// Plain JavaScript on purpose: this file must run before anything is compiled.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, buildIsCurrent, newestMtime, root } from './build.mjs';

const entry = path.join(root, 'dist', 'src', 'main.js');

function failed(what, status) {
  process.stderr.write(`npm start: ${what} failed; fix the error above and run npm start again.\n`);
  process.exit(status ?? 1);
}

// Prisma schemas newer than the clients generated from them (or no clients yet): generate.
if (newestMtime(['prisma']) > newestMtime(['src/generated'])) {
  const generated = spawnSync(process.execPath, [path.join(root, 'scripts', 'prisma-generate.mjs')], { cwd: root, stdio: 'inherit' });
  if (generated.status !== 0) failed('`npm run generate`', generated.status);
}
// After generating: the clients are build inputs.
if (!buildIsCurrent()) {
  const started = Date.now();
  const status = build();
  if (status !== 0) failed('the build (tsc)', status);
  process.stderr.write(`npm start: built in ${((Date.now() - started) / 1000).toFixed(1)} s (sources changed since the last build)\n`);
}

// Same process: no second Node start-up.
await import(pathToFileURL(entry).href);
