import { inject } from 'vitest';
import { startApp, type RunningApp } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import { makeLogger } from '../../src/infra/logger.js';

export type TestApp = RunningApp & {
  url: string;
  /** POSTs a GraphQL operation over real HTTP; returns status, headers and parsed body. */
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Headers; body: { data?: T | null; errors?: { message: string; extensions?: Record<string, unknown> }[] } }>;
};

/** Starts the whole server on a free port against this run's test database. */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const config = parseConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    DATABASE_URL: inject('databaseUrl'),
    ...(inject('redisUrl') ? { REDIS_URL: inject('redisUrl')! } : {}),
    ...env,
  });
  const app = await startApp(config, makeLogger(config.log.level));
  const url = `http://127.0.0.1:${app.port}`;
  return {
    ...app,
    url,
    async gql(query, variables, headers = {}) {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, headers: response.headers, body: (await response.json()) as never };
    },
  };
}
