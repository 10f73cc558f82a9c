// End to end: editing routes live from the studio's Routes page.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, startServer, waitFor } from './harness.mjs';

describe('routes page', () => {
  let server;
  let browser;
  let page;
  const body = async (path) => (await fetch(server.url + path)).text();

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    page.on('dialog', (d) => d.accept());
    await page.goto(server.login);
    await page.getByTestId('nav-routes').click();
    await page.getByTestId('routes-page').waitFor({ timeout: 15_000 });
  });

  after(async () => {
    await browser?.close();
    server?.kill();
  });

  it('adds a mock route, applies it, and Try it shows its body', async () => {
    await page.getByTestId('add-route').click();
    await page.getByTestId('field-id').fill('e2e');
    await page.getByTestId('field-path').fill('/e2e/{name}');
    await page.getByTestId('field-body').fill('first answer');
    await page.locator('[data-testid=diff-preview]', { hasText: 'first answer' }).waitFor();
    await page.locator('[data-testid=apply-route]:not([disabled])').waitFor({ timeout: 10_000 });
    await page.getByTestId('apply-route').click();
    await page.locator('[data-testid=routes-notice]', { hasText: 'Added GET /e2e/{name}' }).waitFor({ timeout: 10_000 });
    assert.equal(await body('/e2e/x'), 'first answer', 'the server answers the new route at once');

    await page.locator('[data-route-id=e2e] [data-testid=try-route]').click();
    assert.equal(await page.getByTestId('try-path').inputValue(), '/e2e/1');
    await page.getByTestId('try-send').click();
    await page.locator('[data-testid=try-body]', { hasText: 'first answer' }).waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId('try-status').textContent(), '200');
    // The request's own event comes with the answer, naming the route.
    await page.locator('[data-testid=try-events]', { hasText: 'GET /e2e/1 → 200' }).waitFor({ timeout: 10_000 });
    assert.match(await page.getByTestId('try-events').textContent(), /route GET \/e2e\/\{name\}/);
  });

  it('edits the route, and undo serves the old body again', async () => {
    await page.locator('[data-route-id=e2e] [data-testid=edit-route]').click();
    await page.getByTestId('field-body').fill('second answer for {name}');
    await page.locator('[data-testid=diff-preview] .del', { hasText: 'first answer' }).waitFor();
    await page.locator('[data-testid=apply-route]:not([disabled])').waitFor({ timeout: 10_000 });
    await page.getByTestId('apply-route').click();
    await waitFor(async () => (await body('/e2e/x')) === 'second answer for x', 10_000, 'the edited body, with the path parameter filled in');

    await page.getByTestId('undo').click();
    await page.locator('[data-testid=routes-notice]', { hasText: 'Undone' }).waitFor({ timeout: 10_000 });
    await waitFor(async () => (await body('/e2e/x')) === 'first answer', 10_000, 'the old body after undo');
  });

  it('adds a redirect route with its own fields', async () => {
    await page.getByTestId('add-route').click();
    await page.getByTestId('field-id').fill('moved');
    await page.getByTestId('field-kind').selectOption('redirect');
    await page.getByTestId('field-path').fill('/moved/{id}');
    await page.getByTestId('field-redirectTo').fill('/e2e/{id}');
    await page.getByTestId('field-redirectStatus').selectOption('307');
    await page.locator('[data-testid=apply-route]:not([disabled])').waitFor({ timeout: 10_000 });
    await page.getByTestId('apply-route').click();
    await page.locator('[data-testid=routes-notice]', { hasText: 'Added GET /moved/{id}' }).waitFor({ timeout: 10_000 });
    const res = await fetch(server.url + '/moved/a%20b?x=1', { redirect: 'manual' });
    assert.equal(res.status, 307);
    assert.equal(res.headers.get('location'), '/e2e/a%20b?x=1');
    await page.locator('[data-route-id=moved] [data-testid=try-route]').click();
    await page.getByTestId('try-send').click();
    await page.locator('[data-testid=try-status]', { hasText: '307' }).waitFor({ timeout: 10_000 });
  });

  it('adds a Go handler route by its registered name, with compression, and shows its middleware', async () => {
    await page.getByTestId('add-route').click();
    await page.getByTestId('field-id').fill('echo');
    await page.getByTestId('field-kind').selectOption('handler');
    await page.getByTestId('field-path').fill('/echo/{x}');
    const names = await page.locator('[data-testid=field-handlerName] option').allTextContents();
    assert.ok(names.some((n) => n.startsWith('covet.echo — server.go:')), `handler names with their source: ${names}`);
    await page.getByTestId('field-handlerName').selectOption('covet.echo');
    await page.getByTestId('field-compress').check();
    await page.locator('[data-testid=apply-route]:not([disabled])').waitFor({ timeout: 10_000 });
    await page.getByTestId('apply-route').click();
    await page.locator('[data-testid=routes-notice]', { hasText: 'Added GET /echo/{x}' }).waitFor({ timeout: 10_000 });
    const echoed = await (await fetch(server.url + '/echo/7')).json();
    assert.deepEqual(echoed.params, { x: '7' });
    const row = page.locator('[data-route-id=echo]');
    await row.locator('[data-testid=route-middleware]', { hasText: 'compress' }).waitFor({ timeout: 10_000 });
    assert.match(await row.textContent(), /covet\.echo · server\.go:\d+/);
    assert.match(await page.getByTestId('stack').textContent(), /recover → requestID → realIP/);
  });

  it("shows the server's own error next to an invalid path, and applies nothing", async () => {
    await page.locator('[data-route-id=e2e] [data-testid=edit-route]').click();
    await page.getByTestId('field-path').fill('/e2e/{name}/{name}');
    const err = page.getByTestId('error-path');
    await err.waitFor({ timeout: 10_000 });
    assert.match(await err.textContent(), /parameter \{name\} declared twice/);
    assert.equal(await page.getByTestId('apply-route').isDisabled(), true);
    mkdirSync('artifacts', { recursive: true });
    await page.screenshot({ path: 'artifacts/routes-editor.png' });
    await page.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await body('/e2e/x'), 'first answer');
    await page.screenshot({ path: 'artifacts/routes.png' });
  });
});
