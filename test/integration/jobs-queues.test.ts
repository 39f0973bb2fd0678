/**
 * Several processes creating the same new queues at once (servers and workers starting together)
 * must all succeed: pg-boss attaches a partition per queue, and concurrent attachments deadlock.
 */
import { afterAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import { defineCentralJob, openJobQueue, type JobQueue } from '../../src/infra/jobs/index.js';
import { makeLogger } from '../../src/infra/logger.js';

const opened: JobQueue<unknown>[] = [];
afterAll(() => Promise.all(opened.map((queue) => queue.close())));

it('three queues registering eight new job names at once all enqueue', async () => {
  const suffix = Math.random().toString(36).slice(2, 8);
  const definitions = Array.from({ length: 8 }, (_, i) => defineCentralJob<{ n: number }, unknown>(`test.concurrent-${suffix}-${i}`, async () => {}));
  const noRun = async () => {
    throw new Error('no jobs run here');
  };
  for (let i = 0; i < 3; i++) {
    opened.push(
      await openJobQueue<unknown>({
        connectionString: inject('databaseUrl'),
        logger: makeLogger('silent'),
        runInTenant: noRun,
        runCentral: noRun,
        findDeletedTenants: async () => new Set(),
        maintenance: false,
      }),
    );
  }
  const ids = await Promise.all(opened.flatMap((queue, q) => definitions.map((definition, i) => queue.enqueueCentral(definition, { n: q * 100 + i }))));
  expect(ids.every((id) => typeof id === 'string')).toBe(true);
  expect(new Set(ids).size).toBe(24);
});
