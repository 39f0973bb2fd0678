/**
 * The event bus in process (no Redis): typed subscriptions, '*', unsubscribe, and handlers that
 * fail without breaking the publisher or each other. Cross-process delivery is in
 * test/integration/tenancy-events.test.ts.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { openTenancyEvents, type TenancyEvent } from '../../src/tenancy/events/index.js';

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

const TENANT = '00000000-0000-4000-8000-000000000001';

describe('tenancy events in process', () => {
  it('delivers each event to its type handlers and to "*", marked local, before publish resolves', async () => {
    const { logger } = capturingLogger();
    const events = await openTenancyEvents({ redis: undefined, logger });
    const seen: string[] = [];
    events.on('TenantStatusChanged', async (event, origin) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.push(`status:${event.from}->${event.to}:${origin}`);
    });
    events.on('*', (event) => void seen.push(`any:${event.type}`));
    await events.publish({ type: 'TenantStatusChanged', tenantId: TENANT, from: 'ACTIVE', to: 'SUSPENDED' });
    expect(seen.sort()).toEqual(['any:TenantStatusChanged', 'status:ACTIVE->SUSPENDED:local']);
    await events.publish({ type: 'TenantUpdated', tenantId: TENANT });
    expect(seen).toContain('any:TenantUpdated');
    expect(seen.filter((line) => line.startsWith('status:'))).toHaveLength(1);
    await events.close();
  });

  it('unsubscribe stops delivery', async () => {
    const { logger } = capturingLogger();
    const events = await openTenancyEvents({ redis: undefined, logger });
    const seen: TenancyEvent[] = [];
    const off = events.on('TenantUpdated', (event) => void seen.push(event));
    await events.publish({ type: 'TenantUpdated', tenantId: TENANT });
    off();
    await events.publish({ type: 'TenantUpdated', tenantId: TENANT });
    expect(seen).toHaveLength(1);
    await events.close();
  });

  it('a failing handler is logged; the publisher and the other handlers carry on', async () => {
    const { logger, lines } = capturingLogger();
    const events = await openTenancyEvents({ redis: undefined, logger });
    const seen: string[] = [];
    events.on('TenantDeleted', () => {
      throw new Error('sync boom');
    });
    events.on('TenantDeleted', async () => {
      throw new Error('async boom');
    });
    events.on('TenantDeleted', (event) => void seen.push(event.tenantId));
    await expect(events.publish({ type: 'TenantDeleted', tenantId: TENANT, hard: false })).resolves.toBeUndefined();
    expect(seen).toEqual([TENANT]);
    const failures = lines.filter((line) => line.msg === 'a tenancy event handler failed');
    expect(failures).toHaveLength(2);
    expect(failures.map((line) => (line.err as { message: string }).message).sort()).toEqual(['async boom', 'sync boom']);
    expect(failures[0]).toMatchObject({ event: 'TenantDeleted', tenantId: TENANT });
    await events.close();
  });

  it('refuses to publish once closed', async () => {
    const { logger } = capturingLogger();
    const events = await openTenancyEvents({ redis: undefined, logger });
    await events.close();
    await expect(events.publish({ type: 'TenantUpdated', tenantId: TENANT })).rejects.toThrow(/closed/);
  });
});
