import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

describe('GraphQL over HTTP', () => {
  it('answers a query with the server version and health', async () => {
    const { status, body, headers } = await app.gql('{ __typename serverInfo { version } health { status ready } }');
    expect(status).toBe(200);
    expect(body).toEqual({ data: { __typename: 'Query', serverInfo: { version: '0.1.0' }, health: { status: 'ok', ready: true } } });
    expect(headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps a sane incoming request id and replaces a hostile one', async () => {
    expect((await app.gql('{ __typename }', {}, { 'x-request-id': 'abc-123' })).headers.get('x-request-id')).toBe('abc-123');
    expect((await app.gql('{ __typename }', {}, { 'x-request-id': 'a b\tc' })).headers.get('x-request-id')).not.toBe('a b\tc');
  });

  it('refuses a body that is not JSON with BAD_REQUEST', async () => {
    const response = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ errors: [{ message: 'Request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] });
  });

  it('refuses an oversize body with PAYLOAD_TOO_LARGE before parsing it', async () => {
    const query = `{ __typename ${' '.repeat(1_100_000)} }`;
    const response = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
  });

  it('reads a body sent in pieces, refuses one that grows past the limit without Content-Length, and survives a client leaving mid-body', async () => {
    const port = Number(new URL(app.url).port);
    /** Writes `pieces` with a pause between them over a raw socket; resolves with what came back. */
    const send = (head: string, pieces: string[], { hangUp = false } = {}) =>
      new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1');
        let answer = '';
        socket.on('data', (data) => (answer += data.toString('utf8')));
        socket.on('error', reject);
        socket.on('close', () => resolve(answer));
        socket.on('connect', async () => {
          socket.write(head);
          for (const piece of pieces) {
            await new Promise((done) => setTimeout(done, 20));
            socket.write(piece);
          }
          if (hangUp) socket.destroy();
        });
      });
    const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
    const head = 'POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n';
    const pieces = ['{"query":', '"{ __typ', 'ename }"}'].map(chunk);
    expect(await send(head, [...pieces, '0\r\n\r\n'])).toContain('{"data":{"__typename":"Query"}}');

    const big = Array.from({ length: 12 }, () => chunk(' '.repeat(100_000)));
    const refused = await send(head, [chunk('{"query": "{ __typename'), ...big, chunk('}"}'), '0\r\n\r\n']);
    expect(refused).toMatch(/^HTTP\/1\.1 413/);
    expect(refused).toContain('PAYLOAD_TOO_LARGE');

    await send(head, [chunk('{"query": "{ __ty')], { hangUp: true });
    expect((await app.gql('{ __typename }')).body).toEqual({ data: { __typename: 'Query' } });
  });

  it('reports validation errors with their code and HTTP 400', async () => {
    const { status, body } = await app.gql('{ nope }');
    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('blocks simple cross-site GET requests (CSRF prevention)', async () => {
    const response = await fetch(`${app.url}/graphql?query=${encodeURIComponent('{ __typename }')}`);
    expect(response.status).toBe(400);
    const preflighted = await fetch(`${app.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(preflighted.status).toBe(200);
  });
});

describe('health routes', () => {
  it('/health/live says the process is up', async () => {
    const response = await fetch(`${app.url}/health/live`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('/health/ready checks the database and migrations', async () => {
    const response = await fetch(`${app.url}/health/ready`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ready' });
  });

  it('unknown paths answer 404 in JSON', async () => {
    const response = await fetch(`${app.url}/nope`);
    expect(response.status).toBe(404);
  });
});
