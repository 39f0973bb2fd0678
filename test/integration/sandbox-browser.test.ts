/**
 * Apollo Sandbox in a real browser: GET /graphql from Chromium renders Apollo's landing page
 * (outside production), and production does not serve it.
 *
 * The landing page loads Sandbox itself from Apollo's CDN. Test machines may be offline, so the
 * test asserts what is ours (the page, its embed target, the request for the CDN script) and
 * records what happened to the CDN request: offline it fails and the page shows Apollo's
 * "cannot be loaded" fallback; online Sandbox's iframe appears. Either outcome passes.
 *
 * Needs Debian's `chromium` at /usr/bin/chromium (.ci/run installs it); skipped, saying so, when
 * it is missing.
 */
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { startTestApp, testEnv, type TestApp } from '../helpers/app.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  process.stdout.write(`sandbox-browser: skipping the browser checks: ${CHROMIUM} does not exist (apt-get install chromium; .ci/run does)\n`);
}

/** What the page functions use of the browser (tsconfig has no DOM lib). */
type BrowserGlobals = { getComputedStyle(element: unknown): { opacity: string }; EmbeddedSandbox?: unknown };

const LAUNCH_OPTIONS = {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
};
const SANDBOX_CDN = 'https://embeddable-sandbox.cdn.apollographql.com/';
const SANDBOX_SCRIPT = /^https:\/\/embeddable-sandbox\.cdn\.apollographql\.com\/[^/]+\/embeddable-sandbox\.umd\.production\.min\.js\?runtime=/;

describe('Apollo Sandbox in Chromium (NODE_ENV=test: Sandbox on, as in development)', () => {
  let app: TestApp | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!hasChromium) return;
    // startTestApp runs NODE_ENV=test; Sandbox is on everywhere but production.
    expect(parseConfig(testEnv()).graphql.sandbox, 'config.graphql.sandbox under NODE_ENV=test').toBe(true);
    app = await startTestApp();
    // launch() gives every browser a fresh temporary user-data-dir and removes it on close.
    browser = await chromium.launch(LAUNCH_OPTIONS);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it.skipIf(!hasChromium)('renders the Sandbox landing page at /graphql', async () => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
    const requested: string[] = [];
    const failed: { url: string; error: string }[] = [];
    const pageErrors: string[] = [];
    page.on('request', (request: Request) => requested.push(request.url()));
    page.on('requestfailed', (request: Request) => failed.push({ url: request.url(), error: request.failure()?.errorText ?? 'unknown' }));
    page.on('pageerror', (error) => pageErrors.push(error.message));

    const response = await page.goto(`${app!.url}/graphql`, { waitUntil: 'load', timeout: 30_000 });

    // Our part: the server answered GET /graphql with Apollo's landing page.
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toMatch(/^text\/html/);
    expect(await page.title()).toBe('Apollo Server');
    expect(await page.locator('#embeddableSandbox').count()).toBe(1);
    const scripts = await Promise.all((await page.locator('script[src]').all()).map((script) => script.getAttribute('src')));
    const sandboxScript = scripts.find((src): src is string => src !== null && SANDBOX_SCRIPT.test(src));
    expect(sandboxScript, `a <script> loading Sandbox from its CDN among ${JSON.stringify(scripts)}`).toBeDefined();
    // The browser did ask for it (CSP allowed it, nothing blocked it before the network).
    expect(requested).toContain(sandboxScript);

    const cdnFailure = failed.find((f) => f.url === sandboxScript);
    let outcome: string;
    if (cdnFailure) {
      // Offline (expected here): Apollo's fallback text fades in after about 2 s.
      outcome = `CDN unreachable, as expected offline (${cdnFailure.error}); the page shows Apollo's offline fallback`;
      expect(await page.locator('.fallback').textContent()).toContain('Apollo Sandbox cannot be loaded');
      await expect.poll(() => page.locator('.fallback').evaluate((e) => (globalThis as unknown as BrowserGlobals).getComputedStyle(e).opacity), { timeout: 10_000 }).toBe('1');
      expect(await page.evaluate(() => typeof (globalThis as unknown as BrowserGlobals).EmbeddedSandbox)).toBe('undefined');
      // The page's inline script then calls the missing constructor; nothing else may go wrong.
      expect(pageErrors.filter((message) => !message.includes('EmbeddedSandbox'))).toEqual([]);
    } else {
      // Online: the script ran and embedded Sandbox's iframe.
      outcome = 'CDN reachable: Sandbox embedded its iframe';
      const iframe = page.locator('#embeddableSandbox iframe');
      await iframe.waitFor({ timeout: 30_000 });
      expect(await iframe.getAttribute('src')).toMatch(/^https:\/\/sandbox\.embed\.apollographql\.com\//);
      expect(pageErrors).toEqual([]);
    }

    const screenshot = path.join(await mkdtemp(path.join(tmpdir(), 'tenantgraph-sandbox-')), 'sandbox.png');
    await page.screenshot({ path: screenshot });
    const others = failed.filter((f) => f.url !== sandboxScript).map((f) => `${new URL(f.url).host} (${f.error})`);
    process.stdout.write(
      [
        `sandbox-browser: GET ${app!.url}/graphql -> ${response?.status()} "${await page.title()}"`,
        `  Sandbox script ${sandboxScript!.slice(0, SANDBOX_CDN.length + 40)}...: ${outcome}`,
        `  other failed requests: ${others.length ? others.join(', ') : 'none'}`,
        `  page errors: ${pageErrors.length ? pageErrors.join(' | ') : 'none'}`,
        `  screenshot: ${screenshot}`,
        '',
      ].join('\n'),
    );
    await page.close();
  });
});

describe('production does not serve Sandbox', () => {
  let prod: TestApp;
  beforeAll(async () => {
    prod = await startTestApp({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) });
  });
  afterAll(() => prod.stop());

  it('answers GET /graphql with Accept: text/html without the landing page', async () => {
    const response = await fetch(`${prod.url}/graphql`, { headers: { accept: 'text/html' } });
    const body = await response.text();
    expect(response.headers.get('content-type')).not.toMatch(/text\/html/);
    expect(body).not.toContain('embeddableSandbox');
    expect(body).not.toContain('apollographql.com');
    // No landing page, so the request is an operation: a simple GET is stopped by CSRF prevention.
    expect(response.status).toBe(400);
    expect(JSON.parse(body)).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] });
  });

  it.skipIf(!hasChromium)('gives a browser the JSON error, not Sandbox', async () => {
    const browser = await chromium.launch(LAUNCH_OPTIONS);
    try {
      const page = await browser.newPage();
      const requested: string[] = [];
      page.on('request', (request: Request) => requested.push(request.url()));
      const response = await page.goto(`${prod.url}/graphql`, { waitUntil: 'load' });
      expect(response?.status()).toBe(400);
      expect(response?.headers()['content-type']).toMatch(/^application\/json/);
      expect(await page.locator('#embeddableSandbox').count()).toBe(0);
      expect(requested.filter((url) => !url.startsWith(prod.url))).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
