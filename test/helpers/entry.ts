/**
 * How tests start tenantgraph in a child process: from the build in dist/ when it is current,
 * else from the sources through tsx.
 *
 * tsx compiles at every process start (about a second, more on a loaded machine), and the CLI
 * suites start dozens of processes; the build starts in about half that. A build is current when
 * it was stamped after the last change to any build input (the rule `npm start` uses,
 * scripts/build.mjs), so a child process never runs code older than src/. global-setup.ts builds
 * when the build is out of date; when that build fails (or a source changes during the run, as in
 * watch mode), the children run the sources through tsx instead: slower, never stale.
 * `TEST_CHILD_RUNTIME=tsx` forces the sources.
 */
import { buildIsCurrent } from '../../scripts/build.mjs';

/** True when child processes run dist/; checked at every start (a walk of src/, a few ms). */
export function usesBuild(): boolean {
  return process.env.TEST_CHILD_RUNTIME !== 'tsx' && buildIsCurrent();
}

/**
 * Node arguments that load the module `source` (a path like `src/cli/main.ts`, relative to the
 * project root, the children's working folder), followed by `args`.
 */
export function nodeArgs(source: string, ...args: string[]): string[] {
  return usesBuild() ? [builtPath(source), ...args] : ['--import', 'tsx', source, ...args];
}

/**
 * Node arguments that run `script`, an ES module given as text (`node -e`, from the project root).
 * Its imports of sources (`import('./src/app.ts')`) load the built files when the build is current.
 */
export function scriptArgs(script: string): string[] {
  if (!usesBuild()) return ['--import', 'tsx', '--input-type=module', '-e', script];
  const built = script.replace(/'\.\/(src\/[^']+\.ts)'/g, (_, source: string) => `'./${builtPath(source)}'`);
  return ['--input-type=module', '-e', built];
}

function builtPath(source: string): string {
  if (!/^src\/.+\.ts$/.test(source)) throw new Error(`not a source module under src/: ${source}`);
  return `dist/${source.replace(/\.ts$/, '.js')}`;
}
