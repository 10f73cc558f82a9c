// The Query Inspector's live state: recent statements and the requests
// that ran them, from the admin API and its event stream, with pause.
import { ApiError, type ApiClient } from '../../api/client';
import { EventStream, type StreamState } from '../../api/stream';
import type { DroppedEvent, Event, QueryEvent, RequestEvent } from '../../api/types.gen';
import { prependBounded } from '../../lib/bounded';
import type { Query } from '../../lib/queries';

/** Statements kept; older ones fall off. */
export const MAX_QUERIES = 5000;
/** Request events kept to name the groups (status, path). */
export const MAX_REQUESTS = 2000;
/** How many statements the page loads when it opens (the API's maximum). */
export const INITIAL_QUERIES = 1000;
/** How often buffered events are flushed into the list. */
const FLUSH_MS = 200;

export class InspectorState {
  /** Newest first. */
  queries = $state.raw<Query[]>([]);
  requests = $state.raw<ReadonlyMap<string, RequestEvent>>(new Map());
  paused = $state(false);
  /** Statements that arrived while paused (shown on resume, up to MAX_QUERIES). */
  held = $state(0);
  dropped = $state(0);
  connection = $state<StreamState>('connecting');
  /** Arrived and not yet shown, oldest first. */
  private pending: Query[] = [];
  private pendingRequests: RequestEvent[] = [];
  private nextId = 0;
  private loaded = false;
  private flushTimer: ReturnType<typeof setInterval> | null = null;
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
    this.flushTimer = setInterval(() => this.flush(), FLUSH_MS);
  }

  stop(): void {
    this.stream.stop();
    if (this.flushTimer) clearInterval(this.flushTimer);
  }

  private withId = (q: QueryEvent): Query => ({ ...q, id: ++this.nextId });

  /** Loads recent statements: all of them the first time, after a reconnect
   * only those newer than the newest shown (the stream does not replay). */
  async refill(): Promise<void> {
    try {
      const [queries, requests] = await Promise.all([this.api.queries(INITIAL_QUERIES), this.api.requests(INITIAL_QUERIES)]);
      this.addRequests([...requests].reverse());
      if (!this.loaded) {
        this.loaded = true;
        // Events that came in while loading are newer: they stay pending.
        const seen = new Set(this.pending.map(signature));
        this.queries = queries.filter((q) => !seen.has(signature(q))).map(this.withId);
        return;
      }
      const newest = Math.max(this.newestTime(), ...this.pending.map((q) => Date.parse(q.time)));
      const missed = queries.filter((q) => Date.parse(q.time) > newest).reverse();
      this.pending.push(...missed.map(this.withId));
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) this.onSignedOut();
    }
  }

  private newestTime(): number {
    return this.queries.length ? Date.parse(this.queries[0].time) : -Infinity;
  }

  handle(ev: Event): void {
    switch (ev.type) {
      case 'query':
        this.pending.push(this.withId(ev.data as QueryEvent));
        if (this.paused) {
          this.held++;
          if (this.pending.length > MAX_QUERIES) this.pending.splice(0, this.pending.length - MAX_QUERIES);
        }
        break;
      case 'request':
        this.pendingRequests.push(ev.data as RequestEvent);
        break;
      case 'dropped':
        this.dropped += (ev.data as DroppedEvent).count;
        break;
    }
  }

  /** Shows what arrived, unless paused. Request events are always taken:
   * they only name groups. */
  flush(): void {
    if (this.pendingRequests.length) {
      this.addRequests(this.pendingRequests);
      this.pendingRequests = [];
    }
    if (this.paused || this.pending.length === 0) return;
    this.queries = prependBounded(this.queries, this.pending.reverse(), MAX_QUERIES);
    this.pending = [];
  }

  private addRequests(list: RequestEvent[]): void {
    if (list.length === 0) return;
    const m = new Map(this.requests);
    for (const r of list) m.set(r.id, r);
    for (const k of m.keys()) {
      if (m.size <= MAX_REQUESTS) break;
      m.delete(k);
    }
    this.requests = m;
  }

  pause(): void {
    this.paused = true;
    this.held = this.pending.length;
  }

  resume(): void {
    this.paused = false;
    this.held = 0;
    this.flush();
  }

  /** Forgets everything shown and held (the server keeps its own). */
  clear(): void {
    this.queries = [];
    this.pending = [];
    this.held = 0;
    this.requests = new Map();
  }
}

/** Identifies a statement across the API and the stream, which carry the
 * same JSON. */
function signature(q: QueryEvent): string {
  return `${q.time}|${q.requestId}|${q.fingerprint}`;
}
