// The Database page's state: the connection and its pools (polled while
// the page is open), the schema migrations (refreshed by the
// migrations.changed event, on reconnect and when the window regains
// focus), and a run's life: preview (a dry run), acknowledgement of
// destructive statements, the run, its outcome; forcing a version; and
// generating a migration from the configuration's resources; and the
// backups (BackupsState), which hear of changes through the same stream.
import { ApiError, type ApiClient } from '../../api/client';
import { EventStream, type StreamState } from '../../api/stream';
import { BackupsState } from './backups.svelte';
import type { DatabaseStatus, Event, FieldError, GeneratedMigration, MigrationReport, MigrationRequest, MigrationsStatus } from '../../api/types.gen';
import {
  DEFAULT_MIGRATION_NAME,
  intentTitle,
  migrationNameProblem,
  parseStepFailure,
  requestOf,
  stepsOfFailure,
  stepsOfReport,
  warningCount,
  type ForceOption,
  type Intent,
  type OutcomeStep,
  type StepFailure,
} from './migrations';

/** How often the connection and pool figures refresh while the page is open. */
export const DB_POLL_MS = 5000;

/** A run being previewed: its dry run, or why the dry run was refused. */
export interface Preview {
  intent: Intent;
  title: string;
  report: MigrationReport | null;
  error: RunError | null;
  /** The migrations changed since the dry run: it must be planned again. */
  stale: boolean;
}

/** A refused or failed request: the server's message and its list. */
export interface RunError {
  status: number;
  message: string;
  errors: FieldError[];
}

/** What the last run did, or how it failed. */
export interface Outcome {
  title: string;
  steps: OutcomeStep[];
  /** The latest applied version afterwards (null when the run failed: see the list). */
  current: number | null;
  failure: StepFailure | null;
  error: RunError | null;
}

/** The "Generate migration" dialog: the proposed draft (or why there is
 * none), and the files once written. */
export interface Generation {
  draft: GeneratedMigration | null;
  error: RunError | null;
  loading: boolean;
  writing: boolean;
  /** The files written, once they are. */
  written: { upFile: string; downFile: string } | null;
}

export interface DatabaseStateOptions {
  pollMs?: number;
  /** For tests: the event stream's WebSocket. */
  WebSocket?: new (url: string, protocols: string[]) => WebSocket;
}

const errorOf = (e: unknown): RunError =>
  e instanceof ApiError ? { status: e.status, message: e.message, errors: e.fieldErrors } : { status: 0, message: e instanceof Error ? e.message : String(e), errors: [] };

export class DatabaseState {
  db = $state.raw<DatabaseStatus | null>(null);
  /** The status could not be read at all (the server, not the database). */
  dbProblem = $state('');
  dbCheckedAt = $state(0);
  dbLoading = $state(false);

  status = $state.raw<MigrationsStatus | null>(null);
  /** The migrations could not be read: 409 lists the files' problems. */
  listError = $state.raw<RunError | null>(null);
  expanded = $state.raw<ReadonlySet<number>>(new Set());

  preview = $state.raw<Preview | null>(null);
  previewing = $state(false);
  acknowledged = $state(false);
  running = $state(false);
  outcome = $state.raw<Outcome | null>(null);

  forcing = $state.raw<ForceOption | null>(null);
  notice = $state('');
  forceError = $state('');

  generation = $state.raw<Generation | null>(null);
  migrationName = $state(DEFAULT_MIGRATION_NAME);

  connection = $state<StreamState>('connecting');

  /** The backups section of the page. */
  readonly backups: BackupsState;

  private stream: EventStream;
  private poll: ReturnType<typeof setInterval> | null = null;
  private dbSeq = 0;
  private listSeq = 0;
  private previewSeq = 0;
  private generateSeq = 0;
  private readonly pollMs: number;
  private readonly onFocus = () => void this.refreshMigrations();
  private readonly onVisible = () => {
    if (document.visibilityState === 'visible') void this.refreshAll();
  };

  constructor(
    private readonly api: ApiClient,
    private readonly onSignedOut: () => void = () => {},
    opts: DatabaseStateOptions = {},
  ) {
    this.pollMs = opts.pollMs ?? DB_POLL_MS;
    // A restore replaces the content and with it the migration history.
    this.backups = new BackupsState(api, onSignedOut, () => void this.refreshAll());
    this.stream = new EventStream({
      ...api.streamTarget(),
      WebSocket: opts.WebSocket,
      onEvent: (ev) => this.handle(ev),
      onState: (s) => (this.connection = s),
      // The stream does not replay what it missed while down.
      onOpen: () => void Promise.all([this.refreshMigrations(), this.backups.refreshAll()]),
    });
  }

  start(): void {
    void this.refreshAll();
    void this.backups.refreshConfig();
    this.stream.start();
    // The backups too: the archive's RPO and reach move by themselves.
    this.poll = setInterval(() => {
      if (typeof document === 'undefined' || document.visibilityState !== 'hidden') void Promise.all([this.refreshDatabase(), this.backups.refresh()]);
    }, this.pollMs);
    // Files written in an editor announce nothing: look again on return.
    window.addEventListener('focus', this.onFocus);
    document.addEventListener('visibilitychange', this.onVisible);
  }

  stop(): void {
    this.stream.stop();
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    window.removeEventListener('focus', this.onFocus);
    document.removeEventListener('visibilitychange', this.onVisible);
  }

  /** A lost session goes to the sign-in screen; true when it did. */
  private signedOut(e: unknown): boolean {
    if (e instanceof ApiError && e.status === 401) {
      this.onSignedOut();
      return true;
    }
    return false;
  }

  async refreshAll(): Promise<void> {
    await Promise.all([this.refreshDatabase(), this.refreshMigrations(), this.backups.refresh()]);
  }

  /** The connection, pools and ping; the latest call wins. */
  async refreshDatabase(): Promise<void> {
    const mine = ++this.dbSeq;
    this.dbLoading = true;
    try {
      const db = await this.api.database();
      if (mine !== this.dbSeq) return;
      this.db = db;
      this.dbProblem = '';
    } catch (e) {
      if (this.signedOut(e) || mine !== this.dbSeq) return;
      this.dbProblem = errorOf(e).message;
    } finally {
      if (mine === this.dbSeq) {
        this.dbLoading = false;
        this.dbCheckedAt = Date.now();
      }
    }
  }

  /** The migrations; the latest call wins. */
  async refreshMigrations(): Promise<void> {
    const mine = ++this.listSeq;
    try {
      const status = await this.api.migrations();
      if (mine !== this.listSeq) return;
      this.setStatus(status);
    } catch (e) {
      if (this.signedOut(e) || mine !== this.listSeq) return;
      this.listError = errorOf(e);
      // Files with problems: no list holds until they are fixed. Another
      // failure (the server is away) keeps the last list on show.
      if (this.listError.status === 409) this.status = null;
    }
  }

  private setStatus(status: MigrationsStatus): void {
    this.status = status;
    this.listError = null;
  }

  handle(ev: Event): void {
    // A backup made, deleted or restored, a scheduled run; an edit of
    // covet.json may change the schedule.
    if (ev.type === 'backups.changed') void this.backups.refresh();
    if (ev.type === 'config.changed') void this.backups.refreshAll();
    if (ev.type !== 'migrations.changed') return;
    // A newer answer than any request in flight.
    this.listSeq++;
    this.setStatus(ev.data as MigrationsStatus);
    // Someone else (the CLI, another window) changed the history under an
    // open preview: its plan may no longer hold.
    if (this.preview && !this.running && !this.previewing) this.preview = { ...this.preview, stale: true };
  }

  toggle(version: number): void {
    const next = new Set(this.expanded);
    if (!next.delete(version)) next.add(version);
    this.expanded = next;
  }

  /** Plans a run without changing anything, for the user to confirm. */
  async openPreview(intent: Intent): Promise<void> {
    if (!this.status || this.running) return;
    const mine = ++this.previewSeq;
    const title = intentTitle(intent, this.status);
    this.preview = { intent, title, report: null, error: null, stale: false };
    this.acknowledged = false;
    this.previewing = true;
    try {
      const report = await this.api.runMigrations({ ...requestOf(intent), dryRun: true });
      if (mine !== this.previewSeq || !this.preview) return;
      this.preview = { ...this.preview, report };
    } catch (e) {
      if (this.signedOut(e) || mine !== this.previewSeq || !this.preview) return;
      this.preview = { ...this.preview, error: errorOf(e) };
    } finally {
      if (mine === this.previewSeq) this.previewing = false;
    }
  }

  cancelPreview(): void {
    if (this.running) return;
    this.previewSeq++;
    this.preview = null;
    this.previewing = false;
    this.acknowledged = false;
  }

  /** Whether the previewed run can be confirmed now. */
  get canConfirm(): boolean {
    const p = this.preview;
    if (!p?.report || p.stale || this.running || this.previewing || p.report.steps.length === 0) return false;
    return warningCount(p.report) === 0 || this.acknowledged;
  }

  /** Runs what the preview showed: with force when the user acknowledged
   * its warnings, and for "apply pending" no more migrations than it
   * listed. */
  async confirm(): Promise<void> {
    const p = this.preview;
    if (!p?.report || !this.canConfirm) return;
    const planned = p.report.steps;
    const req: MigrationRequest = requestOf(p.intent);
    if (req.action === 'up') req.steps = planned.length;
    if (warningCount(p.report) > 0) req.force = true;
    this.running = true;
    this.outcome = null;
    this.notice = '';
    try {
      const report = await this.api.runMigrations(req);
      this.outcome = { title: p.title, steps: stepsOfReport(report), current: report.current, failure: null, error: null };
    } catch (e) {
      if (this.signedOut(e)) return;
      const error = errorOf(e);
      const failure = error.status === 422 ? parseStepFailure(error.message) : null;
      this.outcome = { title: p.title, steps: failure ? stepsOfFailure(planned, failure) : [], current: null, failure, error };
    } finally {
      this.running = false;
      this.preview = null;
      this.acknowledged = false;
      await this.refreshMigrations();
    }
  }

  dismissOutcome(): void {
    this.outcome = null;
  }

  askForce(option: ForceOption): void {
    this.forceError = '';
    this.forcing = option;
  }

  cancelForce(): void {
    this.forcing = null;
  }

  /** Records the chosen version as the latest applied; no SQL runs. */
  async confirmForce(): Promise<void> {
    const option = this.forcing;
    if (!option) return;
    this.forcing = null;
    try {
      const status = await this.api.forceMigration(option.version);
      this.listSeq++;
      this.setStatus(status);
      this.forceError = '';
      this.notice = `Recorded version ${option.version} as the latest applied version; no SQL was run.`;
    } catch (e) {
      if (this.signedOut(e)) return;
      this.forceError = errorOf(e).message;
      await this.refreshMigrations();
    }
  }

  /** Asks the server, without writing anything, which migration would
   * bring the database to the configuration's resources. */
  async openGenerate(): Promise<void> {
    const mine = ++this.generateSeq;
    this.migrationName = DEFAULT_MIGRATION_NAME;
    this.generation = { draft: null, error: null, loading: true, writing: false, written: null };
    try {
      const draft = await this.api.generateMigration({});
      if (mine !== this.generateSeq || !this.generation) return;
      this.generation = { ...this.generation, draft, loading: false };
    } catch (e) {
      if (this.signedOut(e) || mine !== this.generateSeq || !this.generation) return;
      this.generation = { ...this.generation, error: errorOf(e), loading: false };
    }
  }

  closeGenerate(): void {
    if (this.generation?.writing) return;
    this.generateSeq++;
    this.generation = null;
  }

  /** Why the name cannot be used ('' when it can). */
  get migrationNameProblem(): string {
    return migrationNameProblem(this.migrationName);
  }

  /** Whether the draft can be written now: there is one, it is not empty,
   * not written yet, and the name is good. */
  get canWriteMigration(): boolean {
    const g = this.generation;
    return !!g?.draft && g.draft.up.length > 0 && !g.loading && !g.writing && !g.written && !this.migrationNameProblem;
  }

  /** Saves the draft as the next migration's files; the list follows
   * (through migrations.changed, and a refresh in case it was missed). */
  async writeMigration(): Promise<void> {
    const g = this.generation;
    if (!g || !this.canWriteMigration) return;
    const mine = this.generateSeq;
    this.generation = { ...g, writing: true, error: null };
    try {
      const out = await this.api.generateMigration({ write: true, name: this.migrationName });
      if (mine !== this.generateSeq || !this.generation) return;
      this.generation = { ...this.generation, draft: out, writing: false, written: { upFile: out.upFile ?? '', downFile: out.downFile ?? '' } };
    } catch (e) {
      if (this.signedOut(e) || mine !== this.generateSeq || !this.generation) return;
      this.generation = { ...this.generation, writing: false, error: errorOf(e) };
    }
    await this.refreshMigrations();
  }
}
