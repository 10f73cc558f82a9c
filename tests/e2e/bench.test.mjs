// End to end: a load test started from the Routes page against a mock
// route, its live charts, the run in the history, a second run compared
// with it (the ratio table shows the server's own numbers), and the HTML
// report exported, downloaded and opened.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { launchBrowser, startServer, waitFor } from './harness.mjs';

describe('benchmarks page', () => {
  let server;
  let browser;
  let context;
  let page;
  let first;
  let second;
  const admin = (path, init = {}) =>
    fetch(server.url + path, { ...init, headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json', ...init.headers } });
  const json = async (path) => {
    const res = await admin(path);
    assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
    return res.json();
  };
  /** A number as the page shows it: digit groups and units dropped. */
  const number = (text) => Number(text.replace(/[,×\s]|ms$/g, ''));
  const view = () => page.getByTestId('bench-view');
  /** Waits for the run on show to end, and returns its id. */
  const finished = async () => {
    await page.locator('[data-testid=bench-view][data-status=completed]').waitFor({ timeout: 30_000 });
    return view().getAttribute('data-run-id');
  };

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1500, height: 1000 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('dialog', (d) => d.accept());
    // A mock route with a path parameter to load.
    const add = await admin('/_covet/api/config/routes', {
      method: 'POST',
      body: JSON.stringify({ id: 'items', method: 'GET', path: '/items/{id}', kind: 'mock', mock: { status: 200, body: 'an item' } }),
    });
    assert.equal(add.status, 200, await add.clone().text());
    await page.goto(server.login);
    await page.getByTestId('nav-routes').click();
    await page.getByTestId('routes-page').waitFor({ timeout: 15_000 });
  });

  after(async () => {
    await browser?.close();
    server?.kill();
  });

  it('starts a 5-second run from a route\'s "Load test" and draws it live', async () => {
    await page.locator('[data-route-id=items] [data-testid=load-test-route]').click();
    await page.getByTestId('bench-page').waitFor({ timeout: 15_000 });
    assert.match(page.url(), /#\/bench\?route=items$/);
    // Pre-filled from the route: the server's own URL, the placeholder kept
    // with a range for it, and the defaults.
    await waitFor(async () => (await page.getByTestId('bench-url').inputValue()) === `${server.url}/items/{id}`, 10_000, 'the pre-filled URL');
    assert.equal(await page.getByTestId('bench-method').inputValue(), 'GET');
    assert.equal(await page.getByTestId('bench-name').inputValue(), 'GET /items/{id}');
    assert.equal(await page.getByTestId('bench-connections').inputValue(), '50');
    assert.equal(await page.getByTestId('bench-duration').inputValue(), '10s');
    assert.equal(await page.getByTestId('bench-warmup').inputValue(), '2s');
    const param = page.locator('[data-testid=bench-param][data-name=id]');
    assert.equal(await param.getByTestId('bench-param-min').inputValue(), '1');
    assert.equal(await param.getByTestId('bench-param-max').inputValue(), '100');

    // The server's validation error appears next to its field.
    await page.getByTestId('bench-connections').fill('-1');
    await page.getByTestId('bench-start').click();
    await page.locator('[data-testid=bench-error-connections]', { hasText: 'is not from 1 to' }).waitFor({ timeout: 10_000 });

    // A gentle open-model load (this machine also runs the server and the
    // browser): 400 requests a second, at most 8 in flight.
    await page.getByTestId('bench-model-open').check();
    await page.getByTestId('bench-rate').fill('400');
    await page.getByTestId('bench-connections').fill('8');
    await page.getByTestId('bench-duration').fill('5s');
    await page.getByTestId('bench-warmup').fill('1s');
    await page.getByTestId('bench-start').click();
    await page.locator('[data-testid=bench-view][data-status=running]').waitFor({ timeout: 10_000 });
    const id = await view().getAttribute('data-run-id');
    // Live: the counter and the charts fill while the run goes on.
    await waitFor(async () => number(await page.getByTestId('bench-live-requests').textContent()) > 0, 15_000, 'requests in the live counter');
    await waitFor(async () => Number(await page.getByTestId('bench-chart-rps').getAttribute('data-points')) >= 2, 15_000, 'two seconds in the rps chart');
    assert.ok(Number(await page.getByTestId('bench-chart-latency').getAttribute('data-points')) >= 2);
    assert.ok(Number(await page.getByTestId('bench-chart-signal-goroutines').getAttribute('data-points')) >= 2);
    mkdirSync('artifacts', { recursive: true });
    await view().screenshot({ path: 'artifacts/bench-live.png' });

    first = await finished();
    assert.equal(first, id);
    const run = await json(`/_covet/api/bench/runs/${id}`);
    assert.equal(run.source, 'route:items');
    assert.equal(run.spec.url, `${server.url}/items/{id}`);
    assert.deepEqual(run.spec.params, [{ name: 'id', min: 1, max: 100 }]);
    assert.equal(run.spec.rate, 400);
    assert.equal(run.result.stopped, 'duration');
    // The charts hold every measured second, the summary the server's numbers.
    await waitFor(
      async () => Number(await page.getByTestId('bench-chart-rps').getAttribute('data-points')) === run.result.series.length,
      10_000,
      'every measured second in the chart',
    );
    await page.getByTestId('bench-summary').waitFor();
    assert.equal(number(await page.getByTestId('summary-requests').textContent()), run.result.requests);
    assert.equal(number(await page.getByTestId('summary-p99').textContent()), run.result.latencyMs.p99);
    // An open-model run needs no correction for coordinated omission.
    assert.equal(await page.getByTestId('summary-corrected-p99').count(), 0);
    assert.ok(Number(await page.getByTestId('bench-histogram').getAttribute('data-points')) > 0);

    // And it is in the history.
    const row = page.getByTestId(`bench-run-${id}`);
    await row.waitFor({ timeout: 10_000 });
    assert.equal(await row.getAttribute('data-status'), 'completed');
    assert.match(await row.textContent(), /GET \/items\/\{id\}/);
  });

  it('runs a second time and compares the two with the server\'s numbers', async () => {
    await page.getByTestId('bench-name').fill('second run');
    await page.getByTestId('bench-model-closed').check();
    await page.getByTestId('bench-connections').fill('2');
    await page.getByTestId('bench-thinkTime').fill('2ms');
    await page.getByTestId('bench-start').click();
    await page.locator('[data-testid=bench-view][data-status=running]').waitFor({ timeout: 10_000 });
    second = await finished();
    assert.notEqual(second, first);
    // A closed-model run also shows its latency corrected as wrk corrects its own.
    const closed = await json(`/_covet/api/bench/runs/${second}`);
    assert.equal(number(await page.getByTestId('summary-corrected-p99').textContent()), closed.result.latencyCorrectedMs.p99);
    await page.getByTestId(`bench-run-${second}`).waitFor({ timeout: 10_000 });

    await page.getByTestId(`bench-run-${first}`).getByTestId('bench-compare-check').check();
    await page.getByTestId(`bench-run-${second}`).getByTestId('bench-compare-check').check();
    const table = page.getByTestId('bench-compare-table');
    await table.waitFor({ timeout: 10_000 });
    // A is the earlier run.
    assert.equal(await table.getAttribute('data-a'), first);
    assert.equal(await table.getAttribute('data-b'), second);
    const cmp = await json(`/_covet/api/bench/compare?a=${first}&b=${second}`);
    assert.ok(cmp.rows.length > 0);
    const rows = table.getByTestId('bench-compare-row');
    assert.equal(await rows.count(), cmp.rows.length);
    for (const [i, want] of cmp.rows.entries()) {
      const row = rows.nth(i);
      assert.equal(await row.getAttribute('data-metric'), want.metric);
      assert.equal(number(await row.getByTestId('compare-a').textContent()), want.a, `${want.metric} A`);
      assert.equal(number(await row.getByTestId('compare-b').textContent()), want.b, `${want.metric} B`);
      const ratio = await row.getByTestId('compare-ratio').textContent();
      assert.equal(ratio, want.ratio === null ? '—' : `${want.ratio.toFixed(3)}×`, `${want.metric} ratio`);
    }
    // Both runs overlaid on the same axes.
    assert.ok(Number(await page.getByTestId('bench-compare-rps').getAttribute('data-points')) >= 5);
    assert.ok(Number(await page.getByTestId('bench-compare-p99').getAttribute('data-points')) >= 5);
    await page.getByTestId('bench-compare').screenshot({ path: 'artifacts/bench-compare.png' });
    await page.getByTestId('bench-history').screenshot({ path: 'artifacts/bench-history.png' });
  });

  it('exports the HTML report, and it opens as a page of its own', async () => {
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 15_000 }), page.getByTestId('bench-export-html').click()]);
    assert.match(download.suggestedFilename(), /\.html$/);
    // Saved under its own name, so that the browser reads it as HTML.
    const file = join(mkdtempSync(join(tmpdir(), 'covet-bench-')), download.suggestedFilename());
    await download.saveAs(file);
    const html = readFileSync(file, 'utf8');
    assert.match(html, /^<!DOCTYPE html>/i);
    const report = await context.newPage();
    await report.goto(pathToFileURL(file).href);
    assert.equal(await report.title(), 'Covet load test: second run');
    assert.match(await report.locator('body').textContent(), /http:\/\/127\.0\.0\.1:\d+\/items\/\{id\}/);
    await report.close();
  });

  it('renames a run inline and deletes one after asking', async () => {
    const row = page.getByTestId(`bench-run-${first}`);
    await row.getByTestId('bench-rename').click();
    await row.getByTestId('bench-rename-input').fill('baseline');
    await row.getByTestId('bench-rename-input').press('Enter');
    await row.locator('[data-testid=bench-run-open]', { hasText: 'baseline' }).waitFor({ timeout: 10_000 });
    assert.equal((await json(`/_covet/api/bench/runs/${first}`)).name, 'baseline');

    await page.getByTestId(`bench-run-${second}`).getByTestId('bench-delete').click();
    await page.getByTestId('confirm-ok').click();
    await page.getByTestId(`bench-run-${second}`).waitFor({ state: 'detached', timeout: 10_000 });
    assert.deepEqual(
      (await json('/_covet/api/bench/runs')).map((r) => r.id),
      [first],
    );
  });
});
