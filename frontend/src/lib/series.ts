// Per-route views of the server's per-second samples, for the Dashboard's
// route filter.
import type { MetricSample } from '../api/types.gen';

/** The route patterns that served requests in any of the samples, sorted. */
export function routesIn(samples: MetricSample[]): string[] {
  const seen = new Set<string>();
  for (const s of samples) for (const r of Object.keys(s.routes ?? {})) seen.add(r);
  return [...seen].sort();
}

/** The samples of one route ('' means all requests): seconds in which it
 * served nothing count as zero. */
export function forRoute(samples: MetricSample[], route: string): MetricSample[] {
  if (!route) return samples;
  return samples.map((s) => ({ time: s.time, requests: 0, errors: 0, p50Ms: 0, p99Ms: 0, ...s.routes?.[route] }));
}
