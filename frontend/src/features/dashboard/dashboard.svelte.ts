// The Dashboard's live state: server info, the per-second series and the
// recent requests, fed by the admin API and its event stream.
import { ApiError, type ApiClient } from '../../api/client';
import { EventStream, type StreamState } from '../../api/stream';
import type { DroppedEvent, Event, Info, MetricSample, RequestEvent } from '../../api/types.gen';
import { appendBounded, prependBounded } from '../../lib/bounded';

/** Requests kept for the table; older ones fall off. */
export const MAX_REQUESTS = 5000;
/** Per-second samples kept for the chart: 5 minutes. */
export const MAX_SAMPLES = 300;
/** How often buffered request events are flushed into the table. */
const FLUSH_MS = 200;

export class DashboardState {
  info = $state.raw<Info | null>(null);
  samples = $state.raw<MetricSample[]>([]);
  requests = $state.raw<RequestEvent[]>([]);
  dropped = $state(0);
  connection = $state<StreamState>('connecting');
  /** Milliseconds between the server's clock and ours, from info. */
  private skewMs = 0;
  private pending: RequestEvent[] = [];
  private flushTimer: ReturnType<typeof setInterval> | null = null;
  private stream: EventStream;

  constructor(
    private readonly api: ApiClient,
    private readonly onSignedOut: () => void,
  ) {
    const target = api.streamTarget();
    this.stream = new EventStream({
      ...target,
      onEvent: (ev) => this.handle(ev),
      onState: (s) => (this.connection = s),
      onOpen: () => void this.refill(),
    });
  }

  start(): void {
    this.stream.start();
    this.flushTimer = setInterval(() => this.flush(), FLUSH_MS);
  }

  stop(): void {
    this.stream.stop();
    if (this.flushTimer) clearInterval(this.flushTimer);
  }

  /** Uptime in seconds as of now, from the server's start time. */
  uptime(now: number): number {
    if (!this.info) return 0;
    return (now + this.skewMs - Date.parse(this.info.startedAt)) / 1000;
  }

  /** Loads everything the stream does not replay, after each (re)connect. */
  async refill(): Promise<void> {
    try {
      const [info, requests, samples] = await Promise.all([this.api.info(), this.api.requests(500), this.api.series()]);
      this.skewMs = Date.parse(info.startedAt) + info.uptimeSeconds * 1000 - Date.now();
      this.info = info;
      this.pending = [];
      this.requests = requests.slice(0, MAX_REQUESTS);
      this.samples = samples.slice(-MAX_SAMPLES);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) this.onSignedOut();
    }
  }

  handle(ev: Event): void {
    switch (ev.type) {
      case 'request':
        this.pending.push(ev.data as RequestEvent);
        break;
      case 'metric.sample':
        this.samples = appendBounded(this.samples, [ev.data as MetricSample], MAX_SAMPLES);
        break;
      case 'dropped':
        this.dropped += (ev.data as DroppedEvent).count;
        break;
    }
  }

  flush(): void {
    if (this.pending.length === 0) return;
    this.requests = prependBounded(this.requests, this.pending.reverse(), MAX_REQUESTS);
    this.pending = [];
  }
}
