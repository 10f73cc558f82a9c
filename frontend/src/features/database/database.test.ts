import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiClient } from '../../api/client';
import type { DatabaseStatus, MigrationReport, MigrationStatus, MigrationsStatus, MigrationStep } from '../../api/types.gen';
import { DatabaseState } from './database.svelte';

const migration = (version: number, name: string, state: string): MigrationStatus => ({
  version,
  name,
  state,
  upFile: `000${version}_${name}.up.sql`,
  downFile: `000${version}_${name}.down.sql`,
  up: [{ sql: 'CREATE TABLE notes (id INT)', line: 1 }],
  down: [{ sql: 'DROP TABLE notes', line: 1 }],
  upWarnings: [],
  downWarnings: [],
});
const status = (current: number, states: string[], problems: string[] = []): MigrationsStatus => ({
  dialect: 'sqlite',
  table: 'covet_migrations',
  current,
  pending: states.filter((s) => s === 'pending').length,
  migrations: states.map((s, i) => migration(i + 1, ['notes', 'pinned', 'tags'][i], s)),
  problems,
});
const step = (version: number, direction: string, over: Partial<MigrationStep> = {}): MigrationStep => ({
  version,
  name: ['notes', 'pinned'][version - 1],
  direction,
  file: `000${version}_${['notes', 'pinned'][version - 1]}.${direction}.sql`,
  statements: [{ sql: `STATEMENT ${version}a`, line: 1 }, { sql: `STATEMENT ${version}b`, line: 4 }],
  warnings: [],
  ...over,
});
const dropColumn = { statement: 1, line: 1, rule: 'drop-column', message: 'drops column notes.pinned and its data' };
const report = (current: number, steps: MigrationStep[], dryRun = true): MigrationReport => ({ dryRun, current, steps });
const database: DatabaseStatus = {
  dialect: 'sqlite',
  dsn: 'sqlite:covet_data/covet.db',
  pools: [{ name: 'primary', maxOpen: 1, open: 1, inUse: 0, idle: 1, waitCount: 0, waitDurationNs: 0 }],
  pingMs: 0.1,
  slowQueryMs: 100,
  nPlusOneThreshold: 3,
};

type Answer = { status?: number; body: unknown };

/** A state on a fake server: each "METHOD /path" answers from its queue,
 * in order, the last answer again once the queue is down to one. */
function fake(answers: Record<string, Answer[]>) {
  const calls: { key: string; body: unknown }[] = [];
  const f = vi.fn(async (url: string, init: RequestInit) => {
    const key = `${init.method} ${url.replace('http://x/_covet/api', '')}`;
    calls.push({ key, body: init.body ? JSON.parse(init.body as string) : undefined });
    const queue = answers[key];
    if (!queue?.length) return new Response(JSON.stringify({ detail: `no answer for ${key}` }), { status: 500 });
    const a = queue.length > 1 ? queue.shift()! : queue[0];
    return new Response(JSON.stringify(a.body), { status: a.status ?? 200 });
  });
  const signedOut = vi.fn();
  const s = new DatabaseState(new ApiClient({ url: 'http://x', token: 't' }, f as never), signedOut);
  return { s, calls, signedOut, runs: () => calls.filter((c) => c.key === 'POST /migrations/run').map((c) => c.body) };
}
const ev = (type: string, data: unknown) => ({ type, seq: 1, time: '', data });

afterEach(() => vi.useRealTimers());

describe('DatabaseState: connection', () => {
  it('loads the status, and says when the server cannot be asked', async () => {
    const { s } = fake({ 'GET /database': [{ body: database }, { status: 500, body: { detail: 'boom' } }] });
    await s.refreshDatabase();
    expect(s.db?.dsn).toBe('sqlite:covet_data/covet.db');
    expect(s.dbProblem).toBe('');
    expect(s.dbCheckedAt).toBeGreaterThan(0);
    await s.refreshDatabase();
    expect(s.dbProblem).toBe('boom');
    expect(s.db?.dialect).toBe('sqlite'); // the last known figures stay
  });

  it('polls while started and visible, and stops', async () => {
    vi.useFakeTimers();
    const fetched: string[] = [];
    const f = async (url: string, init: RequestInit) => {
      fetched.push(`${init.method} ${url.replace('http://x/_covet/api', '')}`);
      return new Response(JSON.stringify(url.endsWith('/database') ? database : status(0, [])), { status: 200 });
    };
    class FakeSocket {
      static opened = 0;
      constructor() {
        FakeSocket.opened++;
      }
      close() {}
    }
    const s = new DatabaseState(new ApiClient({ url: 'http://x', token: 't' }, f as never), () => {}, { pollMs: 1000, WebSocket: FakeSocket as never });
    const polls = () => fetched.filter((k) => k === 'GET /database').length;
    s.start();
    expect(FakeSocket.opened).toBe(1);
    await vi.advanceTimersByTimeAsync(3000);
    expect(polls()).toBe(4); // on start, then every second
    expect(fetched.filter((k) => k === 'GET /migrations')).toHaveLength(1);
    window.dispatchEvent(new Event('focus')); // back from an editor: the files may have changed
    await vi.advanceTimersByTimeAsync(0);
    expect(fetched.filter((k) => k === 'GET /migrations')).toHaveLength(2);
    s.stop();
    await vi.advanceTimersByTimeAsync(3000);
    expect(polls()).toBe(4);
  });

  it('reports a lost session', async () => {
    const { s, signedOut } = fake({ 'GET /database': [{ status: 401, body: { detail: 'no' } }], 'GET /migrations': [{ status: 401, body: { detail: 'no' } }] });
    await s.refreshAll();
    expect(signedOut).toHaveBeenCalledTimes(2);
    expect(s.dbProblem).toBe('');
    expect(s.listError).toBeNull();
  });
});

describe('DatabaseState: migrations', () => {
  it('keeps the problems of the files, each naming its file', async () => {
    const problem = { status: 409, body: { detail: 'the migration files have problems', errors: [{ path: 'migrations', message: '3_Oops.up.sql: want NNNN_name.up.sql' }] } };
    const { s } = fake({ 'GET /migrations': [{ body: status(0, []) }, problem, { status: 502, body: { detail: 'away' } }, { body: status(0, ['pending']) }] });
    await s.refreshMigrations();
    await s.refreshMigrations();
    expect(s.status).toBeNull(); // no list holds until the files are fixed
    expect(s.listError).toEqual({ status: 409, message: 'the migration files have problems', errors: problem.body.errors });
    await s.refreshMigrations();
    expect(s.listError?.message).toBe('away');
    await s.refreshMigrations();
    expect(s.listError).toBeNull();
    expect(s.status?.pending).toBe(1);
  });

  it('takes the status a migrations.changed event carries, over an older answer in flight', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const { s } = fake({ 'GET /migrations': [{ body: status(0, ['pending', 'pending']) }] });
    const api = (s as unknown as { api: ApiClient }).api;
    vi.spyOn(api, 'migrations').mockImplementation(async () => (await gate, status(0, ['pending', 'pending'])));
    const loading = s.refreshMigrations(); // answers after the event
    s.handle(ev('migrations.changed', status(2, ['applied', 'applied'])));
    release();
    await loading;
    expect(s.status?.current).toBe(2);
    s.handle(ev('query', {}));
    expect(s.status?.current).toBe(2);
  });

  it('expands and collapses a migration', () => {
    const { s } = fake({});
    s.toggle(2);
    s.toggle(1);
    s.toggle(2);
    expect([...s.expanded]).toEqual([1]);
  });
});

describe('DatabaseState: a run', () => {
  it('previews "apply pending", runs exactly what it showed, shows the outcome and refreshes', async () => {
    const planned = report(0, [step(1, 'up'), step(2, 'up')]);
    const done = report(2, [step(1, 'up', { outcome: 'applied', durationMs: 2 }), step(2, 'up', { outcome: 'applied', durationMs: 1 })], false);
    const { s, runs } = fake({
      'GET /migrations': [{ body: status(0, ['pending', 'pending']) }, { body: status(2, ['applied', 'applied']) }],
      'POST /migrations/run': [{ body: planned }, { body: done }],
    });
    await s.refreshMigrations();
    await s.openPreview({ kind: 'up' });
    expect(s.preview?.title).toBe('Apply 2 pending migrations');
    expect(s.preview?.report?.steps).toHaveLength(2);
    expect(s.canConfirm).toBe(true);
    await s.confirm();
    expect(runs()).toEqual([{ action: 'up', dryRun: true }, { action: 'up', steps: 2 }]);
    expect(s.preview).toBeNull();
    expect(s.outcome?.steps.map((x) => [x.version, x.outcome, x.durationMs])).toEqual([
      [1, 'applied', 2],
      [2, 'applied', 1],
    ]);
    expect(s.outcome?.current).toBe(2);
    expect(s.status?.current).toBe(2);
  });

  it('requires the acknowledgement of destructive statements, then sends force', async () => {
    const planned = report(2, [step(2, 'down', { warnings: [dropColumn] })]);
    const { s, runs } = fake({
      'GET /migrations': [{ body: status(2, ['applied', 'applied']) }],
      'POST /migrations/run': [{ body: planned }, { body: report(1, [step(2, 'down', { outcome: 'applied' })], false) }],
    });
    await s.refreshMigrations();
    await s.openPreview({ kind: 'down' });
    expect(s.preview?.title).toBe('Roll back 0002_pinned');
    expect(s.canConfirm).toBe(false);
    await s.confirm();
    expect(runs()).toHaveLength(1); // nothing ran without the acknowledgement
    s.acknowledged = true;
    expect(s.canConfirm).toBe(true);
    await s.confirm();
    expect(runs()).toEqual([{ action: 'down', dryRun: true }, { action: 'down', force: true }]);
    expect(s.acknowledged).toBe(false);
    expect(s.outcome?.current).toBe(1);
  });

  it('shows a 422 with the failed file, line and statement, the steps before it applied', async () => {
    const detail = 'migrate: up 0002_pinned.up.sql:4: statement 2 of 2: no such table: nope (rolled back: nothing of this migration was applied)';
    const { s } = fake({
      'GET /migrations': [{ body: status(0, ['pending', 'pending']) }, { body: status(1, ['applied', 'pending']) }],
      'POST /migrations/run': [{ body: report(0, [step(1, 'up'), step(2, 'up')]) }, { status: 422, body: { detail } }],
    });
    await s.refreshMigrations();
    await s.openPreview({ kind: 'to', version: 2 });
    await s.confirm();
    expect(s.outcome?.error?.status).toBe(422);
    expect(s.outcome?.failure).toMatchObject({ file: '0002_pinned.up.sql', line: 4, statement: 2, cause: 'no such table: nope', fate: 'rolled back' });
    expect(s.outcome?.steps.map((x) => [x.version, x.outcome, x.sql])).toEqual([
      [1, 'applied', undefined],
      [2, 'failed', 'STATEMENT 2b'],
    ]);
    expect(s.status?.current).toBe(1); // the refreshed state
    expect(s.preview).toBeNull();
  });

  it('keeps a refused dry run in the preview, with its list', async () => {
    const refused = { status: 409, body: { detail: 'migrate: 0001_notes.up.sql is dirty', errors: [{ path: 'history', message: '0001_notes.up.sql is dirty' }] } };
    const { s } = fake({ 'GET /migrations': [{ body: status(0, ['pending']) }], 'POST /migrations/run': [refused] });
    await s.refreshMigrations();
    await s.openPreview({ kind: 'up' });
    expect(s.preview?.error).toEqual({ status: 409, message: 'migrate: 0001_notes.up.sql is dirty', errors: refused.body.errors });
    expect(s.canConfirm).toBe(false);
  });

  it('marks an open preview stale when someone else migrates, and cancels', async () => {
    const { s } = fake({ 'GET /migrations': [{ body: status(0, ['pending']) }], 'POST /migrations/run': [{ body: report(0, [step(1, 'up')]) }] });
    await s.refreshMigrations();
    await s.openPreview({ kind: 'up' });
    s.handle(ev('migrations.changed', status(1, ['applied'])));
    expect(s.preview?.stale).toBe(true);
    expect(s.canConfirm).toBe(false);
    s.cancelPreview();
    expect(s.preview).toBeNull();
  });

  it('cannot confirm a plan with nothing to do', async () => {
    const { s } = fake({ 'GET /migrations': [{ body: status(1, ['applied']) }], 'POST /migrations/run': [{ body: report(1, []) }] });
    await s.refreshMigrations();
    await s.openPreview({ kind: 'to', version: 1 });
    expect(s.canConfirm).toBe(false);
  });
});

describe('DatabaseState: force', () => {
  it('records a version after the confirmation and says no SQL ran', async () => {
    const { s, calls } = fake({ 'POST /migrations/force': [{ body: status(1, ['applied', 'pending']) }] });
    s.askForce({ version: 1, applied: false, label: '', title: '', message: '' });
    expect(s.forcing?.version).toBe(1);
    await s.confirmForce();
    expect(calls.map((c) => [c.key, c.body])).toEqual([['POST /migrations/force', { version: 1 }]]);
    expect(s.forcing).toBeNull();
    expect(s.status?.current).toBe(1);
    expect(s.notice).toBe('Recorded version 1 as the latest applied version; no SQL was run.');
  });

  it('shows why a force was refused', async () => {
    const { s } = fake({ 'POST /migrations/force': [{ status: 400, body: { detail: 'force 9: there is no migration with that version' } }], 'GET /migrations': [{ body: status(0, []) }] });
    s.askForce({ version: 9, applied: true, label: '', title: '', message: '' });
    await s.confirmForce();
    expect(s.forceError).toBe('force 9: there is no migration with that version');
  });
});

describe('DatabaseState: generating a migration', () => {
  const draft = { up: ['CREATE TABLE "tags" (\n  "id" INTEGER PRIMARY KEY,\n  "label" TEXT NOT NULL\n)'], down: ['DROP TABLE "tags"'], notes: ['column tags.old is in the database but not in the model'] };

  it('proposes a draft without writing, then writes it under a valid name and refreshes the list', async () => {
    const written = { ...draft, upFile: '0003_tags.up.sql', downFile: '0003_tags.down.sql' };
    const { s, calls } = fake({ 'POST /migrations/generate': [{ body: draft }, { body: written }], 'GET /migrations': [{ body: status(2, ['applied', 'applied', 'pending']) }] });
    await s.openGenerate();
    expect(s.generation?.draft).toEqual(draft);
    expect(s.generation?.loading).toBe(false);
    expect(s.migrationName).toBe('update_resources');
    expect(s.canWriteMigration).toBe(true);

    s.migrationName = 'Tags!';
    expect(s.migrationNameProblem).toMatch(/lowercase letters a-z, digits 0-9 and _/);
    expect(s.canWriteMigration).toBe(false);
    await s.writeMigration(); // refused on the client: nothing is sent
    expect(calls.filter((c) => c.key === 'POST /migrations/generate')).toHaveLength(1);

    s.migrationName = 'tags';
    await s.writeMigration();
    expect(calls.filter((c) => c.key === 'POST /migrations/generate').map((c) => c.body)).toEqual([{}, { write: true, name: 'tags' }]);
    expect(s.generation?.written).toEqual({ upFile: '0003_tags.up.sql', downFile: '0003_tags.down.sql' });
    expect(s.canWriteMigration).toBe(false); // written once
    expect(s.status?.migrations[2].state).toBe('pending');
    s.closeGenerate();
    expect(s.generation).toBeNull();
  });

  it('offers no write for an empty draft', async () => {
    const { s } = fake({ 'POST /migrations/generate': [{ body: { up: [], down: [], notes: [] } }] });
    await s.openGenerate();
    expect(s.generation?.draft?.up).toEqual([]);
    expect(s.canWriteMigration).toBe(false);
  });

  it("keeps the server's problem in the dialog", async () => {
    const { s } = fake({
      'POST /migrations/generate': [{ body: draft }, { status: 400, body: { status: 400, detail: 'writing a migration: name "x": want a-z, 0-9 and _' } }],
      'GET /migrations': [{ body: status(1, ['applied']) }],
    });
    await s.openGenerate();
    await s.writeMigration();
    expect(s.generation?.error).toMatchObject({ status: 400, message: 'writing a migration: name "x": want a-z, 0-9 and _' });
    expect(s.generation?.written).toBeNull();
    expect(s.generation?.writing).toBe(false);
    expect(s.canWriteMigration).toBe(true); // it can be tried again

    const failed = fake({ 'POST /migrations/generate': [{ status: 500, body: { detail: 'reading table tags: boom' } }] });
    await failed.s.openGenerate();
    expect(failed.s.generation?.error?.message).toBe('reading table tags: boom');
    expect(failed.s.generation?.draft).toBeNull();
  });
});
