import { describe, expect, it } from 'vitest';
import type { QueryStat, RequestEvent } from '../api/types.gen';
import { BACKGROUND, NO_FILTER, REDACTED, explainArgs, groupQueries, isFiltering, matchesQuery, redactedArgs, routesOf, rowsOf, sortStats, type Query } from './queries';

let nextId = 0;
const q = (requestId: string, route: string, sql: string, extra: Partial<Query> = {}): Query => ({
  id: ++nextId,
  fingerprint: sql.toLowerCase(),
  sql,
  args: [],
  time: '2026-01-01T00:00:00Z',
  durationMs: 1,
  rows: 1,
  caller: '/app/store.go:12',
  dialect: 'sqlite',
  requestId,
  route,
  slow: false,
  nPlusOne: false,
  ...extra,
});

describe('groupQueries', () => {
  // Newest first, as the API and the stream give them.
  const list = [
    q('r2', 'GET /books', 'SELECT 3', { durationMs: 2, nPlusOne: true, verdict: { fingerprint: '', caller: '', count: 10, totalMs: 1, fix: 'eager' } }),
    q('', '', 'PRAGMA x'),
    q('r2', 'GET /books', 'SELECT 2', { durationMs: 3, slow: true, nPlusOne: true, verdict: { fingerprint: '', caller: '', count: 9, totalMs: 1, fix: 'eager' } }),
    q('r1', 'POST /users', 'INSERT INTO users', { error: 'UNIQUE constraint failed' }),
    q('', '', 'CREATE TABLE users'),
  ];

  it('groups by request id, newest group first, background apart', () => {
    const groups = groupQueries(list);
    expect(groups.map((g) => [g.key, g.route, g.queries.map((x) => x.sql)])).toEqual([
      ['r2', 'GET /books', ['SELECT 3', 'SELECT 2']],
      [BACKGROUND, '', ['PRAGMA x', 'CREATE TABLE users']],
      ['r1', 'POST /users', ['INSERT INTO users']],
    ]);
  });

  it('sums time and counts slow, N+1 and errors', () => {
    const [books, , users] = groupQueries(list);
    expect(books).toMatchObject({ totalMs: 5, slow: 1, nPlusOne: 2, nPlusOneCount: 10, errors: 0 });
    expect(users).toMatchObject({ totalMs: 1, errors: 1, nPlusOne: 0 });
  });

  it('attaches the request event when known', () => {
    const req: RequestEvent = { id: 'r1', time: '', method: 'POST', path: '/users', route: 'POST /users', status: 201, durationMs: 4, bytes: 10, remoteAddr: '' };
    const groups = groupQueries(list, new Map([['r1', req]]));
    expect(groups[2].request?.status).toBe(201);
    expect(groups[0].request).toBeUndefined();
  });

  it('handles nothing', () => {
    expect(groupQueries([])).toEqual([]);
  });
});

describe('rowsOf', () => {
  it('puts each group header before its statements and hides collapsed ones', () => {
    const groups = groupQueries([q('a', 'GET /a', 'S1'), q('a', 'GET /a', 'S2'), q('b', 'GET /b', 'S3')]);
    expect(rowsOf(groups).map((r) => r.kind)).toEqual(['request', 'query', 'query', 'request', 'query']);
    const collapsed = rowsOf(groups, new Set(['a']));
    expect(collapsed.map((r) => r.key.slice(0, 2))).toEqual(['r:', 'r:', 'q:']);
    const keys = rowsOf(groups).map((r) => r.key);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('matchesQuery', () => {
  const slowN1 = q('r', 'GET /books', 'SELECT "id" FROM "authors" WHERE "id" = ?', { durationMs: 12, slow: true, nPlusOne: true, caller: '/app/demo.go:66' });
  const bg = q('', '', 'CREATE TABLE t', { durationMs: 0.2 });
  it.each<[string, Partial<typeof NO_FILTER>, Query, boolean]>([
    ['no filter', {}, slowN1, true],
    ['route', { route: 'GET /books' }, slowN1, true],
    ['other route', { route: 'POST /users' }, slowN1, false],
    ['background route', { route: BACKGROUND }, bg, true],
    ['background excludes requests', { route: BACKGROUND }, slowN1, false],
    ['route excludes background', { route: 'GET /books' }, bg, false],
    ['text in sql', { text: 'authors' }, slowN1, true],
    ['text case-insensitive', { text: 'AUTHORS' }, slowN1, true],
    ['text in caller', { text: 'demo.go:66' }, slowN1, true],
    ['text missing', { text: 'books' }, bg, false],
    ['min duration met', { minMs: 12 }, slowN1, true],
    ['min duration not met', { minMs: 1 }, bg, false],
    ['n+1 only', { nPlusOneOnly: true }, slowN1, true],
    ['n+1 only excludes', { nPlusOneOnly: true }, bg, false],
    ['slow only', { slowOnly: true }, slowN1, true],
    ['slow only excludes', { slowOnly: true }, bg, false],
    ['all together', { route: 'GET /books', text: 'id', minMs: 10, nPlusOneOnly: true, slowOnly: true }, slowN1, true],
  ])('%s', (_name, f, query, want) => {
    expect(matchesQuery(query, { ...NO_FILTER, ...f })).toBe(want);
  });

  it('knows when it filters', () => {
    expect(isFiltering(NO_FILTER)).toBe(false);
    expect(isFiltering({ ...NO_FILTER, text: '  ' })).toBe(false);
    expect(isFiltering({ ...NO_FILTER, slowOnly: true })).toBe(true);
  });

  it('lists the routes statements ran under', () => {
    expect(routesOf([q('a', 'GET /b', 'x'), q('', '', 'y'), q('c', 'GET /a', 'z'), q('d', 'GET /b', 'w')])).toEqual(['GET /a', 'GET /b']);
  });
});

describe('sortStats', () => {
  const s = (fingerprint: string, count: number, p95Ms: number): QueryStat => ({
    fingerprint, count, p95Ms, errors: 0, rows: 0, totalMs: 0, meanMs: 0, p50Ms: 0, p99Ms: 0, maxMs: 0,
  });
  const stats = [s('b', 1, 5), s('a', 3, 1), s('c', 3, 9)];
  it.each<[keyof QueryStat, boolean, string[]]>([
    ['count', true, ['a', 'c', 'b']],
    ['count', false, ['b', 'a', 'c']],
    ['p95Ms', true, ['c', 'b', 'a']],
    ['fingerprint', false, ['a', 'b', 'c']],
    ['fingerprint', true, ['c', 'b', 'a']],
  ])('by %s descending=%s', (col, desc, want) => {
    expect(sortStats(stats, col, desc).map((x) => x.fingerprint)).toEqual(want);
  });
  it('leaves its input alone', () => {
    sortStats(stats, 'count', true);
    expect(stats.map((x) => x.fingerprint)).toEqual(['b', 'a', 'c']);
  });
});

describe('explainArgs', () => {
  it('replaces redacted args by what was typed, and leaves the others', () => {
    const args = ['a', REDACTED, 3, REDACTED, REDACTED];
    expect(redactedArgs(args)).toEqual([1, 3, 4]);
    expect(explainArgs(args, { 1: 'secret', 3: ' 42 ' })).toEqual(['a', 'secret', 3, 42, null]);
    expect(redactedArgs(['x', 1])).toEqual([]);
  });
});
