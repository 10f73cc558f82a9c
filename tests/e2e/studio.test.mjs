// End to end: the browser studio against a real headless server.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, startServer, waitFor } from './harness.mjs';

describe('browser studio', () => {
  let server;
  let browser;
  let page;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    server?.kill();
  });

  it('signs in through the one-time URL and shows the live Dashboard', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    await page.goto(server.login);
    assert.equal(new URL(page.url()).pathname, '/_covet/', 'the login code must not stay in the address bar');
    assert.equal(new URL(page.url()).search, '');
    await page.getByTestId('dashboard').waitFor({ timeout: 15_000 });
    await page.locator('[data-testid=connection-status][data-state=connected]').waitFor({ timeout: 15_000 });
    assert.equal(await page.getByTestId('info-url').textContent(), server.url);
  });

  it('shows requests made to the server in the table and the chart', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await fetch(server.url + '/hello');
      assert.equal(await res.text(), 'Hello, World!');
    }
    for (let i = 0; i < 3; i++) assert.equal((await fetch(server.url + '/nope-e2e')).status, 404);

    await page.getByTestId('filter-path').fill('/nope-e2e');
    await waitFor(async () => (await page.getByTestId('request-row').count()) === 3, 10_000, 'three /nope-e2e rows');
    const rows = await page.getByTestId('request-row').allTextContents();
    for (const r of rows) assert.match(r, /GET\s*\/nope-e2e\s*404/);

    await page.getByTestId('filter-path').fill('');
    await page.getByTestId('filter-status').fill('2xx');
    await waitFor(async () => (await page.getByTestId('request-row').count()) === 5, 10_000, 'five 2xx rows');

    // The per-second samples counted the requests: the chart has points and
    // the sum of its samples reaches the eight requests made.
    await waitFor(
      async () => {
        const series = await (await fetch(server.url + '/_covet/api/metrics/series', { headers: { Authorization: `Bearer ${server.token}` } })).json();
        return series.reduce((n, s) => n + s.requests, 0) >= 8;
      },
      10_000,
      'the series to count 8 requests',
    );
    await waitFor(async () => Number(await page.getByTestId('rps-chart').getAttribute('data-points')) > 0, 10_000, 'chart points');
    // The chart can show one route: its samples count only that route.
    await waitFor(async () => (await page.locator('[data-testid=chart-route] option').allTextContents()).includes('GET /hello'), 10_000, 'GET /hello in the route filter');
    await page.getByTestId('chart-route').selectOption('GET /hello');
    const perRoute = await (await fetch(server.url + '/_covet/api/metrics/series', { headers: { Authorization: `Bearer ${server.token}` } })).json();
    assert.equal(perRoute.reduce((n, s) => n + (s.routes?.['GET /hello']?.requests ?? 0), 0), 5, 'five requests to GET /hello in the per-route series');
    await page.getByTestId('chart-route').selectOption('');
    mkdirSync('artifacts', { recursive: true });
    await page.getByTestId('filter-status').fill('');
    await page.screenshot({ path: 'artifacts/dashboard.png' });
  });

  it('refuses a second use of the login URL and a browser without the cookie', async () => {
    const res = await fetch(server.login, { redirect: 'manual' });
    assert.equal(res.status, 401);
    const fresh = await browser.newContext();
    const p = await fresh.newPage();
    await p.goto(server.url + '/_covet/');
    await p.getByTestId('not-signed-in').waitFor({ timeout: 10_000 });
    await fresh.close();
  });

  it('shows the server as unreachable when it stops, and removes runtime.json', async () => {
    assert.ok(existsSync(server.runtimeFile));
    const { code } = await server.stop();
    assert.equal(code, 0, `covet serve exited with ${code}:\n${server.stderr()}`);
    assert.equal(existsSync(server.runtimeFile), false, 'runtime.json must be removed on clean shutdown');
    await page.locator('[data-testid=connection-status]:not([data-state=connected])').waitFor({ timeout: 10_000 });
  });
});
