// The Benchmarks page's model: the run form as flat text fields and the
// LoadSpec it sends, the server's validation errors by field, a route as a
// pre-filled form, the per-second series the charts draw, and how numbers
// are shown (as the server gives them, never recomputed).
import type {
  BenchRun,
  ComparisonRow,
  FieldError,
  LatencyBucket,
  LoadParam,
  LoadSecond,
  LoadSpec,
  Route,
  Signals,
} from '../api/types.gen';
import { parseDuration, parseRoles } from './keys';

export const BENCH_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

/** A path parameter: values from a list in turn, or a random integer. */
export interface ParamForm {
  name: string;
  mode: 'range' | 'list';
  min: string;
  max: string;
  /** One value a line (commas separate too). */
  values: string;
}

export interface StageForm {
  rate: string;
  duration: string;
}

/** The run form: what the user types, numbers and durations as text. */
export interface BenchForm {
  name: string;
  method: string;
  url: string;
  headers: { name: string; value: string }[];
  body: string;
  params: ParamForm[];
  model: 'closed' | 'open';
  connections: string;
  thinkTime: string;
  rate: string;
  ramp: StageForm[];
  duration: string;
  warmup: string;
  timeout: string;
  maxRequests: string;
  http2: boolean;
  auth: boolean;
  authKid: string;
  authSubject: string;
  authRoles: string; // comma-separated
  authScope: string; // space-separated, as the scope claim
}

export const DEFAULT_CONNECTIONS = '50';
export const DEFAULT_DURATION = '10s';
export const DEFAULT_WARMUP = '2s';
/** A new path parameter's range. */
export const DEFAULT_PARAM_RANGE = { min: '1', max: '100' };

/** A new form aimed at url: GET, 50 connections, 10 s after a 2 s warm-up. */
export function defaultForm(url = ''): BenchForm {
  return syncParams({
    name: '',
    method: 'GET',
    url,
    headers: [],
    body: '',
    params: [],
    model: 'closed',
    connections: DEFAULT_CONNECTIONS,
    thinkTime: '',
    rate: '',
    ramp: [],
    duration: DEFAULT_DURATION,
    warmup: DEFAULT_WARMUP,
    timeout: '',
    maxRequests: '',
    http2: false,
    auth: false,
    authKid: '',
    authSubject: '',
    authRoles: '',
    authScope: '',
  });
}

/** The {name} placeholders of a URL template, in order, each once (as the
 * load generator reads them: whatever stands between the braces). */
export function placeholders(url: string): string[] {
  const out: string[] = [];
  for (const m of url.matchAll(/\{([^{}]*)\}/g)) if (!out.includes(m[1])) out.push(m[1]);
  return out;
}

/** Gives every placeholder of the URL a parameter entry (a range 1..100
 * for a new one), keeps the entries of those still there, and drops the
 * rest. */
export function syncParams(f: BenchForm): BenchForm {
  const names = placeholders(f.url);
  const same = names.length === f.params.length && names.every((n, i) => f.params[i].name === n);
  if (same) return f;
  const params = names.map((name) => f.params.find((p) => p.name === name) ?? { name, mode: 'range' as const, ...DEFAULT_PARAM_RANGE, values: '' });
  return { ...f, params };
}

/** The values of a list parameter: one a line or comma-separated, blanks
 * dropped. */
export function parseValues(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((v) => v.trim())
    .filter(Boolean);
}

/** A number field: undefined when empty, NaN when not a number (the form
 * then refuses to start, see formProblems). */
function num(text: string): number | undefined {
  const t = text.trim();
  return t === '' ? undefined : Number(t);
}

/** The run a form describes. Empty fields are left out, so the server's
 * defaults apply. */
export function specFromForm(f: BenchForm): LoadSpec {
  const spec: LoadSpec = { url: f.url.trim(), duration: f.duration.trim() };
  if (f.name.trim()) spec.name = f.name.trim();
  spec.method = f.method || 'GET';
  const headers = f.headers.filter((h) => h.name.trim() || h.value.trim()).map((h) => ({ name: h.name.trim(), value: h.value }));
  if (headers.length) spec.headers = headers;
  if (f.body) spec.body = f.body;
  if (f.params.length) {
    spec.params = f.params.map((p): LoadParam => {
      if (p.mode === 'list') return { name: p.name, values: parseValues(p.values) };
      const out: LoadParam = { name: p.name };
      const min = num(p.min);
      const max = num(p.max);
      if (min !== undefined) out.min = min;
      if (max !== undefined) out.max = max;
      return out;
    });
  }
  if (f.http2) spec.http2 = true;
  if (f.auth) {
    const roles = parseRoles(f.authRoles);
    spec.auth = {
      ...(f.authKid.trim() ? { kid: f.authKid.trim() } : {}),
      ...(f.authSubject.trim() ? { subject: f.authSubject.trim() } : {}),
      ...(roles.length ? { roles } : {}),
      ...(f.authScope.trim() ? { scope: f.authScope.trim().split(/\s+/).join(' ') } : {}),
    };
  }
  const connections = num(f.connections);
  if (connections !== undefined) spec.connections = connections;
  if (f.model === 'open') {
    spec.rate = num(f.rate) ?? 0;
    const ramp = f.ramp.filter((s) => s.rate.trim() || s.duration.trim());
    if (ramp.length) spec.ramp = ramp.map((s) => ({ rate: num(s.rate) ?? 0, duration: s.duration.trim() }));
  } else if (f.thinkTime.trim()) {
    spec.thinkTime = f.thinkTime.trim();
  }
  if (f.warmup.trim()) spec.warmup = f.warmup.trim();
  if (f.timeout.trim()) spec.timeout = f.timeout.trim();
  const maxRequests = num(f.maxRequests);
  if (maxRequests !== undefined) spec.maxRequests = maxRequests;
  return spec;
}

/** A stored run's spec as a form, to run it again or change it. */
export function formFromSpec(s: LoadSpec): BenchForm {
  const open = (s.rate ?? 0) > 0;
  const text = (n: number | undefined) => (n === undefined ? '' : String(n));
  return {
    name: s.name ?? '',
    method: s.method || 'GET',
    url: s.url,
    headers: (s.headers ?? []).map((h) => ({ ...h })),
    body: s.body ?? '',
    params: (s.params ?? []).map((p) =>
      p.values?.length
        ? { name: p.name, mode: 'list' as const, min: DEFAULT_PARAM_RANGE.min, max: DEFAULT_PARAM_RANGE.max, values: p.values.join('\n') }
        : { name: p.name, mode: 'range' as const, min: String(p.min ?? 0), max: String(p.max ?? 0), values: '' },
    ),
    model: open ? 'open' : 'closed',
    connections: text(s.connections) || DEFAULT_CONNECTIONS,
    thinkTime: open || isZeroDuration(s.thinkTime) ? '' : (s.thinkTime ?? ''),
    rate: open ? String(s.rate) : '',
    ramp: (s.ramp ?? []).map((st) => ({ rate: String(st.rate), duration: st.duration })),
    duration: s.duration,
    warmup: isZeroDuration(s.warmup) ? '' : (s.warmup ?? ''),
    timeout: s.timeout ?? '',
    maxRequests: text(s.maxRequests),
    http2: !!s.http2,
    auth: !!s.auth,
    authKid: s.auth?.kid ?? '',
    authSubject: s.auth?.subject ?? '',
    authRoles: (s.auth?.roles ?? []).join(', '),
    authScope: s.auth?.scope ?? '',
  };
}

function isZeroDuration(d: string | undefined): boolean {
  if (!d) return true;
  const p = parseDuration(d);
  return p.ns === 0n;
}

/** A Go duration in seconds (NaN when it is not one). */
export function durationSeconds(text: string): number {
  const p = parseDuration(text.trim());
  return p.ns === undefined ? NaN : Number(p.ns) / 1e9;
}

/** Field problems the form finds before asking the server: text where a
 * number or a Go duration belongs. Ranges and limits are the server's to
 * judge; keys are the spec's JSON paths, as the server names them. */
export function formProblems(f: BenchForm): Record<string, string> {
  const out: Record<string, string> = {};
  const number = (key: string, text: string, integer: boolean) => {
    const t = text.trim();
    if (t === '') return;
    const n = Number(t);
    if (!Number.isFinite(n)) out[key] = `"${t}" is not a number`;
    else if (integer && !Number.isInteger(n)) out[key] = `"${t}" is not a whole number`;
  };
  const duration = (key: string, text: string, required = false) => {
    const t = text.trim();
    if (t === '') {
      if (required) out[key] = 'is required, for example "10s" or "1m30s"';
      return;
    }
    const p = parseDuration(t);
    if (p.error !== undefined) out[key] = `"${t}" is not a duration such as "10s" or "1m30s"`;
  };
  if (!f.url.trim()) out.url = 'is required';
  number('connections', f.connections, true);
  if (f.model === 'open') {
    if (!f.rate.trim()) out.rate = 'is required for the open model (requests per second)';
    else number('rate', f.rate, false);
    f.ramp.forEach((s, i) => {
      number(`ramp[${i}].rate`, s.rate, false);
      duration(`ramp[${i}].duration`, s.duration, true);
    });
  } else {
    duration('thinkTime', f.thinkTime);
  }
  duration('duration', f.duration, true);
  duration('warmup', f.warmup);
  duration('timeout', f.timeout);
  number('maxRequests', f.maxRequests, true);
  f.params.forEach((p, i) => {
    if (p.mode === 'list') {
      if (parseValues(p.values).length === 0) out[`params[${i}]`] = `{${p.name}} needs at least one value`;
    } else {
      number(`params[${i}].min`, p.min, true);
      number(`params[${i}].max`, p.max, true);
    }
  });
  return out;
}

/** The field keys a form shows errors at: the spec's JSON paths. */
export function fieldKeys(f: BenchForm): string[] {
  const keys = ['name', 'method', 'url', 'headers', 'body', 'params', 'http2', 'auth', 'auth.kid', 'auth.subject', 'auth.roles', 'auth.scope', 'connections', 'duration', 'warmup', 'timeout', 'maxRequests'];
  keys.push(...(f.model === 'open' ? ['rate', 'ramp'] : ['thinkTime']));
  f.headers.forEach((_, i) => keys.push(`headers[${i}].name`, `headers[${i}].value`));
  f.params.forEach((_, i) => keys.push(`params[${i}]`, `params[${i}].name`, `params[${i}].values`, `params[${i}].min`, `params[${i}].max`));
  if (f.model === 'open') f.ramp.forEach((_, i) => keys.push(`ramp[${i}].rate`, `ramp[${i}].duration`));
  return keys;
}

/** Sorts the server's errors onto the form's fields by JSON path (a
 * list value's error goes to its list); the rest come back in other. */
export function benchFieldErrors(errors: FieldError[], f: BenchForm): { fields: Record<string, string>; other: string[] } {
  const keys = new Set(fieldKeys(f));
  const fields: Record<string, string> = {};
  const other: string[] = [];
  for (const e of errors) {
    const key = e.path.replace(/^(params\[\d+\]\.values)\[\d+\]$/, '$1');
    if (keys.has(key) && !fields[key]) fields[key] = e.message;
    else if (keys.has(key)) fields[key] += `; ${e.message}`;
    else other.push(e.path ? `${e.path}: ${e.message}` : e.message);
  }
  return { fields, other };
}

/** A route's path as a URL template: Go's {name...} and {name:pattern}
 * become {name}, and {$} (the end of the path) goes. */
export function routeTemplate(path: string): string {
  return path.replace(/\{\$\}/g, '').replace(/\{([^{}.:]+)(\.\.\.)?(:[^{}]*)?\}/g, '{$1}');
}

/** Joins the server's base URL and a path without doubling the slash. */
export function joinURL(base: string, path: string): string {
  return base.replace(/\/+$/, '') + (path.startsWith('/') ? path : '/' + path);
}

/** What the Routes page's "Load test" button passes on, in the hash:
 * #/bench?route=<id> for a configured route, or method and path for a
 * route of the program's Go code. */
export interface BenchPrefill {
  route?: string;
  method?: string;
  path?: string;
}

export function prefillHash(p: BenchPrefill): string {
  const q = new URLSearchParams();
  if (p.route) q.set('route', p.route);
  if (p.method) q.set('method', p.method);
  if (p.path) q.set('path', p.path);
  return `#/bench?${q}`;
}

/** The prefill a hash's query asks for; null when it asks for none. */
export function parsePrefill(query: string): BenchPrefill | null {
  const q = new URLSearchParams(query.replace(/^\?/, ''));
  const p: BenchPrefill = {};
  if (q.get('route')) p.route = q.get('route')!;
  if (q.get('method')) p.method = q.get('method')!;
  if (q.get('path')) p.path = q.get('path')!;
  return p.route || p.path ? p : null;
}

/** A form aimed at a route of the server at base: its method (GET for a
 * resource), its path with a parameter entry per placeholder, and, when
 * the route wants an access token, a token per virtual user with the
 * route's roles and scopes. The name says which route. */
export function formFromRoute(route: Pick<Route, 'method' | 'path' | 'kind' | 'policy'>, base: string): BenchForm {
  const method = !route.method || route.kind === 'resource' ? 'GET' : route.method;
  const f = defaultForm(joinURL(base, routeTemplate(route.path)));
  f.method = method;
  f.name = `${method} ${route.path}`;
  const auth = route.policy?.auth;
  if (auth?.required || auth?.roles?.length || auth?.scopes?.length) {
    f.auth = true;
    f.authRoles = (auth.roles ?? []).slice(0, 1).join(', ');
    f.authScope = (auth.scopes ?? []).join(' ');
  }
  return f;
}

// ---- series ---------------------------------------------------------------

/** The server signals the page can plot, with how to read each. */
export const SIGNALS = [
  { key: 'queriesPerRequest', label: 'Queries per request', unit: '', of: (s: Signals) => s.queriesPerRequest },
  { key: 'slowQueries', label: 'Slow queries', unit: '/s', of: (s: Signals) => s.slowQueries },
  { key: 'rateLimited', label: 'Rate-limited', unit: '/s', of: (s: Signals) => s.rateLimited },
  { key: 'heapMB', label: 'Go heap', unit: 'MB', of: (s: Signals) => Math.round((s.heapBytes / 1e6) * 10) / 10 },
  { key: 'gcPauseMs', label: 'GC pause', unit: 'ms', of: (s: Signals) => s.gcPauseMs },
  { key: 'goroutines', label: 'Goroutines', unit: '', of: (s: Signals) => s.goroutines },
] as const;
export type SignalKey = (typeof SIGNALS)[number]['key'];

/** One run's per-second columns, for uPlot: x is the second's end in
 * seconds since the measurement began. Columns grow in place (a live run
 * appends a second at a time), so a chart only calls setData. */
export class RunSeries {
  readonly t: number[] = [];
  readonly rps: number[] = [];
  readonly errors: number[] = [];
  /** The open model's scheduled requests per second; null for the closed model. */
  readonly target: (number | null)[] = [];
  /** Latency percentiles in ms; null in a second without answers. */
  readonly p50: (number | null)[] = [];
  readonly p95: (number | null)[] = [];
  readonly p99: (number | null)[] = [];
  readonly signals: Record<SignalKey, (number | null)[]> = Object.fromEntries(SIGNALS.map((s) => [s.key, []])) as never;

  get length(): number {
    return this.t.length;
  }

  get lastT(): number {
    return this.t.length ? this.t[this.t.length - 1] : 0;
  }

  /** Appends a measured second (and the server's signals in it); a second
   * at or before the last one, or of the warm-up (t ≤ 0), is ignored.
   * Returns whether it was appended. */
  push(s: LoadSecond, sig?: Signals | null): boolean {
    if (s.t <= 0 || s.t <= this.lastT) return false;
    // Seconds are whole but the last, which may be cut short.
    const span = Math.min(1, s.t - this.lastT);
    this.t.push(s.t);
    this.rps.push(span > 0 ? Math.round((s.requests / span) * 100) / 100 : s.requests);
    this.errors.push(span > 0 ? Math.round((s.errors / span) * 100) / 100 : s.errors);
    this.target.push(s.targetRate === undefined ? null : span > 0 ? Math.round((s.targetRate / span) * 100) / 100 : s.targetRate);
    // A second without answers has no latency: a gap, not a zero.
    const none = s.requests === 0;
    this.p50.push(none ? null : s.latencyMs.p50);
    this.p95.push(none ? null : s.latencyMs.p95);
    this.p99.push(none ? null : s.latencyMs.p99);
    for (const d of SIGNALS) this.signals[d.key].push(sig ? d.of(sig) : null);
    return true;
  }

  /** A stored or running run's series: result.series with run.signals
   * beside it, one per second. */
  static fromRun(run: Pick<BenchRun, 'result' | 'signals'>): RunSeries {
    const out = new RunSeries();
    const series = run.result?.series ?? [];
    series.forEach((s, i) => out.push(s, run.signals?.[i] ?? null));
    return out;
  }

  /** Requests and errors per second, and the open model's target rate
   * when asked for. */
  traffic(withTarget = false): Columns {
    return withTarget ? [this.t, this.rps, this.errors, this.target] : [this.t, this.rps, this.errors];
  }
  latency(): Columns {
    return [this.t, this.p50, this.p95, this.p99];
  }
  signal(key: SignalKey): Columns {
    return [this.t, this.signals[key]];
  }
}

/** Columns as uPlot takes them: x first, then one array per series. */
export type Columns = (number | null)[][];

/** Two runs' values of one column on a common x: the union of their
 * seconds, null where a run has none. */
export function overlay(a: RunSeries, b: RunSeries, pick: (s: RunSeries) => (number | null)[]): Columns {
  const ya = pick(a);
  const yb = pick(b);
  const x: number[] = [];
  const outA: (number | null)[] = [];
  const outB: (number | null)[] = [];
  let i = 0;
  let j = 0;
  while (i < a.t.length || j < b.t.length) {
    const ta = i < a.t.length ? a.t[i] : Infinity;
    const tb = j < b.t.length ? b.t[j] : Infinity;
    const t = Math.min(ta, tb);
    x.push(t);
    outA.push(ta === t ? ya[i++] : null);
    outB.push(tb === t ? yb[j++] : null);
  }
  return [x, outA, outB];
}

/** A latency histogram as bars: x the buckets' upper bounds in ms (rising;
 * buckets that round to the same bound merge), y the counts. */
export function histogramColumns(buckets: LatencyBucket[]): Columns {
  const x: number[] = [];
  const y: number[] = [];
  for (const b of buckets) {
    if (!(b.upToMs > 0)) continue;
    if (x.length && b.upToMs <= x[x.length - 1]) y[y.length - 1] += b.count;
    else (x.push(b.upToMs), y.push(b.count));
  }
  return [x, y];
}

// ---- numbers ----------------------------------------------------------------

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** A count: 12,345. */
export function formatCount(n: number): string {
  return grouped.format(n);
}

/** A number exactly as the server gave it, with digit grouping: whole
 * numbers without decimals, others with three (the server rounds to at
 * most three), or every digit when it has more, so that the text always
 * reads back as the same value. */
export function formatGiven(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return grouped.format(v);
  let fixed = v.toFixed(3);
  if (Number(fixed) !== v) fixed = String(v);
  const [int, frac] = fixed.split('.');
  const sign = int.startsWith('-') ? '-' : '';
  return `${sign}${grouped.format(Math.abs(Number(int)))}${frac === undefined ? '' : '.' + frac}`;
}

/** A comparison ratio (B ÷ A, as given to three decimals): "1.234×", or
 * "—" when A was zero. */
export function formatRatio(r: number | null): string {
  return r === null ? '—' : `${r.toFixed(3)}×`;
}

/** Whether B improved on A in a comparison row, by the row's own
 * direction; "same" at a ratio of 1, "none" without a ratio. */
export function verdict(row: Pick<ComparisonRow, 'ratio' | 'better'>): 'better' | 'worse' | 'same' | 'none' {
  if (row.ratio === null) return 'none';
  if (row.ratio === 1) return 'same';
  const up = row.ratio > 1;
  return up === (row.better === 'higher') ? 'better' : 'worse';
}

/** Errors as a share of requests, in percent to three decimals (the
 * server's own rounding of errorRate). */
export function errorRate(errors: number, requests: number): number {
  return requests ? Math.round((errors / requests) * 100 * 1000) / 1000 : 0;
}

/** Seconds as "42 s", "1 m 05 s". */
export function formatSeconds(s: number): string {
  const whole = Math.max(0, Math.floor(s));
  if (whole < 60) return `${whole} s`;
  return `${Math.floor(whole / 60)} m ${String(whole % 60).padStart(2, '0')} s`;
}

/** How a run's load is shaped, in a few words. */
export function modelText(spec: Pick<LoadSpec, 'connections' | 'rate' | 'ramp' | 'thinkTime'>): string {
  const c = spec.connections ?? 50;
  if ((spec.rate ?? 0) > 0) {
    const ramp = spec.ramp?.length ? `, ramp ${spec.ramp.map((s) => `${s.rate}/s over ${s.duration}`).join(' → ')}` : '';
    return `open: ${spec.rate} req/s, at most ${c} in flight${ramp}`;
  }
  return `closed: ${c} connection${c === 1 ? '' : 's'}${spec.thinkTime && !isZeroDuration(spec.thinkTime) ? `, think ${spec.thinkTime}` : ''}`;
}

/** Why a run ended, for people. */
export function stoppedText(stopped: string): string {
  switch (stopped) {
    case 'duration':
      return 'ran its duration';
    case 'maxRequests':
      return 'reached the request cap';
    case 'cancelled':
      return 'cancelled';
  }
  return stopped;
}
