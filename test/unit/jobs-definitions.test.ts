import { describe, expect, it } from 'vitest';
import { DEFAULT_JOB_OPTIONS, defineCentralJob, defineTenantJob } from '../../src/infra/jobs/index.js';

describe('job definitions', () => {
  it('fill in the default retry policy', () => {
    const job = defineTenantJob('reports.build', async () => {});
    expect(job).toMatchObject({ kind: 'tenant', name: 'reports.build', options: DEFAULT_JOB_OPTIONS });
    expect(defineCentralJob('fleet.nightly', async () => {}, { singleton: true, retryLimit: 0 }).options).toEqual({
      ...DEFAULT_JOB_OPTIONS,
      singleton: true,
      retryLimit: 0,
    });
  });

  it('refuse names pg-boss or SQL would choke on, and its own queue prefix', () => {
    for (const name of ['', 'Upper', '__pgboss__send-it', 'has space', '1starts-with-digit', 'x'.repeat(64), "quote'"]) {
      expect(() => defineTenantJob(name, async () => {}), name).toThrow(/not valid/);
    }
  });

  it('refuse retry settings that are not whole numbers in range', () => {
    expect(() => defineTenantJob('a.b', async () => {}, { retryLimit: -1 })).toThrow(/retryLimit/);
    expect(() => defineTenantJob('a.b', async () => {}, { retryDelaySeconds: 0.5 })).toThrow(/retryDelaySeconds/);
    expect(() => defineTenantJob('a.b', async () => {}, { expireInSeconds: 0 })).toThrow(/expireInSeconds/);
  });
});
