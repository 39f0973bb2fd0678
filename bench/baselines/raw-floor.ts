/**
 * Baseline (b): the floor. node:http and pg, nothing else: read and parse the JSON body, run the
 * one SQL statement the query needs (a named prepared statement, only the four columns asked
 * for), write the same JSON shape. No GraphQL at all. Whatever a GraphQL server does on top of
 * this is its overhead; the floor is not a goal, it shows how much of the cost is HTTP + SQL.
 *
 * Run by bench/run.ts as its own process: `node --import tsx bench/baselines/raw-floor.ts`.
 */
import http from 'node:http';
import pg from 'pg';
import { BASELINE_IDLE_MS, baselineSettings } from './baseline-env.js';

const settings = baselineSettings();
const pool = new pg.Pool({ connectionString: settings.databaseUrl, max: settings.poolMax, application_name: 'bench:raw-floor', idleTimeoutMillis: BASELINE_IDLE_MS });
pool.on('error', () => {});

type Row = { id: string; mrn: string; first_name: string; last_name: string };

const server = http.createServer((req, res) => {
  if (req.url === '/health' && req.method === 'GET') {
    res.end('ok');
    return;
  }
  if (req.url !== '/graphql' || req.method !== 'POST') {
    res.statusCode = 404;
    res.end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    void answer(Buffer.concat(chunks).toString('utf8'), res);
  });
});
server.keepAliveTimeout = 65_000; // as tenantgraph's server

async function answer(raw: string, res: http.ServerResponse): Promise<void> {
  res.setHeader('content-type', 'application/json; charset=utf-8');
  try {
    const body = JSON.parse(raw) as { variables?: { first?: unknown } };
    const first = typeof body.variables?.first === 'number' ? body.variables.first : 20;
    const { rows } = await pool.query<Row>({
      name: 'patients_page',
      text: 'SELECT id, mrn, first_name, last_name FROM patients ORDER BY last_name, first_name, id LIMIT $1',
      values: [first],
    });
    const edges = rows.map((r) => ({ node: { id: r.id, mrn: r.mrn, firstName: r.first_name, lastName: r.last_name } }));
    res.end(JSON.stringify({ data: { patients: { edges } } }));
  } catch (error) {
    res.statusCode = 500;
    res.end(JSON.stringify({ errors: [{ message: error instanceof Error ? error.message : 'failed', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }));
  }
}

server.listen(settings.port, '127.0.0.1');
const stop = () => {
  server.close();
  server.closeAllConnections();
  void pool.end().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
