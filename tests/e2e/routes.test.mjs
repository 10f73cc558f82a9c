// End to end: editing routes live from the studio's Routes page.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, startServer, waitFor } from './harness.mjs';

describe('routes page', () => {
  let server;
  let browser;
  let context;
  let page;
  /** The tab's open WebSockets. */
  const sockets = new Set();
  const body = async (path) => (await fetch(server.url + path)).text();
  /** covet.json of the running server's project, read and edited on disk
   * as a user would (written whole, then renamed into place, so that the
   * server's watcher never reads half a file). */
  const configFile = () => join(server.project, 'covet.json');
  const readConfig = () => JSON.parse(readFileSync(configFile(), 'utf8'));
  const writeConfig = (cfg) => {
    writeFileSync(configFile() + '.tmp', JSON.stringify(cfg, null, 2) + '\n');
    renameSync(configFile() + '.tmp', configFile());
  };
  const editRoute = (id, fn) => {
    const cfg = readConfig();
    fn(cfg.routes.find((r) => r.id === id));
    writeConfig(cfg);
  };
  const adminFetch = (path, init = {}) =>
    fetch(server.url + path, { ...init, headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json', ...init.headers } });

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    page.on('dialog', (d) => d.accept());
    page.on('websocket', (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
    });
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
    assert.equal(await page.getByTestId('try-param-name').inputValue(), '1', 'a plain parameter gets a sample value');
    assert.equal(await page.getByTestId('try-url').textContent(), '/e2e/1');
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

  it('tries a patterned route with its sample value and a typed one', async () => {
    const add = await adminFetch('/_covet/api/config/routes', {
      method: 'POST',
      body: JSON.stringify({ id: 'e2e-pat', method: 'GET', path: '/e2e-pat/{n:[a-z]+}', kind: 'mock', mock: { status: 200, body: 'got {n}' } }),
    });
    assert.equal(add.status, 200, await add.text());
    await page.locator('[data-route-id=e2e-pat] [data-testid=try-route]').click({ timeout: 10_000 });
    const n = page.getByTestId('try-param-n');
    const url = page.getByTestId('try-url');
    const send = async (want) => {
      await page.getByTestId('try-send').click();
      await page.locator('[data-testid=try-body]', { hasText: want }).waitFor({ timeout: 10_000 });
    };
    assert.equal(await n.inputValue(), 'a', 'the sample fits [a-z]+');
    assert.equal(await url.textContent(), '/e2e-pat/a');
    assert.equal(await page.getByTestId('try-param-hint-n').textContent(), 'Matches [a-z]+');
    await send('got a');
    assert.equal(await page.getByTestId('try-status').textContent(), '200');
    await page.locator('[data-testid=try-events]', { hasText: 'GET /e2e-pat/a → 200' }).waitFor({ timeout: 10_000 });

    await n.fill('zed');
    assert.equal(await url.textContent(), '/e2e-pat/zed');
    await send('got zed');
    assert.equal(await page.getByTestId('try-status').textContent(), '200');

    // A value the pattern refuses is flagged, and can still be tried.
    await n.fill('ab1');
    await page.locator('[data-testid=try-param-hint-n]', { hasText: 'Does not match [a-z]+' }).waitFor();
    assert.equal(await n.getAttribute('aria-invalid'), 'true');
    await page.getByTestId('try-send').click();
    await page.locator('[data-testid=try-status]', { hasText: '404' }).waitFor({ timeout: 10_000 });

    // No value: nothing to send.
    await n.fill('');
    await page.locator('[data-testid=try-missing]', { hasText: 'Fill in n to send.' }).waitFor();
    assert.equal(await page.getByTestId('try-send').isDisabled(), true);
    await n.fill('ok');
    assert.equal(await page.getByTestId('try-send').isDisabled(), false);
  });

  it('sends path parameters, query rows, headers and a body exactly as the URL shows them', async () => {
    const add = await adminFetch('/_covet/api/config/routes', {
      method: 'POST',
      body: JSON.stringify({ id: 'e2e-echo', method: 'POST', path: '/e2e-echo/{id:[0-9]{3}}/{rest...}', kind: 'handler', handler: { name: 'covet.echo' } }),
    });
    assert.equal(add.status, 200, await add.text());
    await page.locator('[data-route-id=e2e-echo] [data-testid=try-route]').click({ timeout: 10_000 });
    assert.equal(await page.getByTestId('try-param-id').inputValue(), '123', 'a sample for [0-9]{3}: braces inside the pattern');
    assert.equal(await page.getByTestId('try-param-rest').inputValue(), 'example');
    assert.equal(await page.getByTestId('try-method').inputValue(), 'POST');
    await page.getByTestId('try-param-rest').fill('a b/c.txt');
    await page.getByTestId('try-add-query').click();
    await page.getByTestId('try-query-name').nth(0).fill('q');
    await page.getByTestId('try-query-value').nth(0).fill('x&y=z');
    await page.getByTestId('try-add-query').click();
    await page.getByTestId('try-query-name').nth(1).fill('tag');
    await page.getByTestId('try-query-value').nth(1).fill('é');
    await page.getByTestId('try-add-query').click();
    await page.getByTestId('try-query-name').nth(2).fill('gone');
    await page.getByTestId('try-query-remove').nth(2).click();
    assert.equal(await page.getByTestId('try-query-name').count(), 2);
    assert.equal(await page.getByTestId('try-url').textContent(), '/e2e-echo/123/a%20b/c.txt?q=x%26y%3Dz&tag=%C3%A9');
    await page.getByTestId('try-headers').fill('X-Try: yes\nAccept: application/json');
    await page.getByTestId('try-body-input').fill('{"hi": 1}');
    await page.getByTestId('try-send').click();
    await page.locator('[data-testid=try-status]', { hasText: '200' }).waitFor({ timeout: 10_000 });
    const echoed = JSON.parse(await page.getByTestId('try-body').textContent());
    assert.equal(echoed.method, 'POST');
    assert.deepEqual(echoed.params, { id: '123', rest: 'a b/c.txt' });
    assert.deepEqual(echoed.query, { q: ['x&y=z'], tag: ['é'] });
    assert.deepEqual(echoed.headers['X-Try'], ['yes']);
    assert.equal(echoed.body, '{"hi": 1}');
    assert.match(await page.getByTestId('try-body').textContent(), /\n {2}"method": "POST"/, 'the JSON answer is pretty-printed');
    mkdirSync('artifacts', { recursive: true });
    await page.screenshot({ path: 'artifacts/routes-try.png' });
    await page.getByTestId('try-panel').getByRole('button', { name: 'Close' }).click();
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
  it('keeps one event stream per tab, whatever the page', async () => {
    for (const nav of ['nav-dashboard', 'nav-database', 'nav-queries', 'nav-keys', 'nav-bench', 'nav-routes']) {
      await page.getByTestId(nav).click();
      await waitFor(async () => sockets.size === 1, 10_000, `one WebSocket on ${nav}, not ${sockets.size}`);
      await new Promise((r) => setTimeout(r, 300)); // a second stream would have opened by now
      assert.equal(sockets.size, 1, `WebSockets open on ${nav}`);
    }
  });

  it('shows an invalid covet.json edit on disk with its JSON path, on every page, until the fixed file applies', async () => {
    const cfg = readConfig();
    cfg.routes.push({ id: 'disk', method: 'GET', path: '/disk/{y}/{y}', kind: 'mock', mock: { status: 200, body: 'from disk' } });
    const at = cfg.routes.length - 1;
    writeConfig(cfg);

    const banner = page.getByTestId('config-file-problem');
    await page.locator('[data-testid=config-file-error]', { hasText: `routes[${at}].path` }).waitFor({ timeout: 10_000 });
    const text = await banner.textContent();
    assert.match(text, new RegExp(`routes\\[${at}\\]\\.path: parameter \\{y\\} declared twice`));
    assert.match(text, /not applied: the previous configuration is still serving/);
    assert.equal((await fetch(server.url + '/disk/a/b')).status, 404, 'the invalid file is not served');
    assert.equal(await page.locator('[data-route-id=disk]').count(), 0);
    mkdirSync('artifacts', { recursive: true });
    await page.screenshot({ path: 'artifacts/routes-file-error.png' });
    // The notice is studio-wide: the user may be on another page.
    await page.getByTestId('nav-dashboard').click();
    await banner.waitFor();
    await page.getByTestId('nav-routes').click();
    await page.getByTestId('routes-page').waitFor();
    // A studio opened after the refusal learns of it from the server.
    await page.reload();
    await page.getByTestId('routes-page').waitFor();
    await page.locator('[data-testid=config-file-error]', { hasText: `routes[${at}].path` }).waitFor({ timeout: 10_000 });
    // Changes from the studio wait: applying one would overwrite the edit.
    await page.getByTestId('undo').click();
    await page.getByText('covet.json on disk has an edit that was not applied').first().waitFor({ timeout: 10_000 });
    assert.deepEqual(readConfig().routes[at].path, '/disk/{y}/{y}', 'the refused undo left the file alone');

    cfg.routes[at].path = '/disk/{y}';
    writeConfig(cfg);
    await banner.waitFor({ state: 'detached', timeout: 10_000 });
    await page.locator('[data-route-id=disk]', { hasText: '/disk/{y}' }).waitFor({ timeout: 10_000 });
    await page.locator('[data-testid=routes-notice]', { hasText: 'covet.json was edited on disk' }).waitFor({ timeout: 10_000 });
    assert.equal(await body('/disk/a'), 'from disk');
  });

  it('keeps an open draft when covet.json changes the same route on disk, and applies it after a reload', async () => {
    await page.locator('[data-route-id=e2e] [data-testid=edit-route]').click();
    await page.getByTestId('field-body').fill('my draft');
    await page.locator('[data-testid=apply-route]:not([disabled])').waitFor({ timeout: 10_000 });

    editRoute('e2e', (r) => (r.mock.body = 'edited on disk'));
    const stale = page.getByTestId('editor-stale');
    await stale.waitFor({ timeout: 10_000 });
    assert.match(await stale.textContent(), /While you were editing, covet\.json was edited on disk, and e2e was changed there too/);
    assert.equal(await page.getByTestId('field-body').inputValue(), 'my draft', 'the draft is kept');
    assert.equal(await page.getByTestId('apply-route').isDisabled(), true);
    // Behind the editor, the table already shows the new configuration.
    await page.locator('[data-route-id=e2e]', { hasText: 'edited on disk' }).waitFor({ timeout: 10_000 });
    assert.equal(await body('/e2e/x'), 'edited on disk');

    await page.getByTestId('reload-keep-draft').click();
    await page.locator('[data-testid=diff-preview] .del', { hasText: 'edited on disk' }).waitFor();
    await page.locator('[data-testid=diff-preview] .add', { hasText: 'my draft' }).waitFor();
    await page.locator('[data-testid=apply-route]:not([disabled])').waitFor({ timeout: 10_000 });
    await page.getByTestId('apply-route').click();
    await page.locator('[data-testid=routes-notice]', { hasText: 'Updated GET /e2e/{name}' }).waitFor({ timeout: 10_000 });
    assert.equal(await body('/e2e/x'), 'my draft');
  });

  it('recovers from a stale ETag (412): reloads the configuration, keeps the draft, and applies again', async () => {
    // A second studio window whose event stream misses config.changed, so
    // that only the server's 412 tells it the configuration moved on.
    const other = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    try {
      await other.addCookies(await context.cookies());
      let dropping = false;
      await other.routeWebSocket(/\/_covet\/api\/events/, (ws) => {
        const upstream = ws.connectToServer();
        upstream.onMessage((m) => {
          if (!(dropping && String(m).includes('"config.changed"'))) ws.send(m);
        });
      });
      const p2 = await other.newPage();
      const puts = [];
      p2.on('response', (r) => r.request().method() === 'PUT' && r.url().endsWith('/config/routes/moved') && puts.push(r.status()));
      await p2.goto(server.url + '/_covet/#/routes');
      await p2.locator('[data-route-id=moved] [data-testid=edit-route]').click({ timeout: 15_000 });
      await p2.getByTestId('field-redirectStatus').selectOption('301');
      await p2.locator('[data-testid=apply-route]:not([disabled])').waitFor({ timeout: 10_000 });

      dropping = true;
      const res = await adminFetch('/_covet/api/config/routes/disk/mock/body', { method: 'PUT', body: JSON.stringify('changed elsewhere') });
      assert.equal(res.status, 200);
      await p2.getByTestId('apply-route').click();
      // The 412 reloads the configuration; moved itself was not touched, so
      // the draft now applies to the latest one.
      await p2.locator('[data-testid=editor-note]', { hasText: 'Your draft now applies to the latest configuration' }).waitFor({ timeout: 10_000 });
      assert.equal(await p2.getByTestId('field-redirectStatus').inputValue(), '301');
      await p2.locator('[data-testid=apply-route]:not([disabled])').waitFor({ timeout: 10_000 });
      await p2.getByTestId('apply-route').click();
      await p2.locator('[data-testid=routes-notice]', { hasText: 'Updated GET /moved/{id}' }).waitFor({ timeout: 10_000 });
      assert.deepEqual(puts, [412, 200], 'refused as stale once, then applied');
      assert.equal((await fetch(server.url + '/moved/1', { redirect: 'manual' })).status, 301);
      assert.equal(await body('/disk/a'), 'changed elsewhere', 'the change made elsewhere is kept');
    } finally {
      await other.close();
    }
  });

  it('limits a route by a request header, checked by the server', async () => {
    await page.getByTestId('add-route').click();
    await page.getByTestId('field-id').fill('limited');
    await page.getByTestId('field-path').fill('/limited');
    await page.getByTestId('field-body').fill('ok');
    await page.getByTestId('field-rateRate').fill('1');
    await page.getByTestId('field-ratePer').fill('1m');
    await page.getByTestId('field-rateKey').selectOption('header');
    await page.getByTestId('field-rateHeader').fill('X Api Key');
    await page.locator('[data-testid=error-rateKey]', { hasText: 'is not a key' }).waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId('apply-route').isDisabled(), true);
    await page.getByTestId('field-rateHeader').fill('X-Api-Key');
    await page.locator('[data-testid=diff-preview]', { hasText: '"key": "header:X-Api-Key"' }).waitFor();
    await page.locator('[data-testid=apply-route]:not([disabled])').waitFor({ timeout: 10_000 });
    await page.getByTestId('apply-route').click();
    await page.locator('[data-testid=routes-notice]', { hasText: 'Added GET /limited' }).waitFor({ timeout: 10_000 });
    const get = (key) => fetch(server.url + '/limited', { headers: { 'X-Api-Key': key } });
    assert.equal((await get('a')).status, 200);
    assert.equal((await get('a')).status, 429, 'the second request with the same key is limited');
    assert.equal((await get('b')).status, 200, 'another key has its own bucket');

    await page.locator('[data-route-id=limited] [data-testid=edit-route]').click();
    assert.equal(await page.getByTestId('field-rateKey').inputValue(), 'header');
    assert.equal(await page.getByTestId('field-rateHeader').inputValue(), 'X-Api-Key');
    await page.getByRole('button', { name: 'Cancel' }).click();
  });

  it('adds a proxy route with a rewrite, header rules and CSRF, and the upstream sees the rewritten request', async () => {
    // The upstream is a covet.echo route on the same server: it answers with the request it got.
    const add = await adminFetch('/_covet/api/config/routes', {
      method: 'POST',
      body: JSON.stringify({ id: 'e2e-upstream', method: 'GET', path: '/e2e-upstream/{rest...}', kind: 'handler', handler: { name: 'covet.echo' } }),
    });
    assert.equal(add.status, 200, await add.text());

    await page.getByTestId('add-route').click();
    await page.getByTestId('field-id').fill('e2e-proxy');
    await page.getByTestId('field-kind').selectOption('proxy');
    await page.getByTestId('field-path').fill('/e2e-proxy/{id}/{rest...}');
    await page.getByTestId('field-proxyUpstream').fill(server.url);
    await page.getByTestId('field-proxyRewrite').fill('/e2e-upstream/v2/{id}/{rest}');
    assert.equal(await page.getByTestId('field-proxyStripPrefix').isDisabled(), true, 'a rewrite excludes a strip prefix');
    await page.getByTestId('field-proxySetHeaders').fill('X-From: covet\nX-Drop:');
    // A bad header name: the server's own error, next to the field.
    await page.getByTestId('field-proxyResponseHeaders').fill('X-Answered-By: e2e\nX Bad: 1');
    const err = page.getByTestId('error-proxyResponseHeaders');
    await err.waitFor({ timeout: 10_000 });
    assert.match(await err.textContent(), /"X Bad" is not a valid header name/);
    assert.equal(await page.getByTestId('apply-route').isDisabled(), true);
    await page.getByTestId('field-proxyResponseHeaders').fill('X-Answered-By: e2e\nServer:');
    await err.waitFor({ state: 'detached', timeout: 10_000 });
    // So is a bad CSRF trusted origin.
    await page.getByTestId('field-csrf').check();
    await page.getByTestId('field-csrfOrigins').fill('app.example');
    await page.getByTestId('error-csrfOrigins').waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId('apply-route').isDisabled(), true);
    await page.getByTestId('field-csrfOrigins').fill('https://app.example');
    await page.locator('[data-testid=diff-preview]', { hasText: '"rewrite": "/e2e-upstream/v2/{id}/{rest}"' }).waitFor();
    await page.locator('[data-testid=diff-preview]', { hasText: '"trustedOrigins"' }).waitFor();
    await page.locator('[data-testid=apply-route]:not([disabled])').waitFor({ timeout: 10_000 });
    await page.getByTestId('apply-route').click();
    await page.locator('[data-testid=routes-notice]', { hasText: 'Added GET /e2e-proxy/{id}/{rest...}' }).waitFor({ timeout: 10_000 });
    assert.deepEqual(readConfig().routes.find((r) => r.id === 'e2e-proxy').policy, { csrf: { trustedOrigins: ['https://app.example'] } });

    const res = await fetch(server.url + '/e2e-proxy/7/a%20b/c.txt?q=1', { headers: { 'X-Drop': 'from the client' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-answered-by'), 'e2e', 'the response header is set on the answer');
    const echoed = await res.json();
    assert.equal(echoed.path, '/e2e-upstream/v2/7/a b/c.txt', 'the upstream saw the rewritten path');
    assert.deepEqual(echoed.query, { q: ['1'] }, 'the query string is kept');
    assert.deepEqual(echoed.headers['X-From'], ['covet']);
    assert.equal(echoed.headers['X-Drop'], undefined, '"X-Drop:" removes the header');

    // Try it shows the same: the rewritten path and the header.
    await page.locator('[data-route-id=e2e-proxy] [data-testid=try-route]').click();
    await page.getByTestId('try-param-id').fill('42');
    await page.getByTestId('try-param-rest').fill('x/y');
    await page.getByTestId('try-send').click();
    await page.locator('[data-testid=try-status]', { hasText: '200' }).waitFor({ timeout: 10_000 });
    assert.equal(JSON.parse(await page.getByTestId('try-body').textContent()).path, '/e2e-upstream/v2/42/x/y');
    const panel = page.getByTestId('try-panel');
    const names = (await panel.locator('dt').allTextContents()).map((n) => n.toLowerCase());
    assert.equal((await panel.locator('dd').allTextContents())[names.indexOf('x-answered-by')], 'e2e');
    await panel.getByRole('button', { name: 'Close' }).click();

    // Opened again, the editor shows the new fields, and an untouched form changes nothing.
    await page.locator('[data-route-id=e2e-proxy] [data-testid=edit-route]').click();
    assert.equal(await page.getByTestId('field-proxyRewrite').inputValue(), '/e2e-upstream/v2/{id}/{rest}');
    // (The server keeps header rules in name order.)
    assert.equal(await page.getByTestId('field-proxySetHeaders').inputValue(), 'X-Drop:\nX-From: covet');
    assert.equal(await page.getByTestId('field-proxyResponseHeaders').inputValue(), 'Server:\nX-Answered-By: e2e');
    assert.equal(await page.getByTestId('field-csrf').isChecked(), true);
    assert.equal(await page.getByTestId('field-csrfOrigins').inputValue(), 'https://app.example');
    assert.equal(await page.locator('[data-testid=diff-preview] :is(.add, .del)').count(), 0, 'no change');
    mkdirSync('artifacts', { recursive: true });
    await page.screenshot({ path: 'artifacts/routes-proxy-editor.png' });
    await page.getByTestId('field-csrfOrigins').scrollIntoViewIfNeeded();
    await page.screenshot({ path: 'artifacts/routes-csrf-editor.png' });
    await page.getByRole('button', { name: 'Cancel' }).click();
  });
});
