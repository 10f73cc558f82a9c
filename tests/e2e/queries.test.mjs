// End to end: declaring a resource in the studio, then watching its
// statements, an N+1 and a query plan in the Query Inspector.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, startServer, waitFor } from './harness.mjs';

describe('resources and the query inspector', () => {
  let server;
  let browser;
  let page;
  const admin = (path, init = {}) =>
    fetch(server.url + path, { ...init, headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json', ...init.headers } });
  const open = async (id) => {
    await page.getByTestId(`nav-${id}`).click();
    await page.getByTestId(`${id}-page`).waitFor({ timeout: 15_000 });
  };

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1500, height: 950 } });
    page = await context.newPage();
    page.on('dialog', (d) => d.accept());
    await page.goto(server.login);
    await open('resources');
  });

  after(async () => {
    await browser?.close();
    server?.kill();
  });

  it('declares the users resource, shows a field error from the server, exposes and applies it', async () => {
    await page.getByTestId('add-resource').click();
    await page.getByTestId('res-name').fill('users');
    await page.getByTestId('field-name-0').fill('name');
    await page.getByTestId('field-maxLength-0').fill('100');
    await page.getByTestId('add-field').click();
    await page.getByTestId('field-name-1').fill('email');
    await page.getByTestId('field-required-1').check();
    await page.getByTestId('field-unique-1').check();
    await page.getByTestId('add-field').click();
    await page.getByTestId('field-name-2').fill('age');
    await page.getByTestId('field-type-2').selectOption('int');
    // A unique text field is refused: the server's validator names the field.
    await page.getByTestId('field-type-1').selectOption('text');
    const err = page.getByTestId('error-fields.1.unique');
    await err.waitFor({ timeout: 10_000 });
    assert.match(await err.textContent(), /text field cannot be unique/);
    assert.equal(await page.getByTestId('apply-resource').isDisabled(), true);
    await page.getByTestId('field-type-1').selectOption('string');
    await err.waitFor({ state: 'detached', timeout: 10_000 });

    assert.equal(await page.getByTestId('res-expose').isChecked(), true);
    await page.getByTestId('res-path').fill('/users');
    await page.locator('[data-testid=resource-diff]', { hasText: '"kind": "resource"' }).waitFor();
    await page.locator('[data-testid=apply-resource]:not([disabled])').waitFor({ timeout: 10_000 });
    mkdirSync('artifacts', { recursive: true });
    await page.screenshot({ path: 'artifacts/resource-editor.png' });
    await page.getByTestId('apply-resource').click();
    await page.locator('[data-testid=resources-notice]', { hasText: 'Added resource users at /users' }).waitFor({ timeout: 10_000 });

    const config = await (await admin('/_covet/api/config')).json();
    assert.deepEqual(config.resources[0].fields.map((f) => [f.name, f.type]), [['name', 'string'], ['email', 'string'], ['age', 'int']]);
    const route = config.routes.find((r) => r.kind === 'resource');
    assert.equal(route.resource, 'users');
    assert.equal(route.path, '/users');
    assert.ok(!route.method, `a resource route has no method: ${JSON.stringify(route)}`);

    // The studio offers to try the new endpoint.
    await page.getByTestId('try-applied').click();
    await page.getByTestId('try-send').click();
    await page.locator('[data-testid=try-status]', { hasText: '200' }).waitFor({ timeout: 10_000 });
  });

  it('creates records through the endpoints', async () => {
    for (const [name, email, age] of [['Ada', 'ada@example.com', 36], ['Grace', 'grace@example.com', 45]]) {
      const res = await fetch(server.url + '/users', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name, email, age }) });
      assert.equal(res.status, 201, await res.clone().text());
    }
    const dup = await fetch(server.url + '/users', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'X', email: 'ada@example.com' }) });
    assert.equal(dup.status, 409);
    const list = await (await fetch(server.url + '/users')).json();
    assert.deepEqual(list.items.map((u) => u.name), ['Ada', 'Grace']);
  });

  it('shows the INSERT into users under its request in the inspector', async () => {
    await open('queries');
    await page.locator('[data-testid=db-dialect]', { hasText: 'sqlite' }).waitFor({ timeout: 10_000 });
    const group = page.locator('[data-testid=request-group][data-route="POST /users"]').first();
    await group.waitFor({ timeout: 15_000 });
    assert.match(await group.getByTestId('group-summary').textContent(), /\d+ quer(y|ies) · /);
    // The group's statements follow its header: the INSERT is among them.
    const requestId = await group.getAttribute('data-request-id');
    assert.ok(requestId && requestId !== 'background', `a request id: ${requestId}`);
    await page.getByTestId('filter-text').fill('INSERT INTO "users"');
    const insert = page.locator('[data-testid=query-row]', { hasText: 'INSERT INTO "users"' }).first();
    await insert.waitFor({ timeout: 10_000 });
    await insert.click();
    const detail = page.getByTestId('query-detail');
    await detail.waitFor();
    assert.match(await detail.textContent(), /POST \/users · \S+/);
    // The newest INSERT is the refused duplicate: it carries its error.
    assert.match(await page.getByTestId('query-args').textContent(), /"ada@example\.com"/);
    assert.match(await page.getByTestId('query-error').textContent(), /UNIQUE/i);
    await page.getByTestId('filter-text').fill('');
  });

  it('sees the N+1 of a handler route with its verdict', async () => {
    // Add GET /books served by the built-in demo handler, through the config API.
    const add = await admin('/_covet/api/config/routes', {
      method: 'POST',
      body: JSON.stringify({ id: 'books', method: 'GET', path: '/books', kind: 'handler', handler: { name: 'covet.demo.nplusone' } }),
    });
    assert.equal(add.status, 200, await add.clone().text());
    const books = await (await fetch(server.url + '/books')).json();
    assert.equal(books.length, 10);

    await page.getByTestId('filter-text').fill('');
    // The route's option appears once its statements have arrived.
    await waitFor(async () => (await page.locator('[data-testid=filter-route] option', { hasText: 'GET /books' }).count()) > 0, 10_000, 'the GET /books option');
    await page.getByTestId('filter-route').selectOption('GET /books');
    await page.getByTestId('filter-n1').check();
    const group = page.locator('[data-testid=request-group][data-route="GET /books"]').first();
    await group.waitFor({ timeout: 15_000 });
    assert.match(await group.getByTestId('group-n1').textContent(), /N\+1 ×\d+/);
    await page.locator('[data-testid=query-row]', { hasText: 'covet_demo_authors' }).first().click();
    const verdict = page.getByTestId('verdict');
    await verdict.waitFor({ timeout: 10_000 });
    assert.match(await verdict.textContent(), /ran \d+ times in one request/);
    assert.match(await page.getByTestId('verdict-fix').textContent(), /With|DataLoader|eager/i);
    await page.screenshot({ path: 'artifacts/query-inspector.png' });
  });

  it('opens an EXPLAIN plan as a tree, and EXPLAIN ANALYZE only after confirming', async () => {
    await page.getByTestId('filter-n1').uncheck();
    await page.getByTestId('filter-route').selectOption('');
    await page.getByTestId('filter-text').fill('FROM "covet_demo_books"');
    await page.locator('[data-testid=query-row]', { hasText: 'SELECT' }).first().click();
    await page.getByTestId('explain').click();
    const plan = page.getByTestId('plan');
    await plan.waitFor({ timeout: 10_000 });
    const nodes = plan.getByTestId('plan-node');
    await nodes.first().waitFor();
    assert.ok((await nodes.count()) >= 1);
    // Reading every book is a full scan, and the tree says so.
    await plan.locator('.full-scan [data-testid=full-scan]').first().waitFor({ timeout: 5_000 });

    await page.getByTestId('explain-analyze').click();
    const dialog = page.getByTestId('confirm-dialog');
    await dialog.waitFor();
    assert.match(await dialog.textContent(), /transaction that is rolled back/);
    await page.getByTestId('confirm-cancel').click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByTestId('explain-analyze').click();
    await page.getByTestId('confirm-ok').click();
    await plan.getByTestId('plan-node').first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: 'artifacts/query-plan.png' });
  });

  it('sorts the statistics and runs a read in the SQL console, writes only after confirming', async () => {
    await page.getByTestId('tab-stats').click();
    await page.getByTestId('stat-row').first().waitFor({ timeout: 10_000 });
    await page.getByTestId('sort-count').click();
    const th = page.locator('th[aria-sort=descending]');
    assert.match(await th.textContent(), /Count/);

    await page.getByTestId('tab-console').click();
    await page.getByTestId('console-sql').fill('SELECT name, age FROM users WHERE age > ? ORDER BY id');
    await page.getByTestId('console-args').fill('[40]');
    await page.getByTestId('console-run').click();
    const result = page.getByTestId('console-result');
    await result.locator('td', { hasText: 'Grace' }).waitFor({ timeout: 10_000 });
    assert.doesNotMatch(await result.textContent(), /Ada/);

    await page.getByTestId('console-sql').fill('DELETE FROM users');
    await page.getByTestId('console-args').fill('[]');
    await page.getByTestId('console-run').click();
    await page.locator('[data-testid=console-error]', { hasText: 'write' }).waitFor({ timeout: 10_000 });
    await page.getByTestId('allow-writes').click();
    await page.getByTestId('confirm-dialog').waitFor();
    await page.getByTestId('confirm-cancel').click();
    assert.equal(await page.getByTestId('allow-writes').isChecked(), false);
    const users = await (await fetch(server.url + '/users')).json();
    assert.equal(users.items.length, 2, 'nothing was deleted');
  });
});
