// The Database page's backups, as pure logic: a backup's size, the
// recovery point objective in words, the restore window as the bounds of a
// datetime-local input and the conversion between that input (the
// browser's local time) and the RFC 3339 UTC time the server takes, a
// verification's tally, and covet.json's backups section as a form.
import type { ArchiveInfo, BackupManifest, BackupReport, BackupsConfig, BackupsOverview, FieldError, RestoreRequest, RestoreWindow } from '../../api/types.gen';
import { formatUptime } from '../../lib/format';
import { parseDuration } from '../../lib/keys';

/** Past this many seconds the RPO shows as a warning. */
export const RPO_WARN_SECONDS = 5 * 60;

/** The most backups covet.json's backups.keep may keep (the server's MaxBackupKeep). */
export const MAX_BACKUP_KEEP = 10_000;

/** A backup's size as restored: the sum of its files' plain sizes. */
export const backupSize = (m: Pick<BackupManifest, 'files'>) => m.files.reduce((n, f) => n + f.plainSize, 0);

/** A backup's size in the store (encrypted files are a little larger). */
export const storedSize = (m: Pick<BackupManifest, 'files'>) => m.files.reduce((n, f) => n + f.size, 0);

/** The archive of base backup id, when it is one. */
export const archiveOf = (o: Pick<BackupsOverview, 'archives'>, id: string): ArchiveInfo | undefined => o.archives.find((a) => a.base.id === id);

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** A moment as the value of a datetime-local input with seconds, in the
 * browser's time zone: 2026-12-03T09:15:02. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A moment in local time for people: 2026-12-03 09:15:02. */
export const formatLocal = (ms: number) => toLocalInput(ms).replace('T', ' ');

/** A moment in local time, only the clock when it is on the same day as
 * now: 09:15:02, else 2026-12-02 23:59:58. */
export function formatMoment(ms: number, now: number): string {
  const full = formatLocal(ms);
  return full.slice(0, 10) === formatLocal(now).slice(0, 10) ? full.slice(11) : full;
}

/** The browser's offset from UTC at a moment: UTC+01:00, UTC−03:30, UTC. */
export function utcOffsetLabel(ms: number): string {
  const off = -new Date(ms).getTimezoneOffset();
  if (off === 0) return 'UTC';
  const a = Math.abs(off);
  return `UTC${off > 0 ? '+' : '−'}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/** The browser's time zone in words: "UTC", or its name and offset now. */
export function zoneLabel(zone: string, ms: number): string {
  const offset = utcOffsetLabel(ms);
  if (!zone || zone === 'UTC' || zone === 'Etc/UTC') return offset;
  return `${zone}, ${offset}`;
}

/** A moment as RFC 3339 in UTC, without a fraction when it has none:
 * 2026-12-03T08:15:02Z. */
export function toRfc3339(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

const LOCAL_INPUT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/;

/** Reads a datetime-local input's value (the browser leaves the seconds
 * out when they are 0) as a moment in the browser's time zone; a time that
 * a daylight-saving jump skips does not exist and is an error. */
export function parseLocalInput(value: string): { ms: number; error?: undefined } | { ms?: undefined; error: string } {
  const v = value.trim();
  if (!v) return { error: 'required: a date and a time' };
  const m = LOCAL_INPUT.exec(v);
  if (!m) return { error: `"${v}" is not a date and time (YYYY-MM-DDTHH:MM:SS)` };
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map((x) => Number(x ?? 0));
  const frac = Number((m[7] ?? '0').padEnd(3, '0'));
  const date = new Date(y, mo - 1, d, h, mi, s, frac);
  if (Number.isNaN(date.getTime())) return { error: `"${v}" is not a date and time` };
  if (date.getFullYear() !== y || date.getMonth() !== mo - 1 || date.getDate() !== d) return { error: `${v.slice(0, 10)} is not a date` };
  if (date.getHours() !== h || date.getMinutes() !== mi || date.getSeconds() !== s) {
    return { error: `${v.replace('T', ' ')} does not exist in this time zone: the clocks jump over it (daylight saving)` };
  }
  return { ms: date.getTime() };
}

/** A datetime-local input's value as the RFC 3339 UTC time the server
 * takes. */
export function localToUtc(value: string): { iso: string; error?: undefined } | { iso?: undefined; error: string } {
  const p = parseLocalInput(value);
  return p.error !== undefined ? { error: p.error } : { iso: toRfc3339(p.ms) };
}

/** The whole seconds of a restore window, as a datetime-local input's min
 * and max: the first whole second at or after its start, the last at or
 * before its end; empty when the window holds no whole second yet. */
export interface WindowBounds {
  min: string;
  max: string;
  minMs: number;
  maxMs: number;
  empty: boolean;
}

export function windowBounds(w: RestoreWindow | null | undefined): WindowBounds | null {
  if (!w) return null;
  const minMs = Math.ceil(Date.parse(w.from) / 1000) * 1000;
  const maxMs = Math.floor(Date.parse(w.until) / 1000) * 1000;
  if (Number.isNaN(minMs) || Number.isNaN(maxMs)) return null;
  return { min: toLocalInput(minMs), max: toLocalInput(maxMs), minMs, maxMs, empty: minMs > maxMs };
}

/** The value brought into the window's bounds (unchanged when it is in
 * them, or cannot be read). */
export function clampToWindow(value: string, b: WindowBounds | null): string {
  const p = parseLocalInput(value);
  if (!b || b.empty || p.error !== undefined) return value;
  if (p.ms < b.minMs) return b.min;
  if (p.ms > b.maxMs) return b.max;
  return value;
}

/** Why a moment cannot be asked for ('' when it can): it does not read,
 * or it is outside the window the archive reaches. */
export function momentProblem(value: string, b: WindowBounds | null): string {
  const p = parseLocalInput(value);
  if (p.error !== undefined) return p.error;
  if (!b) return 'there is no restore window: no base backup has an archive yet';
  if (b.empty) return 'the restore window does not hold a whole second yet: wait a moment';
  if (p.ms < b.minMs) return `before the earliest moment the archive reaches (${formatLocal(b.minMs)})`;
  if (p.ms > b.maxMs) return `after the latest moment the archive reaches (${formatLocal(b.maxMs)})`;
  return '';
}

/** What a restore restores: a moment (through the archive) or a backup. */
export type RestoreTarget = { kind: 'moment' } | { kind: 'backup'; id: string };

/** The restore request for a target, without dryRun; for a moment, the
 * input's value in UTC (null when it does not read). */
export function restoreRequest(target: RestoreTarget, local: string): RestoreRequest | null {
  if (target.kind === 'backup') return { id: target.id };
  const t = localToUtc(local);
  return t.error !== undefined ? null : { to: t.iso };
}

/** A recovery point objective in a few characters: 0 s, 0.4 s, 12 s,
 * 3m 5s, 2h 3m 5s, 1d 2h 3m. */
export function formatRpo(seconds: number): string {
  const s = Math.max(0, seconds);
  if (s === 0) return '0 s';
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.floor(s)} s`;
  return formatUptime(s);
}

/** The RPO now: the server's figure, grown by the time since it answered
 * when it grows by itself (a commit waits to be archived, or there is no
 * archive and it is the age of the newest backup). Null without any
 * backup. */
export function rpoNow(o: Pick<BackupsOverview, 'rpoSeconds' | 'archive'>, fetchedAt: number, now: number): number | null {
  if (o.rpoSeconds === undefined || o.rpoSeconds === null) return null;
  const growing = o.archive ? !!o.archive.unarchived : true;
  return o.rpoSeconds + (growing ? Math.max(0, now - fetchedAt) / 1000 : 0);
}

/** The RPO headline: its value, what it means, and whether it is a
 * warning (over RPO_WARN_SECONDS, no backup at all, or the archive
 * failing). */
export interface RpoHeadline {
  value: string;
  text: string;
  warn: boolean;
}

export function rpoHeadline(o: BackupsOverview, fetchedAt: number, now: number): RpoHeadline {
  const rpo = rpoNow(o, fetchedAt, now);
  const a = o.archive;
  const failing = !!a?.lastError;
  if (rpo === null) return { value: '—', text: 'no backup yet: losing the database now would lose all of it', warn: true };
  const warn = failing || rpo > RPO_WARN_SECONDS;
  const value = formatRpo(rpo);
  if (a) {
    const synced = formatMoment(Date.parse(a.syncedAt), now);
    if (a.unarchived) {
      return { value, text: `commits since ${formatMoment(Date.parse(a.unarchived), now)} are not archived yet (archived up to ${synced})`, warn };
    }
    return { value, text: `every commit archived ${synced}`, warn };
  }
  const last = o.lastBackupAt ? formatMoment(Date.parse(o.lastBackupAt), now) : '?';
  return { value, text: `the time since the newest backup (${last}); the write-ahead log is not archived`, warn };
}

/** A verification's checks, counted. */
export function checkTally(r: Pick<BackupReport, 'checks'>): { ok: number; failed: number; skipped: number; text: string } {
  const count = (s: string) => r.checks.filter((c) => c.status === s).length;
  const ok = count('ok');
  const failed = count('failed');
  const skipped = count('skipped');
  const n = r.checks.length;
  const checks = `${n} ${n === 1 ? 'check' : 'checks'}`;
  const rest = (xs: [number, string][]) => xs.filter(([k]) => k > 0).map(([k, w]) => `, ${k} ${w}`).join('');
  let text: string;
  if (failed) text = `${failed} of ${checks} failed${rest([[ok, 'ok'], [skipped, 'skipped']])}`;
  else if (skipped) text = `${ok} of ${checks} ok${rest([[skipped, 'skipped']])}`;
  else text = n === 1 ? '1 check ok' : `all ${checks} ok`;
  return { ok, failed, skipped, text };
}

/** The schedule editor's fields, as typed; blank keeps the default. */
export interface ScheduleForm {
  schedule: string;
  keep: string;
  maxAge: string;
  encrypt: boolean;
}

/** Problems by field; other holds what belongs to no field. */
export interface ScheduleErrors {
  schedule?: string;
  keep?: string;
  maxAge?: string;
  encrypt?: string;
  other: string[];
}

/** Cron schedules to pick from, with what they mean. */
export const SCHEDULE_EXAMPLES: readonly { value: string; meaning: string }[] = [
  { value: '@hourly', meaning: 'every hour, on the hour (the default)' },
  { value: '@daily', meaning: 'every day at midnight' },
  { value: '0 3 * * *', meaning: 'every day at 03:00' },
  { value: '*/15 * * * *', meaning: 'every 15 minutes' },
  { value: '@every 30m', meaning: '30 minutes after the last run' },
  { value: 'off', meaning: 'none: the write-ahead log is still archived into the current base' },
];

/** The form for covet.json's backups section as saved (absent: every
 * field at its default). */
export function scheduleFormOf(saved: BackupsConfig | null | undefined): ScheduleForm {
  return { schedule: saved?.schedule ?? '', keep: saved?.keep ? String(saved.keep) : '', maxAge: saved?.maxAge ?? '', encrypt: !!saved?.encrypt };
}

/** Whether two forms say the same ("24h" and "24h0m0s" are the same). */
export function sameScheduleForm(a: ScheduleForm, b: ScheduleForm): boolean {
  const age = (x: string) => {
    const p = parseDuration(x.trim());
    return p.ns !== undefined ? String(p.ns) : x.trim();
  };
  return a.schedule.trim() === b.schedule.trim() && a.keep.trim() === b.keep.trim() && age(a.maxAge) === age(b.maxAge) && a.encrypt === b.encrypt;
}

/** What the form gets wrong before the server is asked; the schedule is
 * the server's to judge (its cron parser decides). */
export function scheduleFormProblems(f: ScheduleForm): ScheduleErrors {
  const out: ScheduleErrors = { other: [] };
  const keep = f.keep.trim();
  if (keep && (!/^\d+$/.test(keep) || Number(keep) < 1 || Number(keep) > MAX_BACKUP_KEEP)) {
    out.keep = `a whole number from 1 to ${MAX_BACKUP_KEEP}, or blank for the default`;
  }
  const age = f.maxAge.trim();
  if (age) {
    const p = parseDuration(age);
    if (p.error !== undefined) out.maxAge = p.error.replace(/^time: /, '') + ' (a Go duration: "24h", "168h", "90m")';
    else if (p.ns < 0n) out.maxAge = 'must not be negative';
  }
  return out;
}

export const hasScheduleErrors = (e: ScheduleErrors) => !!(e.schedule || e.keep || e.maxAge || e.encrypt || e.other.length);

/** The section to PUT: blank fields are left out (their defaults apply). */
export function scheduleSectionOf(f: ScheduleForm): BackupsConfig {
  const out: BackupsConfig = {};
  if (f.schedule.trim()) out.schedule = f.schedule.trim();
  if (f.keep.trim()) out.keep = Number(f.keep.trim());
  if (f.maxAge.trim()) out.maxAge = f.maxAge.trim();
  if (f.encrypt) out.encrypt = true;
  return out;
}

/** The server's validation errors by field of the form. */
export function scheduleFieldErrors(errors: FieldError[]): ScheduleErrors {
  const out: ScheduleErrors = { other: [] };
  for (const e of errors) {
    const field = /^backups\.(schedule|keep|maxAge|encrypt)$/.exec(e.path)?.[1] as keyof Omit<ScheduleErrors, 'other'> | undefined;
    if (field && !out[field]) out[field] = e.message;
    else out.other.push(e.path ? `${e.path}: ${e.message}` : e.message);
  }
  return out;
}
