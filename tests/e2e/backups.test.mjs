// End to end: the Database page's backups on a SQLite project with a
// resource served over HTTP — the RPO of the continuous archive, a backup
// made, listed and verified from the studio, the schedule saved through the
// config API with the server's validation shown beside its field, the live
// base refused for deletion, and a point-in-time restore through the
// dialog (a moment typed in the browser's local time, a dry run and its
// plan, the confirmation, the restore) that brings the database back to
// the moment between two writes: only the first row is left, over HTTP and
// in the studio's SQL console.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, startServer, waitFor } from './harness.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('backups', () => {
  let server;
  let browser;
  let page;
  /** The moment restored to: a whole second between row A and row B. */
  let moment;
  let keptBackup;

  const admin = async (method, path, body, headers = {}) => {
    const res = await fetch(server.url + path, {
      method,
      headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, etag: res.headers.get('ETag'), body: text ? JSON.parse(text) : null };
  };
  /** The notes over the public HTTP API, as the resource serves them. */
  const notes = async () => {
    const res = await fetch(`${server.url}/notes?sort=id`);
    assert.equal(res.status, 200);
    return (await res.json()).items.map((n) => n.body);
  };
  const write = async (body) => {
    const res = await fetch(`${server.url}/notes`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ body }) });
    assert.equal(res.status, 201, await res.text());
  };
  const open = async (id) => {
    await page.getByTestId(`nav-${id}`).click();
    await page.getByTestId(`${id}-page`).waitFor({ timeout: 15_000 });
  };
  const row = (id) => page.locator(`[data-testid=backup-row][data-id="${id}"]`);

  before(async () => {
    server = await startServer();
    // A resource and its route, through the config API: the table is
    // created when the configuration is applied.
    const { etag, body: config } = await admin('GET', '/_covet/api/config');
    config.resources = [{ name: 'notes', table: 'notes', fields: [{ name: 'body', type: 'string', required: true }] }];
    config.routes.push({ id: 'notes', path: '/notes', kind: 'resource', resource: 'notes' });
    const put = await admin('PUT', '/_covet/api/config', config, { 'If-Match': etag });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1500, height: 1100 } });
    page = await context.newPage();
    await page.goto(server.login);
    await open('database');
    mkdirSync('artifacts', { recursive: true });
  });

  after(async () => {
    await browser?.close();
    server?.kill();
  });

  it('writes row A, then row B more than a second after a whole-second moment between them', async () => {
    await write('A');
    const a = Date.now();
    // The first whole second at least 1 s after A's answer…
    moment = Math.ceil((a + 1000) / 1000) * 1000;
    // …and B's request at least 1 s after it (about 2.5 s after A).
    await sleep(Math.max(moment + 1000 - Date.now(), 0) + 200);
    assert.ok(Date.now() - moment >= 1000 && moment - a >= 1000);
    await write('B');
    assert.deepEqual(await notes(), ['A', 'B']);
  });

  it('shows the RPO of the continuous archive and the restore window', async () => {
    const rpo = page.getByTestId('backups-rpo');
    // B's commit is archived within about a second of it.
    await waitFor(async () => /^RPO \d+(\.\d)? s — every commit archived \d\d:\d\d:\d\d$/.test((await rpo.textContent()).trim()), 15_000, 'the RPO with every commit archived');
    assert.equal(await rpo.getAttribute('data-warn'), 'false');
    assert.match(await page.getByTestId('restore-window').textContent(), /Restore window: from \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    // The base the server started with, archiving.
    const base = page.locator('[data-testid=backup-row][data-kind=base]');
    await base.waitFor();
    assert.match(await base.textContent(), /archiving/);
    assert.match(await base.getByTestId('backup-reach').textContent(), /\d+ segments?, \d+ commits? · live/);
  });

  it('backs up now, lists the backup and verifies it', async () => {
    const before = (await admin('GET', '/_covet/api/backups')).body.backups.length;
    await page.getByTestId('backup-now').click();
    const notice = page.getByTestId('backups-notice');
    await notice.waitFor({ timeout: 15_000 });
    const id = /Backed up: (\S+)\./.exec(await notice.textContent())[1];
    await row(id).waitFor({ timeout: 10_000 });
    assert.equal(await row(id).getAttribute('data-kind'), 'full');
    assert.equal((await admin('GET', '/_covet/api/backups')).body.backups.length, before + 1);
    assert.match(await row(id).getByTestId('backup-size').textContent(), /\d+(\.\d)? (B|KiB|MiB)/);
    assert.equal(await row(id).getByTestId('backup-encrypted').textContent(), 'no');
    assert.match(await row(id).getByTestId('backup-checked').textContent(), /never/);

    await row(id).getByTestId('backup-verify').click();
    const report = page.locator(`[data-testid=backup-verification][data-id="${id}"] [data-testid=check-list]`);
    await report.waitFor({ timeout: 15_000 });
    assert.equal(await report.getAttribute('data-ok'), 'true');
    const statuses = await report.getByTestId('check-status').allTextContents();
    assert.ok(statuses.length >= 4, statuses.join());
    assert.deepEqual(new Set(statuses), new Set(['ok']));
    const names = await report.getByTestId('check').evaluateAll((rows) => rows.map((r) => r.dataset.name));
    for (const n of ['manifest', 'checksum', 'restore', 'integrity_check']) assert.ok(names.includes(n), `${n} in ${names}`);
    // The list remembers the verification.
    await waitFor(async () => /ok/.test(await row(id).getByTestId('backup-checked').textContent()), 10_000, 'the row to say checked ok');
    await page.screenshot({ path: 'artifacts/backups-verified.png', fullPage: true });
  });

  it('refuses to delete the base being archived into, with the server’s reason', async () => {
    const base = page.locator('[data-testid=backup-row][data-kind=base]', { hasText: 'archiving' });
    const id = await base.getAttribute('data-id');
    await base.getByTestId('backup-delete').click();
    const confirm = page.getByTestId('confirm-dialog');
    assert.match(await confirm.textContent(), new RegExp(`Delete backup ${id}\\?`));
    await confirm.getByTestId('confirm-ok').click();
    const error = page.getByTestId('backups-error');
    await error.waitFor({ timeout: 10_000 });
    assert.match(await error.textContent(), new RegExp(`Backup ${id} was not deleted: .*in use.*base the write-ahead log is being archived into`));
    await row(id).waitFor();
  });

  it('saves the schedule through the config API, with the server’s validation beside the field', async () => {
    const card = page.getByTestId('schedule-card');
    await card.getByTestId('schedule-cron').fill('every day');
    await card.getByTestId('schedule-save').click();
    const err = card.getByTestId('schedule-error-schedule');
    await err.waitFor({ timeout: 10_000 });
    assert.match(await err.textContent(), /"every day" is not a cron schedule/);
    assert.equal(await card.getByTestId('schedule-cron').getAttribute('aria-invalid'), 'true');
    assert.equal((await admin('GET', '/_covet/api/config')).body.backups, undefined, 'nothing was saved');

    await card.getByTestId('schedule-cron').fill('@every 30m');
    await card.getByTestId('schedule-keep').fill('48');
    assert.equal(await err.count(), 0, 'an edit clears the server’s message');
    await card.getByTestId('schedule-save').click();
    await card.getByTestId('schedule-notice').waitFor({ timeout: 10_000 });
    assert.deepEqual((await admin('GET', '/_covet/api/config')).body.backups, { schedule: '@every 30m', keep: 48 });
    await waitFor(async () => /@every 30m · keep 48/.test(await card.getByTestId('schedule-in-force').textContent()), 10_000, 'the schedule in force');
    assert.match(await card.getByTestId('schedule-next').textContent(), /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(in (29m|30m)/);
  });

  it('restores the moment between A and B through the dialog: dry run, plan, confirmation, restore', async () => {
    await page.getByTestId('restore-to').click();
    const dialog = page.getByTestId('restore-dialog');
    await dialog.waitFor();
    const input = dialog.getByTestId('restore-moment');
    assert.equal(await input.getAttribute('type'), 'datetime-local');
    assert.equal(await input.getAttribute('step'), '1');
    assert.match(await input.getAttribute('min'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    assert.match(await dialog.getByTestId('restore-bounds').textContent(), /The archive reaches from \d{4}-\d\d-\d\d \d\d:\d\d:\d\d until/);

    // Outside the window: said at once, nothing asked.
    await input.fill('2001-01-01T00:00:01');
    assert.match(await dialog.getByTestId('restore-moment-problem').textContent(), /before the earliest moment the archive reaches/);
    assert.equal(await dialog.getByTestId('restore-plan').isDisabled(), true);

    // The moment in the browser's local time, as a person would type it
    // (the input's value leaves out seconds that are 0).
    const local = await page.evaluate((ms) => {
      const d = new Date(ms);
      const p = (n) => String(n).padStart(2, '0');
      const s = d.getSeconds() ? `:${p(d.getSeconds())}` : '';
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}${s}`;
    }, moment);
    await input.fill(local);
    const iso = new Date(moment).toISOString().replace('.000Z', 'Z');
    assert.equal(await dialog.getByTestId('restore-utc').textContent(), iso);
    await dialog.getByTestId('restore-plan').click();

    await dialog.getByTestId('restore-step').nth(3).waitFor({ timeout: 15_000 });
    const target = join(server.project, 'covet_data', 'covet.db');
    assert.equal(await dialog.getByTestId('restore-target').textContent(), target);
    assert.match(await dialog.getByTestId('restore-what').textContent(), /The current content is kept as a new backup first/);
    const steps = await dialog.getByTestId('restore-step').allTextContents();
    assert.match(steps[0], new RegExp(`replay the commits its archive holds up to ${iso}`));
    assert.match(steps[1], /back up the current content of .*covet\.db into the store/);
    assert.deepEqual(await notes(), ['A', 'B'], 'a dry run changes nothing');
    const confirm = dialog.getByTestId('restore-confirm');
    assert.equal(await confirm.isDisabled(), true, 'the restore waits for the confirmation');
    assert.equal(
      (await dialog.getByTestId('restore-ack-label').textContent()).replace(/\s+/g, ' ').trim(),
      `I understand the current content of ${target} will be replaced`,
    );
    await page.screenshot({ path: 'artifacts/backups-restore-plan.png' });
    await dialog.getByTestId('restore-ack').check();
    await confirm.click();

    const done = dialog.getByTestId('restore-done');
    await done.waitFor({ timeout: 30_000 });
    keptBackup = (await dialog.getByTestId('restore-kept').textContent()).trim();
    assert.match(keptBackup, /^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]+$/);
    const checks = dialog.getByTestId('check-list');
    assert.equal(await checks.getAttribute('data-ok'), 'true');
    assert.deepEqual(new Set(await checks.getByTestId('check-status').allTextContents()), new Set(['ok']));
    await page.screenshot({ path: 'artifacts/backups-restored.png' });
    await dialog.getByTestId('restore-close').click();
    await dialog.waitFor({ state: 'detached' });
    // The content before the restore is a backup of its own (backups.changed).
    await row(keptBackup).waitFor({ timeout: 10_000 });
  });

  it('shows the data as it was at that moment: only A, over HTTP and in the studio', async () => {
    assert.deepEqual(await notes(), ['A']);
    await open('queries');
    await page.getByTestId('tab-console').click();
    await page.getByTestId('console-sql').fill('SELECT body FROM notes ORDER BY id');
    await page.getByTestId('console-run').click();
    const result = page.getByTestId('console-result');
    await result.waitFor({ timeout: 10_000 });
    assert.deepEqual(await result.locator('tbody tr').allTextContents(), ['A']);
    await page.screenshot({ path: 'artifacts/backups-after-restore-console.png' });
    // And the studio's backups still show the RPO after the restore.
    await open('database');
    await waitFor(async () => /^RPO /.test((await page.getByTestId('backups-rpo').textContent()).trim()), 10_000, 'the RPO');
  });
});
