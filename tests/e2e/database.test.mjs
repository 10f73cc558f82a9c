// End to end: the studio's Database page on a new SQLite project — the
// connection and its pools, the empty state, two migrations applied and
// one rolled back through previews (the destructive one only after the
// acknowledgement), a failing migration's error, the page following a
// `covet migrate up` run from the command line, and a migration generated
// from a resource of the configuration, written and applied.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { COVET_BIN, launchBrowser, startServer, waitFor } from './harness.mjs';

const run = promisify(execFile);

const FILES = {
  '0001_notes.up.sql': 'CREATE TABLE notes (\n  id INTEGER PRIMARY KEY,\n  body TEXT NOT NULL\n);\n',
  '0001_notes.down.sql': 'DROP TABLE notes;\n',
  '0002_pinned.up.sql': '-- notes can be pinned\nALTER TABLE notes ADD COLUMN pinned INTEGER;\n',
  '0002_pinned.down.sql': 'ALTER TABLE notes DROP COLUMN pinned;\n',
};

describe('database page', () => {
  let server;
  let browser;
  let page;
  let migrations;
  const admin = async (path, body) => {
    const res = await fetch(server.url + path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  const open = async (id) => {
    await page.getByTestId(`nav-${id}`).click();
    await page.getByTestId(`${id}-page`).waitFor({ timeout: 15_000 });
  };
  const row = (version, state) => page.locator(`[data-testid=migration-row][data-version="${version}"]${state ? `[data-state=${state}]` : ''}`);
  const current = () => page.getByTestId('current-version').textContent();
  const columns = async () => {
    const r = await admin('/_covet/api/sql', { sql: 'SELECT * FROM notes' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.columns;
  };

  before(async () => {
    server = await startServer();
    migrations = join(server.project, 'migrations');
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1500, height: 1000 } });
    page = await context.newPage();
    page.on('dialog', (d) => d.accept());
    await page.goto(server.login);
    await open('database');
  });

  after(async () => {
    await browser?.close();
    server?.kill();
  });

  it('shows the connection: dialect, DSN, ping and the pools', async () => {
    const card = page.getByTestId('db-connection');
    await page.getByTestId('db-dialect').waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId('db-dialect').textContent(), 'sqlite');
    assert.match(await page.getByTestId('db-dsn').textContent(), /^sqlite:.*covet\.db$/);
    assert.match(await page.getByTestId('db-ping').textContent(), /\d+(\.\d+)? (µs|ms)/);
    const primary = card.locator('[data-testid=db-pool][data-pool=primary]');
    await primary.waitFor();
    assert.match(await primary.getByTestId('pool-open').textContent(), /^\d+$/);
    assert.equal(await page.getByTestId('db-error').count(), 0, 'the database answers');
    // The figures refresh by themselves while the page is open.
    const checked = await page.getByTestId('db-checked').textContent();
    await waitFor(async () => (await page.getByTestId('db-checked').textContent()) !== checked, 12_000, 'the connection to be checked again');
  });

  it('explains where migrations go while there are none', async () => {
    const empty = page.getByTestId('migrations-empty');
    await empty.waitFor({ timeout: 10_000 });
    const text = await empty.textContent();
    assert.ok(text.includes(`${server.project}/migrations/0001_create_users.up.sql`), text);
    assert.match(text, /0001_create_users\.down\.sql/);
    assert.match(text, /covet migrate new NAME/);
    assert.equal(await page.getByTestId('apply-pending').count(), 0, 'nothing to run, no run buttons');
    mkdirSync('artifacts', { recursive: true });
    await page.screenshot({ path: 'artifacts/database-empty.png', fullPage: true });
  });

  it('lists new migration files as pending, with their SQL and the linter warnings', async () => {
    mkdirSync(migrations, { recursive: true });
    for (const [name, sql] of Object.entries(FILES)) writeFileSync(join(migrations, name), sql);
    await page.getByTestId('migrations-refresh').click();
    await row(1, 'pending').waitFor({ timeout: 10_000 });
    await row(2, 'pending').waitFor();
    assert.equal(await current(), '0');
    assert.equal(await page.getByTestId('pending-count').textContent(), '2');
    assert.equal(await row(2).getByTestId('migration-down').textContent(), 'yes');
    assert.match(await row(2).getByTestId('migration-warnings').textContent(), /1\s+down/);

    await row(2).getByTestId('migration-toggle').click();
    const detail = page.locator('[data-testid=migration-detail][data-version="2"]');
    await detail.waitFor();
    // Statement by statement, numbered as in the file: the comment takes line 1.
    const up = detail.getByTestId('migration-up');
    assert.match(await up.textContent(), /0002_pinned\.up\.sql/);
    assert.equal((await up.getByTestId('statement').textContent()).trim(), '2ALTER TABLE notes ADD COLUMN pinned INTEGER');
    const down = detail.getByTestId('migration-down-sql');
    assert.match(await down.getByTestId('lint-warning').textContent(), /drop-column\s+line 1: drops column notes\.pinned and its data/);
    await page.screenshot({ path: 'artifacts/database-pending.png', fullPage: true });
    await row(2).getByTestId('migration-toggle').click();
    await detail.waitFor({ state: 'detached' });
  });

  it('applies the pending migrations after a preview', async () => {
    await page.getByTestId('apply-pending').click();
    const preview = page.getByTestId('migration-preview');
    await preview.waitFor();
    await preview.getByTestId('preview-step').nth(1).waitFor({ timeout: 10_000 });
    assert.equal(await preview.getByTestId('preview-step').count(), 2);
    assert.match(await preview.textContent(), /Apply 2 pending migrations/);
    assert.match(await preview.getByTestId('preview-step').nth(0).textContent(), /↑ apply\s*0001_notes\.up\.sql.*CREATE TABLE notes/s);
    assert.equal(await preview.getByTestId('preview-ack').count(), 0, 'nothing destructive: no acknowledgement');
    // Nothing ran: the dry run changes nothing.
    assert.equal((await admin('/_covet/api/migrations')).body.current, 0);
    await page.screenshot({ path: 'artifacts/database-preview-up.png' });
    assert.equal(await preview.getByTestId('preview-confirm').textContent(), 'Apply 2 migrations');
    await preview.getByTestId('preview-confirm').click();

    await page.locator('[data-testid=run-outcome][data-result=ok]').waitFor({ timeout: 15_000 });
    assert.deepEqual(await page.getByTestId('run-step-outcome').allTextContents(), ['applied', 'applied']);
    await row(2, 'applied').waitFor({ timeout: 10_000 });
    await row(1, 'applied').waitFor();
    assert.equal(await current(), '2');
    assert.equal(await page.getByTestId('pending-count').textContent(), '0');
    assert.deepEqual(await columns(), ['id', 'body', 'pinned']);
    await page.screenshot({ path: 'artifacts/database-applied.png', fullPage: true });
  });

  it('rolls back the latest only after acknowledging that it drops a column', async () => {
    await page.getByTestId('rollback-latest').click();
    const preview = page.getByTestId('migration-preview');
    await preview.getByTestId('preview-step').waitFor({ timeout: 10_000 });
    assert.match(await preview.textContent(), /Roll back 0002_pinned/);
    const step = preview.getByTestId('preview-step');
    assert.equal(await step.getAttribute('data-direction'), 'down');
    assert.match(await step.getByTestId('lint-warning').textContent(), /drop-column.*drops column notes\.pinned/);
    const confirm = preview.getByTestId('preview-confirm');
    assert.equal(await confirm.isDisabled(), true, 'the confirmation waits for the acknowledgement');
    assert.match(await preview.getByTestId('preview-ack-label').textContent(), /I understand this drops data/);
    await page.screenshot({ path: 'artifacts/database-preview-down.png' });
    await preview.getByTestId('preview-ack').check();
    assert.equal(await confirm.isDisabled(), false);
    await confirm.click();

    await page.locator('[data-testid=run-outcome][data-result=ok]', { hasText: 'Roll back 0002_pinned' }).waitFor({ timeout: 15_000 });
    await row(2, 'pending').waitFor({ timeout: 10_000 });
    assert.equal(await current(), '1');
    assert.deepEqual(await page.getByTestId('run-step-outcome').allTextContents(), ['rolled back']);

    const status = (await admin('/_covet/api/migrations')).body;
    assert.equal(status.current, 1);
    assert.deepEqual(
      status.migrations.map((m) => [m.version, m.state]),
      [
        [1, 'applied'],
        [2, 'pending'],
      ],
    );
    assert.deepEqual(await columns(), ['id', 'body'], 'the column is really gone');
  });

  it('shows which file, line and statement failed, and the state after it', async () => {
    writeFileSync(join(migrations, '0003_broken.up.sql'), 'CREATE TABLE tags (id INTEGER PRIMARY KEY);\n\nINSERT INTO nowhere VALUES (1);\n');
    await page.getByTestId('migrations-refresh').click();
    await row(3, 'pending').waitFor({ timeout: 10_000 });
    await row(3).getByTestId('row-apply-to').click();
    const preview = page.getByTestId('migration-preview');
    await preview.getByTestId('preview-step').nth(1).waitFor({ timeout: 10_000 });
    assert.match(await preview.textContent(), /Apply migrations up to 0003_broken/);
    await preview.getByTestId('preview-confirm').click();

    const outcome = page.locator('[data-testid=run-outcome][data-result=failed]');
    await outcome.waitFor({ timeout: 15_000 });
    const error = await outcome.getByTestId('run-error').textContent();
    assert.match(error, /0003_broken\.up\.sql line 3, statement 2 of 2 failed:/);
    assert.match(await outcome.getByTestId('run-error-cause').textContent(), /no such table: nowhere/);
    assert.match(await outcome.getByTestId('run-error-fate').textContent(), /Rolled back: nothing of this migration was applied/);
    assert.equal(await outcome.getByTestId('run-error-sql').textContent(), 'INSERT INTO nowhere VALUES (1)');
    assert.deepEqual(await outcome.getByTestId('run-step-outcome').allTextContents(), ['applied', 'failed']);
    // The refreshed state: 0002 went in before the failure, 0003 did not.
    await row(2, 'applied').waitFor({ timeout: 10_000 });
    await row(3, 'pending').waitFor();
    assert.equal(await current(), '2');
    await page.screenshot({ path: 'artifacts/database-failed.png', fullPage: true });

    rmSync(join(migrations, '0003_broken.up.sql'));
    await page.getByTestId('run-dismiss').click();
    await page.getByTestId('migrations-refresh').click();
    await row(3).waitFor({ state: 'detached', timeout: 10_000 });
  });

  it('names each migration file that has a problem', async () => {
    writeFileSync(join(migrations, '3_Oops.up.sql'), 'SELECT 1;\n');
    await page.getByTestId('migrations-refresh').click();
    const error = page.getByTestId('migrations-error');
    await error.waitFor({ timeout: 10_000 });
    assert.match(await error.textContent(), /The migration files have problems\..*3_Oops\.up\.sql: want NNNN_name\.up\.sql/s);
    assert.equal(await page.getByTestId('migration-row').count(), 0, 'no list while the files have problems');
    rmSync(join(migrations, '3_Oops.up.sql'));
    await page.getByTestId('migrations-refresh').click();
    await error.waitFor({ state: 'detached', timeout: 10_000 });
    await row(2, 'applied').waitFor();
  });

  it('follows a run by another client of the admin API live, through the event stream', async () => {
    assert.equal(await current(), '2');
    const down = await admin('/_covet/api/migrations/run', { action: 'down', force: true });
    assert.equal(down.status, 200, JSON.stringify(down.body));
    // No reload, no refresh: migrations.changed carries the new state.
    await row(2, 'pending').waitFor({ timeout: 10_000 });
    assert.equal(await current(), '1');
  });

  it('reads the migrations again when the window regains focus after covet migrate up', async () => {
    const { stdout } = await run(COVET_BIN, ['migrate', 'up', '--project', server.project]);
    assert.match(stdout, /0002_pinned\.up\.sql/);
    assert.equal((await admin('/_covet/api/migrations')).body.current, 2, 'the CLI applied it');
    // Back from the terminal: the window gets the focus again.
    await page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await row(2, 'applied').waitFor({ timeout: 10_000 });
    assert.equal(await current(), '2');
  });

  it('shows a dirty migration with its failed statement, blocks runs, and recovers by force without running SQL', async () => {
    // What a failure half-way through a MySQL migration leaves behind.
    const dirty = await admin('/_covet/api/sql', {
      sql: "UPDATE covet_migrations SET dirty = 1, failed_statement = 1, error = 'duplicate column name: pinned' WHERE version = 2",
      write: true,
    });
    assert.equal(dirty.status, 200, JSON.stringify(dirty.body));
    await page.getByTestId('migrations-refresh').click();
    await row(2, 'dirty').waitFor({ timeout: 10_000 });
    assert.match(await page.getByTestId('migration-problem').textContent(), /0002_pinned\.up\.sql is dirty: statement 1 failed while applying it \(duplicate column name: pinned\)/);
    assert.equal(await page.getByTestId('apply-pending').isDisabled(), true, 'every run is blocked');
    assert.equal(await page.getByTestId('rollback-latest').isDisabled(), true);
    const panel = page.getByTestId('dirty-panel');
    assert.equal(await panel.getByTestId('dirty-error').textContent(), 'duplicate column name: pinned');
    assert.equal((await panel.getByTestId('statement').textContent()).trim(), '2ALTER TABLE notes ADD COLUMN pinned INTEGER');
    assert.equal(await panel.getByTestId('force-applied').textContent(), 'Mark as applied (force 2)…');
    await page.screenshot({ path: 'artifacts/database-dirty.png', fullPage: true });

    await panel.getByTestId('force-not-applied').click();
    const dialog = page.getByTestId('confirm-dialog');
    await dialog.waitFor();
    assert.match(await dialog.textContent(), /Record 0002_pinned as not applied\?.*up to version 1 are applied.*No SQL runs/s);
    await dialog.getByTestId('confirm-ok').click();
    await row(2, 'pending').waitFor({ timeout: 10_000 });
    assert.equal(await current(), '1');
    assert.match(await page.getByTestId('migrations-notice').textContent(), /Recorded version 1 .*no SQL was run/);
    assert.equal(await page.getByTestId('migration-problems').count(), 0);
    assert.deepEqual(await columns(), ['id', 'body', 'pinned'], 'forcing ran no SQL: the column is still there');

    // Forcing through the API is announced like a run.
    assert.equal((await admin('/_covet/api/migrations/force', { version: 2 })).status, 200);
    await row(2, 'applied').waitFor({ timeout: 10_000 });
    assert.equal(await current(), '2');
  });

  // covet migrate hands the run to the server that runs the project, which
  // announces it like any other.
  it('follows covet migrate down live, through the migrations.changed event', async () => {
    const { stdout, stderr } = await run(COVET_BIN, ['migrate', 'down', '--force', '--project', server.project]);
    assert.match(stdout, /0002_pinned\.down\.sql/);
    assert.match(stderr, /through the server that runs this project/);
    assert.equal((await admin('/_covet/api/migrations')).body.current, 1, 'the CLI rolled it back');
    // No reload, no refresh, no focus change: only the event can tell the page.
    await row(2, 'pending').waitFor({ timeout: 10_000 });
    assert.equal(await current(), '1');
  });

  // A resource no route serves gets no table from the server: its table
  // comes from a migration, generated by the page.
  it('generates the migration of a resource, writes it, applies it, then has nothing left to generate', async () => {
    const put = await fetch(server.url + '/_covet/api/config/resources', {
      method: 'PUT',
      headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify([{ name: 'tags', table: 'tags', fields: [{ name: 'label', type: 'string', required: true }] }]),
    });
    assert.equal(put.status, 200, await put.text());
    assert.notEqual((await admin('/_covet/api/sql', { sql: 'SELECT * FROM tags' })).status, 200, 'no table yet');

    await page.getByTestId('generate-migration').click();
    const dialog = page.getByTestId('generate-dialog');
    await dialog.getByTestId('generate-up').getByTestId('statement').first().waitFor({ timeout: 10_000 });
    assert.match(await dialog.getByTestId('generate-up').textContent(), /CREATE TABLE "tags"/);
    assert.match(await dialog.getByTestId('generate-down').textContent(), /DROP TABLE "tags"/);
    const name = dialog.getByTestId('generate-name');
    const write = dialog.getByTestId('generate-write');
    assert.equal(await name.inputValue(), 'update_resources');
    await name.fill('Tags!');
    assert.match(await dialog.getByTestId('generate-name-problem').textContent(), /lowercase letters a-z, digits 0-9 and _/);
    assert.equal(await write.isDisabled(), true, 'a bad name is refused before it is sent');
    await name.fill('tags');
    assert.equal(await dialog.getByTestId('generate-name-problem').count(), 0);
    await page.screenshot({ path: 'artifacts/database-generate.png' });
    await write.click();

    await dialog.getByTestId('generate-written').waitFor({ timeout: 10_000 });
    assert.equal(await dialog.getByTestId('generate-up-file').textContent(), '0003_tags.up.sql');
    assert.equal(await dialog.getByTestId('generate-down-file').textContent(), '0003_tags.down.sql');
    assert.equal(await dialog.getByTestId('generate-write').count(), 0, 'written once');
    await row(3, 'pending').waitFor({ timeout: 10_000 });
    assert.match(await row(3).textContent(), /tags/);
    await dialog.getByTestId('generate-close').click();
    await dialog.waitFor({ state: 'detached' });

    // Applied like any other, through its preview.
    await row(3).getByTestId('row-apply-to').click();
    const preview = page.getByTestId('migration-preview');
    await preview.getByTestId('preview-step').nth(1).waitFor({ timeout: 10_000 });
    assert.match(await preview.getByTestId('preview-step').nth(1).textContent(), /0003_tags\.up\.sql.*CREATE TABLE "tags"/s);
    await preview.getByTestId('preview-confirm').click();
    await page.locator('[data-testid=run-outcome][data-result=ok]', { hasText: '0003_tags' }).waitFor({ timeout: 15_000 });
    await row(3, 'applied').waitFor({ timeout: 10_000 });
    assert.equal(await current(), '3');
    const tags = await admin('/_covet/api/sql', { sql: 'SELECT * FROM tags' });
    assert.equal(tags.status, 200, JSON.stringify(tags.body));
    assert.ok(tags.body.columns.includes('label'), JSON.stringify(tags.body.columns));

    await page.getByTestId('generate-migration').click();
    await dialog.getByTestId('generate-empty').waitFor({ timeout: 10_000 });
    assert.match(await dialog.getByTestId('generate-empty').textContent(), /the database already has every table and column of the resources/);
    assert.equal(await dialog.getByTestId('generate-write').count(), 0, 'nothing to write');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });
});
