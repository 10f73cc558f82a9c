import { describe, expect, it } from 'vitest';
import type { Route } from '../api/types.gen';
import { afterConfigChange, fieldErrorsFor, formFromRoute, routeFromForm, routeTarget, shortSource } from './routes';

const issueRoute: Route = {
  id: 'hello',
  method: 'GET',
  path: '/hello',
  kind: 'mock',
  mock: { status: 200, headers: { 'Content-Type': 'text/plain' }, body: 'Hello, World!' },
  policy: { timeout: '2s', rateLimit: { rate: 100, per: '1s', burst: 20, key: 'ip' } },
};

describe('route form', () => {
  it('round-trips a route through the form', () => {
    expect(routeFromForm(formFromRoute(issueRoute), issueRoute)).toEqual(issueRoute);
  });

  it.each<Route>([
    { id: 'old', method: 'GET', path: '/old/{id}', kind: 'redirect', redirect: { to: '/new/{id}', status: 301 } },
    { id: 'assets', method: 'GET', path: '/assets/{file...}', kind: 'static', static: { dir: 'public', index: 'index.html' } },
    { id: 'user', method: 'GET', path: '/users/{id}', kind: 'handler', handler: { name: 'users.show' }, policy: { compress: { minSize: 256 }, csrf: { trustedOrigins: ['https://a.example'] } } },
    { id: 'api', method: 'GET', path: '/api/{rest...}', kind: 'proxy', proxy: { upstream: 'http://127.0.0.1:9000/v1', stripPrefix: '/api', timeout: '30s', setHeaders: { 'X-From': 'covet' } } },
  ])('round-trips a $kind route without a mock', (r) => {
    expect(routeFromForm(formFromRoute(r), r)).toEqual(r);
  });

  it.each<[string, Route]>([
    [
      'a proxy route with a rewrite and header rules',
      {
        id: 'people',
        method: 'GET',
        path: '/people/{id}/files/{rest...}',
        kind: 'proxy',
        proxy: {
          upstream: 'http://127.0.0.1:9000',
          rewrite: '/v2/persons/{id}/documents/{rest}',
          timeout: '5s',
          setHeaders: { 'X-From': 'covet', Cookie: '', 'X-Url': 'http://a.example:8080/x' },
          responseHeaders: { Server: '', 'Cache-Control': 'no-store' },
        },
      },
    ],
    ['a header value with surrounding space', { id: 'p', method: 'GET', path: '/p', kind: 'proxy', proxy: { upstream: 'http://u', timeout: '30s', setHeaders: { 'X-A': ' padded ' } } }],
    ['CSRF with no trusted origins', { ...issueRoute, policy: { csrf: {} } }],
    ['a cache max-age without public', { ...issueRoute, policy: { cache: { maxAge: '60s' } } }],
    ['a public cache', { ...issueRoute, policy: { cache: { maxAge: '1h0m0s', public: true } } }],
    ['a no-store cache', { ...issueRoute, policy: { cache: { noStore: true } } }],
    ['CSRF with trusted origins', { ...issueRoute, policy: { timeout: '2s', csrf: { trustedOrigins: ['https://a.example', 'https://b.example:8443'] } } }],
  ])('shows and round-trips %s', (_name, r) => {
    // Strictly: no field dropped, added (even as undefined) or reformatted.
    expect(routeFromForm(formFromRoute(r), r)).toStrictEqual(r);
  });

  it('shows proxy rewrites, header rules and CSRF in the form', () => {
    const r: Route = {
      id: 'api',
      method: 'POST',
      path: '/api/{id}',
      kind: 'proxy',
      proxy: { upstream: 'http://127.0.0.1:9000', rewrite: '/v2/{id}', timeout: '30s', setHeaders: { 'X-From': 'covet', Cookie: '' }, responseHeaders: { Server: '' } },
      policy: { csrf: { trustedOrigins: ['https://a.example', 'https://b.example'] } },
    };
    const f = formFromRoute(r);
    expect([f.proxyRewrite, f.proxyStripPrefix, f.proxySetHeaders, f.proxyResponseHeaders]).toEqual(['/v2/{id}', '', 'X-From: covet\nCookie:', 'Server:']);
    expect([f.csrf, f.csrfOrigins]).toEqual([true, 'https://a.example, https://b.example']);
    const blank = formFromRoute();
    expect([blank.proxyRewrite, blank.proxySetHeaders, blank.proxyResponseHeaders, blank.csrf, blank.csrfOrigins]).toEqual(['', '', '', false, '']);
  });

  it('builds proxy header rules and CSRF from what the user typed', () => {
    const f = {
      ...formFromRoute(),
      id: 'p',
      path: '/p/{x}',
      kind: 'proxy',
      proxyUpstream: 'http://u',
      proxyRewrite: ' /echo/{x} ',
      proxySetHeaders: 'X-A:  1 \n\nCookie:\nX-Gone',
      proxyResponseHeaders: 'X Bad: 1',
      csrf: true,
      csrfOrigins: ' https://a.example, ,https://b.example',
    };
    const r = routeFromForm(f);
    expect(r.proxy).toEqual({
      upstream: 'http://u',
      rewrite: '/echo/{x}',
      timeout: '30s',
      // "Name:" and a bare name are empty values (remove the header); a bad
      // name is sent as it is, for the server to name.
      setHeaders: { 'X-A': '1', Cookie: '', 'X-Gone': '' },
      responseHeaders: { 'X Bad': '1' },
    });
    expect(r.policy).toEqual({ csrf: { trustedOrigins: ['https://a.example', 'https://b.example'] } });
    expect(routeFromForm({ ...f, csrfOrigins: '' }).policy).toEqual({ csrf: {} });
    expect(routeFromForm({ ...f, csrf: false }).policy).toBeUndefined();
    expect(routeFromForm({ ...f, proxySetHeaders: '', proxyResponseHeaders: ' \n' }).proxy).toEqual({ upstream: 'http://u', rewrite: '/echo/{x}', timeout: '30s' });
  });

  it('round-trips a rate limit by header', () => {
    const r: Route = { ...issueRoute, policy: { rateLimit: { rate: 5, per: '1m', key: 'header:X-Api-Key' } } };
    const f = formFromRoute(r);
    expect([f.rateKey, f.rateHeader]).toEqual(['header', 'X-Api-Key']);
    expect(routeFromForm(f, r)).toEqual(r);
    // A name the user has not typed yet is sent as it is, for the server to name.
    expect(routeFromForm({ ...f, rateHeader: ' ' }, r).policy?.rateLimit?.key).toBe('header:');
    expect(routeFromForm({ ...f, rateKey: 'route' }, r).policy?.rateLimit?.key).toBe('route');
    expect(fieldErrorsFor([{ path: 'routes[0].policy.rateLimit.key', message: '"header:X Y" is not a key' }], 0).fields).toEqual({
      rateKey: '"header:X Y" is not a key',
    });
  });

  it('keeps CORS details the form does not edit', () => {
    const r: Route = { ...issueRoute, policy: { cors: { allowOrigins: ['https://a.example'], maxAge: '10m' } } };
    const f = { ...formFromRoute(r), corsOrigins: 'https://a.example, https://b.example' };
    expect(routeFromForm(f, r).policy?.cors).toEqual({ allowOrigins: ['https://a.example', 'https://b.example'], maxAge: '10m' });
  });

  it('turns compression on and off with defaults', () => {
    const on = routeFromForm({ ...formFromRoute(issueRoute), compress: true }, issueRoute);
    expect(on.policy?.compress).toEqual({});
    expect(routeFromForm({ ...formFromRoute(on), compress: false }, on).policy?.compress).toBeUndefined();
  });

  it('names a handler route by its handler and shortens sources', () => {
    expect(routeTarget({ id: 'u', method: 'GET', path: '/u', kind: 'handler', handler: { name: 'users.show' } })).toBe('Go handler users.show');
    expect(shortSource('/home/ada/app/main.go:42')).toBe('main.go:42');
    expect(routeTarget({ id: 'users', path: '/users', kind: 'resource', resource: 'users' } as Route)).toBe('resource users at /users and /users/{id}');
    expect(fieldErrorsFor([{ path: 'routes[1].handler.name', message: 'no handler named "x"' }], 1).fields).toEqual({ handlerName: 'no handler named "x"' });
  });

  it('leaves out an empty policy and parses header lines', () => {
    const f = { ...formFromRoute(), id: 'x', path: '/x', headers: 'X-A: 1\nbroken line\nX-B:  two ', body: 'hi' };
    const r = routeFromForm(f);
    expect(r.policy).toBeUndefined();
    expect(r.mock).toEqual({ status: 200, headers: { 'X-A': '1', 'X-B': 'two' }, body: 'hi' });
  });
});

describe('fieldErrorsFor', () => {
  it('puts each error next to its field', () => {
    const { fields, other } = fieldErrorsFor(
      [
        { path: 'routes[2].path', message: 'parameter {id} declared twice' },
        { path: 'routes[2].mock.headers.X', message: 'value contains a line break' },
        { path: 'routes[2].policy.rateLimit.rate', message: '0 is out of range' },
        { path: 'routes[2].policy.cors.allowOrigins[1]', message: 'not an origin' },
        { path: 'routes[2].proxy.rewrite', message: 'replaces the whole path, so stripPrefix has nothing to strip; set one of them' },
        { path: 'routes[2].proxy.setHeaders.X-A', message: 'value contains a line break or NUL' },
        { path: 'routes[2].proxy.responseHeaders', message: '"X Bad" is not a valid header name' },
        { path: 'routes[2].policy.csrf.trustedOrigins[0]', message: 'invalid origin "app.example"' },
        { path: 'routes[0].path', message: 'conflicts' },
        { path: '', message: 'invalid JSON' },
      ],
      2,
    );
    expect(fields).toEqual({
      path: 'parameter {id} declared twice',
      headers: 'value contains a line break',
      rateRate: '0 is out of range',
      corsOrigins: 'not an origin',
      proxyRewrite: 'replaces the whole path, so stripPrefix has nothing to strip; set one of them',
      proxySetHeaders: 'value contains a line break or NUL',
      proxyResponseHeaders: '"X Bad" is not a valid header name',
      csrfOrigins: 'invalid origin "app.example"',
    });
    expect(fieldErrorsFor([{ path: 'routes[0].policy.csrf', message: 'not allowed here' }], 0).fields).toEqual({ csrf: 'not allowed here' });
    expect(other).toEqual(['routes[0].path: conflicts', 'invalid JSON']);
  });
});

describe('summaries', () => {
  it('describes what each kind answers', () => {
    expect(routeTarget(issueRoute)).toBe('200 · "Hello, World!"');
    expect(routeTarget({ id: 'r', method: 'GET', path: '/r', kind: 'redirect', redirect: { to: '/x', status: 308 } })).toBe('308 → /x');
    expect(routeTarget({ id: 's', method: 'GET', path: '/s/{f...}', kind: 'static', static: { dir: 'public' } })).toBe('files in public/');
  });
});

describe('afterConfigChange', () => {
  const changed: Route = { ...issueRoute, mock: { status: 200, body: 'changed elsewhere' } };
  const other: Route = { id: 'other', method: 'GET', path: '/other', kind: 'mock', mock: { status: 204 } };
  it.each<[string, Route | undefined, Route[], boolean, ReturnType<typeof afterConfigChange>]>([
    ['a new route follows any change', undefined, [other], true, { action: 'follow' }],
    ['an untouched route follows, draft and all', issueRoute, [other, { ...issueRoute }], true, { action: 'follow', now: issueRoute }],
    ['a route changed elsewhere refreshes an unedited form', issueRoute, [changed], false, { action: 'refresh', now: changed }],
    ['a route changed elsewhere conflicts with edits', issueRoute, [changed, other], true, { action: 'conflict', now: changed }],
    ['a route deleted elsewhere asks', issueRoute, [other], false, { action: 'deleted' }],
  ])('%s', (_name, original, routes, edited, want) => {
    expect(afterConfigChange(original, routes, edited)).toEqual(want);
  });
});
