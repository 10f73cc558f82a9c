import { describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError } from '../../api/client';
import { DashboardState, MAX_SAMPLES } from './dashboard.svelte';

const req = (id: string) => ({ id, time: '', method: 'GET', path: '/' + id, status: 200, durationMs: 1, bytes: 1, remoteAddr: '', route: '' });
const sample = (t: number) => ({ time: new Date(t * 1000).toISOString(), requests: t, errors: 0, p50Ms: 0, p99Ms: 0 });

function state() {
  const api = new ApiClient({ url: 'http://127.0.0.1:1', token: 't' });
  const signedOut = vi.fn();
  return { api, signedOut, s: new DashboardState(api, signedOut) };
}

describe('DashboardState', () => {
  it('buffers request events and shows them newest first on flush', () => {
    const { s } = state();
    s.handle({ type: 'request', seq: 1, time: '', data: req('a') });
    s.handle({ type: 'request', seq: 2, time: '', data: req('b') });
    expect(s.requests).toEqual([]);
    s.flush();
    expect(s.requests.map((r) => r.id)).toEqual(['b', 'a']);
  });

  it('keeps five minutes of samples and counts dropped events', () => {
    const { s } = state();
    for (let t = 0; t < MAX_SAMPLES + 10; t++) s.handle({ type: 'metric.sample', seq: t, time: '', data: sample(t) });
    expect(s.samples).toHaveLength(MAX_SAMPLES);
    expect(s.samples[0].requests).toBe(10);
    s.handle({ type: 'dropped', seq: 0, time: '', data: { count: 7 } });
    expect(s.dropped).toBe(7);
  });

  it('refills from the API and computes uptime from the server clock', async () => {
    const { api, s } = state();
    const startedAt = new Date(Date.now() - 60_000).toISOString();
    vi.spyOn(api, 'info').mockResolvedValue({ startedAt, uptimeSeconds: 60 } as never);
    vi.spyOn(api, 'requests').mockResolvedValue([req('x')]);
    vi.spyOn(api, 'series').mockResolvedValue([sample(1)]);
    await s.refill();
    expect(s.requests.map((r) => r.id)).toEqual(['x']);
    expect(s.samples).toHaveLength(1);
    expect(Math.round(s.uptime(Date.now()))).toBe(60);
  });

  it('reports a lost session', async () => {
    const { api, s, signedOut } = state();
    vi.spyOn(api, 'info').mockRejectedValue(new ApiError(401, 'missing'));
    vi.spyOn(api, 'requests').mockResolvedValue([]);
    vi.spyOn(api, 'series').mockResolvedValue([]);
    await s.refill();
    expect(signedOut).toHaveBeenCalledOnce();
  });
});
