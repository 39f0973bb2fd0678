import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BudgetClosedError, ConnectionBudget, DatabaseBusyError, type SlotRelease } from '../../src/tenancy/registry/connection-budget.js';
import { DATABASE_BUSY_MARKER } from '../../src/tenancy/registry/registry-types.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Acquires and records the outcome under `name`, in the order outcomes arrive. */
function request(budget: ConnectionBudget, name: string, log: string[], slots: Map<string, SlotRelease>): void {
  budget.acquire((error, release) => {
    if (error) {
      log.push(`${name}:error:${error.message}`);
      return;
    }
    slots.set(name, release!);
    log.push(`${name}:ok`);
  });
}

describe('ConnectionBudget', () => {
  it('grants free slots at once and synchronously', () => {
    const budget = new ConnectionBudget({ max: 2, timeoutMs: 100 });
    const log: string[] = [];
    const slots = new Map<string, SlotRelease>();
    request(budget, 'a', log, slots);
    request(budget, 'b', log, slots);
    expect(log).toEqual(['a:ok', 'b:ok']);
    expect(budget.inUse).toBe(2);
    expect(budget.waits).toBe(0);
  });

  it('serves waiters first in, first out, handing each released slot to the next waiter', () => {
    const budget = new ConnectionBudget({ max: 1, timeoutMs: 1000 });
    const log: string[] = [];
    const slots = new Map<string, SlotRelease>();
    for (const name of ['a', 'b', 'c', 'd']) request(budget, name, log, slots);
    expect(log).toEqual(['a:ok']);
    expect(budget.waiting).toBe(3);
    expect(budget.waits).toBe(3);

    slots.get('a')!();
    expect(log).toEqual(['a:ok', 'b:ok']);
    // The slot went straight to b: it was never free for a newcomer to take.
    expect(budget.inUse).toBe(1);
    expect(budget.tryAcquire()).toBeUndefined();

    slots.get('b')!();
    slots.get('c')!();
    expect(log).toEqual(['a:ok', 'b:ok', 'c:ok', 'd:ok']);
    slots.get('d')!();
    expect(budget.inUse).toBe(0);
    expect(budget.waiting).toBe(0);
  });

  it('lets no newcomer jump the line while others wait', () => {
    const budget = new ConnectionBudget({ max: 1, timeoutMs: 1000 });
    const log: string[] = [];
    const slots = new Map<string, SlotRelease>();
    request(budget, 'a', log, slots);
    request(budget, 'b', log, slots);
    expect(budget.tryAcquire()).toBeUndefined();
    slots.get('a')!();
    request(budget, 'c', log, slots);
    expect(log).toEqual(['a:ok', 'b:ok']);
  });

  it('fails a wait after timeoutMs with the DATABASE_BUSY marker and counts it', () => {
    const budget = new ConnectionBudget({ max: 1, timeoutMs: 200 });
    const log: string[] = [];
    const slots = new Map<string, SlotRelease>();
    request(budget, 'a', log, slots);
    request(budget, 'b', log, slots);
    vi.advanceTimersByTime(199);
    expect(log).toEqual(['a:ok']);
    vi.advanceTimersByTime(1);
    expect(log).toHaveLength(2);
    expect(log[1]).toContain(`b:error:${DATABASE_BUSY_MARKER}`);
    expect(log[1]).toMatch(/within 200 ms; all 1 connections/);
    expect(budget.timeouts).toBe(1);
    expect(budget.waiting).toBe(0);
    // The timed-out waiter left the line: a release now frees the slot.
    slots.get('a')!();
    expect(budget.inUse).toBe(0);
  });

  it('rejects the promise form with DatabaseBusyError', async () => {
    const budget = new ConnectionBudget({ max: 1, timeoutMs: 50 });
    await budget.acquireAsync();
    const waiting = budget.acquireAsync();
    vi.advanceTimersByTime(50);
    await expect(waiting).rejects.toBeInstanceOf(DatabaseBusyError);
    await expect(waiting).rejects.toThrow(DATABASE_BUSY_MARKER);
  });

  it('a timeout in the middle of the line keeps the order of the others', () => {
    const budget = new ConnectionBudget({ max: 1, timeoutMs: 100 });
    const log: string[] = [];
    const slots = new Map<string, SlotRelease>();
    request(budget, 'a', log, slots);
    request(budget, 'b', log, slots);
    vi.advanceTimersByTime(50);
    request(budget, 'c', log, slots);
    vi.advanceTimersByTime(50); // b times out, c has waited 50 ms
    expect(log[1]).toMatch(/^b:error:/);
    slots.get('a')!();
    expect(log[2]).toBe('c:ok');
  });

  it('counts a slot once however often it is released', () => {
    const budget = new ConnectionBudget({ max: 2, timeoutMs: 100 });
    const first = budget.tryAcquire()!;
    budget.tryAcquire();
    first();
    first();
    first();
    expect(budget.inUse).toBe(1);
  });

  it('never holds more than max slots, whatever the interleaving', () => {
    const max = 5;
    const budget = new ConnectionBudget({ max, timeoutMs: 30 });
    const held: SlotRelease[] = [];
    let granted = 0;
    let failed = 0;
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let step = 0; step < 5000; step++) {
      const roll = random();
      if (roll < 0.5) {
        budget.acquire((error, release) => {
          if (error) failed++;
          else {
            granted++;
            held.push(release!);
          }
        });
      } else if (roll < 0.9 && held.length > 0) {
        const index = Math.floor(random() * held.length);
        held.splice(index, 1)[0]!();
      } else {
        vi.advanceTimersByTime(7);
      }
      expect(budget.inUse).toBeLessThanOrEqual(max);
      expect(budget.inUse).toBe(held.length);
    }
    expect(budget.peak).toBe(max);
    expect(granted).toBeGreaterThan(1000);
    expect(failed).toBe(budget.timeouts);
  });

  it('asks its owner to free a slot each time a caller has to wait', () => {
    const onWait = vi.fn();
    const budget = new ConnectionBudget({ max: 1, timeoutMs: 100, onWait });
    budget.acquire(() => {});
    expect(onWait).not.toHaveBeenCalled();
    budget.acquire(() => {});
    budget.acquire(() => {});
    expect(onWait).toHaveBeenCalledTimes(2);
  });

  it('close() fails every waiter and every later acquire', () => {
    const budget = new ConnectionBudget({ max: 1, timeoutMs: 100 });
    const log: string[] = [];
    const slots = new Map<string, SlotRelease>();
    request(budget, 'a', log, slots);
    request(budget, 'b', log, slots);
    budget.close();
    request(budget, 'c', log, slots);
    expect(log).toEqual(['a:ok', 'b:error:the connection budget is closed', 'c:error:the connection budget is closed']);
    expect(budget.waiting).toBe(0);
    slots.get('a')!();
    expect(budget.inUse).toBe(0);
    expect(() => new ConnectionBudget({ max: 0, timeoutMs: 1 })).toThrow(RangeError);
    expect(new BudgetClosedError('x')).toBeInstanceOf(Error);
  });
});
