/**
 * Browser clients: CORS for /graphql (CORS_ORIGINS) and GraphiQL at /graphiql, served from our
 * own node_modules, working in Chromium with every non-local request aborted (offline).
 *
 * The Chromium part needs Debian's `chromium` at /usr/bin/chromium; skipped, saying so, without it.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) process.stdout.write(`browser-clients: skipping the browser checks: ${CHROMIUM} does not exist (apt-get install chromium)\n`);
const LAUNCH_OPTIONS = {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
};

const ALLOWED = 'https://app.example.com';
const REFUSED = 'https://evil.example.net';

type Raw = { status: number; headers: http.IncomingHttpHeaders; body: string };

/** node:http, because fetch refuses to send Origin and Access-Control-* request headers itself. */
function request(url: string, method: string, headers: Record<string, string>, body?: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const corsHeaders = (headers: http.IncomingHttpHeaders) => Object.keys(headers).filter((name) => name.startsWith('access-control-'));

describe('CORS for /graphql', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ CORS_ORIGINS: `${ALLOWED},http://localhost:5173` });
  });
  afterAll(() => app?.stop());

  const preflight = (origin: string) =>
    request(`${app.url}/graphql`, 'OPTIONS', {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type, x-tenant',
    });

  it('answers the preflight of a listed origin with 204, its methods, headers and credentials', async () => {
    const response = await preflight(ALLOWED);
    expect(response.status).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(response.headers['access-control-allow-credentials']).toBe('true');
    expect(response.headers['access-control-allow-methods']).toMatch(/POST/);
    const allowed = response.headers['access-control-allow-headers']!.split(',').map((name) => name.trim());
    expect(allowed).toEqual(expect.arrayContaining(['authorization', 'content-type', 'x-tenant', 'apollo-require-preflight']));
    expect(response.headers.vary).toMatch(/Origin/);
    expect(response.body).toBe('');
  });

  it('refuses the preflight of an unlisted origin, with no CORS header', async () => {
    const response = await preflight(REFUSED);
    expect(response.status).toBe(403);
    expect(corsHeaders(response.headers)).toEqual([]);
  });

  it('adds CORS headers to the answer for a listed origin only', async () => {
    const body = JSON.stringify({ query: '{ __typename }' });
    const allowed = await request(`${app.url}/graphql`, 'POST', { origin: ALLOWED, 'content-type': 'application/json' }, body);
    expect(allowed.status).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(allowed.headers['access-control-allow-credentials']).toBe('true');
    expect(allowed.headers['access-control-expose-headers']).toMatch(/x-request-id/);
    expect(allowed.headers.vary).toMatch(/Origin/);

    const refused = await request(`${app.url}/graphql`, 'POST', { origin: REFUSED, 'content-type': 'application/json' }, body);
    // Answered (a server cannot stop a non-browser client), but the browser hides it from the page.
    expect(corsHeaders(refused.headers)).toEqual([]);
    expect(refused.headers.vary).toMatch(/Origin/);
  });

  it('leaves OPTIONS without a preflight as before (405)', async () => {
    const response = await request(`${app.url}/graphql`, 'OPTIONS', {});
    expect(response.status).toBe(405);
  });
});

describe('CORS_ORIGINS=* (outside production)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ CORS_ORIGINS: '*' });
  });
  afterAll(() => app?.stop());

  it('allows any origin, without credentials', async () => {
    const response = await request(`${app.url}/graphql`, 'OPTIONS', { origin: REFUSED, 'access-control-request-method': 'POST' });
    expect(response.status).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe('*');
    expect(response.headers['access-control-allow-credentials']).toBeUndefined();
  });
});

describe('GraphiQL at /graphiql', () => {
  let app: TestApp;
  let browser: Browser | undefined;
  beforeAll(async () => {
    app = await startTestApp();
    if (hasChromium) browser = await chromium.launch(LAUNCH_OPTIONS);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('serves the page and its assets from our own process, assets cached for a year', async () => {
    const page = await fetch(`${app.url}/graphiql`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    expect(assets.length).toBe(4);
    for (const asset of assets) {
      expect(asset.startsWith('/graphiql/assets/'), asset).toBe(true);
      const response = await fetch(`${app.url}${asset}`);
      expect(response.status, asset).toBe(200);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
    expect(html).not.toMatch(/https?:\/\//);
    expect((await fetch(`${app.url}/graphiql/assets/../../package.json`)).status).toBe(404);
  });

  it('is linked from the Sandbox landing page', async () => {
    const landing = await fetch(`${app.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(await landing.text()).toContain('href="/graphiql"');
  });

  it.skipIf(!hasChromium)('runs a query in Chromium with the network off', async () => {
    const context = await browser!.newContext();
    const blocked: string[] = [];
    // Offline: everything that is not this server is aborted.
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1' || url.hostname === 'localhost') return route.continue();
      blocked.push(url.href);
      return route.abort('internetdisconnected');
    });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${app.url}/graphiql`, { waitUntil: 'load' });
    await page.locator('.graphiql-container').waitFor({ timeout: 30_000 });

    // Replace the query editor's text (CodeMirror 5) and run it.
    await page.evaluate(() => {
      const editor = (globalThis as unknown as { document: { querySelector(s: string): { CodeMirror: { setValue(v: string): void } } | null } }).document.querySelector(
        '.graphiql-query-editor .CodeMirror',
      );
      editor!.CodeMirror.setValue('{ serverInfo { version } }');
    });
    await page.locator('.graphiql-execute-button').click();
    await expect.poll(async () => (await page.locator('.graphiql-response .CodeMirror').textContent()) ?? '', { timeout: 15_000 }).toContain('"version"');
    const result = (await page.locator('.graphiql-response .CodeMirror').textContent()) ?? '';
    expect(result).toContain('serverInfo');
    expect(pageErrors).toEqual([]);
    process.stdout.write(`browser-clients: GraphiQL ran a query offline; aborted non-local requests: ${blocked.length ? blocked.join(', ') : 'none'}\n`);
    await context.close();
  });
});

describe('production', () => {
  let prod: TestApp;
  beforeAll(async () => {
    prod = await startTestApp({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) });
  });
  afterAll(() => prod?.stop());

  it('serves no GraphiQL', async () => {
    expect((await fetch(`${prod.url}/graphiql`)).status).toBe(404);
  });
});
