// The Database page's backups: the overview (refreshed by backups.changed,
// config.changed, the page's poll and on reconnect), backing up now,
// verifying and deleting a backup, the restore flow (a moment or a backup;
// a dry run, an explicit confirmation, the restore, its result), and the
// schedule and retention of covet.json's backups section, saved through
// the config API with its ETag.
import { ApiError, type ApiClient } from '../../api/client';
import type { BackupManifest, BackupReport, BackupsConfig, BackupsOverview, RestoreReport } from '../../api/types.gen';
import {
  clampToWindow,
  hasScheduleErrors,
  momentProblem,
  restoreRequest,
  sameScheduleForm,
  scheduleFieldErrors,
  scheduleFormOf,
  scheduleFormProblems,
  scheduleSectionOf,
  windowBounds,
  type RestoreTarget,
  type ScheduleErrors,
  type ScheduleForm,
} from './backups';

/** A refused or failed request: the status and the server's message. */
export interface BackupsError {
  status: number;
  message: string;
}

/** A backup's verification: running, its report, or why there is none. */
export interface Verification {
  running: boolean;
  report: BackupReport | null;
  error: string;
}

/** Where the restore dialog is: choosing (a moment), planning (the dry
 * run), planned (shown, waiting for the confirmation), restoring, done. */
export type RestorePhase = 'choose' | 'planning' | 'planned' | 'restoring' | 'done';

export interface RestoreFlow {
  target: RestoreTarget;
  phase: RestorePhase;
  /** The dry run's report, and the request it planned (the plan holds
   * only for that request). */
  plan: RestoreReport | null;
  plannedFor: string;
  /** The dry run or the restore refused (409 outside the window…). */
  error: BackupsError | null;
  /** The restore's report: restored, or refused because the restored copy
   * failed verification (nothing was replaced). */
  result: RestoreReport | null;
}

const errorOf = (e: unknown): BackupsError =>
  e instanceof ApiError ? { status: e.status, message: e.message } : { status: 0, message: e instanceof Error ? e.message : String(e) };

const requestKey = (r: object | null) => (r ? JSON.stringify(r) : '');

export class BackupsState {
  overview = $state.raw<BackupsOverview | null>(null);
  /** When the overview was read (Date.now()), to grow a growing RPO. */
  fetchedAt = $state(0);
  /** The overview could not be read. */
  problem = $state('');
  loading = $state(false);

  /** Back up now: encrypted or not (starts as the schedule's setting). */
  encryptNew = $state(false);
  creating = $state(false);
  /** The outcome of the last action on the list, for people. */
  notice = $state('');
  actionError = $state('');

  verifications = $state.raw<Record<string, Verification>>({});
  /** The backup whose deletion waits for a confirmation. */
  deleting = $state.raw<BackupManifest | null>(null);

  restore = $state.raw<RestoreFlow | null>(null);
  /** The moment to restore, as the datetime-local input's value. */
  restoreLocal = $state('');
  /** "I understand the current content will be replaced." */
  restoreConfirmed = $state(false);

  /** covet.json's backups section as saved (undefined: all defaults), and
   * the configuration's ETag. */
  saved = $state.raw<BackupsConfig | undefined>(undefined);
  etag = $state('');
  configLoaded = $state(false);
  configProblem = $state('');
  /** The schedule editor's fields, and the ETag they were loaded with: a
   * save sends it, so a change made meanwhile by someone else is a 412. */
  form = $state<ScheduleForm>(scheduleFormOf(undefined));
  private formEtag = '';
  saving = $state(false);
  serverErrors = $state.raw<ScheduleErrors>({ other: [] });
  scheduleNotice = $state('');

  private seq = 0;
  private configSeq = 0;
  private planSeq = 0;
  private encryptChosen = false;

  constructor(
    private readonly api: ApiClient,
    private readonly onSignedOut: () => void = () => {},
    /** After a restore replaced the database's content (its schema and
     * migration history may have changed with it). */
    private readonly onRestored: () => void = () => {},
  ) {}

  private signedOut(e: unknown): boolean {
    if (e instanceof ApiError && e.status === 401) {
      this.onSignedOut();
      return true;
    }
    return false;
  }

  async refreshAll(): Promise<void> {
    await Promise.all([this.refresh(), this.refreshConfig()]);
  }

  /** The overview; the latest call wins, and a failure keeps the last one
   * on show. */
  async refresh(): Promise<void> {
    const mine = ++this.seq;
    this.loading = true;
    try {
      const o = await this.api.backups();
      if (mine !== this.seq) return;
      this.overview = o;
      this.fetchedAt = Date.now();
      this.problem = '';
      if (!this.encryptChosen) this.encryptNew = o.schedule.encrypt;
    } catch (e) {
      if (this.signedOut(e) || mine !== this.seq) return;
      this.problem = errorOf(e).message;
    } finally {
      if (mine === this.seq) this.loading = false;
    }
  }

  /** covet.json's backups section and the ETag. The editor follows the
   * saved section unless it holds changes not saved yet (or reset). */
  async refreshConfig(reset = false): Promise<void> {
    const mine = ++this.configSeq;
    try {
      const { config, etag } = await this.api.config();
      if (mine !== this.configSeq) return;
      const before = scheduleFormOf(this.saved);
      const pristine = !this.configLoaded || sameScheduleForm(this.form, before);
      this.saved = config.backups;
      this.etag = etag;
      this.configLoaded = true;
      this.configProblem = '';
      if (reset || pristine) {
        this.form = scheduleFormOf(config.backups);
        this.formEtag = etag;
        this.serverErrors = { other: [] };
      }
    } catch (e) {
      if (this.signedOut(e) || mine !== this.configSeq) return;
      this.configProblem = errorOf(e).message;
    }
  }

  /** Whether the overview says backups can be made here. */
  get supported(): boolean {
    return !!this.overview?.supported;
  }

  setEncryptNew(v: boolean): void {
    this.encryptChosen = true;
    this.encryptNew = v;
  }

  /** Makes a full backup now; the list follows. */
  async create(): Promise<void> {
    if (this.creating || !this.supported) return;
    this.creating = true;
    this.notice = '';
    this.actionError = '';
    try {
      const m = await this.api.createBackup({ encrypt: this.encryptNew });
      this.notice = `Backed up: ${m.id}${m.encrypted ? ' (encrypted)' : ''}.`;
    } catch (e) {
      if (this.signedOut(e)) return;
      this.actionError = `The backup failed: ${errorOf(e).message}`;
    } finally {
      this.creating = false;
    }
    await this.refresh();
  }

  /** Checks a backup; the report shows under its row. */
  async verify(id: string): Promise<void> {
    if (this.verifications[id]?.running) return;
    this.verifications = { ...this.verifications, [id]: { running: true, report: null, error: '' } };
    let v: Verification;
    try {
      v = { running: false, report: await this.api.verifyBackup(id), error: '' };
    } catch (e) {
      if (this.signedOut(e)) return;
      v = { running: false, report: null, error: errorOf(e).message };
    }
    this.verifications = { ...this.verifications, [id]: v };
    await this.refresh(); // the overview records the last verification
  }

  /** Hides a verification's report. */
  dismissVerification(id: string): void {
    const next = { ...this.verifications };
    delete next[id];
    this.verifications = next;
  }

  askDelete(m: BackupManifest): void {
    this.actionError = '';
    this.notice = '';
    this.deleting = m;
  }

  cancelDelete(): void {
    this.deleting = null;
  }

  /** Deletes the backup asked about; a refusal (409: the base being
   * archived into) is shown as the server says it. */
  async confirmDelete(): Promise<void> {
    const m = this.deleting;
    if (!m) return;
    this.deleting = null;
    try {
      await this.api.deleteBackup(m.id);
      this.notice = `Deleted backup ${m.id}.`;
      this.dismissVerification(m.id);
    } catch (e) {
      if (this.signedOut(e)) return;
      const err = errorOf(e);
      this.actionError = `Backup ${m.id} was not deleted: ${err.message}`;
    }
    await this.refresh();
  }

  /** Opens the restore dialog: for a moment (starting at the latest the
   * archive reaches), or for a backup, whose plan is asked for at once. */
  openRestore(target: RestoreTarget): void {
    if (this.restore && (this.restore.phase === 'restoring' || this.restore.phase === 'planning')) return;
    this.planSeq++;
    this.restore = { target, phase: 'choose', plan: null, plannedFor: '', error: null, result: null };
    this.restoreConfirmed = false;
    if (target.kind === 'moment') {
      const b = windowBounds(this.overview?.window);
      this.restoreLocal = b && !b.empty ? b.max : '';
    } else void this.plan();
  }

  closeRestore(): void {
    if (this.restore?.phase === 'restoring') return;
    this.planSeq++;
    this.restore = null;
    this.restoreConfirmed = false;
  }

  /** Why the moment typed cannot be restored ('' when it can, or when the
   * dialog restores a backup). */
  get momentProblem(): string {
    if (this.restore?.target.kind !== 'moment') return '';
    return momentProblem(this.restoreLocal, windowBounds(this.overview?.window));
  }

  /** Moves the moment typed into the window. */
  clampMoment(): void {
    this.restoreLocal = clampToWindow(this.restoreLocal, windowBounds(this.overview?.window));
  }

  /** The request the dialog would send now, without dryRun. */
  get restoreRequest() {
    return this.restore ? restoreRequest(this.restore.target, this.restoreLocal) : null;
  }

  /** The plan on show is for another moment than the one typed now. */
  get planStale(): boolean {
    const r = this.restore;
    return !!r?.plan && r.plannedFor !== requestKey(this.restoreRequest);
  }

  get canPlan(): boolean {
    const r = this.restore;
    return !!r && (r.phase === 'choose' || r.phase === 'planned') && !!this.restoreRequest && !this.momentProblem;
  }

  get canRestore(): boolean {
    const r = this.restore;
    return !!r?.plan && r.phase === 'planned' && !this.planStale && this.restoreConfirmed;
  }

  /** The dry run: the plan, what it replaces; nothing changes. */
  async plan(): Promise<void> {
    const r = this.restore;
    const req = this.restoreRequest;
    if (!r || !req || (r.target.kind === 'moment' && this.momentProblem)) return;
    const mine = ++this.planSeq;
    this.restoreConfirmed = false;
    this.restore = { ...r, phase: 'planning', plan: null, plannedFor: '', error: null, result: null };
    try {
      const plan = await this.api.restoreBackup({ ...req, dryRun: true });
      if (mine !== this.planSeq || !this.restore) return;
      this.restore = { ...this.restore, phase: 'planned', plan, plannedFor: requestKey(req) };
    } catch (e) {
      if (this.signedOut(e) || mine !== this.planSeq || !this.restore) return;
      this.restore = { ...this.restore, phase: 'choose', error: errorOf(e) };
    }
  }

  /** The restore the plan showed, once confirmed. */
  async confirmRestore(): Promise<void> {
    const r = this.restore;
    const req = this.restoreRequest;
    if (!r || !req || !this.canRestore) return;
    const mine = ++this.planSeq;
    this.restore = { ...r, phase: 'restoring', error: null };
    let next: Partial<RestoreFlow>;
    try {
      const result = await this.api.restoreBackup(req);
      next = { phase: 'done', result };
    } catch (e) {
      if (this.signedOut(e)) return;
      next = { phase: 'done', error: errorOf(e) };
    }
    if (mine === this.planSeq && this.restore) this.restore = { ...this.restore, ...next };
    this.restoreConfirmed = false;
    if (next.result?.restored) this.onRestored();
    await this.refresh();
  }

  /** Client-side problems of the schedule form merged with the server's
   * answer to the last save. */
  get scheduleErrors(): ScheduleErrors {
    const local = scheduleFormProblems(this.form);
    const s = this.serverErrors;
    return {
      schedule: local.schedule || s.schedule,
      keep: local.keep || s.keep,
      maxAge: local.maxAge || s.maxAge,
      encrypt: local.encrypt || s.encrypt,
      other: s.other,
    };
  }

  /** The form differs from covet.json's section. */
  get scheduleChanged(): boolean {
    return this.configLoaded && !sameScheduleForm(this.form, scheduleFormOf(this.saved));
  }

  get canSaveSchedule(): boolean {
    return this.configLoaded && this.scheduleChanged && !this.saving && !hasScheduleErrors(scheduleFormProblems(this.form));
  }

  /** Any edit clears the server's answer to the last save. */
  clearScheduleMessages(): void {
    if (hasScheduleErrors(this.serverErrors)) this.serverErrors = { other: [] };
    this.scheduleNotice = '';
  }

  /** Resets the form to the section as saved. */
  revertSchedule(): void {
    this.form = scheduleFormOf(this.saved);
    this.formEtag = this.etag;
    this.serverErrors = { other: [] };
  }

  /** Saves the section with the ETag the form was loaded with: 400 puts
   * the server's messages beside their fields; 412 (someone else changed
   * covet.json) reloads the form and says so. */
  async saveSchedule(): Promise<void> {
    if (!this.canSaveSchedule) return;
    this.saving = true;
    this.serverErrors = { other: [] };
    this.scheduleNotice = '';
    try {
      // The form edits the schedule and retention; archivePostgres (set in
      // covet.json or with covet backup schedule) is kept as it is.
      const keep = this.saved?.archivePostgres != null ? { archivePostgres: this.saved.archivePostgres } : {};
      const c = await this.api.putBackupsConfig({ ...keep, ...scheduleSectionOf(this.form) }, this.formEtag || this.etag);
      this.scheduleNotice = `Saved to covet.json (version ${c.version} is live).`;
      await this.refreshConfig(true);
      await this.refresh();
    } catch (e) {
      if (this.signedOut(e)) return;
      if (e instanceof ApiError && e.status === 412) {
        await this.refreshConfig(true);
        this.serverErrors = {
          other: ['covet.json was changed by someone else since this form was loaded: it has been reloaded with their values. Make your change again and save.'],
        };
      } else if (e instanceof ApiError && e.fieldErrors.length) {
        this.serverErrors = scheduleFieldErrors(e.fieldErrors);
      } else {
        this.serverErrors = { other: [`Not saved: ${errorOf(e).message}`] };
      }
    } finally {
      this.saving = false;
    }
  }
}
