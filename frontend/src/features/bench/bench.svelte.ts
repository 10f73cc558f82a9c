// The Benchmarks page's live state: the stored runs, the run on show (a
// stored one, or the running one growing a second at a time), and the
// running run's progress, fed by the admin API and its event stream.
import { ApiError, type ApiClient } from '../../api/client';
import { EventStream, type StreamState } from '../../api/stream';
import type { BenchProgress, BenchRun, BenchStart, BenchSummary, Event, LoadProgress } from '../../api/types.gen';
import { RunSeries } from '../../lib/bench';

export class BenchState {
  /** Stored runs, newest first. */
  runs = $state.raw<BenchSummary[]>([]);
  /** The run on show, and its columns (which grow in place while it runs:
   * version counts the changes, for the charts). */
  view = $state.raw<BenchRun | null>(null);
  series = $state.raw(new RunSeries());
  version = $state(0);
  /** The running run, if any, and its latest second. */
  runningId = $state<string | null>(null);
  progress = $state.raw<LoadProgress | null>(null);
  cancelling = $state(false);
  connection = $state<StreamState>('connecting');
  problem = $state('');
  /** A run being loaded for show, and the progress of it that arrived
   * meanwhile (applied once it is in). */
  private loading: string | null = null;
  private held: BenchProgress[] = [];
  private selectSeq = 0;
  private stream: EventStream;

  constructor(
    private readonly api: ApiClient,
    private readonly onSignedOut: () => void = () => {},
  ) {
    this.stream = new EventStream({
      ...api.streamTarget(),
      onEvent: (ev) => this.handle(ev),
      onState: (s) => (this.connection = s),
      onOpen: () => void this.refill(),
    });
  }

  start(): void {
    this.stream.start();
  }

  stop(): void {
    this.stream.stop();
  }

  private fail(e: unknown): void {
    if (e instanceof ApiError && e.status === 401) this.onSignedOut();
    else this.problem = e instanceof Error ? e.message : String(e);
  }

  /** Reloads the list; a running run in it becomes the running one. */
  async refresh(): Promise<void> {
    try {
      this.runs = await this.api.benchRuns();
      const running = this.runs.find((r) => r.status === 'running');
      if (running) this.runningId = running.id;
      else if (this.runningId && !this.runs.some((r) => r.id === this.runningId && r.status === 'running')) this.ended();
    } catch (e) {
      this.fail(e);
    }
  }

  /** After each (re)connect: the list, and the run on show again when it
   * was running (the stream does not replay what was missed). */
  async refill(): Promise<void> {
    await this.refresh();
    if (this.view && (this.view.status === 'running' || this.view.id === this.runningId)) await this.select(this.view.id);
    else if (!this.view && this.runningId) await this.select(this.runningId);
  }

  /** Shows a run: stored, or running (then it keeps growing). */
  async select(id: string): Promise<void> {
    const mine = ++this.selectSeq;
    this.loading = id;
    this.held = [];
    try {
      const run = await this.api.benchRun(id);
      if (mine !== this.selectSeq) return;
      this.show(run);
      for (const p of this.held) if (p.id === id) this.series.push(p.progress.second, p.signals);
      this.version++;
    } catch (e) {
      if (mine === this.selectSeq) this.fail(e);
    } finally {
      if (mine === this.selectSeq) ((this.loading = null), (this.held = []));
    }
  }

  private show(run: BenchRun): void {
    this.view = run;
    this.series = RunSeries.fromRun(run);
    this.version++;
  }

  /** Starts a run and shows it. Errors (409 busy, 400 invalid) are the
   * caller's to show. */
  async begin(req: BenchStart): Promise<BenchRun> {
    const run = await this.api.startBench(req);
    this.problem = '';
    this.runningId = run.id;
    this.cancelling = false;
    if (this.view?.id !== run.id) {
      ++this.selectSeq;
      this.loading = null;
      this.progress = null;
      this.show(run);
    }
    void this.refresh();
    return run;
  }

  async cancel(): Promise<void> {
    if (!this.runningId) return;
    this.cancelling = true;
    try {
      const run = await this.api.cancelBench(this.runningId);
      if (this.view?.id === run.id) this.view = { ...this.view, status: run.status };
    } catch (e) {
      this.cancelling = false;
      this.fail(e);
    }
  }

  private ended(): void {
    this.runningId = null;
    this.progress = null;
    this.cancelling = false;
  }

  handle(ev: Event): void {
    switch (ev.type) {
      case 'bench.progress': {
        const d = ev.data as BenchProgress;
        this.runningId = d.id;
        this.progress = d.progress;
        if (this.loading === d.id) this.held.push(d);
        else if (this.view?.id === d.id) {
          if (this.series.push(d.progress.second, d.signals)) this.version++;
        } else if (!this.view && !this.loading) void this.select(d.id);
        break;
      }
      case 'bench.finished': {
        const d = ev.data as BenchSummary;
        if (this.runningId === d.id) this.ended();
        void this.refresh();
        // The stored run has the whole result (and the last, partial second).
        if (this.view?.id === d.id || this.loading === d.id) void this.select(d.id);
        break;
      }
    }
  }

  /** Renames a run; the list and the view follow. */
  async rename(id: string, name: string): Promise<void> {
    const run = await this.api.renameBench(id, name);
    this.runs = this.runs.map((r) => (r.id === id ? { ...r, name: run.name } : r));
    if (this.view?.id === id) this.view = { ...this.view, name: run.name };
  }

  async remove(id: string): Promise<void> {
    await this.api.deleteBench(id);
    this.runs = this.runs.filter((r) => r.id !== id);
    if (this.view?.id === id) {
      ++this.selectSeq;
      this.view = null;
      this.series = new RunSeries();
      this.version++;
    }
  }
}
