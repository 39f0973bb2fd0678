import pg from 'pg';
import { inject } from 'vitest';

/** A pool on this run's test database; closed by the caller. */
export function testPool(max = 4): pg.Pool {
  return new pg.Pool({ connectionString: inject('databaseUrl'), max });
}

/** A schema name no other test (or run) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${inject('runId')}_${Math.random().toString(36).slice(2, 8)}`;
}
