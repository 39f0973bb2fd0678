// Shares one decoded parameterization graph among all Prisma clients of one generated client.
//
// Prisma 7's ClientEngine decodes `config.parameterizationSchema` (a base64 graph of every
// model's arguments, used to parameterise queries for the plan cache) in its constructor, once
// per PrismaClient: about 100 KB of objects and 0.4 ms of CPU per client, identical for every
// client of the same generated module. A tenant server makes a client per tenant and, with more
// tenants than DB_REGISTRY_MAX_CLIENTS, keeps making them (docs/BENCHMARKS.md, "10,000 SCHEMA
// tenants"). The decoded graph is read-only after construction, so one per generated config is
// enough. The runtime exports no hook for it, so this rewrites the one call, in the exact
// runtime version we pin, when `npm install` / `npm ci` runs `prepare`.
//
// If the runtime is not the version this was written for, or the call is not found exactly once,
// it changes nothing and says so: the clients still work, only without the saving, and
// test/unit/prisma-runtime-patch.test.ts fails so that nobody misses it.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
export const PATCHED_VERSION = '7.10.0';
export const MARKER = '/*tenantgraph:shared-parameterization-graph*/';

// The minified class name differs between the ESM and CommonJS builds (`sr`, `mr`).
const ORIGINAL = /this\.#s=([A-Za-z_$][\w$]*)\.deserialize\(t\.parameterizationSchema,/g;
// The call's closing `)` comes right before `,t.enableDebugLogs&&` in the constructor; the
// wrapper needs one more `)` there.
const ORIGINAL_TAIL = '}),t.enableDebugLogs&&';
const REPLACEMENT_TAIL = '})),t.enableDebugLogs&&';

// The cache, made by the first client: per parameterization schema object and runtime data model
// object (both belong to one generated client's config), the decoded graph. Weak, so a dropped
// config takes its graph with it. `decoded` counts real decodes, for the test.
const SHARED =
  '(globalThis.__tenantgraphSharedGraph??=(()=>{const c=new WeakMap,f=(s,m,d)=>{let b=c.get(s);b||c.set(s,b=new WeakMap);let g=b.get(m);return g||(f.decoded++,b.set(m,g=d())),g};f.decoded=0;return f})())';
const replacement = (graphClass) =>
  `this.#s=${MARKER}${SHARED}(t.parameterizationSchema,t.runtimeDataModel,()=>${graphClass}.deserialize(t.parameterizationSchema,`;

function runtimeFiles() {
  const packageDir = path.dirname(require.resolve('@prisma/client/package.json'));
  const version = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')).version;
  // Node resolves `@prisma/client/runtime/client` to the CommonJS build even from ESM (the
  // package's "node" condition comes first); bundlers take the ESM one. Both are patched.
  return { version, files: ['client.js', 'client.mjs'].map((name) => path.join(packageDir, 'runtime', name)) };
}

/** Patches the runtime files; returns one line per file saying what happened. */
export function patchPrismaRuntime() {
  const { version, files } = runtimeFiles();
  if (version !== PATCHED_VERSION) {
    return [`@prisma/client is ${version}, the patch is for ${PATCHED_VERSION}: not applied (clients work, each decodes its own graph)`];
  }
  return files.map((file) => {
    const source = readFileSync(file, 'utf8');
    if (source.includes(MARKER)) return `${path.basename(file)}: already patched`;
    const calls = [...source.matchAll(ORIGINAL)];
    const at = calls[0]?.index ?? -1;
    const tailAt = at < 0 ? -1 : source.indexOf(ORIGINAL_TAIL, at);
    if (calls.length !== 1 || tailAt < 0 || tailAt - at > 400) return `${path.basename(file)}: the call was not found exactly once: not applied`;
    const patched =
      source.slice(0, at) +
      replacement(calls[0][1]) +
      source.slice(at + calls[0][0].length, tailAt) +
      REPLACEMENT_TAIL +
      source.slice(tailAt + ORIGINAL_TAIL.length);
    writeFileSync(file, patched);
    return `${path.basename(file)}: patched`;
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const line of patchPrismaRuntime()) process.stdout.write(`prisma runtime: ${line}\n`);
}
