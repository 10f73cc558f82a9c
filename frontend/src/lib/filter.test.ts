import { describe, expect, it } from 'vitest';
import { matchesRequest, parseStatusFilter } from './filter';
import type { RequestEvent } from '../api/types.gen';

const req = (path: string, status: number): RequestEvent => ({
  id: 'x', time: '', method: 'GET', path, status, durationMs: 1, bytes: 0, remoteAddr: '', route: '',
});

describe('parseStatusFilter', () => {
  it.each([
    ['', null],
    ['  ', null],
    ['404', { codes: new Set([404]), classes: new Set() }],
    ['5xx', { codes: new Set(), classes: new Set([5]) }],
    ['2XX, 404 301', { codes: new Set([404, 301]), classes: new Set([2]) }],
  ])('%j', (text, want) => {
    expect(parseStatusFilter(text)).toEqual(want);
  });

  it.each(['abc', '600', '4x', '99'])('rejects %j with a message', (text) => {
    expect(parseStatusFilter(text)).toMatch(/is not a status/);
  });
});

describe('matchesRequest', () => {
  const f = parseStatusFilter('4xx, 500') as never;
  it.each([
    [req('/hello', 200), '', null, true],
    [req('/hello', 200), 'HELL', null, true],
    [req('/hello', 200), 'nope', null, false],
    [req('/nope-e2e', 404), 'nope', f, true],
    [req('/x', 500), '', f, true],
    [req('/x', 503), '', f, false],
    [req('/x', 200), '', f, false],
  ])('%j path %j', (r, path, status, want) => {
    expect(matchesRequest(r, path, status)).toBe(want);
  });
});
