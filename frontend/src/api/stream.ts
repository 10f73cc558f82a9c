// The admin API's event stream over WebSocket, reconnecting by itself.
import type { Event } from './types.gen';

export type StreamState = 'connecting' | 'connected' | 'reconnecting' | 'offline';

/** Failed attempts in a row after which the stream counts as offline (it
 * keeps retrying). */
export const OFFLINE_AFTER = 3;

/** Delay before reconnect attempt n (0-based): 500 ms doubling, capped at 10 s. */
export function backoff(attempt: number): number {
  return Math.min(10_000, 500 * 2 ** Math.max(0, attempt));
}

export interface StreamOptions {
  url: string;
  protocols: string[];
  onEvent(ev: Event): void;
  onState(state: StreamState): void;
  /** Called after every successful (re)connection, to refill data. */
  onOpen?(): void;
  /** For tests: a WebSocket constructor and timers. */
  WebSocket?: new (url: string, protocols: string[]) => WebSocket;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (id: unknown) => void;
}

type Listener = Pick<StreamOptions, 'onEvent' | 'onState' | 'onOpen'>;

/** Small ids for the constructor and timers a stream uses, so that streams
 * share a connection only when they would have made the same one. */
const ids = new WeakMap<object, number>();
let lastID = 0;
function idOf(o: object): number {
  let id = ids.get(o);
  if (id === undefined) ids.set(o, (id = ++lastID));
  return id;
}

/** The open connections by target: every EventStream of a tab with the same
 * URL, protocols (token) and hooks shares one WebSocket. */
const connections = new Map<string, Connection>();

/** One WebSocket, reconnecting by itself, and the streams listening to it. */
class Connection {
  private readonly listeners = new Set<Listener>();
  private state: StreamState = 'connecting';
  private ws: WebSocket | null = null;
  private failures = 0;
  private timer: unknown = null;

  constructor(
    private readonly key: string,
    private readonly url: string,
    private readonly protocols: string[],
    private readonly WS: new (url: string, protocols: string[]) => WebSocket,
    private readonly setTimer: (fn: () => void, ms: number) => unknown,
    private readonly clearTimer: (id: unknown) => void,
  ) {}

  static for(opts: StreamOptions): Connection {
    const WS = opts.WebSocket ?? WebSocket;
    const setTimer = opts.setTimeout ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
    const clearTimer = opts.clearTimeout ?? ((id: unknown) => clearTimeout(id as number));
    const key = [idOf(WS), opts.setTimeout ? idOf(opts.setTimeout) : 0, opts.url, ...opts.protocols].join('\n');
    let c = connections.get(key);
    if (!c) {
      c = new Connection(key, opts.url, opts.protocols, WS, setTimer, clearTimer);
      connections.set(key, c);
    }
    return c;
  }

  /** Adds l and tells it the state; a late listener of an open connection
   * also gets onOpen, to fill in what it has not seen. */
  add(l: Listener): void {
    this.listeners.add(l);
    if (this.listeners.size === 1) this.connect(); // a connection serves one run of listeners
    l.onState(this.state);
    if (this.state === 'connected') l.onOpen?.();
  }

  /** Removes l; the last one to go closes the connection. */
  remove(l: Listener): void {
    if (!this.listeners.delete(l) || this.listeners.size > 0) return;
    connections.delete(this.key);
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000);
  }

  private setState(s: StreamState): void {
    this.state = s;
    for (const l of [...this.listeners]) l.onState(s);
  }

  private connect(): void {
    this.timer = null;
    const ws = new this.WS(this.url, this.protocols);
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      opened = true;
      this.failures = 0;
      this.setState('connected');
      for (const l of [...this.listeners]) l.onOpen?.();
    };
    ws.onmessage = (m: MessageEvent) => {
      let ev: Event;
      try {
        ev = JSON.parse(m.data as string) as Event;
      } catch {
        return; /* a malformed message is dropped; the stream goes on */
      }
      for (const l of [...this.listeners]) {
        try {
          l.onEvent(ev);
        } catch {
          /* one listener's failure is not the others' */
        }
      }
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      if (!opened) this.failures++;
      this.setState(this.failures >= OFFLINE_AFTER ? 'offline' : 'reconnecting');
      this.timer = this.setTimer(() => this.connect(), backoff(this.failures));
    };
  }
}

/** A listener of the admin API's event stream. The streams of a tab share
 * one WebSocket per target: the first to start opens it, the last to stop
 * closes it. */
export class EventStream {
  private conn: Connection | null = null;
  private readonly listener: Listener;

  constructor(private readonly opts: StreamOptions) {
    this.listener = { onEvent: (ev) => opts.onEvent(ev), onState: (s) => opts.onState(s), onOpen: () => opts.onOpen?.() };
  }

  start(): void {
    if (this.conn) return;
    this.conn = Connection.for(this.opts);
    this.conn.add(this.listener);
  }

  stop(): void {
    this.conn?.remove(this.listener);
    this.conn = null;
  }
}
