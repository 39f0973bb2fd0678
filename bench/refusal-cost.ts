/**
 * What refusing each of issue 7's abuses costs the server, in CPU per request, next to the
 * victim tenant's own `patients(first: 20)` in the same process: the `abuse` scenario's p99 ratio
 * follows from these (the abuser's requests take the server's single thread from the victim).
 * Requests go one at a time, so the figures include per-request overhead that load would share.
 *
 *   npx tsx bench/refusal-cost.ts [--requests 60]     (needs `npm run build` and the bench tenants:
 *                                                     `npm run bench -- --only hot` makes them)
 */
import { abuses } from './abuses.js';
import { benchEnvironment } from './environment.js';
import { withTenancy } from './fixtures.js';
import { PATIENTS_BODY } from './load.js';
import { readProcessCpuMs } from './processes.js';
import { DEFAULT_REGISTRY, startTenantgraph } from './servers.js';
import { makeTokenMinter } from './tokens.js';

const requestsAt = process.argv.indexOf('--requests');
const requests = requestsAt > 0 ? Number(process.argv[requestsAt + 1]) : 60;
const bench = benchEnvironment();
const [abuser, victim] = await withTenancy(bench, async (tenancy) => {
  const { rows } = await tenancy.central.query<{ id: string; key: string; isolation: 'SCHEMA' | 'DATABASE'; database_name: string; schema_name: string }>(
    "SELECT id, key, isolation, database_name, schema_name FROM tenants WHERE key IN ('sc_0000', 'hot') ORDER BY key DESC",
  );
  if (rows.length !== 2) throw new Error('the bench tenants sc_0000 and hot are missing: run `npm run bench -- --only hot` once');
  return rows.map((r) => ({ id: r.id, key: r.key, isolation: r.isolation, databaseName: r.database_name, schemaName: r.schema_name }));
});
const [abuserHeaders, victimHeaders] = await (await makeTokenMinter(bench)).headersFor([abuser!, victim!]);
const cases = [
  ...abuses(abuserHeaders!.authorization!),
  { name: "the victim's patients(first: 20)", body: new TextEncoder().encode(PATIENTS_BODY), headers: { ...victimHeaders!, 'content-type': 'application/json' } },
];

const server = await startTenantgraph(bench, process.cwd(), DEFAULT_REGISTRY);
try {
  console.log(`| request | answer | server CPU ms per request (${requests} one at a time) |\n|---|---|---|`);
  for (const { name, body, headers } of cases) {
    const send = async () => {
      const response = await fetch(`${server.url}/graphql`, { method: 'POST', headers, body });
      const answer = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
      return `${response.status} ${answer.errors?.[0]?.extensions?.code ?? 'data'}`;
    };
    for (let i = 0; i < 5; i++) await send(); // warm: JIT, caches, the tenant's client
    const before = readProcessCpuMs(server.pid)!;
    const answers = new Set<string>();
    for (let i = 0; i < requests; i++) answers.add(await send());
    const cpuMs = (readProcessCpuMs(server.pid)! - before) / requests;
    console.log(`| ${name} | ${[...answers].join(', ')} | ${cpuMs.toFixed(2)} |`);
  }
} finally {
  await server.stop();
}
