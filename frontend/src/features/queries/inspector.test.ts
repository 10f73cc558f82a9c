import { describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError } from '../../api/client';
import type { QueryEvent, RequestEvent } from '../../api/types.gen';
import { InspectorState, MAX_QUERIES } from './inspector.svelte';

const query = (sql: string, t = 0, requestId = 'r1'): QueryEvent => ({
  fingerprint: sql.toLowerCase(), sql, args: [], time: new Date(1_800_000_000_000 + t).toISOString(), durationMs: 1, rows: 0,
  caller: 'x.go:1', dialect: 'sqlite', requestId, route: 'GET /x', slow: false, nPlusOne: false,
});
const request = (id: string): RequestEvent => ({ id, time: '', method: 'GET', path: '/x', route: 'GET /x', status: 200, durationMs: 1, bytes: 0, remoteAddr: '' });
const ev = (type: string, data: unknown) => ({ type, seq: 0, time: '', data });

function state() {
  const api = new ApiClient({ url: 'http://127.0.0.1:1', token: 't' });
  const signedOut = vi.fn();
  return { api, signedOut, s: new InspectorState(api, signedOut) };
}

describe('InspectorState', () => {
  it('shows streamed statements newest first on flush, with unique ids', () => {
    const { s } = state();
    s.handle(ev('query', query('A')));
    s.handle(ev('query', query('B')));
    expect(s.queries).toEqual([]);
    s.flush();
    expect(s.queries.map((q) => q.sql)).toEqual(['B', 'A']);
    expect(new Set(s.queries.map((q) => q.id)).size).toBe(2);
  });

  it('holds statements while paused and counts them', () => {
    const { s } = state();
    s.pause();
    s.handle(ev('query', query('A')));
    s.handle(ev('query', query('B')));
    s.flush();
    expect(s.queries).toEqual([]);
    expect(s.held).toBe(2);
    s.resume();
    expect(s.held).toBe(0);
    expect(s.queries.map((q) => q.sql)).toEqual(['B', 'A']);
  });

  it('keeps a bounded buffer', () => {
    const { s } = state();
    for (let i = 0; i < MAX_QUERIES + 50; i++) s.handle(ev('query', query('Q' + i)));
    s.flush();
    expect(s.queries).toHaveLength(MAX_QUERIES);
    expect(s.queries[0].sql).toBe(`Q${MAX_QUERIES + 49}`);
  });

  it('takes request events even while paused, and clears', () => {
    const { s } = state();
    s.pause();
    s.handle(ev('request', request('r1')));
    s.handle(ev('dropped', { count: 3 }));
    s.flush();
    expect(s.requests.get('r1')?.status).toBe(200);
    expect(s.dropped).toBe(3);
    s.handle(ev('query', query('A')));
    s.clear();
    s.resume();
    expect(s.queries).toEqual([]);
    expect(s.requests.size).toBe(0);
  });

  it('loads recent statements once, then only newer ones after a reconnect', async () => {
    const { api, s } = state();
    const queries = vi.spyOn(api, 'queries').mockResolvedValue([query('B', 2), query('A', 1)]);
    vi.spyOn(api, 'requests').mockResolvedValue([request('r1')]);
    s.handle(ev('query', query('B', 2))); // already streamed while loading
    await s.refill();
    expect(queries).toHaveBeenCalledWith(1000);
    s.flush();
    expect(s.queries.map((q) => q.sql)).toEqual(['B', 'A']);
    expect(s.requests.has('r1')).toBe(true);

    queries.mockResolvedValue([query('D', 4), query('C', 3), query('B', 2)]);
    await s.refill();
    s.flush();
    expect(s.queries.map((q) => q.sql)).toEqual(['D', 'C', 'B', 'A']);
  });

  it('reports a lost session', async () => {
    const { api, s, signedOut } = state();
    vi.spyOn(api, 'queries').mockRejectedValue(new ApiError(401, 'missing'));
    vi.spyOn(api, 'requests').mockResolvedValue([]);
    await s.refill();
    expect(signedOut).toHaveBeenCalledOnce();
  });
});
