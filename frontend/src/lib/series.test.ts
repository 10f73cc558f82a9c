import { describe, expect, it } from 'vitest';
import type { MetricSample } from '../api/types.gen';
import { forRoute, routesIn } from './series';

const samples: MetricSample[] = [
  { time: '2026-11-25T00:00:00Z', requests: 5, errors: 1, p50Ms: 1, p99Ms: 9, routes: { 'GET /b': { requests: 4, errors: 1, p50Ms: 1, p99Ms: 9 }, 'GET /a': { requests: 1, errors: 0, p50Ms: 2, p99Ms: 2 } } },
  { time: '2026-11-25T00:00:01Z', requests: 0, errors: 0, p50Ms: 0, p99Ms: 0 },
  { time: '2026-11-25T00:00:02Z', requests: 3, errors: 0, p50Ms: 1, p99Ms: 1, routes: { 'GET /a': { requests: 3, errors: 0, p50Ms: 1, p99Ms: 1 } } },
];

describe('route series', () => {
  it('lists the routes seen, sorted', () => {
    expect(routesIn(samples)).toEqual(['GET /a', 'GET /b']);
    expect(routesIn([])).toEqual([]);
  });
  it('keeps every second for one route, idle ones as zero', () => {
    expect(forRoute(samples, 'GET /a').map((s) => s.requests)).toEqual([1, 0, 3]);
    expect(forRoute(samples, 'GET /b').map((s) => [s.requests, s.errors])).toEqual([[4, 1], [0, 0], [0, 0]]);
    expect(forRoute(samples, 'GET /b')[0].time).toBe(samples[0].time);
  });
  it('is all requests without a route', () => {
    expect(forRoute(samples, '')).toBe(samples);
  });
});
