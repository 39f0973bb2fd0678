/**
 * The example client against a running server:
 *
 *   npm start                                                   # another terminal; demo data on
 *   export TENANTGRAPH_TOKEN=$(npx tenantgraph token --tenant demo-clinic-a --role admin | tail -n 1)
 *   npm run codegen
 *   npx tsx examples/client/main.ts [--url http://localhost:4000/graphql] [--token <token>]
 *
 * Lists the first patients, records a visit for the first one and lists that patient's visits
 * of this year. `--url` defaults to TENANTGRAPH_URL, else http://localhost:4000/graphql;
 * `--token` defaults to TENANTGRAPH_TOKEN.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { makeClient, TenantgraphError, type ClientOptions } from './client.js';

export const DEFAULT_URL = 'http://localhost:4000/graphql';

export type MainOptions = {
  /** Command-line arguments. Default: `process.argv.slice(2)`. */
  argv?: string[];
  /** Where TENANTGRAPH_URL and TENANTGRAPH_TOKEN are read. Default: `process.env`. */
  env?: Record<string, string | undefined>;
  /** Where lines are printed. Default: `console.log`. */
  log?: (line: string) => void;
  /** The fetch to use. Default: `globalThis.fetch`. */
  fetch?: ClientOptions['fetch'];
};

/** Runs the example; resolves with the process exit code (0 on success). */
export async function main({ argv = process.argv.slice(2), env = process.env, log = console.log, fetch }: MainOptions = {}): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { url: { type: 'string' }, token: { type: 'string' } }, strict: true });
  const url = values.url ?? env.TENANTGRAPH_URL ?? DEFAULT_URL;
  const token = values.token ?? env.TENANTGRAPH_TOKEN;
  if (!token) {
    log('No access token: pass --token, or set TENANTGRAPH_TOKEN, e.g.');
    log('  export TENANTGRAPH_TOKEN=$(npx tenantgraph token --tenant demo-clinic-a --role admin | tail -n 1)');
    return 2;
  }
  const client = makeClient({ url, token, ...(fetch ? { fetch } : {}) });
  try {
    const page = await client.listPatients({ first: 5 });
    log(`Patients (first ${page.edges.length}${page.pageInfo.hasNextPage ? `, more after cursor ${page.pageInfo.endCursor}` : ''}):`);
    for (const { node } of page.edges) log(`  ${node.lastName}, ${node.firstName}  mrn ${node.mrn}  id ${node.id}`);
    const first = page.edges[0]?.node;
    if (!first) {
      log('No patients in this clinic: nothing to record a visit for.');
      return 0;
    }

    const visit = await client.recordVisit({ patientId: first.id, reason: 'Check-up (example client)' });
    log(`Recorded visit ${visit.id} for ${first.firstName} ${first.lastName} at ${visit.visitedAt}`);

    const year = new Date(visit.visitedAt).getUTCFullYear();
    const visits = await client.visitsOfYear({ year, patientId: first.id });
    log(`Visits of ${first.firstName} ${first.lastName} in ${year}: ${visits.length}`);
    for (const item of visits) log(`  ${item.visitedAt}  ${item.reason ?? '(no reason)'}  id ${item.id}`);
    return 0;
  } catch (error) {
    // fetch rejects with a TypeError when nothing answers at the URL.
    if (error instanceof TypeError && error.message === 'fetch failed') {
      log(`Cannot reach ${url}: ${String((error.cause as Error | undefined)?.message ?? error.cause)}. Is the server running (npm start)?`);
      return 1;
    }
    if (!(error instanceof TenantgraphError)) throw error;
    log(`Request failed: HTTP ${error.status}, ${error.code ?? 'no known code'}: ${error.message}${error.requestId ? ` (request ${error.requestId})` : ''}`);
    return 1;
  }
}

/** True when this file is the program (`tsx examples/client/main.ts`), not an import. */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
