import { describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError, attachmentName } from './client';

const ok = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });

describe('ApiClient', () => {
  it('sends the bearer token from the desktop shell', async () => {
    const f = vi.fn().mockResolvedValue(ok({ version: '0.1.0' }));
    const c = new ApiClient({ url: 'http://127.0.0.1:4000', token: 'tok' }, f);
    await c.info();
    const [url, init] = f.mock.calls[0];
    expect(url).toBe('http://127.0.0.1:4000/_covet/api/info');
    expect(new Headers(init.headers).get('Authorization')).toBe('Bearer tok');
    expect(init.credentials).toBe('omit');
  });

  it('relies on the cookie in the browser', async () => {
    const f = vi.fn().mockResolvedValue(ok([]));
    const c = new ApiClient({ url: 'http://localhost:8080', token: '' }, f);
    await c.requests(50);
    const [url, init] = f.mock.calls[0];
    expect(url).toBe('http://localhost:8080/_covet/api/requests?limit=50');
    expect(new Headers(init.headers).has('Authorization')).toBe(false);
    expect(init.credentials).toBe('same-origin');
  });

  it('turns a problem+json answer into an ApiError with its detail', async () => {
    const f = vi.fn().mockResolvedValue(new Response(JSON.stringify({ title: 'Unauthorized', status: 401, detail: 'missing token' }), { status: 401 }));
    const err = await new ApiClient({ url: 'http://x', token: '' }, f).info().catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(401);
    expect(err.message).toBe('missing token');
  });

  it('reports an unreachable server as status 0', async () => {
    const f = vi.fn().mockRejectedValue(new TypeError('Failed to fetch'));
    const err = await new ApiClient({ url: 'http://127.0.0.1:1', token: '' }, f).series().catch((e) => e);
    expect(err.status).toBe(0);
    expect(err.message).toContain('unreachable');
  });

  it('derives the stream URL and puts the token in a subprotocol, never the URL', () => {
    const desktop = new ApiClient({ url: 'http://127.0.0.1:4000', token: 'tok' }).streamTarget();
    expect(desktop).toEqual({ url: 'ws://127.0.0.1:4000/_covet/api/events', protocols: ['covet.v1', 'covet.token.tok'] });
    const browser = new ApiClient({ url: 'https://studio.localhost:8443', token: '' }).streamTarget();
    expect(browser).toEqual({ url: 'wss://studio.localhost:8443/_covet/api/events', protocols: ['covet.v1'] });
  });
});

describe('ApiClient writes', () => {
  it('sends JSON with If-Match and returns the change', async () => {
    const f = vi.fn().mockResolvedValue(new Response(JSON.stringify({ version: 3, etag: '"b"' }), { status: 200, headers: { ETag: '"b"' } }));
    const c = new ApiClient({ url: 'http://x', token: 't' }, f);
    const change = await c.putRoute('a b', { id: 'a b', method: 'GET', path: '/a', kind: 'mock' }, '"a"');
    const [url, init] = f.mock.calls[0];
    expect(url).toBe('http://x/_covet/api/config/routes/a%20b');
    expect(init.method).toBe('PUT');
    expect(new Headers(init.headers).get('If-Match')).toBe('"a"');
    expect(new Headers(init.headers).get('Content-Type')).toBe('application/json');
    expect(JSON.parse(init.body).path).toBe('/a');
    expect(change.version).toBe(3);
  });

  it('carries every field error of a 400', async () => {
    const problem = { status: 400, detail: 'invalid', errors: [{ path: 'routes[0].path', message: 'must start with /' }] };
    const f = vi.fn().mockResolvedValue(new Response(JSON.stringify(problem), { status: 400 }));
    const err = await new ApiClient({ url: 'http://x', token: '' }, f).validate({} as never).catch((e) => e);
    expect(err.status).toBe(400);
    expect(err.fieldErrors).toEqual(problem.errors);
  });

  it('reads the ETag of the configuration', async () => {
    const f = vi.fn().mockResolvedValue(new Response('{"routes": []}', { status: 200, headers: { ETag: '"e1"' } }));
    const { config, etag } = await new ApiClient({ url: 'http://x', token: '' }, f).config();
    expect(etag).toBe('"e1"');
    expect(config.routes).toEqual([]);
  });
});

describe('ApiClient queries', () => {
  it('posts a statement to explain and returns the plan', async () => {
    const plan = { dialect: 'sqlite', analyzed: false, nodes: [{ label: 'SCAN users', fullScan: true }], raw: '' };
    const f = vi.fn().mockResolvedValue(ok(plan));
    const c = new ApiClient({ url: 'http://x', token: 't' }, f);
    expect(await c.explain({ sql: 'SELECT 1', args: [1], analyze: true })).toEqual(plan);
    const [url, init] = f.mock.calls[0];
    expect(url).toBe('http://x/_covet/api/queries/explain');
    expect(init.method).toBe('POST');
    expect(JSON.parse(init.body)).toEqual({ sql: 'SELECT 1', args: [1], analyze: true });
  });

  it('resets the statistics with a DELETE answered by 204', async () => {
    const f = vi.fn().mockResolvedValue(new Response(null, { status: 204 }));
    await expect(new ApiClient({ url: 'http://x', token: '' }, f).resetQueryStats()).resolves.toBeUndefined();
    expect(f.mock.calls[0][0]).toBe('http://x/_covet/api/queries/stats');
    expect(f.mock.calls[0][1].method).toBe('DELETE');
  });

  it('gives the reason of a refused console statement', async () => {
    const problem = { status: 422, detail: 'DELETE needs write mode' };
    const f = vi.fn().mockResolvedValue(new Response(JSON.stringify(problem), { status: 422 }));
    const err = await new ApiClient({ url: 'http://x', token: '' }, f).sql({ sql: 'DELETE FROM t', args: [] }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(422);
    expect(err.message).toBe('DELETE needs write mode');
  });
});

describe('ApiClient migrations', () => {
  it('reads the status, runs a dry run and forces a version', async () => {
    const status = { dialect: 'sqlite', table: 'covet_migrations', current: 1, pending: 0, migrations: [], problems: [] };
    const report = { dryRun: true, current: 0, steps: [] };
    const f = vi.fn().mockResolvedValueOnce(ok(status)).mockResolvedValueOnce(ok(report)).mockResolvedValueOnce(ok(status));
    const c = new ApiClient({ url: 'http://x', token: 't' }, f);
    expect(await c.migrations()).toEqual(status);
    expect(await c.runMigrations({ action: 'to', version: 2, dryRun: true })).toEqual(report);
    expect(await c.forceMigration(1)).toEqual(status);
    expect(f.mock.calls.map(([u, i]) => `${i.method} ${u}`)).toEqual([
      'GET http://x/_covet/api/migrations',
      'POST http://x/_covet/api/migrations/run',
      'POST http://x/_covet/api/migrations/force',
    ]);
    expect(JSON.parse(f.mock.calls[1][1].body)).toEqual({ action: 'to', version: 2, dryRun: true });
    expect(new Headers(f.mock.calls[1][1].headers).get('Content-Type')).toBe('application/json');
    expect(JSON.parse(f.mock.calls[2][1].body)).toEqual({ version: 1 });
  });

  it('carries the linter findings of a 409 and the failed statement of a 422', async () => {
    const refused = { status: 409, detail: 'destructive changes: run again with force to apply them', errors: [{ path: '0002_x.down.sql:1', message: 'drop-column: drops column t.c and its data' }] };
    const failed = { status: 422, detail: 'migrate: up 0002_x.up.sql:4: statement 2 of 2: no such table: nope (rolled back: nothing of this migration was applied)' };
    const f = vi
      .fn()
      .mockResolvedValueOnce(new Response(JSON.stringify(refused), { status: 409 }))
      .mockResolvedValueOnce(new Response(JSON.stringify(failed), { status: 422 }));
    const c = new ApiClient({ url: 'http://x', token: '' }, f);
    const lint = await c.runMigrations({ action: 'down' }).catch((e) => e);
    expect(lint).toBeInstanceOf(ApiError);
    expect([lint.status, lint.fieldErrors]).toEqual([409, refused.errors]);
    const step = await c.runMigrations({ action: 'up', force: true }).catch((e) => e);
    expect([step.status, step.message]).toEqual([422, failed.detail]);
  });

  it('generates a migration, and carries the 400 of a bad name', async () => {
    const draft = { up: ['CREATE TABLE "tags" (id INTEGER)'], down: ['DROP TABLE "tags"'], notes: [], upFile: '0003_tags.up.sql', downFile: '0003_tags.down.sql' };
    const bad = { status: 400, detail: 'writing a migration: name "Bad": want a-z, 0-9 and _' };
    const f = vi.fn().mockResolvedValueOnce(ok(draft)).mockResolvedValueOnce(new Response(JSON.stringify(bad), { status: 400 }));
    const c = new ApiClient({ url: 'http://x', token: 't' }, f);
    expect(await c.generateMigration({ write: true, name: 'tags' })).toEqual(draft);
    expect(`${f.mock.calls[0][1].method} ${f.mock.calls[0][0]}`).toBe('POST http://x/_covet/api/migrations/generate');
    expect(JSON.parse(f.mock.calls[0][1].body)).toEqual({ write: true, name: 'tags' });
    const err = await c.generateMigration({ write: true, name: 'Bad' }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect([err.status, err.message]).toEqual([400, bad.detail]);
  });

  it('names each bad file when the migrations cannot be read', async () => {
    const problem = { status: 409, detail: 'the migration files have problems', errors: [{ path: 'migrations', message: '3_Oops.up.sql: want NNNN_name.up.sql' }] };
    const f = vi.fn().mockResolvedValue(new Response(JSON.stringify(problem), { status: 409 }));
    const err = await new ApiClient({ url: 'http://x', token: '' }, f).migrations().catch((e) => e);
    expect(err.status).toBe(409);
    expect(err.fieldErrors[0].message).toMatch(/^3_Oops\.up\.sql/);
  });
});

describe('ApiClient bench', () => {
  it('starts a run, names 409 and 400 problems', async () => {
    const f = vi
      .fn()
      .mockResolvedValueOnce(new Response(JSON.stringify({ id: 'r1', status: 'running' }), { status: 201 }))
      .mockResolvedValueOnce(new Response(JSON.stringify({ title: 'Conflict', status: 409, detail: 'a load test is running' }), { status: 409 }))
      .mockResolvedValueOnce(
        new Response(JSON.stringify({ title: 'Bad Request', status: 400, detail: 'invalid', errors: [{ path: 'ramp[0].rate', message: 'too low' }] }), { status: 400 }),
      );
    const c = new ApiClient({ url: 'http://x', token: 't' }, f);
    const run = await c.startBench({ url: 'http://127.0.0.1:1/', duration: '5s', source: 'route:hello' });
    expect(run.id).toBe('r1');
    const [url, init] = f.mock.calls[0];
    expect(url).toBe('http://x/_covet/api/bench/runs');
    expect(init.method).toBe('POST');
    expect(JSON.parse(init.body)).toEqual({ url: 'http://127.0.0.1:1/', duration: '5s', source: 'route:hello' });
    const busy = await c.startBench({ url: 'http://h/', duration: '1s' }).catch((e) => e);
    expect([busy.status, busy.message]).toEqual([409, 'a load test is running']);
    const bad = await c.startBench({ url: 'http://h/', duration: '1s' }).catch((e) => e);
    expect(bad.fieldErrors).toEqual([{ path: 'ramp[0].rate', message: 'too low' }]);
  });

  it('renames, cancels, deletes and compares by id', async () => {
    const f = vi.fn().mockImplementation(async () => new Response('{}', { status: 200 }));
    const c = new ApiClient({ url: 'http://x', token: '' }, f);
    await c.renameBench('a/b', 'new');
    await c.cancelBench('r1');
    f.mockResolvedValueOnce(new Response(null, { status: 204 }));
    await c.deleteBench('r1');
    await c.compareBench('r1', 'r 2');
    expect(f.mock.calls.map(([u, i]) => `${i.method} ${u}`)).toEqual([
      'PATCH http://x/_covet/api/bench/runs/a%2Fb',
      'POST http://x/_covet/api/bench/runs/r1/cancel',
      'DELETE http://x/_covet/api/bench/runs/r1',
      'GET http://x/_covet/api/bench/compare?a=r1&b=r%202',
    ]);
    expect(JSON.parse(f.mock.calls[0][1].body)).toEqual({ name: 'new' });
  });

  it('exports a run as a file with the name the server gives', async () => {
    const f = vi.fn().mockResolvedValue(
      new Response('<html></html>', { status: 200, headers: { 'Content-Type': 'text/html', 'Content-Disposition': 'attachment; filename="covet-bench \\"r1\\".html"' } }),
    );
    const c = new ApiClient({ url: 'http://x', token: 't' }, f);
    const { blob, filename } = await c.exportBench('r1', 'html');
    expect(f.mock.calls[0][0]).toBe('http://x/_covet/api/bench/runs/r1/export?format=html');
    expect(new Headers(f.mock.calls[0][1].headers).get('Authorization')).toBe('Bearer t');
    expect(filename).toBe('covet-bench "r1".html');
    expect(await blob.text()).toBe('<html></html>');
    f.mockResolvedValueOnce(new Response('{}', { status: 200 }));
    expect((await c.exportBench('r2', 'json')).filename).toBe('bench-r2.json');
  });

  it.each([
    ['attachment; filename="run.csv"', 'run.csv'],
    ['attachment; filename=run.csv', 'run.csv'],
    ["attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.html; filename=\"x.html\"", 'résumé.html'],
    ['inline', ''],
  ])('reads the file name of %s', (header, want) => expect(attachmentName(header)).toBe(want));
});
