import { RateLimiterMemory } from 'rate-limiter-flexible';
import { describe, expect, it } from 'vitest';
import { leasedConsumer } from '../../src/infra/rate-limits.js';

/** Outcomes of `count` calls, `parallel` at a time. */
async function spendMany(spend: (key: string) => Promise<void>, key: string, count: number, parallel = 1) {
  let allowed = 0;
  let refused = 0;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      try {
        await spend(key);
        allowed++;
      } catch (error) {
        expect((error as { code?: string }).code).toBe('RATE_LIMITED');
        refused++;
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { allowed, refused };
}

describe('per-principal leases', () => {
  it('allows exactly the limit from one process, in leases of 1 % of it', async () => {
    const store = new RateLimiterMemory({ points: 1000, duration: 60 });
    const spend = leasedConsumer(store, 1000);
    expect(await spendMany(spend, 'p', 1005)).toEqual({ allowed: 1000, refused: 5 });
    // 100 leases of 10, then one refused (the store counts refused points too, like the plain limiter).
    expect((await store.get('p'))?.consumedPoints).toBe(1010);
  });

  it('takes one lease for many concurrent requests of one principal', async () => {
    const store = new RateLimiterMemory({ points: 1000, duration: 60 });
    const spend = leasedConsumer(store, 1000);
    expect(await spendMany(spend, 'p', 10, 10)).toEqual({ allowed: 10, refused: 0 });
    expect((await store.get('p'))?.consumedPoints).toBe(10);
  });

  it('never exceeds the limit across processes sharing a store, and refuses at most one lease each early', async () => {
    const store = new RateLimiterMemory({ points: 1000, duration: 60 });
    const processes = [leasedConsumer(store, 1000), leasedConsumer(store, 1000), leasedConsumer(store, 1000)];
    const outcomes = await Promise.all(processes.map((spend) => spendMany(spend, 'p', 600, 4)));
    const allowed = outcomes.reduce((sum, outcome) => sum + outcome.allowed, 0);
    expect(allowed).toBeLessThanOrEqual(1000);
    expect(allowed).toBeGreaterThanOrEqual(1000 - processes.length * 10);
  });

  it('keeps principals apart', async () => {
    const store = new RateLimiterMemory({ points: 200, duration: 60 });
    const spend = leasedConsumer(store, 200);
    expect(await spendMany(spend, 'a', 210)).toEqual({ allowed: 200, refused: 10 });
    expect(await spendMany(spend, 'b', 5)).toEqual({ allowed: 5, refused: 0 });
  });

  it('counts one point at a time under 200 a minute (exactly the plain limiter)', async () => {
    const store = new RateLimiterMemory({ points: 40, duration: 60 });
    const spend = leasedConsumer(store, 40);
    expect(await spendMany(spend, 'p', 45, 5)).toEqual({ allowed: 40, refused: 5 });
    expect((await store.get('p'))?.consumedPoints).toBe(45);
  });
});
