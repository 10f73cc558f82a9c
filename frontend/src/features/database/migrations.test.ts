import { describe, expect, it } from 'vitest';
import type { MigrationReport, MigrationStatus, MigrationsStatus, MigrationStep } from '../../api/types.gen';
import {
  acknowledgement,
  confirmLabel,
  draftStatements,
  failedStatement,
  forceOptions,
  intentTitle,
  migrationNameProblem,
  parseStepFailure,
  requestOf,
  rollbackProblem,
  rowActions,
  sqlLines,
  stepsOfFailure,
  stepsOfReport,
  versionLabel,
  warningCount,
  warningsByStatement,
} from './migrations';

const migration = (version: number, name: string, state: string, over: Partial<MigrationStatus> = {}): MigrationStatus => ({
  version,
  name,
  state,
  upFile: `${String(version).padStart(4, '0')}_${name}.up.sql`,
  downFile: `${String(version).padStart(4, '0')}_${name}.down.sql`,
  up: [{ sql: `CREATE TABLE t${version} (id INT)`, line: 1 }],
  down: [{ sql: `DROP TABLE t${version}`, line: 1 }],
  upWarnings: [],
  downWarnings: [{ statement: 1, line: 1, rule: 'drop-table', message: `drops table t${version} and every row in it` }],
  ...over,
});

const statusOf = (migrations: MigrationStatus[], problems: string[] = []): MigrationsStatus => ({
  dialect: 'sqlite',
  table: 'covet_migrations',
  current: Math.max(0, ...migrations.filter((m) => m.state !== 'pending').map((m) => m.version)),
  pending: migrations.filter((m) => m.state === 'pending').length,
  migrations,
  problems,
});

const step = (version: number, name: string, direction: string, over: Partial<MigrationStep> = {}): MigrationStep => ({
  version,
  name,
  direction,
  file: `${String(version).padStart(4, '0')}_${name}.${direction}.sql`,
  statements: [{ sql: 'SELECT 1', line: 1 }, { sql: 'SELECT 2', line: 3 }],
  warnings: [],
  ...over,
});

describe('requests and titles', () => {
  const st = statusOf([migration(1, 'users', 'applied'), migration(2, 'email', 'applied'), migration(3, 'posts', 'pending')]);

  it.each([
    [{ kind: 'up' } as const, { action: 'up' }, 'Apply 1 pending migration'],
    [{ kind: 'down' } as const, { action: 'down' }, 'Roll back 0002_email'],
    [{ kind: 'redo' } as const, { action: 'redo' }, 'Redo 0002_email'],
    [{ kind: 'to', version: 3 } as const, { action: 'to', version: 3 }, 'Apply migrations up to 0003_posts'],
    [{ kind: 'to', version: 1 } as const, { action: 'to', version: 1 }, 'Roll back to 0001_users'],
  ])('%j asks for %j, titled %s', (intent, request, title) => {
    expect(requestOf(intent)).toEqual(request);
    expect(intentTitle(intent, st)).toBe(title);
  });

  it('labels versions as their files spell them', () => {
    expect(versionLabel(migration(7, 'x', 'pending'))).toBe('0007');
    expect(versionLabel({ version: 20260101120000, upFile: '20260101120000_x.up.sql' })).toBe('20260101120000');
    expect(versionLabel({ version: 5 })).toBe('5');
  });

  it('names the confirm button after what runs', () => {
    const report = (steps: MigrationStep[]): MigrationReport => ({ dryRun: true, current: 0, steps });
    expect(confirmLabel(report([step(1, 'a', 'up'), step(2, 'b', 'up')]))).toBe('Apply 2 migrations');
    expect(confirmLabel(report([step(2, 'b', 'down')]))).toBe('Roll back 1 migration');
    expect(confirmLabel(report([step(2, 'b', 'down'), step(2, 'b', 'up')]))).toBe('Run 2 steps');
  });
});

describe('warnings', () => {
  it('groups them by statement and counts them', () => {
    const w = (statement: number, rule: string) => ({ statement, line: statement * 2, rule, message: rule });
    const by = warningsByStatement([w(1, 'drop-column'), w(3, 'rename'), w(1, 'drop-table')]);
    expect([...by.keys()]).toEqual([1, 3]);
    expect(by.get(1)?.map((x) => x.rule)).toEqual(['drop-column', 'drop-table']);
    const report = { dryRun: true, current: 2, steps: [step(2, 'a', 'down', { warnings: [w(1, 'drop-column')] }), step(1, 'b', 'down')] };
    expect(warningCount(report)).toBe(1);
    expect(acknowledgement(report)).toBe('I understand this drops data: apply it anyway');
    const renames = { ...report, steps: [step(2, 'a', 'up', { warnings: [w(1, 'rename'), w(2, 'narrow-type')] })] };
    expect(acknowledgement(renames)).toBe('I understand these statements can lose or break data: apply them anyway');
  });
});

describe('row actions', () => {
  it('offers apply-up-to-here on pending rows and roll-backs on applied ones', () => {
    const st = statusOf([migration(1, 'users', 'applied'), migration(2, 'email', 'applied'), migration(3, 'posts', 'pending'), migration(4, 'tags', 'pending')]);
    const [a1, a2, p3, p4] = st.migrations.map((m) => rowActions(m, st));
    expect(a1.map((a) => [a.id, a.intent, a.disabled])).toEqual([['rollback-to', { kind: 'to', version: 1 }, '']]);
    expect(a1[0].title).toBe('Roll back the 1 migration after this one; this one stays applied');
    expect(a2.map((a) => [a.id, a.intent])).toEqual([['rollback', { kind: 'down' }]]);
    expect(p3.map((a) => [a.id, a.intent])).toEqual([['apply-to', { kind: 'to', version: 3 }]]);
    expect(p4[0].title).toBe('Apply 2 pending migrations, up to and including this one');
  });

  it('disables what a missing down file or a problem prevents', () => {
    const st = statusOf([migration(1, 'users', 'applied'), migration(2, 'email', 'applied', { downFile: undefined, down: [] })]);
    expect(rollbackProblem(st, 1)).toBe('0002_email has no down file (0002_email.down.sql), so it cannot be rolled back');
    expect(rollbackProblem(st, 2)).toBe('');
    expect(rowActions(st.migrations[0], st)[0].disabled).toMatch(/0002_email has no down file/);
    const blocked = statusOf([migration(1, 'users', 'dirty'), migration(2, 'email', 'pending')], ['0001_users.up.sql is dirty: …']);
    expect(rowActions(blocked.migrations[1], blocked)[0].disabled).toBe('runs are blocked until the problem above is dealt with');
    expect(rowActions(blocked.migrations[0], blocked)).toEqual([]);
  });
});

describe('a dirty migration', () => {
  const dirty = migration(5, 'split', 'dirty', {
    up: [{ sql: 'ALTER TABLE a ADD b INT', line: 1 }, { sql: 'UPDATE a SET b = 1', line: 3 }],
    failedStatement: 2,
    error: "Unknown column 'x'",
  });
  const st = statusOf([migration(1, 'users', 'applied'), migration(3, 'email', 'applied'), dirty], [
    "0005_split.up.sql is dirty: statement 2 failed while applying it (Unknown column 'x'); … force 5 … force 4 if it is not",
  ]);

  it('offers forcing it applied or back to the known version below it', () => {
    const [applied, notApplied] = forceOptions(dirty, st);
    expect([applied.version, applied.applied, applied.label]).toEqual([5, true, 'Mark as applied (force 5)']);
    expect([notApplied.version, notApplied.applied, notApplied.label]).toEqual([3, false, 'Mark as not applied (force 3)']);
    expect(applied.message).toContain('No SQL runs');
    expect(notApplied.message).toContain('0005_split becomes pending again');
    expect(forceOptions(st.migrations[0], st)).toEqual([]);
  });

  it('only offers "not applied" when its file is gone', () => {
    const gone = { ...dirty, upFile: undefined, downFile: undefined };
    expect(forceOptions(gone, statusOf([gone])).map((o) => o.version)).toEqual([0]);
  });

  it('shows the statement it stopped at, from the up or the down file', () => {
    expect(failedStatement(dirty, st.problems)).toEqual({ sql: 'UPDATE a SET b = 1', line: 3, file: '0005_split.up.sql' });
    const down = { ...dirty, down: [{ sql: 'ALTER TABLE a DROP b', line: 1 }], failedStatement: 1 };
    expect(failedStatement(down, ['0005_split.up.sql is dirty: statement 1 failed while rolling back it (x)'])?.file).toBe('0005_split.down.sql');
    expect(failedStatement({ ...dirty, failedStatement: 0 }, [])).toBeNull();
  });
});

describe('a failed step', () => {
  const rolledBack = 'migrate: up 0002_pinned.up.sql:4: statement 2 of 2: SQL logic error: no such table: nope (1) (rolled back: nothing of this migration was applied)';
  const dirty =
    "migrate: down 0003_x.down.sql:7: statement 1 of 3: Error 1091: Can't DROP 'b' (the statements before it were applied and MySQL cannot roll them back: version 3 is dirty; finish or undo them by hand, then record the state with covet migrate force 2 (Migrator.Force) if it is now applied, or force 3 if it is not)";

  it('reads the file, line, statement, cause and what became of the migration', () => {
    expect(parseStepFailure(rolledBack)).toMatchObject({
      direction: 'up',
      file: '0002_pinned.up.sql',
      line: 4,
      statement: 2,
      of: 2,
      cause: 'SQL logic error: no such table: nope (1)',
      fate: 'rolled back',
    });
    expect(parseStepFailure(dirty)).toMatchObject({ direction: 'down', file: '0003_x.down.sql', line: 7, statement: 1, of: 3, cause: "Error 1091: Can't DROP 'b'", fate: 'dirty' });
    expect(parseStepFailure(dirty)?.fateText).toMatch(/^the statements before it were applied/);
    expect(parseStepFailure('migrate: up 7_seed (Go, up): boom (rolled back: nothing of this migration was applied)')).toMatchObject({ file: '7_seed (Go, up)', line: 0, statement: 0, cause: 'boom' });
    expect(parseStepFailure('something else')).toBeNull();
  });

  it('marks the planned steps before it applied, it failed, the rest not run', () => {
    const planned = [step(1, 'notes', 'up'), step(2, 'pinned', 'up'), step(3, 'tags', 'up')];
    const steps = stepsOfFailure(planned, parseStepFailure(rolledBack)!);
    expect(steps.map((s) => [s.version, s.outcome])).toEqual([
      [1, 'applied'],
      [2, 'failed'],
      [3, 'not run'],
    ]);
    expect(steps[1].sql).toBe('SELECT 2');
  });

  it('lists what a successful run did', () => {
    const report = { dryRun: false, current: 2, steps: [step(1, 'a', 'up', { outcome: 'applied', durationMs: 1.5 }), step(2, 'b', 'up', { outcome: 'skipped' })] };
    expect(stepsOfReport(report).map((s) => [s.file, s.outcome, s.durationMs])).toEqual([
      ['0001_a.up.sql', 'applied', 1.5],
      ['0002_b.up.sql', 'skipped', undefined],
    ]);
  });
});

describe('sqlLines', () => {
  it('numbers the lines from where the statement starts and keeps every character', () => {
    const sql = "CREATE TABLE t (\n  a TEXT DEFAULT 'x\ny', -- note\n  b INT\n)";
    const lines = sqlLines(sql, 10);
    expect(lines.map((l) => l.n)).toEqual([10, 11, 12, 13, 14]);
    expect(lines.map((l) => l.tokens.map((t) => t.text).join('')).join('\n')).toBe(sql);
    expect(lines[0].tokens[0]).toEqual({ type: 'keyword', text: 'CREATE' });
    expect(lines[1].tokens.find((t) => t.type === 'string')?.text).toBe("'x");
    expect(lines[2].tokens.find((t) => t.type === 'comment')?.text).toBe('-- note');
  });
});

describe('generated migrations', () => {
  it('checks the name as the server does', () => {
    expect(migrationNameProblem('update_resources')).toBe('');
    expect(migrationNameProblem('add_tags_2')).toBe('');
    expect(migrationNameProblem('')).toMatch(/Give the migration a name/);
    for (const bad of ['Tags', 'add-tags', 'add tags', 'tägs']) expect(migrationNameProblem(bad)).toMatch(/lowercase letters a-z, digits 0-9 and _/);
  });

  it('numbers the statements by line as the written file has them', () => {
    expect(draftStatements(['CREATE TABLE "t" (\n  "id" INTEGER\n)', 'CREATE INDEX "i" ON "t" ("id")'])).toEqual([
      { sql: 'CREATE TABLE "t" (\n  "id" INTEGER\n)', line: 2 },
      { sql: 'CREATE INDEX "i" ON "t" ("id")', line: 5 },
    ]);
    expect(draftStatements([])).toEqual([]);
  });
});
