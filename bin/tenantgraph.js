#!/usr/bin/env node
// The `tenantgraph` command runs the compiled CLI; `npm install` builds it (the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write('tenantgraph: the CLI is not built yet. Run `npm install` (or `npm run build`) in the project folder.\n');
  process.exit(1);
}
await import(cli);
