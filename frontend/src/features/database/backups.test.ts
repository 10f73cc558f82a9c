import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError } from '../../api/client';
import type { BackupManifest, BackupReport, BackupsOverview, RestoreReport } from '../../api/types.gen';
import {
  archiveOf,
  backupSize,
  checkTally,
  clampToWindow,
  formatMoment,
  formatRpo,
  localToUtc,
  momentProblem,
  parseLocalInput,
  restoreRequest,
  rpoHeadline,
  rpoNow,
  sameScheduleForm,
  scheduleFieldErrors,
  scheduleFormOf,
  scheduleFormProblems,
  scheduleSectionOf,
  storedSize,
  toLocalInput,
  toRfc3339,
  utcOffsetLabel,
  windowBounds,
  zoneLabel,
} from './backups';
import { BackupsState } from './backups.svelte';
import { DatabaseState } from './database.svelte';

// Local times in a zone with an offset and daylight saving: Berlin is
// UTC+01:00 in winter, and on 2026-03-29 its clocks jump from 02:00 to
// 03:00. Node reads TZ again when it changes.
beforeAll(() => {
  vi.stubEnv('TZ', 'Europe/Berlin');
});
afterAll(() => {
  vi.unstubAllEnvs();
});

const manifest = (id: string, kind = 'full', over: Partial<BackupManifest> = {}): BackupManifest => ({
  format: 1,
  id,
  kind,
  dialect: 'sqlite',
  createdAt: '2026-12-03T08:00:00Z',
  source: '/p/covet_data/covet.db',
  files: [{ name: 'database.sqlite', size: 4096, sha256: 'a', plainSize: 4096, plainSha256: 'a' }],
  encrypted: false,
  ...over,
});
const BASE = '20261203T080000.000Z-aaaaaa';
const FULL = '20261203T081000.000Z-bbbbbb';
const overview = (over: Partial<BackupsOverview> = {}): BackupsOverview => ({
  supported: true,
  database: 'covet_data/covet.db',
  backups: [manifest(FULL), manifest(BASE, 'base')],
  incomplete: [],
  verifications: {},
  lastBackupAt: '2026-12-03T08:10:00Z',
  rpoSeconds: 0,
  archive: { base: BASE, segments: 3, commits: 5, syncedAt: '2026-12-03T08:15:02.4Z' },
  archives: [
    { base: manifest(BASE, 'base'), segments: 3, commits: 5, from: '2026-12-03T08:00:00.250Z', until: '2026-12-03T08:15:02.400Z', closed: false },
  ],
  window: { from: '2026-12-03T08:00:00.250Z', until: '2026-12-03T08:15:02.400Z' },
  schedule: { cron: '@hourly', keep: 24, maxAge: '24h0m0s', encrypt: false, next: '2026-12-03T09:00:00Z' },
  ...over,
});
const report = (ok: boolean): BackupReport => ({
  id: FULL,
  ok,
  checks: [
    { name: 'manifest', status: 'ok', detail: 'format 1' },
    { name: 'checksum', file: 'database.sqlite', status: ok ? 'ok' : 'failed', detail: ok ? '4096 bytes' : 'SHA-256 mismatch' },
    { name: 'key', status: 'skipped' },
  ],
});
const restoreReport = (over: Partial<RestoreReport> = {}): RestoreReport => ({
  backup: manifest(BASE, 'base'),
  to: '2026-12-03T08:05:00Z',
  target: '/p/covet_data/covet.db',
  dryRun: true,
  plan: ['verify backup …', 'back up the current content …', 'copy the restored database …', 'run integrity_check …'],
  restored: false,
  ...over,
});
const at = (iso: string) => Date.parse(iso);

describe('sizes and archives', () => {
  it('sums the files as restored and as stored', () => {
    const m = manifest('x', 'full', {
      files: [
        { name: 'a.enc', size: 120, sha256: '', plainSize: 100, plainSha256: '' },
        { name: 'b.enc', size: 60, sha256: '', plainSize: 50, plainSha256: '' },
      ],
    });
    expect(backupSize(m)).toBe(150);
    expect(storedSize(m)).toBe(180);
    expect(backupSize(manifest('y', 'full', { files: [] }))).toBe(0);
  });

  it('finds the archive of a base, and none for a full backup', () => {
    expect(archiveOf(overview(), BASE)?.segments).toBe(3);
    expect(archiveOf(overview(), FULL)).toBeUndefined();
  });
});

describe('local time and UTC', () => {
  it.each([
    ['winter, +01:00', '2026-12-03T09:15:02', '2026-12-03T08:15:02Z'],
    ['summer, +02:00', '2026-07-01T12:00:30', '2026-07-01T10:00:30Z'],
    ['seconds left out when 0', '2026-12-03T09:15', '2026-12-03T08:15:00Z'],
    ['milliseconds kept', '2026-12-03T09:15:02.5', '2026-12-03T08:15:02.500Z'],
    ['across midnight', '2026-01-01T00:30:00', '2025-12-31T23:30:00Z'],
  ])('%s: %s is %s', (_, local, iso) => {
    expect(localToUtc(local)).toEqual({ iso });
  });

  it('refuses what is not a moment', () => {
    expect(localToUtc('').error).toMatch(/required/);
    expect(localToUtc('yesterday').error).toMatch(/not a date and time/);
    expect(localToUtc('2026-02-30T10:00:00').error).toBe('2026-02-30 is not a date');
    expect(localToUtc('2026-12-03T25:00:00').error).toMatch(/does not exist|not a date/);
  });

  it('refuses a time the daylight-saving jump skips', () => {
    expect(parseLocalInput('2026-03-29T02:30:00').error).toBe('2026-03-29 02:30:00 does not exist in this time zone: the clocks jump over it (daylight saving)');
    expect(localToUtc('2026-03-29T03:00:00')).toEqual({ iso: '2026-03-29T01:00:00Z' });
  });

  it('writes a moment as the input wants it, and back', () => {
    expect(toLocalInput(at('2026-12-03T08:15:02.999Z'))).toBe('2026-12-03T09:15:02');
    const ms = at('2026-10-25T00:59:59Z');
    expect(parseLocalInput(toLocalInput(ms)).ms).toBe(ms);
    expect(toRfc3339(at('2026-12-03T08:15:02Z'))).toBe('2026-12-03T08:15:02Z');
  });

  it('names the offset and the zone', () => {
    expect(utcOffsetLabel(at('2026-12-03T08:00:00Z'))).toBe('UTC+01:00');
    expect(utcOffsetLabel(at('2026-07-03T08:00:00Z'))).toBe('UTC+02:00');
    expect(zoneLabel('Europe/Berlin', at('2026-12-03T08:00:00Z'))).toBe('Europe/Berlin, UTC+01:00');
  });

  it('shows the clock alone on the same day', () => {
    const now = at('2026-12-03T10:00:00Z');
    expect(formatMoment(at('2026-12-03T08:15:02Z'), now)).toBe('09:15:02');
    expect(formatMoment(at('2026-12-02T22:59:58Z'), now)).toBe('2026-12-02 23:59:58');
  });
});

describe('the restore window', () => {
  const w = overview().window!;

  it('is bounded by whole seconds inside it', () => {
    const b = windowBounds(w)!;
    expect(b.min).toBe('2026-12-03T09:00:01'); // from 08:00:00.250Z, rounded up
    expect(b.max).toBe('2026-12-03T09:15:02'); // until 08:15:02.400Z, rounded down
    expect(b.empty).toBe(false);
    expect(windowBounds(null)).toBeNull();
    expect(windowBounds({ from: '2026-12-03T08:00:00.2Z', until: '2026-12-03T08:00:00.9Z' })?.empty).toBe(true);
    expect(windowBounds({ from: '2026-12-03T08:00:00Z', until: '2026-12-03T08:00:00Z' })?.empty).toBe(false);
  });

  it('clamps a moment into it', () => {
    const b = windowBounds(w);
    expect(clampToWindow('2026-12-03T08:59:00', b)).toBe('2026-12-03T09:00:01');
    expect(clampToWindow('2026-12-04T00:00:00', b)).toBe('2026-12-03T09:15:02');
    expect(clampToWindow('2026-12-03T09:10:00', b)).toBe('2026-12-03T09:10:00');
    expect(clampToWindow('nonsense', b)).toBe('nonsense');
    expect(clampToWindow('2026-12-04T00:00:00', null)).toBe('2026-12-04T00:00:00');
  });

  it('says why a moment cannot be asked for', () => {
    const b = windowBounds(w);
    expect(momentProblem('2026-12-03T09:10:00', b)).toBe('');
    expect(momentProblem('2026-12-03T09:00:01', b)).toBe('');
    expect(momentProblem('2026-12-03T09:15:02', b)).toBe('');
    expect(momentProblem('2026-12-03T09:00:00', b)).toBe('before the earliest moment the archive reaches (2026-12-03 09:00:01)');
    expect(momentProblem('2026-12-03T09:15:03', b)).toBe('after the latest moment the archive reaches (2026-12-03 09:15:02)');
    expect(momentProblem('', b)).toMatch(/required/);
    expect(momentProblem('2026-12-03T09:10:00', null)).toMatch(/no restore window/);
  });

  it('asks for a moment in UTC, or for a backup by its ID', () => {
    expect(restoreRequest({ kind: 'moment' }, '2026-12-03T09:10:00')).toEqual({ to: '2026-12-03T08:10:00Z' });
    expect(restoreRequest({ kind: 'moment' }, '')).toBeNull();
    expect(restoreRequest({ kind: 'backup', id: FULL }, '')).toEqual({ id: FULL });
  });
});

describe('the RPO', () => {
  it.each([
    [0, '0 s'],
    [0.42, '0.4 s'],
    [9.96, '10.0 s'],
    [12.7, '12 s'],
    [185, '3m 5s'],
    [7385, '2h 3m 5s'],
  ])('%d s reads %s', (s, want) => expect(formatRpo(s)).toBe(want));

  const fetched = at('2026-12-03T08:15:03Z');

  it('grows only while something waits to be archived, or without an archive', () => {
    expect(rpoNow(overview(), fetched, fetched + 4000)).toBe(0);
    const waiting = overview({ rpoSeconds: 0.4, archive: { ...overview().archive!, unarchived: '2026-12-03T08:15:02.6Z' } });
    expect(rpoNow(waiting, fetched, fetched + 2000)).toBeCloseTo(2.4);
    expect(rpoNow(overview({ archive: null, rpoSeconds: 60 }), fetched, fetched + 5000)).toBe(65);
    expect(rpoNow(overview({ archive: null, rpoSeconds: undefined, backups: [] }), fetched, fetched)).toBeNull();
  });

  it('says what it means, and warns past 5 minutes or when the archive fails', () => {
    expect(rpoHeadline(overview(), fetched, fetched)).toEqual({ value: '0 s', text: 'every commit archived 09:15:02', warn: false });
    const waiting = overview({ rpoSeconds: 0.4, archive: { ...overview().archive!, unarchived: '2026-12-03T08:15:02.6Z' } });
    expect(rpoHeadline(waiting, fetched, fetched)).toEqual({
      value: '0.4 s',
      text: 'commits since 09:15:02 are not archived yet (archived up to 09:15:02)',
      warn: false,
    });
    const failing = overview({ archive: { ...overview().archive!, lastError: 'disk full', errorAt: '2026-12-03T08:15:00Z' } });
    expect(rpoHeadline(failing, fetched, fetched).warn).toBe(true);
    const old = overview({ archive: null, rpoSeconds: 301, lastBackupAt: '2026-12-03T08:10:02Z' });
    expect(rpoHeadline(old, fetched, fetched)).toEqual({
      value: '5m 1s',
      text: 'the time since the newest backup (09:10:02); the write-ahead log is not archived',
      warn: true,
    });
    expect(rpoHeadline(overview({ archive: null, rpoSeconds: 299 }), fetched, fetched).warn).toBe(false);
    expect(rpoHeadline(overview({ archive: null, rpoSeconds: undefined, backups: [] }), fetched, fetched)).toEqual({
      value: '—',
      text: 'no backup yet: losing the database now would lose all of it',
      warn: true,
    });
  });
});

describe('verification tally', () => {
  it.each([
    [[], 'all 0 checks ok'],
    [['ok'], '1 check ok'],
    [['ok', 'ok', 'ok'], 'all 3 checks ok'],
    [['ok', 'skipped'], '1 of 2 checks ok, 1 skipped'],
    [['ok', 'failed', 'skipped'], '1 of 3 checks failed, 1 ok, 1 skipped'],
    [['failed'], '1 of 1 check failed'],
  ])('%j', (statuses, text) => {
    expect(checkTally({ checks: statuses.map((status, i) => ({ name: `c${i}`, status })) }).text).toBe(text);
  });
});

describe('the schedule form', () => {
  it('reads the saved section, blank for the defaults', () => {
    expect(scheduleFormOf(undefined)).toEqual({ schedule: '', keep: '', maxAge: '', encrypt: false });
    expect(scheduleFormOf({ schedule: '0 3 * * *', keep: 7, maxAge: '168h0m0s', encrypt: true })).toEqual({
      schedule: '0 3 * * *',
      keep: '7',
      maxAge: '168h0m0s',
      encrypt: true,
    });
  });

  it('compares durations by their length', () => {
    const f = scheduleFormOf({ maxAge: '24h0m0s' });
    expect(sameScheduleForm(f, { ...f, maxAge: '24h' })).toBe(true);
    expect(sameScheduleForm(f, { ...f, maxAge: ' 1440m ' })).toBe(true);
    expect(sameScheduleForm(f, { ...f, maxAge: '25h' })).toBe(false);
    expect(sameScheduleForm(f, { ...f, schedule: '@daily' })).toBe(false);
  });

  it.each([
    [{ keep: '0' }, 'keep', 'a whole number from 1 to 10000, or blank for the default'],
    [{ keep: '10001' }, 'keep', 'a whole number from 1 to 10000, or blank for the default'],
    [{ keep: '2.5' }, 'keep', 'a whole number from 1 to 10000, or blank for the default'],
    [{ maxAge: '3 days' }, 'maxAge', 'unknown unit " days" in duration "3 days" (a Go duration: "24h", "168h", "90m")'],
    [{ maxAge: '-5h' }, 'maxAge', 'must not be negative'],
  ])('%j: %s', (over, field, message) => {
    const e = scheduleFormProblems({ ...scheduleFormOf(undefined), ...over });
    expect(e[field as 'keep' | 'maxAge']).toBe(message);
  });

  it('accepts blanks and good values; the cron is the server’s to judge', () => {
    expect(scheduleFormProblems(scheduleFormOf(undefined))).toEqual({ other: [] });
    expect(scheduleFormProblems({ schedule: 'x', keep: '10000', maxAge: '0s', encrypt: false })).toEqual({ other: [] });
  });

  it('leaves blank fields out of the section it saves', () => {
    expect(scheduleSectionOf(scheduleFormOf(undefined))).toEqual({});
    expect(scheduleSectionOf({ schedule: ' @every 30m ', keep: ' 5', maxAge: '2h', encrypt: true })).toEqual({
      schedule: '@every 30m',
      keep: 5,
      maxAge: '2h',
      encrypt: true,
    });
  });

  it('puts the server’s messages beside their fields', () => {
    expect(
      scheduleFieldErrors([
        { path: 'backups.schedule', message: '"x" is not a cron schedule' },
        { path: 'backups.keep', message: '-1 is out of range' },
        { path: 'backups.maxAge', message: '-5h0m0s is negative' },
        { path: 'routes[0].path', message: 'conflicts' },
        { path: '', message: 'the configuration is invalid' },
      ]),
    ).toEqual({
      schedule: '"x" is not a cron schedule',
      keep: '-1 is out of range',
      maxAge: '-5h0m0s is negative',
      other: ['routes[0].path: conflicts', 'the configuration is invalid'],
    });
  });
});

type Answer = { status?: number; body?: unknown; etag?: string };

/** A backups state on a fake server: each "METHOD /path" answers from its
 * queue, in order, the last answer again once the queue is down to one. */
function fake(answers: Record<string, Answer[]>) {
  const calls: { key: string; body: unknown; ifMatch: string | null }[] = [];
  const f = vi.fn(async (url: string, init: RequestInit) => {
    const key = `${init.method} ${url.replace('http://x/_covet/api', '')}`;
    calls.push({ key, body: init.body ? JSON.parse(init.body as string) : undefined, ifMatch: new Headers(init.headers).get('If-Match') });
    const queue = answers[key];
    if (!queue?.length) return new Response(JSON.stringify({ detail: `no answer for ${key}` }), { status: 500 });
    const a = queue.length > 1 ? queue.shift()! : queue[0];
    const headers = a.etag ? { ETag: a.etag } : undefined;
    return new Response(a.status === 204 ? null : JSON.stringify(a.body), { status: a.status ?? 200, headers });
  });
  const api = new ApiClient({ url: 'http://x', token: 't' }, f as never);
  const signedOut = vi.fn();
  const restored = vi.fn();
  const s = new BackupsState(api, signedOut, restored);
  return { s, api, calls, signedOut, restored, keys: () => calls.map((c) => c.key) };
}
const config = (backups?: object) => ({ server: {}, database: {}, auth: {}, routes: [], ...(backups ? { backups } : {}) });

describe('the client', () => {
  it('answers a verification’s report whether it passed (200) or not (422)', async () => {
    const { api } = fake({ [`POST /backups/${FULL}/verify`]: [{ body: report(true) }, { status: 422, body: report(false) }] });
    expect((await api.verifyBackup(FULL)).ok).toBe(true);
    const failed = await api.verifyBackup(FULL);
    expect(failed.ok).toBe(false);
    expect(failed.checks[1]).toMatchObject({ status: 'failed', detail: 'SHA-256 mismatch' });
  });

  it('throws a 422 problem, a 404 and a 409 as ApiErrors', async () => {
    const { api } = fake({
      [`POST /backups/${FULL}/verify`]: [{ status: 422, body: { title: 'Unprocessable Entity', detail: 'odd' } }, { status: 404, body: { detail: 'no backup' } }],
      'POST /backups/restore': [{ status: 409, body: { detail: 'the moment cannot be restored: the archive reaches only 08:15:02' } }],
    });
    await expect(api.verifyBackup(FULL)).rejects.toMatchObject({ status: 422, message: 'odd' });
    await expect(api.verifyBackup(FULL)).rejects.toMatchObject({ status: 404, message: 'no backup' });
    const e = await api.restoreBackup({ to: '2026-12-03T08:20:00Z', dryRun: true }).catch((x) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({ status: 409, message: 'the moment cannot be restored: the archive reaches only 08:15:02' });
  });

  it('saves the backups section with If-Match', async () => {
    const { api, calls } = fake({ 'PUT /config/backups': [{ body: { version: 4, etag: '"e2"', source: 'api', restartRequired: [], dryRun: false } }] });
    expect((await api.putBackupsConfig({ schedule: 'off' }, '"e1"')).version).toBe(4);
    expect(calls[0]).toMatchObject({ key: 'PUT /config/backups', body: { schedule: 'off' }, ifMatch: '"e1"' });
  });
});

describe('BackupsState', () => {
  it('loads the overview, keeps it when a later read fails, and starts "encrypted" as the schedule says', async () => {
    const { s } = fake({ 'GET /backups': [{ body: overview({ schedule: { ...overview().schedule, encrypt: true } }) }, { status: 500, body: { detail: 'boom' } }] });
    await s.refresh();
    expect(s.overview?.backups).toHaveLength(2);
    expect(s.fetchedAt).toBeGreaterThan(0);
    expect(s.encryptNew).toBe(true);
    await s.refresh();
    expect(s.problem).toBe('boom');
    expect(s.overview).not.toBeNull();
  });

  it('goes to sign-in on 401', async () => {
    const { s, signedOut } = fake({ 'GET /backups': [{ status: 401, body: { detail: 'no' } }] });
    await s.refresh();
    expect(signedOut).toHaveBeenCalled();
    expect(s.problem).toBe('');
  });

  it('backs up now, encrypted as chosen, and reloads the list', async () => {
    const { s, calls } = fake({
      'GET /backups': [{ body: overview() }],
      'POST /backups': [{ status: 201, body: manifest('20261203T082000.000Z-cccccc', 'full', { encrypted: true }) }],
    });
    await s.refresh();
    s.setEncryptNew(true);
    await s.create();
    expect(calls.find((c) => c.key === 'POST /backups')?.body).toEqual({ encrypt: true });
    expect(s.notice).toBe('Backed up: 20261203T082000.000Z-cccccc (encrypted).');
    expect(calls.at(-1)?.key).toBe('GET /backups');
  });

  it('does nothing where backups are not supported', async () => {
    const { s, keys } = fake({ 'GET /backups': [{ body: { ...overview(), supported: false, reason: 'the database is postgres' } }] });
    await s.refresh();
    await s.create();
    expect(keys()).toEqual(['GET /backups']);
  });

  it('keeps each verification’s report under its backup', async () => {
    const { s } = fake({ [`POST /backups/${FULL}/verify`]: [{ status: 422, body: report(false) }], [`POST /backups/${BASE}/verify`]: [{ status: 404, body: { detail: 'gone' } }] });
    const running = s.verify(FULL);
    expect(s.verifications[FULL].running).toBe(true);
    await running;
    await s.verify(BASE);
    expect(s.verifications[FULL]).toMatchObject({ running: false, error: '', report: { ok: false } });
    expect(s.verifications[BASE]).toEqual({ running: false, report: null, error: 'gone' });
    s.dismissVerification(FULL);
    expect(s.verifications[FULL]).toBeUndefined();
  });

  it('deletes after the confirmation, and shows a refusal as the server words it', async () => {
    const { s, keys } = fake({
      'GET /backups': [{ body: overview() }],
      [`DELETE /backups/${FULL}`]: [{ status: 204 }],
      [`DELETE /backups/${BASE}`]: [{ status: 409, body: { detail: 'the backup is in use: it is the base the write-ahead log is being archived into' } }],
    });
    s.askDelete(manifest(FULL));
    expect(keys()).toEqual([]);
    s.cancelDelete();
    expect(s.deleting).toBeNull();
    s.askDelete(manifest(FULL));
    await s.confirmDelete();
    expect(s.notice).toBe(`Deleted backup ${FULL}.`);
    s.askDelete(manifest(BASE, 'base'));
    await s.confirmDelete();
    expect(s.actionError).toBe(`Backup ${BASE} was not deleted: the backup is in use: it is the base the write-ahead log is being archived into`);
    expect(keys()).toEqual([`DELETE /backups/${FULL}`, 'GET /backups', `DELETE /backups/${BASE}`, 'GET /backups']);
  });
});

describe('BackupsState: restoring', () => {
  it('plans a moment in UTC, needs the confirmation, restores, and reports the backup kept', async () => {
    const done = restoreReport({
      dryRun: false,
      restored: true,
      keptBackup: '20261203T082100.000Z-dddddd',
      verify: { id: BASE, ok: true, checks: [{ name: 'integrity_check', status: 'ok' }] },
    });
    const { s, calls, restored } = fake({ 'GET /backups': [{ body: overview() }], 'POST /backups/restore': [{ body: restoreReport() }, { body: done }] });
    await s.refresh();
    s.openRestore({ kind: 'moment' });
    expect(s.restore?.phase).toBe('choose');
    expect(s.restoreLocal).toBe('2026-12-03T09:15:02'); // the latest whole second the window reaches
    s.restoreLocal = '2026-12-03T09:05:00';
    expect(s.canPlan).toBe(true);
    expect(s.canRestore).toBe(false);
    await s.plan();
    expect(calls.at(-1)).toMatchObject({ key: 'POST /backups/restore', body: { to: '2026-12-03T08:05:00Z', dryRun: true } });
    expect(s.restore?.phase).toBe('planned');
    expect(s.restore?.plan?.plan).toHaveLength(4);
    expect(s.canRestore).toBe(false); // not confirmed yet
    s.restoreConfirmed = true;
    expect(s.canRestore).toBe(true);

    // Another moment: the plan no longer holds.
    s.restoreLocal = '2026-12-03T09:06:00';
    expect(s.planStale).toBe(true);
    expect(s.canRestore).toBe(false);
    s.restoreLocal = '2026-12-03T09:05:00';
    expect(s.canRestore).toBe(true);

    await s.confirmRestore();
    expect(calls.filter((c) => c.key === 'POST /backups/restore').at(-1)?.body).toEqual({ to: '2026-12-03T08:05:00Z' });
    expect(s.restore).toMatchObject({ phase: 'done', error: null, result: { restored: true, keptBackup: '20261203T082100.000Z-dddddd' } });
    expect(s.restoreConfirmed).toBe(false);
    expect(restored).toHaveBeenCalledOnce();
    expect(calls.at(-1)?.key).toBe('GET /backups');
    s.closeRestore();
    expect(s.restore).toBeNull();
  });

  it('does not ask for a moment outside the window', async () => {
    const { s, keys } = fake({ 'GET /backups': [{ body: overview() }] });
    await s.refresh();
    s.openRestore({ kind: 'moment' });
    s.restoreLocal = '2026-12-03T10:00:00';
    expect(s.momentProblem).toBe('after the latest moment the archive reaches (2026-12-03 09:15:02)');
    expect(s.canPlan).toBe(false);
    await s.plan();
    expect(keys()).toEqual(['GET /backups']);
    s.clampMoment();
    expect(s.restoreLocal).toBe('2026-12-03T09:15:02');
    expect(s.momentProblem).toBe('');
  });

  it('shows the server’s refusal of a moment (409) and lets it be changed', async () => {
    const { s } = fake({
      'GET /backups': [{ body: overview() }],
      'POST /backups/restore': [{ status: 409, body: { detail: 'the moment cannot be restored: the archive reaches only 08:14:00' } }],
    });
    await s.refresh();
    s.openRestore({ kind: 'moment' });
    await s.plan();
    expect(s.restore).toMatchObject({ phase: 'choose', plan: null, error: { status: 409, message: 'the moment cannot be restored: the archive reaches only 08:14:00' } });
    expect(s.canPlan).toBe(true);
  });

  it('plans a backup at once, and shows a restore refused by verification (422)', async () => {
    const refused = restoreReport({ to: null, backup: manifest(FULL), dryRun: false, restored: false, verify: report(false) });
    const { s, calls, restored } = fake({
      'GET /backups': [{ body: overview() }],
      'POST /backups/restore': [{ body: restoreReport({ to: null, backup: manifest(FULL) }) }, { status: 422, body: refused }],
    });
    await s.refresh();
    s.openRestore({ kind: 'backup', id: FULL });
    await vi.waitFor(() => expect(s.restore?.phase).toBe('planned'));
    expect(calls.find((c) => c.key === 'POST /backups/restore')?.body).toEqual({ id: FULL, dryRun: true });
    expect(s.momentProblem).toBe('');
    s.restoreConfirmed = true;
    await s.confirmRestore();
    expect(s.restore?.phase).toBe('done');
    expect(s.restore?.result?.restored).toBe(false);
    expect(s.restore?.result?.verify?.ok).toBe(false);
    expect(restored).not.toHaveBeenCalled();
  });

  it('keeps the dialog open while it restores', async () => {
    let release!: (r: Response) => void;
    const { s, api } = fake({ 'GET /backups': [{ body: overview() }], 'POST /backups/restore': [{ body: restoreReport({ to: null }) }] });
    await s.refresh();
    s.openRestore({ kind: 'backup', id: BASE });
    await vi.waitFor(() => expect(s.restore?.phase).toBe('planned'));
    s.restoreConfirmed = true;
    vi.spyOn(api, 'restoreBackup').mockImplementationOnce(() => new Promise((r) => (release = (x) => r(x as never))));
    const running = s.confirmRestore();
    expect(s.restore?.phase).toBe('restoring');
    s.closeRestore();
    expect(s.restore).not.toBeNull();
    release(restoreReport({ to: null, dryRun: false, restored: true, keptBackup: 'k' }) as never);
    await running;
    expect(s.restore?.phase).toBe('done');
  });
});

describe('BackupsState: the schedule', () => {
  it('loads the section and its ETag, and saves with it', async () => {
    const { s, calls } = fake({
      'GET /config': [{ body: config(), etag: '"e1"' }, { body: config({ schedule: '@every 30m', keep: 5 }), etag: '"e2"' }],
      'PUT /config/backups': [{ body: { version: 2, etag: '"e2"', source: 'api', restartRequired: [], dryRun: false } }],
      'GET /backups': [{ body: overview() }],
    });
    await s.refreshConfig();
    expect(s.etag).toBe('"e1"');
    expect(s.form).toEqual({ schedule: '', keep: '', maxAge: '', encrypt: false });
    expect(s.canSaveSchedule).toBe(false); // nothing changed
    s.form.schedule = '@every 30m';
    s.form.keep = '5';
    expect(s.scheduleChanged).toBe(true);
    await s.saveSchedule();
    expect(calls.find((c) => c.key === 'PUT /config/backups')).toMatchObject({ body: { schedule: '@every 30m', keep: 5 }, ifMatch: '"e1"' });
    expect(s.scheduleNotice).toBe('Saved to covet.json (version 2 is live).');
    expect(s.saved).toEqual({ schedule: '@every 30m', keep: 5 });
    expect(s.etag).toBe('"e2"');
    expect(s.scheduleChanged).toBe(false);
  });

  it('puts the server’s validation messages beside their fields', async () => {
    const { s } = fake({
      'GET /config': [{ body: config(), etag: '"e1"' }],
      'PUT /config/backups': [
        {
          status: 400,
          body: {
            detail: 'the configuration is invalid; nothing was changed',
            errors: [{ path: 'backups.schedule', message: '"every day" is not a cron schedule (five fields "0 3 * * *", @hourly, @daily, @every 30m, or "off"): expected exactly 5 fields, found 2' }],
          },
        },
      ],
    });
    await s.refreshConfig();
    s.form.schedule = 'every day';
    await s.saveSchedule();
    expect(s.scheduleErrors.schedule).toMatch(/^"every day" is not a cron schedule/);
    expect(s.scheduleErrors.other).toEqual([]);
    s.form.schedule = '@daily';
    s.clearScheduleMessages();
    expect(s.scheduleErrors.schedule).toBeUndefined();
  });

  it('on 412 reloads covet.json, shows its values and says why', async () => {
    const { s } = fake({
      'GET /config': [{ body: config(), etag: '"e1"' }, { body: config({ schedule: 'off' }), etag: '"e9"' }],
      'PUT /config/backups': [{ status: 412, body: { detail: 'the configuration changed since it was read' } }],
    });
    await s.refreshConfig();
    s.form.keep = '3';
    await s.saveSchedule();
    expect(s.form).toEqual({ schedule: 'off', keep: '', maxAge: '', encrypt: false });
    expect(s.etag).toBe('"e9"');
    expect(s.scheduleErrors.other[0]).toMatch(/^covet\.json was changed by someone else/);
  });

  it('keeps edits not saved yet when covet.json changes, so that their save meets the 412', async () => {
    const { s, calls } = fake({
      'GET /config': [{ body: config(), etag: '"e1"' }, { body: config({ keep: 9 }), etag: '"e2"' }, { body: config({ keep: 9 }), etag: '"e2"' }],
      'PUT /config/backups': [{ status: 412, body: { detail: 'stale' } }],
    });
    await s.refreshConfig();
    s.form.maxAge = '48h';
    await s.refreshConfig(); // config.changed: someone set keep
    expect(s.form.maxAge).toBe('48h');
    expect(s.saved).toEqual({ keep: 9 });
    await s.saveSchedule();
    expect(calls.find((c) => c.key === 'PUT /config/backups')?.ifMatch).toBe('"e1"');
  });

  it('follows covet.json when the form holds no edits', async () => {
    const { s } = fake({ 'GET /config': [{ body: config(), etag: '"e1"' }, { body: config({ schedule: '@daily' }), etag: '"e2"' }] });
    await s.refreshConfig();
    await s.refreshConfig();
    expect(s.form.schedule).toBe('@daily');
  });

  it('does not send what the form already knows is wrong', async () => {
    const { s, keys } = fake({ 'GET /config': [{ body: config(), etag: '"e1"' }] });
    await s.refreshConfig();
    s.form.keep = 'lots';
    expect(s.scheduleErrors.keep).toMatch(/whole number/);
    expect(s.canSaveSchedule).toBe(false);
    await s.saveSchedule();
    expect(keys()).toEqual(['GET /config']);
  });
});

describe('DatabaseState and the backups', () => {
  it('reloads the backups on backups.changed and config.changed', async () => {
    const f = vi.fn(async (url: string) => {
      if (url.endsWith('/_covet/api/config')) return new Response(JSON.stringify(config()), { headers: { ETag: '"e"' } });
      return new Response(JSON.stringify(overview()));
    });
    const db = new DatabaseState(new ApiClient({ url: 'http://x', token: 't' }, f as never));
    db.handle({ type: 'backups.changed', seq: 1, time: '', data: null });
    await vi.waitFor(() => expect(db.backups.overview).not.toBeNull());
    expect(f.mock.calls.map((c) => c[0])).toEqual(['http://x/_covet/api/backups']);
    db.handle({ type: 'config.changed', seq: 2, time: '', data: null });
    await vi.waitFor(() => expect(db.backups.etag).toBe('"e"'));
    expect(f.mock.calls.map((c) => c[0]).slice(1).sort()).toEqual(['http://x/_covet/api/backups', 'http://x/_covet/api/config']);
  });
});
