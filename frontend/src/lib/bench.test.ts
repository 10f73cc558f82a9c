import { describe, expect, it } from 'vitest';
import type { LoadSecond, LoadSpec, Signals } from '../api/types.gen';
import {
  RunSeries,
  benchFieldErrors,
  defaultForm,
  durationSeconds,
  errorRate,
  formFromRoute,
  formFromSpec,
  formProblems,
  formatGiven,
  formatRatio,
  formatSeconds,
  histogramColumns,
  joinURL,
  modelText,
  overlay,
  parsePrefill,
  parseValues,
  placeholders,
  prefillHash,
  routeTemplate,
  specFromForm,
  syncParams,
  verdict,
  type BenchForm,
} from './bench';

const second = (t: number, requests: number, p: [number, number, number] = [1, 2, 3], errors = 0): LoadSecond => ({
  t,
  requests,
  errors,
  bytes: requests * 100,
  latencyMs: { min: 0.1, mean: p[0], p50: p[0], p90: p[1], p95: p[1], p99: p[2], p999: p[2], max: p[2] },
});
const signals = (goroutines: number, heapBytes = 12_345_678): Signals => ({
  time: '2025-01-01T00:00:00Z',
  requests: 0,
  errors: 0,
  rateLimited: 2,
  queries: 10,
  slowQueries: 1,
  queriesPerRequest: 0.5,
  heapBytes,
  gcCycles: 1,
  gcPauseMs: 0.25,
  goroutines,
  droppedEvents: 0,
});

describe('the run form', () => {
  it('starts with the defaults: GET, 50 connections, 10s after a 2s warm-up', () => {
    const f = defaultForm('http://127.0.0.1:8080/hello');
    expect(specFromForm(f)).toEqual({ url: 'http://127.0.0.1:8080/hello', method: 'GET', duration: '10s', connections: 50, warmup: '2s' });
    expect(formProblems(f)).toEqual({});
  });

  it('builds a closed-model spec with everything set', () => {
    const f: BenchForm = {
      ...defaultForm('http://127.0.0.1:8080/users/{id}/posts/{slug}'),
      name: ' nightly ',
      method: 'POST',
      headers: [
        { name: ' Accept ', value: 'application/json' },
        { name: '', value: '' },
      ],
      body: '{"a":1}',
      connections: '8',
      thinkTime: '100ms',
      timeout: '2s',
      maxRequests: '1000',
      http2: true,
      auth: true,
      authSubject: 'load-{vu}',
      authRoles: 'admin, editor, admin',
      authScope: ' read:users   write:users ',
    };
    f.params = [
      { name: 'id', mode: 'range', min: '1', max: '500', values: '' },
      { name: 'slug', mode: 'list', min: '1', max: '100', values: 'a\nb, c\n\n' },
    ];
    expect(specFromForm(f)).toEqual<LoadSpec>({
      name: 'nightly',
      method: 'POST',
      url: 'http://127.0.0.1:8080/users/{id}/posts/{slug}',
      headers: [{ name: 'Accept', value: 'application/json' }],
      body: '{"a":1}',
      params: [
        { name: 'id', min: 1, max: 500 },
        { name: 'slug', values: ['a', 'b', 'c'] },
      ],
      http2: true,
      auth: { subject: 'load-{vu}', roles: ['admin', 'editor'], scope: 'read:users write:users' },
      connections: 8,
      thinkTime: '100ms',
      duration: '10s',
      warmup: '2s',
      timeout: '2s',
      maxRequests: 1000,
    });
  });

  it('builds an open-model spec with a ramp, leaving out think time', () => {
    const f: BenchForm = { ...defaultForm('http://127.0.0.1:1/'), model: 'open', rate: '200', connections: '100', thinkTime: '1s', warmup: '' };
    f.ramp = [
      { rate: '500', duration: '3s' },
      { rate: '', duration: '' },
    ];
    expect(specFromForm(f)).toEqual({ url: 'http://127.0.0.1:1/', method: 'GET', duration: '10s', connections: 100, rate: 200, ramp: [{ rate: 500, duration: '3s' }] });
  });

  it('sends an empty token spec so that the server fills its defaults', () => {
    expect(specFromForm({ ...defaultForm('http://x/'), auth: true }).auth).toEqual({});
  });

  it.each<LoadSpec>([
    { url: 'http://127.0.0.1:8080/hello', method: 'GET', duration: '10s', connections: 50, warmup: '2s' },
    {
      name: 'ramp',
      url: 'http://127.0.0.1:8080/u/{id}',
      method: 'PUT',
      headers: [{ name: 'X-A', value: '1' }],
      body: 'x',
      params: [{ name: 'id', values: ['1', '2'] }],
      http2: true,
      auth: { kid: 'k1', subject: 's', roles: ['a'], scope: 'r w' },
      connections: 10,
      rate: 100,
      ramp: [{ rate: 200, duration: '2s' }],
      duration: '1m0s',
      warmup: '1s',
      timeout: '3s',
      maxRequests: 99,
    },
  ])('round-trips $url through the form', (spec) => {
    expect(specFromForm(formFromSpec(spec))).toEqual(spec);
  });

  it('reads a stored spec with the server defaults filled in', () => {
    const f = formFromSpec({ url: 'http://x/{id}', duration: '5s', warmup: '0s', thinkTime: '0s', params: [{ name: 'id', min: 1, max: 9 }], kind: 'http' });
    expect(f.warmup).toBe('');
    expect(f.thinkTime).toBe('');
    expect(f.params).toEqual([{ name: 'id', mode: 'range', min: '1', max: '9', values: '' }]);
    expect(f.connections).toBe('50');
  });

  it('finds placeholders and keeps a parameter entry for each', () => {
    expect(placeholders('http://h/a/{id}/b/{x}/{id}')).toEqual(['id', 'x']);
    let f = syncParams({ ...defaultForm(), url: 'http://h/{id}' });
    expect(f.params).toEqual([{ name: 'id', mode: 'range', min: '1', max: '100', values: '' }]);
    f.params[0].max = '7';
    f = syncParams({ ...f, url: 'http://h/{id}/{name}' });
    expect(f.params.map((p) => [p.name, p.max])).toEqual([
      ['id', '7'],
      ['name', '100'],
    ]);
    f = syncParams({ ...f, url: 'http://h/{name}' });
    expect(f.params.map((p) => p.name)).toEqual(['name']);
    const same = syncParams(f);
    expect(same).toBe(f);
  });

  it('splits list values on lines and commas', () => {
    expect(parseValues(' a ,b\n\nc ')).toEqual(['a', 'b', 'c']);
  });

  it('finds numbers and durations that are not, before asking the server', () => {
    const f: BenchForm = { ...defaultForm('http://h/{id}'), connections: 'many', duration: '', warmup: '2 seconds', timeout: '1.5s', maxRequests: '1.5' };
    f.params[0].min = 'x';
    expect(formProblems(f)).toEqual({
      connections: '"many" is not a number',
      duration: 'is required, for example "10s" or "1m30s"',
      warmup: '"2 seconds" is not a duration such as "10s" or "1m30s"',
      maxRequests: '"1.5" is not a whole number',
      'params[0].min': '"x" is not a number',
    });
    const open: BenchForm = { ...defaultForm('http://h/'), model: 'open', ramp: [{ rate: 'fast', duration: '' }] };
    expect(formProblems(open)).toEqual({
      rate: 'is required for the open model (requests per second)',
      'ramp[0].rate': '"fast" is not a number',
      'ramp[0].duration': 'is required, for example "10s" or "1m30s"',
    });
    const list: BenchForm = { ...defaultForm('http://h/{id}') };
    list.params = [{ name: 'id', mode: 'list', min: '', max: '', values: ' \n' }];
    expect(formProblems(list)).toEqual({ 'params[0]': '{id} needs at least one value' });
    expect(formProblems({ ...defaultForm(''), url: ' ' })).toEqual({ url: 'is required' });
  });

  it("puts the server's errors next to their fields", () => {
    const f: BenchForm = { ...defaultForm('http://h/{id}'), model: 'open', rate: '5', ramp: [{ rate: '0', duration: '1s' }], headers: [{ name: 'Host', value: 'x' }] };
    const got = benchFieldErrors(
      [
        { path: 'url', message: 'scheme "ftp" is not http or https' },
        { path: 'connections', message: '0 is not from 1 to 10000' },
        { path: 'ramp[0].rate', message: '0 is not from 1 to 1000000 requests per second' },
        { path: 'headers[0].name', message: 'Host is set by the load generator' },
        { path: 'params[0].values[2]', message: 'contains a space' },
        { path: 'params[0].values[3]', message: 'contains a NUL' },
        { path: 'auth.subject', message: 'contains a line break or NUL' },
        { path: 'thinkTime', message: 'applies to the closed model only' },
        { path: 'kind', message: 'is not a scenario kind' },
        { path: '', message: 'bad' },
      ],
      f,
    );
    expect(got.fields).toEqual({
      url: 'scheme "ftp" is not http or https',
      connections: '0 is not from 1 to 10000',
      'ramp[0].rate': '0 is not from 1 to 1000000 requests per second',
      'headers[0].name': 'Host is set by the load generator',
      'params[0].values': 'contains a space; contains a NUL',
      'auth.subject': 'contains a line break or NUL',
    });
    expect(got.other).toEqual(['thinkTime: applies to the closed model only', 'kind: is not a scenario kind', 'bad']);
  });

  it('reads Go durations in seconds', () => {
    expect(durationSeconds('1m30s')).toBe(90);
    expect(durationSeconds('500ms')).toBe(0.5);
    expect(durationSeconds('soon')).toBeNaN();
  });
});

describe('a route as a run', () => {
  it.each([
    ['/hello', '/hello'],
    ['/users/{id}', '/users/{id}'],
    ['/assets/{file...}', '/assets/{file}'],
    ['/n/{n:[0-9]+}/x', '/n/{n}/x'],
    ['/{$}', '/'],
  ])('turns the path %s into the template %s', (path, want) => expect(routeTemplate(path)).toBe(want));

  it('aims at the server with a range per parameter', () => {
    const f = formFromRoute({ method: 'GET', path: '/users/{id}/files/{rest...}', kind: 'mock' }, 'http://127.0.0.1:8080/');
    expect(f.url).toBe('http://127.0.0.1:8080/users/{id}/files/{rest}');
    expect(f.method).toBe('GET');
    expect(f.name).toBe('GET /users/{id}/files/{rest...}');
    expect(specFromForm(f).params).toEqual([
      { name: 'id', min: 1, max: 100 },
      { name: 'rest', min: 1, max: 100 },
    ]);
    expect(f.auth).toBe(false);
  });

  it('loads a resource with GET and signs tokens for a protected route', () => {
    const f = formFromRoute({ method: '', path: '/books', kind: 'resource', policy: { auth: { required: true, roles: ['admin', 'ops'], scopes: ['read', 'write'] } } }, 'http://h');
    expect(f.method).toBe('GET');
    expect(f.url).toBe('http://h/books');
    expect(specFromForm(f).auth).toEqual({ roles: ['admin'], scope: 'read write' });
  });

  it('passes the route through the hash and reads it back', () => {
    const hash = prefillHash({ route: 'a b' });
    expect(hash).toBe('#/bench?route=a+b');
    expect(parsePrefill(hash.slice(hash.indexOf('?')))).toEqual({ route: 'a b' });
    expect(parsePrefill('method=GET&path=%2Fx%2F%7Bid%7D')).toEqual({ method: 'GET', path: '/x/{id}' });
    expect(parsePrefill('')).toBeNull();
    expect(joinURL('http://h:1', 'x')).toBe('http://h:1/x');
  });
});

describe('series', () => {
  it('appends measured seconds, skipping warm-up and repeats, with signals beside them', () => {
    const s = new RunSeries();
    expect(s.push(second(-1, 50), signals(9))).toBe(false);
    expect(s.push(second(0, 50))).toBe(false);
    expect(s.push(second(1, 100, [1, 2, 3], 4), signals(10))).toBe(true);
    expect(s.push(second(1, 100))).toBe(false);
    expect(s.push(second(2, 0))).toBe(true);
    // The last second was cut short: 30 requests in half a second.
    expect(s.push(second(2.5, 30, [4, 5, 6]), signals(12, 20_000_000))).toBe(true);
    expect(s.traffic()).toEqual([
      [1, 2, 2.5],
      [100, 0, 60],
      [4, 0, 0],
    ]);
    expect(s.latency()).toEqual([
      [1, 2, 2.5],
      [1, null, 4],
      [2, null, 5],
      [3, null, 6],
    ]);
    expect(s.signal('goroutines')).toEqual([[1, 2, 2.5], [10, null, 12]]);
    expect(s.signal('heapMB')[1]).toEqual([12.3, null, 20]);
    expect(s.length).toBe(3);
    expect(s.traffic(true)[3]).toEqual([null, null, null]);
  });

  it("carries the open model's target rate", () => {
    const s = new RunSeries();
    s.push({ ...second(1, 90), targetRate: 100 });
    s.push({ ...second(1.5, 40), targetRate: 50 });
    expect(s.traffic(true)).toEqual([
      [1, 1.5],
      [90, 80],
      [0, 0],
      [100, 100],
    ]);
  });

  it('keeps the same arrays as it grows, so a chart only calls setData', () => {
    const s = new RunSeries();
    const cols = s.traffic();
    for (let t = 1; t <= 600; t++) s.push(second(t, t));
    expect(cols[0]).toBe(s.t);
    expect(cols[0].length).toBe(600);
    expect(s.rps[599]).toBe(600);
  });

  it('reads a run: its series and its signals, one per second', () => {
    const s = RunSeries.fromRun({ result: { series: [second(1, 10), second(2, 20)] } as never, signals: [signals(5)] });
    expect(s.t).toEqual([1, 2]);
    expect(s.signals.goroutines).toEqual([5, null]);
    expect(RunSeries.fromRun({ result: null, signals: [] }).length).toBe(0);
  });

  it('overlays two runs on the union of their seconds', () => {
    const a = new RunSeries();
    const b = new RunSeries();
    [1, 2, 3].forEach((t) => a.push(second(t, t * 10)));
    [1, 2, 2.5].forEach((t) => b.push(second(t, 7)));
    expect(overlay(a, b, (s) => s.rps)).toEqual([
      [1, 2, 2.5, 3],
      [10, 20, null, 30],
      [7, 7, 14, null],
    ]);
  });

  it('makes histogram bars with rising bounds', () => {
    expect(
      histogramColumns([
        { upToMs: 0, count: 1 },
        { upToMs: 0.001, count: 2 },
        { upToMs: 0.001, count: 3 },
        { upToMs: 0.002, count: 4 },
        { upToMs: 1.259, count: 0 },
      ]),
    ).toEqual([
      [0.001, 0.002, 1.259],
      [5, 4, 0],
    ]);
  });
});

describe('numbers', () => {
  it.each([
    [12345, '12,345'],
    [0, '0'],
    [1234.5, '1,234.500'],
    [0.123, '0.123'],
    [-2.25, '-2.250'],
    [0.12345, '0.12345'],
  ])('shows %d as given: %s', (v, want) => {
    expect(formatGiven(v)).toBe(want);
    expect(Number(formatGiven(v).replace(/,/g, ''))).toBe(v);
  });

  it('shows ratios with three decimals, as given', () => {
    expect(formatRatio(1.2)).toBe('1.200×');
    expect(formatRatio(0.987)).toBe('0.987×');
    expect(formatRatio(null)).toBe('—');
  });

  it.each([
    [{ ratio: 1.1, better: 'higher' }, 'better'],
    [{ ratio: 0.9, better: 'higher' }, 'worse'],
    [{ ratio: 0.9, better: 'lower' }, 'better'],
    [{ ratio: 1.1, better: 'lower' }, 'worse'],
    [{ ratio: 1, better: 'lower' }, 'same'],
    [{ ratio: null, better: 'lower' }, 'none'],
  ] as const)('judges %j as %s', (row, want) => expect(verdict(row)).toBe(want));

  it('computes the error rate as the server rounds it', () => {
    expect(errorRate(1, 3)).toBe(33.333);
    expect(errorRate(0, 0)).toBe(0);
  });

  it('says how long and how shaped a run is', () => {
    expect(formatSeconds(9.9)).toBe('9 s');
    expect(formatSeconds(65)).toBe('1 m 05 s');
    expect(modelText({ connections: 1 })).toBe('closed: 1 connection');
    expect(modelText({ connections: 8, thinkTime: '10ms' })).toBe('closed: 8 connections, think 10ms');
    expect(modelText({ connections: 8, rate: 100, ramp: [{ rate: 200, duration: '5s' }] })).toBe('open: 100 req/s, at most 8 in flight, ramp 200/s over 5s');
  });
});
