import { describe, expect, it } from 'vitest';
import { encodeSegment, paramProblem, parseRoutePath, pathParams, patternTest, queryString, sampleValue, tryURL, type PathParam, type PathSegment } from './trypath';

describe('parseRoutePath', () => {
  it.each<[string, string, PathSegment[]]>([
    ['a static path', '/plain/x', [{ kind: 'static', text: 'plain' }, { kind: 'static', text: 'x' }]],
    ['the root', '/', [{ kind: 'static', text: '' }]],
    ['a trailing slash', '/users/', [{ kind: 'static', text: 'users' }, { kind: 'static', text: '' }]],
    ['a plain parameter', '/users/{id}', [{ kind: 'static', text: 'users' }, { kind: 'param', name: 'id' }]],
    ['a patterned parameter', '/users/{n:[a-z]+}', [{ kind: 'static', text: 'users' }, { kind: 'param', name: 'n', pattern: '[a-z]+' }]],
    ['braces inside a pattern', '/x/{id:[0-9]{3}}/y', [{ kind: 'static', text: 'x' }, { kind: 'param', name: 'id', pattern: '[0-9]{3}' }, { kind: 'static', text: 'y' }]],
    ['a brace in a class', '/x/{b:[{}]+}', [{ kind: 'static', text: 'x' }, { kind: 'param', name: 'b', pattern: '[{}]+' }]],
    ['a colon inside a pattern', '/t/{at:\\d{2}:\\d{2}}', [{ kind: 'static', text: 't' }, { kind: 'param', name: 'at', pattern: '\\d{2}:\\d{2}' }]],
    ['an unclosed repeat, which RE2 reads as text', '/a/{id:[0-9]{3}', [{ kind: 'static', text: 'a' }, { kind: 'param', name: 'id', pattern: '[0-9]{3' }]],
    ['a catch-all', '/files/{rest...}', [{ kind: 'static', text: 'files' }, { kind: 'catchAll', name: 'rest' }]],
  ])('%s: %s', (_name, path, want) => {
    expect(parseRoutePath(path)).toEqual(want);
  });

  it.each([
    ['users/{id}', "must start with '/'"],
    ['/a/x{id}', 'mixes text and a parameter'],
    ['/a//b', 'has an empty segment'],
    ['/a/{id', "is not closed with '}'"],
    ['/a/{rest...}/b', 'catch-all {rest...} must be the last segment'],
    ['/a/{1x}', 'must be a Go-style identifier'],
    ['/a/{id}/{id}', 'parameter {id} declared twice'],
    ['/a/{id:}', 'has an empty pattern'],
  ])('refuses %s as the server does', (path, want) => {
    expect(() => parseRoutePath(path)).toThrow(want);
  });

  it('lists the parameters in path order', () => {
    expect(pathParams(parseRoutePath('/a/{x}/b/{y:[0-9]+}/{z...}')).map((p) => [p.kind, p.name])).toEqual([
      ['param', 'x'],
      ['param', 'y'],
      ['catchAll', 'z'],
    ]);
  });
});

describe('sampleValue', () => {
  const param = (pattern?: string): PathParam => ({ kind: 'param', name: 'p', pattern });
  it.each([
    ['a plain parameter', undefined, '1'],
    ['digits', '[0-9]+', '1'],
    ['letters', '[a-z]+', 'a'],
    ['three digits', '\\d{3}', '123'],
    ['braces in the pattern', '[0-9]{3}', '123'],
    ['a range of repeats', '[A-Z]{2,4}', 'AB'],
    ['at least', '\\w{3,}', 'abc'],
    ['a UUID', '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', 'abcdef12-abcd-abcd-abcd-abcdef123456'],
    ['an alternation', '(json|xml)', 'json'],
    ['a bare alternation', 'draft|published', 'draft'],
    ['a named group', '(?P<kind>a|b)-[0-9]+', 'a-1'],
    ['a non-capturing group and an optional part', 'v(?:[0-9]+)(\\.[0-9]+)?', 'v1.1'],
    ['a slug', '[a-z0-9]+(?:-[a-z0-9]+)*', 'a-a'],
    ['escaped punctuation', '[a-z]+\\.json', 'a.json'],
    ['a negated class', '[^0-9/]+', 'a'],
    ['a dot', '.+', 'a'],
    ['anchors', '^[0-9]+$', '1'],
    ['an empty first alternative', '(|x)', 'x'],
    ['a lazy repeat', '[a-c]+?z', 'az'],
    ['escaped punctuation RE2 allows', '\\#[a-z]\\-\\:', '#a-:'],
    ['an escaped dash in a class', '[\\-a]+', 'a'],
  ])('%s: %s', (_name, pattern, want) => {
    const got = sampleValue(param(pattern));
    expect(got).toBe(want);
    if (pattern) expect(patternTest(pattern)?.(got)).toBe(true);
  });

  it.each([
    ['case-insensitive flags', '(?i)abc'],
    ['a Unicode class', '\\pL+'],
    ['a POSIX class', '[[:alpha:]]+'],
    ['a word boundary', '\\bx'],
    ['an impossible class', '[^\\x00-\\x7f]'],
    ['only a slash', '/'],
    ['only empty', 'a{0}'],
    ['an invalid pattern', '[a-'],
    ['too long a repeat', '[0-9]{100}'],
  ])('gives no value rather than a wrong one for %s: %s', (_name, pattern) => {
    expect(sampleValue(param(pattern))).toBe('');
  });

  it('gives a catch-all a value', () => {
    expect(sampleValue({ kind: 'catchAll', name: 'rest' })).toBe('example');
  });
});

describe('paramProblem', () => {
  it.each<[string, PathParam, string, string]>([
    ['a value', { kind: 'param', name: 'id' }, '7', ''],
    ['no value', { kind: 'param', name: 'id' }, '', 'missing'],
    ['a slash', { kind: 'param', name: 'id' }, 'a/b', 'slash'],
    ['a catch-all with slashes', { kind: 'catchAll', name: 'rest' }, 'a/b', ''],
    ['a matching value', { kind: 'param', name: 'n', pattern: '[a-z]+' }, 'abc', ''],
    ['a value the pattern refuses', { kind: 'param', name: 'n', pattern: '[a-z]+' }, 'ab1', 'mismatch'],
    ['a pattern the browser cannot check', { kind: 'param', name: 'n', pattern: '\\pL+' }, 'x', ''],
    ['a POSIX class the browser cannot check', { kind: 'param', name: 'n', pattern: '[[:alpha:]]+' }, '1', ''],
    ['an RE2 escape', { kind: 'param', name: 'n', pattern: '\\#\\d' }, '#1', ''],
    ['an RE2 escape refused', { kind: 'param', name: 'n', pattern: '\\#\\d' }, '#x', 'mismatch'],
    ['an empty catch-all', { kind: 'catchAll', name: 'rest' }, '', ''],
  ])('%s', (_name, p, value, want) => {
    expect(paramProblem(p, value)).toBe(want);
  });
});

describe('tryURL', () => {
  const segs = parseRoutePath('/users/{id}/files/{rest...}');
  it.each([
    ['plain values', { id: '42', rest: 'a/b.txt' }, [], '/users/42/files/a/b.txt'],
    ['a space and unicode', { id: 'a b', rest: 'é' }, [], '/users/a%20b/files/%C3%A9'],
    ['a slash in a parameter', { id: 'a/b', rest: '' }, [], '/users/a%2Fb/files/'],
    ['a catch-all keeps its slashes, not its other specials', { id: '1', rest: 'x y/?#/%' }, [], '/users/1/files/x%20y/%3F%23/%25'],
    ['pchar kept', { id: 'a:b@c+d', rest: '' }, [], '/users/a:b@c+d/files/'],
    ['query rows', { id: '1', rest: 'r' }, [{ name: 'q', value: 'x&y=z' }, { name: 'sp ace', value: 'a+b c' }], '/users/1/files/r?q=x%26y%3Dz&sp%20ace=a%2Bb%20c'],
    ['a row without a value', { id: '1', rest: 'r' }, [{ name: 'flag', value: '' }], '/users/1/files/r?flag='],
    ['a row without a name is left out', { id: '1', rest: 'r' }, [{ name: '', value: 'lost' }], '/users/1/files/r'],
    ['a repeated name', { id: '1', rest: 'r' }, [{ name: 'tag', value: 'a' }, { name: 'tag', value: 'b' }], '/users/1/files/r?tag=a&tag=b'],
  ])('%s', (_name, values, rows, want) => {
    expect(tryURL(segs, values, rows)).toBe(want);
  });

  it('escapes static text that a path cannot hold as is', () => {
    expect(tryURL(parseRoutePath('/a b/%41'), {}, [])).toBe('/a%20b/%2541');
    expect(tryURL(parseRoutePath('/'), {}, [])).toBe('/');
    expect(tryURL(parseRoutePath('/x/'), {}, [{ name: 'a', value: '1' }])).toBe('/x/?a=1');
  });

  it('round-trips through the URL parser as the server decodes it', () => {
    const url = new URL('http://h' + tryURL(parseRoutePath('/u/{id}'), { id: 'ä &?#/%x' }, [{ name: 'k&=', value: '#+ %' }]));
    expect(decodeURIComponent(url.pathname.split('/')[2])).toBe('ä &?#/%x');
    expect([...url.searchParams]).toEqual([['k&=', '#+ %']]);
  });

  it('encodes a segment', () => {
    expect(encodeSegment("a-_.~!$&'()*+,;=:@ /?#[]%")).toBe("a-_.~!$&'()*+,;=:@%20%2F%3F%23%5B%5D%25");
  });

  it('has no query string without named rows', () => {
    expect(queryString([])).toBe('');
  });
});
