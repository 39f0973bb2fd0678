/**
 * The bench's logic that decides what a report says: the Zipf tenant picker, the goal verdicts
 * and cold/warm ratio, the DDL clone of the bulk SCHEMA-tenant path, the sampler's socket-port
 * lookup and the option parsing of the scenarios. No server, no database: plain functions over
 * made-up results (and one loopback socket).
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { ddlStatements, renameSchema } from '../../bench/bulk-schema-tenants.js';
import { seedPatientsSql } from '../../bench/fixtures.js';
import { mergeResults, zipfPicker, type LoadResult } from '../../bench/load.js';
import { parseOptions, SCENARIOS, UsageError } from '../../bench/options.js';
import { socketPorts } from '../../bench/processes.js';
import { coldToWarm, computeGoals, type ReportInput } from '../../bench/report.js';
import { type ChurnResult, type HotResult, type Measured } from '../../bench/scenarios.js';
import { DEFAULT_REGISTRY } from '../../bench/servers.js';
import { type WindowStats } from '../../bench/samplers.js';
import { percentile } from '../../bench/util.js';

/** A deterministic random source (mulberry32), so the distribution test cannot flake. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('zipfPicker', () => {
  it('draws index k with probability proportional to 1/(k+1)^1.1', () => {
    const n = 300;
    const pick = zipfPicker(n, 1.1, seeded(42));
    const counts = new Array<number>(n).fill(0);
    const draws = 200_000;
    for (let i = 0; i < draws; i++) counts[pick()]!++;
    let total = 0;
    for (let k = 1; k <= n; k++) total += 1 / k ** 1.1;
    for (const k of [0, 1, 2, 9, 49]) {
      const expected = draws / (k + 1) ** 1.1 / total;
      // Within 4 standard deviations of a binomial count (the seed makes it deterministic anyway).
      expect(Math.abs(counts[k]! - expected)).toBeLessThan(4 * Math.sqrt(expected));
    }
    // The head is busy and the tail thin, and every draw stays in range.
    expect(counts[0]!).toBeGreaterThan(counts[n - 1]! * 100);
    expect(counts.reduce((s, c) => s + c, 0)).toBe(draws);
  });

  it('returns the ends of the range for the extreme random values', () => {
    expect(zipfPicker(10, 1.1, () => 0)()).toBe(0);
    expect(zipfPicker(10, 1.1, () => 0.999999999)()).toBe(9);
    expect(zipfPicker(1, 1.1, () => 0.5)()).toBe(0);
  });
});

describe('percentile and mergeResults', () => {
  it('takes the nearest rank, and merged rounds take percentiles over all samples', () => {
    const sorted = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(percentile(sorted, 50)).toBe(5);
    expect(percentile(sorted, 99)).toBe(10);
    expect(percentile(new Float64Array(0), 50)).toBeNaN();
    const merged = mergeResults('m', [load({ okRps: 100, samples: [1, 2, 3] }), load({ okRps: 100, samples: [10, 20, 30] })]);
    expect(merged.latencyMs.p50).toBe(3);
    expect(merged.latencyMs.max).toBe(30);
    expect(merged.ok).toBe(200);
  });
});

describe('goals', () => {
  it('cold / warm p50 divides the cold pass p50 by the uniform p50', () => {
    expect(coldToWarm(churn({ coldP50: 300, warmP50: 100 }))).toBe(3);
    expect(coldToWarm(churn({ coldP50: 300, warmP50: 0 }))).toBeNaN();
  });

  it("gives issue 13's verdicts, with the thresholds inclusive", () => {
    const goals = computeGoals(
      input({
        hot: hot({ oursRps: 1300, plainRps: 1000, oursCpu: 0.8, plainCpu: 1, oursP99: 50, plainP99: 50 }),
        churnDatabase: churn({ label: 'churn, 300 DATABASE tenants', isolation: 'DATABASE', rps: 390, zipfRps: 780, zipfP99: 300, coldP50: 300, warmP50: 100 }),
        budget: churn({ label: '300 DATABASE tenants, budget 400', isolation: 'DATABASE', rps: 1170, budget: '400' }),
        manySchema: churn({ label: '10,000 SCHEMA tenants', rps: 650, peakRssMb: 799, coldP50: 301, warmP50: 100 }),
      }),
    );
    const verdict = (name: string) => {
      const goal = goals.find((g) => g.name.includes(name));
      if (!goal) throw new Error(`no goal ${name} in ${goals.map((g) => g.name).join('; ')}`);
      return goal.met;
    };
    expect(verdict('throughput, ours / plain')).toBe(true); // 1.3×
    expect(verdict('CPU per request')).toBe(true); // 0.8×
    expect(verdict('Hot tenant p99')).toBe(true); // 1.0×
    expect(verdict('budget 80, Zipf')).toBe(true); // 0.6×, p99 300 ms
    expect(verdict('budget 80, uniform')).toBe(true); // 0.3×
    expect(verdict('budget 400: throughput')).toBe(true); // 0.9×
    expect(verdict('10,000 SCHEMA tenants, uniform')).toBe(true); // 0.5×
    expect(verdict('10,000 SCHEMA tenants: peak server RSS')).toBe(true); // 799 MB
    expect(verdict('churn, 300 DATABASE tenants: cold pass')).toBe(true); // 3.0×
    expect(verdict('10,000 SCHEMA tenants: cold pass')).toBe(false); // 3.01×
    expect(verdict('budget 400: peak connections')).toBe(true);
  });

  it('reports a missed goal as not met, and a goal whose scenario did not run as not run', () => {
    const goals = computeGoals(
      input({
        hot: hot({ oursRps: 1000, plainRps: 1000, oursCpu: 1, plainCpu: 1, oursP99: 60, plainP99: 50 }),
        manySchema: churn({ label: '10,000 SCHEMA tenants', rps: 400, peakRssMb: 800, failed: 1 }),
      }),
    );
    const byName = (name: string) => goals.find((g) => g.name.includes(name))!;
    expect(byName('throughput, ours / plain').met).toBe(false);
    expect(byName('Hot tenant p99').met).toBe(false);
    expect(byName('10,000 SCHEMA tenants, uniform').met).toBe(false);
    expect(byName('peak server RSS').met).toBe(false);
    expect(byName('failed requests (cold pass and uniform)').met).toBe(false);
    expect(byName('budget 400').met).toBeUndefined();
    expect(byName('budget 80, Zipf').met).toBeUndefined();
  });

  it('without the hot tenant, a ratio to it is not run rather than met or missed', () => {
    const goals = computeGoals(input({ budget: churn({ label: '300 DATABASE tenants, budget 400', isolation: 'DATABASE', rps: 2000, budget: '400' }) }));
    expect(goals.find((g) => g.name.includes('budget 400: throughput'))!.met).toBeUndefined();
  });
});

describe('bulk SCHEMA tenants: the DDL clone', () => {
  const dump = [
    '--',
    '-- PostgreSQL database dump',
    '\\restrict abc',
    'SET statement_timeout = 0;',
    "SELECT pg_catalog.set_config('search_path', '', false);",
    'CREATE SCHEMA bench_sc_0000;',
    'CREATE TABLE bench_sc_0000.patients (',
    '    id uuid NOT NULL',
    ');',
    'CREATE INDEX patients_name_idx ON bench_sc_0000.patients USING btree (id);',
    'CREATE TABLE bench_sc_00001.other (id int);',
    '\\unrestrict abc',
  ].join('\n');

  it("keeps the DDL and drops pg_dump's settings, comments and psql meta-commands", () => {
    const ddl = ddlStatements(dump);
    expect(ddl).not.toMatch(/^(SET|--|\\|SELECT pg_catalog)/m);
    expect(ddl).toContain('CREATE SCHEMA bench_sc_0000;');
    expect(ddl).toContain('CREATE INDEX patients_name_idx ON bench_sc_0000.patients');
  });

  it('renames whole-word occurrences of the schema only', () => {
    const renamed = renameSchema(ddlStatements(dump), 'bench_sc_0000', 'bench_sc_9999');
    expect(renamed).toContain('CREATE SCHEMA bench_sc_9999;');
    expect(renamed).toContain('CREATE TABLE bench_sc_9999.patients (');
    expect(renamed).toContain('ON bench_sc_9999.patients');
    expect(renamed).toContain('bench_sc_00001.other'); // another schema whose name merely starts the same
    expect(renamed).not.toMatch(/bench_sc_0000[^1]/);
    expect(renamed.endsWith(';')).toBe(false); // joined with ';' by the caller
  });

  it('seeding SQL refuses a key it could not safely inline', () => {
    expect(seedPatientsSql('bench_sc_0001', 'sc_0001', 25)).toContain("'sc_0001-' || n");
    expect(() => seedPatientsSql('x', "a'; DROP TABLE x; --", 25)).toThrow(/unexpected key/);
    expect(() => seedPatientsSql('x', 'sc_1', 2.5)).toThrow(/unexpected/);
  });
});

describe('socketPorts', () => {
  it("finds the local port of this process's own TCP connection, and not another process's", async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    try {
      expect(socketPorts(process.pid).has(socket.localPort!)).toBe(true);
      expect(socketPorts(1).has(socket.localPort!)).toBe(false);
      expect(socketPorts(2 ** 22 + 1).size).toBe(0); // no such process
    } finally {
      socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('options', () => {
  it('selects the new scenarios with --only, and a full run includes them', () => {
    expect(parseOptions(['--only', 'schema-10k,database-budget-400'], '/r').scenarios).toEqual(['schema-10k', 'database-budget-400']);
    expect(parseOptions([], '/r').scenarios).toEqual(SCENARIOS);
    expect(SCENARIOS).toEqual(expect.arrayContaining(['schema-10k', 'database-budget-400']));
    expect(() => parseOptions(['--only', 'schema-10000'], '/r')).toThrow(UsageError);
  });

  it('makes the quick sizes smaller than the full ones', () => {
    const quick = parseOptions(['--quick'], '/r').sizes;
    const full = parseOptions([], '/r').sizes;
    expect(full.manySchemaTenants).toBe(10_000);
    expect(quick.manySchemaTenants).toBe(1_000);
    expect(full.budgetDatabaseTenants).toBe(300);
    expect(full.budgetConnections).toBeGreaterThan(full.budgetDatabaseTenants);
    expect(quick.budgetConnections).toBeGreaterThan(quick.budgetDatabaseTenants);
  });
});

// ---- made-up results ----

function load(o: { okRps: number; samples?: number[]; failed?: number; p99?: number; p50?: number }): LoadResult {
  const samples = Float64Array.from(o.samples ?? [o.p50 ?? 10, o.p99 ?? 20]).sort();
  const seconds = 1;
  const ok = Math.round(o.okRps * seconds);
  return {
    label: 'x',
    seconds,
    responses: ok + (o.failed ?? 0),
    ok,
    failed: o.failed ?? 0,
    non2xx: 0,
    bodyErrors: o.failed ?? 0,
    transportErrors: 0,
    errorCodes: {},
    emptyPages: 0,
    rps: o.okRps,
    okRps: o.okRps,
    latencyMs: { p50: o.p50 ?? samples[0]!, p90: o.p99 ?? 20, p99: o.p99 ?? samples[samples.length - 1]!, max: samples[samples.length - 1]!, mean: 0 },
    slower: { over100ms: 0, over1s: 0 },
    latencySamples: samples,
  };
}

function window(o: { peakRssMb?: number; connections?: number } = {}): WindowStats {
  const cpu = { server: 1, bench: 0, postgresBench: 0, postgresOther: 0, postgresEnded: 0, postgresShared: 0, redis: 0, other: 0 };
  return {
    seconds: 10,
    peakRegistryConnections: o.connections ?? 5,
    peakBaselineConnections: {},
    peakServerConnections: 10,
    registryBackendsSeen: 5,
    pgSamples: 100,
    peakRssBytes: (o.peakRssMb ?? 300) * 1024 * 1024,
    lastRssBytes: (o.peakRssMb ?? 300) * 1024 * 1024,
    serverCpuMs: 1000,
    machineBusy: 0.5,
    machineSteal: 0,
    cpu,
  };
}

function measured(l: LoadResult, w: WindowStats = window()): Measured {
  return { load: l, window: w };
}

function hot(o: { oursRps: number; plainRps: number; oursCpu: number; plainCpu: number; oursP99: number; plainP99: number }): HotResult {
  const target = (rps: number, cpu: number, p99: number) => {
    const l = load({ okRps: rps, p99 });
    return { load: l, rounds: [l], peakRssBytes: 1, cpuMsPerRequest: cpu, roundCpuMsPerRequest: [cpu], machineBusy: 0.5, machineSteal: 0, cpu: window().cpu, peakConnections: 5 };
  };
  return {
    targets: { ours: target(o.oursRps, o.oursCpu, o.oursP99), plain: target(o.plainRps, o.plainCpu, o.plainP99), raw: target(5000, 0.2, 10) },
    sessions: 1,
    sameAnswer: true,
    patientsPerPage: 20,
  };
}

function churn(o: {
  label?: string;
  isolation?: 'SCHEMA' | 'DATABASE';
  rps?: number;
  zipfRps?: number;
  zipfP99?: number;
  coldP50?: number;
  warmP50?: number;
  peakRssMb?: number;
  failed?: number;
  budget?: string;
}): ChurnResult {
  return {
    label: o.label ?? 'churn',
    isolation: o.isolation ?? 'SCHEMA',
    tenants: 300,
    registry: { ...DEFAULT_REGISTRY, ...(o.budget ? { DB_MAX_CONNECTIONS: o.budget } : {}) },
    rssAfterStartBytes: 100 * 1024 * 1024,
    cold: measured(load({ okRps: 50, p50: o.coldP50 ?? 100, p99: 1000 }), window({ peakRssMb: o.peakRssMb })),
    measured: measured(load({ okRps: o.rps ?? 500, p50: o.warmP50 ?? 100, p99: 200, failed: o.failed }), window({ peakRssMb: o.peakRssMb })),
    zipf: o.zipfRps === undefined ? undefined : measured(load({ okRps: o.zipfRps, p99: o.zipfP99 ?? 100 })),
  };
}

function input(parts: Partial<Pick<ReportInput, 'hot' | 'churnSchema' | 'churnDatabase' | 'registryChurn' | 'manySchema' | 'budget'>>): ReportInput {
  return {
    options: parseOptions([], '/r'),
    machine: {} as ReportInput['machine'],
    startedAt: new Date(0),
    totalSeconds: 1,
    setup: { centralDatabase: 'tg_bench', provisioned: 0, setupSeconds: 0, buildSeconds: undefined },
    hot: undefined,
    churnSchema: undefined,
    churnDatabase: undefined,
    registryChurn: undefined,
    ...parts,
  };
}
