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

export class EventStream {
  private ws: WebSocket | null = null;
  private failures = 0;
  private timer: unknown = null;
  private closed = false;
  private readonly WS;
  private readonly setTimer;
  private readonly clearTimer;

  constructor(private readonly opts: StreamOptions) {
    this.WS = opts.WebSocket ?? WebSocket;
    this.setTimer = opts.setTimeout ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = opts.clearTimeout ?? ((id) => clearTimeout(id as number));
  }

  start(): void {
    this.opts.onState('connecting');
    this.connect();
  }

  stop(): void {
    this.closed = true;
    if (this.timer !== null) this.clearTimer(this.timer);
    this.ws?.close(1000);
    this.ws = null;
  }

  private connect(): void {
    if (this.closed) return;
    const ws = new this.WS(this.opts.url, this.opts.protocols);
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.failures = 0;
      this.opts.onState('connected');
      this.opts.onOpen?.();
    };
    ws.onmessage = (m: MessageEvent) => {
      try {
        this.opts.onEvent(JSON.parse(m.data as string) as Event);
      } catch {
        /* a malformed message is dropped; the stream goes on */
      }
    };
    ws.onclose = () => {
      if (this.ws !== ws || this.closed) return;
      if (!opened) this.failures++;
      this.opts.onState(this.failures >= OFFLINE_AFTER ? 'offline' : 'reconnecting');
      this.timer = this.setTimer(() => this.connect(), backoff(this.failures));
    };
  }
}
