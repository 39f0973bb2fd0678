/**
 * `npx tsx bench/hot-reads.ts [--statements 4000] [--rounds 5] [--concurrency 4]`: the hot reads
 * (src/resolvers/patient/patient-reads.ts, src/resolvers/visit/visit-reads.ts) against the query
 * builder statements they replaced (and the same with a select of the answered columns), side by
 * side in one process, same run.
 *
 * Its own database (tg_bench_hotreads: patients in `public`, visits in `emr_2026`, made from
 * migrations/tenant and migrations/emr), clients made by the project's levelClientFactories on one
 * pg.Pool of 5, as the registry makes them. Per read and way, in interleaved rounds (the order
 * reversed every other round): the process's CPU (user + system, from process.cpuUsage) per
 * statement, and statements per second. CPU per statement is the figure: it moves less with what
 * else runs on the machine. All ways answer the same rows (checked before measuring).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import { readPatientPage } from '../src/resolvers/patient/patient-reads.js';
import { toPatient } from '../src/resolvers/patient/patient.service.js';
import { readVisitsOfPatients } from '../src/resolvers/visit/visit-reads.js';
import { levelClientFactories } from '../src/tenancy/level-clients.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const STATEMENTS = Number(args.get('statements') ?? 4000);
const ROUNDS = Number(args.get('rounds') ?? 5);
const CONCURRENCY = Number(args.get('concurrency') ?? 4);
const SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = 'tg_bench_hotreads';
const root = path.resolve(import.meta.dirname, '..');

const withDb = (database: string) => {
  const url = new URL(SERVER);
  url.pathname = `/${database}`;
  return url.toString();
};
const migrationSql = (folder: string) =>
  readdirSync(path.join(root, 'migrations', folder))
    .filter((f) => f.endsWith('.sql') && !f.includes('.down.'))
    .sort()
    .map((f) => readFileSync(path.join(root, 'migrations', folder, f), 'utf8'))
    .join('\n');

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: withDb('postgres') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function setup(): Promise<void> {
  await admin(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${DATABASE}`);
  const db = new pg.Client({ connectionString: withDb(DATABASE) });
  await db.connect();
  await db.query(migrationSql('tenant'));
  await db.query(`CREATE SCHEMA emr_2026; SET search_path TO emr_2026; ${migrationSql('emr')}; SET search_path TO public`);
  // 200 patients, a few sharing a last name (the keyset's later columns matter), half with a birth date; 2 visits each.
  await db.query(`INSERT INTO patients (mrn, first_name, last_name, birth_date, email)
    SELECT 'm' || g, 'First' || (g % 7), 'Last' || lpad((g / 3)::text, 3, '0'), CASE WHEN g % 2 = 0 THEN date '1980-01-01' + g END, 'p' || g || '@example.com'
    FROM generate_series(1, 200) g`);
  await db.query(`INSERT INTO emr_2026.visits (patient_id, visited_at, reason)
    SELECT id, timestamptz '2026-03-01 10:00+00' + (v || ' days')::interval, 'check-up' FROM patients, generate_series(1, 2) v`);
  await db.end();
}

/** Each read's ways: `builder` is what the code sent before, `builder, 7 columns` the same with a select of the answered columns, `raw` the hand-written statement. */
type Read = { name: string; ways: Record<string, () => Promise<unknown>> };

async function measure(run: () => Promise<unknown>): Promise<{ cpuMs: number; perSecond: number }> {
  for (let i = 0; i < 200; i++) await run(); // warm up (JIT, plan caches)
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < STATEMENTS) {
        next++;
        await run();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { cpuMs: (used.user + used.system) / 1000 / STATEMENTS, perSecond: STATEMENTS / seconds };
}

await setup();
const pool = new pg.Pool({ connectionString: withDb(DATABASE), max: 5 });
const tenant = levelClientFactories.tenant(pool, 'public');
const emr = levelClientFactories.cluster(pool, 'emr_2026');
try {
  const ORDER = [{ lastName: 'asc' as const }, { firstName: 'asc' as const }, { id: 'asc' as const }];
  const all = await tenant.patient.findMany({ orderBy: ORDER });
  const middle = all[100]!;
  const after = [middle.lastName, middle.firstName, middle.id] as const;
  const ids = all.slice(40, 60).map((p) => p.id);
  const SELECT = { id: true, mrn: true, firstName: true, lastName: true, birthDate: true, email: true, phone: true } as const;
  const afterWhere = { AND: [{ OR: [{ lastName: { gt: after[0] } }, { lastName: after[0], firstName: { gt: after[1] } }, { lastName: after[0], firstName: after[1], id: { gt: after[2] } }] }] };
  const reads: Read[] = [
    {
      name: 'patients page 1 (21 rows)',
      ways: {
        builder: () => tenant.patient.findMany({ where: {}, orderBy: ORDER, take: 21 }),
        'builder, 7 columns': () => tenant.patient.findMany({ where: {}, select: SELECT, orderBy: ORDER, take: 21 }),
        raw: () => readPatientPage(tenant, 21, null),
      },
    },
    {
      name: 'patients page after a cursor (21 rows)',
      ways: {
        builder: () => tenant.patient.findMany({ where: afterWhere, orderBy: ORDER, take: 21 }),
        'builder, 7 columns': () => tenant.patient.findMany({ where: afterWhere, select: SELECT, orderBy: ORDER, take: 21 }),
        raw: () => readPatientPage(tenant, 21, after),
      },
    },
    {
      name: 'visits of 20 patients (40 rows)',
      ways: {
        builder: () => emr.visit.findMany({ where: { patientId: { in: ids } }, orderBy: [{ visitedAt: 'desc' }, { id: 'asc' }] }),
        raw: () => readVisitsOfPatients(emr, ids),
      },
    },
  ];
  // The same answers first (as the GraphQL layer maps them), or the comparison means nothing.
  const shape = (rows: unknown) => JSON.stringify((Array.isArray(rows) ? rows : [rows]).map((r: Record<string, unknown>) => ('mrn' in r ? toPatient(r as never) : { ...r, createdAt: undefined })));
  for (const read of reads) {
    const answers = await Promise.all(Object.values(read.ways).map(async (way) => shape(await way())));
    if (!answers.every((answer) => isDeepStrictEqual(answer, answers[0]))) throw new Error(`${read.name}: the ways answer differently`);
  }
  const results = new Map<string, { cpuMs: number; perSecond: number }[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const read of reads) {
      const ways = Object.keys(read.ways);
      for (const way of round % 2 === 0 ? ways : ways.reverse()) {
        const key = `${read.name}|${way}`;
        results.set(key, [...(results.get(key) ?? []), await measure(read.ways[way]!)]);
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`| read | way | CPU ms/statement, median | per round | statements/s, median |`);
  console.log(`|---|---|---|---|---|`);
  for (const read of reads) {
    for (const way of Object.keys(read.ways)) {
      const rows = results.get(`${read.name}|${way}`)!;
      const cpu = rows.map((r) => r.cpuMs);
      console.log(`| ${read.name} | ${way} | ${median(cpu).toFixed(3)} | ${cpu.map((c) => c.toFixed(3)).join(' / ')} | ${Math.round(median(rows.map((r) => r.perSecond)))} |`);
    }
  }
  console.log(`\n${ROUNDS} interleaved rounds; ${STATEMENTS} statements per read, way and round, concurrency ${CONCURRENCY}, pool of 5, PostgreSQL ${SERVER.replace(/\/\/[^@]*@/, '//')}`);
} finally {
  await tenant.$disconnect();
  await emr.$disconnect();
  await pool.end();
  await admin(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
}
