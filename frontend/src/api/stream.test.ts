import { describe, expect, it } from 'vitest';
import { EventStream, backoff, OFFLINE_AFTER, type StreamState } from './stream';

class FakeSocket {
  static all: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  closedWith: number | null = null;
  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {
    FakeSocket.all.push(this);
  }
  close(code: number) {
    this.closedWith = code;
  }
}

function harness() {
  FakeSocket.all = [];
  const states: StreamState[] = [];
  const events: unknown[] = [];
  const timers: { fn: () => void; ms: number }[] = [];
  let opens = 0;
  const s = new EventStream({
    url: 'ws://127.0.0.1:1/_covet/api/events',
    protocols: ['covet.v1', 'covet.token.t'],
    onEvent: (e) => events.push(e),
    onState: (st) => states.push(st),
    onOpen: () => opens++,
    WebSocket: FakeSocket as never,
    setTimeout: (fn, ms) => timers.push({ fn, ms }),
    clearTimeout: () => {},
  });
  return { s, states, events, timers, opens: () => opens };
}

describe('backoff', () => {
  it('doubles from 500 ms and caps at 10 s', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map(backoff)).toEqual([500, 1000, 2000, 4000, 8000, 10000, 10000]);
  });
});

describe('EventStream', () => {
  it('connects with the URL and protocols and delivers parsed events', () => {
    const h = harness();
    h.s.start();
    const ws = FakeSocket.all[0];
    expect(ws.url).toBe('ws://127.0.0.1:1/_covet/api/events');
    expect(ws.protocols).toEqual(['covet.v1', 'covet.token.t']);
    ws.onopen!();
    ws.onmessage!({ data: '{"type":"request","seq":1,"time":"t","data":{}}' });
    ws.onmessage!({ data: 'not json' });
    expect(h.states).toEqual(['connecting', 'connected']);
    expect(h.events).toEqual([{ type: 'request', seq: 1, time: 't', data: {} }]);
    expect(h.opens()).toBe(1);
  });

  it('reconnects with growing delays and goes offline after repeated failures', () => {
    const h = harness();
    h.s.start();
    for (let i = 0; i < OFFLINE_AFTER + 1; i++) {
      FakeSocket.all[i].onclose!();
      h.timers[i].fn();
    }
    expect(h.timers.map((t) => t.ms)).toEqual([1000, 2000, 4000, 8000]);
    expect(h.states.slice(1)).toEqual(['reconnecting', 'reconnecting', 'offline', 'offline']);
    FakeSocket.all.at(-1)!.onopen!();
    expect(h.states.at(-1)).toBe('connected');
    expect(h.opens()).toBe(1);
  });

  it('starts the backoff over after a connection that worked', () => {
    const h = harness();
    h.s.start();
    FakeSocket.all[0].onopen!();
    FakeSocket.all[0].onclose!();
    expect(h.timers[0].ms).toBe(500);
    expect(h.states.at(-1)).toBe('reconnecting');
  });

  it('stops for good', () => {
    const h = harness();
    h.s.start();
    h.s.stop();
    expect(FakeSocket.all[0].closedWith).toBe(1000);
    FakeSocket.all[0].onclose!();
    expect(h.timers).toHaveLength(0);
  });

  it('shares one WebSocket among the streams of a target, closed by the last to stop', () => {
    FakeSocket.all = [];
    const timers: { fn: () => void; ms: number }[] = [];
    const hooks = { WebSocket: FakeSocket as never, setTimeout: (fn: () => void, ms: number) => timers.push({ fn, ms }), clearTimeout: () => {} };
    const target = { url: 'ws://127.0.0.1:1/_covet/api/events', protocols: ['covet.v1', 'covet.token.t'] };
    const make = () => {
      const log: string[] = [];
      const s = new EventStream({
        ...target,
        ...hooks,
        onEvent: (e) => log.push('event ' + (e as { seq: number }).seq),
        onState: (st) => log.push(st),
        onOpen: () => log.push('open'),
      });
      return { s, log };
    };
    const a = make();
    const b = make();
    a.s.start();
    b.s.start();
    expect(FakeSocket.all).toHaveLength(1);
    FakeSocket.all[0].onopen!();
    FakeSocket.all[0].onmessage!({ data: '{"type":"request","seq":1,"time":"t","data":{}}' });
    // A stream started on an open connection is told so, and refills.
    const c = make();
    c.s.start();
    expect(a.log).toEqual(['connecting', 'connected', 'open', 'event 1']);
    expect(b.log).toEqual(['connecting', 'connected', 'open', 'event 1']);
    expect(c.log).toEqual(['connected', 'open']);
    // A drop reaches everyone; after the reconnection everyone refills.
    FakeSocket.all[0].onclose!();
    timers[0].fn();
    FakeSocket.all[1].onopen!();
    expect(c.log).toEqual(['connected', 'open', 'reconnecting', 'connected', 'open']);
    // Another token is another connection.
    const other = new EventStream({ ...target, protocols: ['covet.v1', 'covet.token.u'], ...hooks, onEvent: () => {}, onState: () => {} });
    other.start();
    expect(FakeSocket.all).toHaveLength(3);
    other.stop();
    a.s.stop();
    b.s.stop();
    expect(FakeSocket.all[1].closedWith).toBeNull();
    c.s.stop();
    expect(FakeSocket.all[1].closedWith).toBe(1000);
    // The next stream opens a new one.
    a.s.start();
    expect(FakeSocket.all).toHaveLength(4);
    a.s.stop();
  });
});
