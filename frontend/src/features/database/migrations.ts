// The Database page's model of schema migrations: what each action asks
// the server, what a migration row offers, the linter's warnings by
// statement, a failed step read from the server's message, and SQL cut
// into numbered, highlighted lines.
import type { LintWarning, MigrationReport, MigrationRequest, MigrationStatus, MigrationStep, MigrationsStatus } from '../../api/types.gen';
import { tokenize, type Token } from '../../lib/sql';

/** What the user asked for: apply every pending migration, roll back the
 * latest, redo the latest, or go up or down until version is the latest. */
export type Intent = { kind: 'up' } | { kind: 'down' } | { kind: 'redo' } | { kind: 'to'; version: number };

/** The run an intent asks the server for (without dryRun and force). */
export function requestOf(intent: Intent): MigrationRequest {
  return intent.kind === 'to' ? { action: 'to', version: intent.version } : { action: intent.kind };
}

/** A migration's version as its files spell it (0001), else the number. */
export function versionLabel(m: Pick<MigrationStatus, 'version' | 'upFile' | 'downFile'>): string {
  const prefix = (m.upFile || m.downFile || '').split('_')[0];
  return /^\d+$/.test(prefix) && Number(prefix) === m.version ? prefix : String(m.version);
}

/** 0001_create_users: the migration's full name. */
export const migrationLabel = (m: Pick<MigrationStatus, 'version' | 'name' | 'upFile' | 'downFile'>) => `${versionLabel(m)}_${m.name}`;

/** The latest applied migration (the current version), if any. */
export function latestApplied(status: MigrationsStatus): MigrationStatus | undefined {
  return status.migrations.find((m) => m.state === 'applied' && m.version === status.current);
}

const plural = (n: number, one: string, many = one + 's') => `${n} ${n === 1 ? one : many}`;

/** The preview's title for an intent. */
export function intentTitle(intent: Intent, status: MigrationsStatus): string {
  const latest = latestApplied(status);
  const named = (v: number) => {
    const m = status.migrations.find((x) => x.version === v);
    return m ? migrationLabel(m) : `version ${v}`;
  };
  switch (intent.kind) {
    case 'up':
      return `Apply ${plural(status.pending, 'pending migration')}`;
    case 'down':
      return latest ? `Roll back ${migrationLabel(latest)}` : 'Roll back the latest migration';
    case 'redo':
      return latest ? `Redo ${migrationLabel(latest)}` : 'Redo the latest migration';
    case 'to':
      return intent.version >= status.current ? `Apply migrations up to ${named(intent.version)}` : `Roll back to ${named(intent.version)}`;
  }
}

/** The confirm button's text for a planned run. */
export function confirmLabel(report: MigrationReport): string {
  const ups = report.steps.filter((s) => s.direction === 'up').length;
  const downs = report.steps.length - ups;
  if (ups && downs) return `Run ${plural(report.steps.length, 'step')}`;
  if (downs) return `Roll back ${plural(downs, 'migration')}`;
  return `Apply ${plural(ups, 'migration')}`;
}

/** How many of the linter's warnings a planned run has. */
export const warningCount = (report: MigrationReport) => report.steps.reduce((n, s) => n + s.warnings.length, 0);

/** The rules behind a planned run's warnings, each once, in order. */
export function warningRules(report: MigrationReport): string[] {
  return [...new Set(report.steps.flatMap((s) => s.warnings.map((w) => w.rule)))];
}

/** The acknowledgement a destructive run asks for, in the words of what it
 * loses. */
export function acknowledgement(report: MigrationReport): string {
  const rules = warningRules(report);
  const drops = rules.some((r) => r.startsWith('drop-') || r === 'truncate' || r === 'delete-all');
  const what = drops ? 'this drops data' : 'these statements can lose or break data';
  return `I understand ${what}: apply ${warningCount(report) === 1 ? 'it' : 'them'} anyway`;
}

/** The linter's warnings keyed by statement (from 1). */
export function warningsByStatement(warnings: LintWarning[]): Map<number, LintWarning[]> {
  const out = new Map<number, LintWarning[]>();
  for (const w of warnings) out.set(w.statement, [...(out.get(w.statement) ?? []), w]);
  return out;
}

/** Why a run that rolls back everything above target cannot: the first
 * migration it would roll back without a down file ('' when none). */
export function rollbackProblem(status: MigrationsStatus, target: number): string {
  const stuck = status.migrations.find((m) => m.state === 'applied' && m.version > target && !m.downFile && !m.go);
  return stuck ? `${migrationLabel(stuck)} has no down file (${versionLabel(stuck)}_${stuck.name}.down.sql), so it cannot be rolled back` : '';
}

/** Why no run can start now ('' when one can). */
export function runBlocker(status: MigrationsStatus | null): string {
  if (!status) return 'the migrations are loading';
  if (status.problems.length) return `runs are blocked until the ${status.problems.length === 1 ? 'problem above is' : 'problems above are'} dealt with`;
  return '';
}

/** A row's run: the intent, its label and why it is unavailable. */
export interface RowAction {
  id: 'apply-to' | 'rollback' | 'rollback-to';
  label: string;
  title: string;
  intent: Intent;
  disabled: string;
}

/** What a migration row offers: pending ones apply up to themselves,
 * the latest applied one rolls back, earlier applied ones roll back the
 * migrations after them. */
export function rowActions(m: MigrationStatus, status: MigrationsStatus): RowAction[] {
  const blocked = runBlocker(status);
  if (m.state === 'pending') {
    const n = status.migrations.filter((x) => x.state === 'pending' && x.version <= m.version).length;
    return [
      {
        id: 'apply-to',
        label: 'Apply up to here',
        title: `Apply ${plural(n, 'pending migration')}, up to and including this one`,
        intent: { kind: 'to', version: m.version },
        disabled: blocked,
      },
    ];
  }
  if (m.state !== 'applied') return [];
  if (m.version === status.current) {
    return [{ id: 'rollback', label: 'Roll back', title: 'Roll back this migration with its down file', intent: { kind: 'down' }, disabled: blocked || rollbackProblem(status, m.version - 1) }];
  }
  const n = status.migrations.filter((x) => x.state === 'applied' && x.version > m.version).length;
  return [
    {
      id: 'rollback-to',
      label: 'Roll back to here',
      title: `Roll back the ${plural(n, 'migration')} after this one; this one stays applied`,
      intent: { kind: 'to', version: m.version },
      disabled: blocked || rollbackProblem(status, m.version),
    },
  ];
}

/** A dirty migration's way out: record it as applied, or as not applied
 * (the version below it becomes the latest). */
export interface ForceOption {
  version: number;
  applied: boolean;
  label: string;
  title: string;
  message: string;
}

export function forceOptions(m: MigrationStatus, status: MigrationsStatus): ForceOption[] {
  if (m.state !== 'dirty') return [];
  const name = migrationLabel(m);
  const known = status.migrations.filter((x) => x.state !== 'missing' && x.version < m.version);
  const below = known.length ? known[known.length - 1].version : 0;
  const noSql = `No SQL runs: Covet only rewrites its history table (${status.table}). Do this once you have finished or undone the migration's statements by hand, so that the schema matches what is recorded.`;
  const out: ForceOption[] = [];
  // Force needs a version the server knows: a dirty migration whose file is gone can only be undone.
  if (m.upFile || m.go) {
    out.push({
      version: m.version,
      applied: true,
      label: `Mark as applied (force ${m.version})`,
      title: `Record ${name} as applied?`,
      message: `Records that exactly the migrations up to ${name} (version ${m.version}) are applied and clears the dirty state. ${noSql}`,
    });
  }
  out.push({
    version: below,
    applied: false,
    label: `Mark as not applied (force ${below})`,
    title: `Record ${name} as not applied?`,
    message: `Records that exactly the migrations up to version ${below} are applied: ${name} becomes pending again and the dirty state is cleared. ${noSql}`,
  });
  return out;
}

/** Whether a dirty migration failed while rolling back (its problem says
 * so) rather than while applying. */
export function dirtyWhileRollingBack(m: MigrationStatus, problems: string[]): boolean {
  const label = m.upFile || `version ${m.version} (`;
  return problems.some((p) => p.includes(label) && p.includes('while rolling back'));
}

/** The statement a dirty migration stopped at, when the files have it. */
export function failedStatement(m: MigrationStatus, problems: string[]): { sql: string; line: number; file: string } | null {
  if (!m.failedStatement) return null;
  const down = dirtyWhileRollingBack(m, problems);
  const s = (down ? m.down : m.up)[m.failedStatement - 1];
  return s ? { ...s, file: (down ? m.downFile : m.upFile) ?? '' } : null;
}

/** A failed step as the server's 422 describes it. */
export interface StepFailure {
  direction: string;
  file: string;
  line: number;
  /** The statement's number in its file, from 1, and how many there are (0 when not known). */
  statement: number;
  of: number;
  cause: string;
  /** "rolled back" or "dirty": what happened to the migration. */
  fate: 'rolled back' | 'dirty' | '';
  /** The server's words about it. */
  fateText: string;
  detail: string;
}

const FAILURE =
  /^migrate: (up|down) (\S+?\.sql|\d+_\w+ \(Go, (?:up|down)\))(?::(\d+))?: (?:statement (\d+) of (\d+): )?([\s\S]*?)(?: \((rolled back: [^()]*|the statements before it were applied[\s\S]*)\))?$/;

/** Reads the server's message for a failed step; null when it is shaped
 * otherwise (then the message is shown as it is). */
export function parseStepFailure(detail: string): StepFailure | null {
  const m = FAILURE.exec(detail.trim());
  if (!m) return null;
  const fateText = m[7] ?? '';
  return {
    direction: m[1],
    file: m[2],
    line: Number(m[3] ?? 0),
    statement: Number(m[4] ?? 0),
    of: Number(m[5] ?? 0),
    cause: m[6],
    fate: fateText.startsWith('rolled back') ? 'rolled back' : fateText ? 'dirty' : '',
    fateText,
    detail,
  };
}

/** One step of a finished (or failed) run, as the outcome shows it. */
export interface OutcomeStep {
  version: number;
  name: string;
  direction: string;
  file: string;
  outcome: 'applied' | 'skipped' | 'failed' | 'not run';
  durationMs?: number;
  /** The failed statement, for the failed step. */
  sql?: string;
}

export function stepsOfReport(report: MigrationReport): OutcomeStep[] {
  return report.steps.map((s) => ({
    version: s.version,
    name: s.name,
    direction: s.direction,
    file: s.file ?? '',
    outcome: s.outcome === 'skipped' ? 'skipped' : 'applied',
    durationMs: s.durationMs,
  }));
}

/** The planned steps of a run that failed: those before the failed one
 * were applied (a run stops at its first failure, and what it did stays),
 * the failed one was not, the rest did not run. */
export function stepsOfFailure(planned: MigrationStep[], failure: StepFailure): OutcomeStep[] {
  const at = planned.findIndex((s) => s.file === failure.file && s.direction === failure.direction);
  return planned.map((s, i) => {
    const step: OutcomeStep = { version: s.version, name: s.name, direction: s.direction, file: s.file ?? '', outcome: at < 0 ? 'not run' : i < at ? 'applied' : i === at ? 'failed' : 'not run' };
    if (i === at && failure.statement) step.sql = s.statements[failure.statement - 1]?.sql;
    return step;
  });
}

/** One line of a statement: its number in the file and its tokens. */
export interface SqlLine {
  n: number;
  tokens: Token[];
}

/** Cuts sql, which starts at line first of its file, into highlighted lines. */
export function sqlLines(sql: string, first: number): SqlLine[] {
  const lines: SqlLine[] = [{ n: first, tokens: [] }];
  for (const t of tokenize(sql)) {
    const parts = t.text.split('\n');
    parts.forEach((text, i) => {
      if (i > 0) lines.push({ n: first + lines.length, tokens: [] });
      if (text) lines[lines.length - 1].tokens.push({ type: t.type, text });
    });
  }
  return lines;
}

/** The name a generated migration gets unless the user picks another. */
export const DEFAULT_MIGRATION_NAME = 'update_resources';

/** What the server accepts as a migration's name (NNNN_name.up.sql). */
export const MIGRATION_NAME = /^[a-z0-9_]+$/;

/** Why name cannot name a migration ('' when it can). */
export function migrationNameProblem(name: string): string {
  if (!name) return 'Give the migration a name.';
  if (!MIGRATION_NAME.test(name)) return 'Use only lowercase letters a-z, digits 0-9 and _ (the name becomes NNNN_name.up.sql).';
  return '';
}

/** A generated migration's statements numbered by line as the server
 * writes them: a comment on line 1, then each statement ended by ";\n". */
export function draftStatements(sqls: string[]): { sql: string; line: number }[] {
  let line = 2;
  return sqls.map((sql) => {
    const s = { sql, line };
    line += sql.split('\n').length;
    return s;
  });
}
