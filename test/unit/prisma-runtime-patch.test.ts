/**
 * scripts/patch-prisma-runtime.mjs (run by `prepare` on every install) makes all Prisma clients
 * of one generated module share one decoded parameterization graph. If a Prisma upgrade makes
 * the patch miss, clients still work but each costs ~100 KB and ~0.4 ms again: this fails so the
 * patch is redone (or dropped) on purpose. No I/O: pg.Pool opens no connection until a query.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { levelClientFactories } from '../../src/tenancy/level-clients.js';

type SharedGraph = ((...args: unknown[]) => unknown) & { decoded: number };
const shared = () => (globalThis as { __tenantgraphSharedGraph?: SharedGraph }).__tenantgraphSharedGraph;

const pool = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none', max: 1 });
afterAll(() => pool.end());

describe('the Prisma runtime patch', () => {
  it('decodes the parameterization graph once per generated client, not once per client', async () => {
    const clients: { $disconnect(): Promise<void> }[] = [levelClientFactories.tenant(pool, 'tenant_a')];
    expect(shared(), 'the patch is not applied: run `node scripts/patch-prisma-runtime.mjs` and read what it says').toBeTypeOf('function');
    const before = shared()!.decoded;
    for (let i = 0; i < 20; i++) clients.push(levelClientFactories.tenant(pool, `tenant_${i}`));
    expect(shared()!.decoded).toBe(before);
    // Another generated module has its own graph.
    clients.push(levelClientFactories.group(pool, 'group_a'));
    clients.push(levelClientFactories.group(pool, 'group_b'));
    expect(shared()!.decoded).toBeLessThanOrEqual(before + 1);
    await Promise.all(clients.map((client) => client.$disconnect()));
  });
});
