import { describe, expect, it, vi } from 'vitest';
import { ApiClient } from '../../api/client';
import type { BenchProgress, BenchRun, BenchSummary, LoadSecond, Signals } from '../../api/types.gen';
import { BenchState } from './bench.svelte';

const second = (t: number, requests = 100): LoadSecond => ({
  t,
  requests,
  errors: 0,
  bytes: 0,
  latencyMs: { min: 1, mean: 1, p50: 1, p90: 2, p95: 2, p99: 3, p999: 3, max: 3 },
});
const sig = { goroutines: 7, heapBytes: 0, queriesPerRequest: 0, slowQueries: 0, rateLimited: 0, gcPauseMs: 0 } as Signals;
const run = (id: string, status: string, seconds: number[]): BenchRun => ({
  id,
  name: id,
  status,
  source: 'studio',
  spec: { url: 'http://127.0.0.1:1/', duration: '10s' },
  startedAt: '',
  endedAt: null,
  version: '',
  configHash: '',
  result: { series: seconds.map((t) => second(t)) } as BenchRun['result'],
  signals: seconds.map(() => sig),
});
const summary = (id: string, status: string) => ({ id, status }) as BenchSummary;
const progress = (id: string, t: number, warmup = false) => ({
  type: 'bench.progress',
  seq: 0,
  time: '',
  data: { id, progress: { warmup, elapsed: t + 2, second: second(t), requests: 0, errors: 0, backlog: 0 }, signals: sig } satisfies BenchProgress,
});

/** A state on a fake server: routes answer from a table, in order. */
function state(answers: Record<string, unknown[]>) {
  const calls: string[] = [];
  const f = vi.fn(async (url: string, init: RequestInit) => {
    const key = `${init.method} ${url.replace('http://x/_covet/api', '')}`;
    calls.push(key);
    const queue = answers[key];
    if (!queue?.length) return new Response(JSON.stringify({ detail: `no answer for ${key}` }), { status: 500 });
    const body = queue.length > 1 ? queue.shift() : queue[0];
    return new Response(JSON.stringify(body), { status: key === 'POST /bench/runs' ? 201 : 200 });
  });
  return { s: new BenchState(new ApiClient({ url: 'http://x', token: 't' }, f as never)), calls };
}
const settle = () => new Promise((r) => setTimeout(r, 0));

describe('BenchState', () => {
  it('shows a started run and grows it from progress, skipping the warm-up', async () => {
    const { s } = state({ 'POST /bench/runs': [run('r1', 'running', [])], 'GET /bench/runs': [[summary('r1', 'running')]] });
    await s.begin({ url: 'http://127.0.0.1:1/', duration: '10s' });
    expect(s.view?.id).toBe('r1');
    expect(s.runningId).toBe('r1');
    const v = s.version;
    s.handle(progress('r1', -1, true));
    expect(s.series.length).toBe(0);
    expect(s.progress?.warmup).toBe(true);
    s.handle(progress('r1', 1));
    s.handle(progress('r1', 2));
    expect(s.series.t).toEqual([1, 2]);
    expect(s.series.signals.goroutines).toEqual([7, 7]);
    expect(s.version).toBe(v + 2);
  });

  it('reloads the run when it finishes, for its whole result', async () => {
    const { s, calls } = state({
      'POST /bench/runs': [run('r1', 'running', [])],
      'GET /bench/runs': [[summary('r1', 'running')], [summary('r1', 'completed')]],
      'GET /bench/runs/r1': [run('r1', 'completed', [1, 2, 2.4])],
    });
    await s.begin({ url: 'http://127.0.0.1:1/', duration: '10s' });
    s.handle(progress('r1', 1));
    s.handle({ type: 'bench.finished', seq: 0, time: '', data: summary('r1', 'completed') });
    expect(s.runningId).toBeNull();
    await settle();
    await settle();
    expect(calls).toContain('GET /bench/runs/r1');
    expect(s.view?.status).toBe('completed');
    expect(s.series.t).toEqual([1, 2, 2.4]);
  });

  it('adopts a run that started elsewhere when nothing is on show, and applies what came while loading', async () => {
    const { s } = state({ 'GET /bench/runs/r9': [run('r9', 'running', [1])] });
    s.handle(progress('r9', 1));
    // Loading: the next second waits for the run's series.
    s.handle(progress('r9', 2));
    await settle();
    await settle();
    expect(s.view?.id).toBe('r9');
    expect(s.series.t).toEqual([1, 2]);
    s.handle(progress('r9', 3));
    expect(s.series.t).toEqual([1, 2, 3]);
  });

  it('leaves a stored run on show while another runs', async () => {
    const { s } = state({ 'GET /bench/runs/old': [run('old', 'completed', [1, 2])] });
    await s.select('old');
    s.handle(progress('new', 1));
    expect(s.view?.id).toBe('old');
    expect(s.series.t).toEqual([1, 2]);
    expect(s.runningId).toBe('new');
  });

  it('notices from the list that nothing runs any more', async () => {
    const { s } = state({ 'GET /bench/runs': [[summary('r1', 'running')], [summary('r1', 'cancelled')]] });
    await s.refresh();
    expect(s.runningId).toBe('r1');
    await s.refresh();
    expect(s.runningId).toBeNull();
  });
});
