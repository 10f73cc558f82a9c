import { describe, expect, it } from 'vitest';
import type { AuthPolicy, KeyInfo, Route } from '../api/types.gen';
import {
  actionLabel,
  actionsFor,
  authFieldErrors,
  authFormFrom,
  authPolicyFrom,
  bareToken,
  claimTimes,
  confirmationFor,
  durationProblem,
  headerLine,
  MIN_ROTATION_EVERY,
  parseClaims,
  parseDuration,
  parseRoles,
  relativeTime,
  rotationFieldErrors,
  sameDuration,
  setHeaderLine,
  TOKEN_TTL,
  tokenShapeProblem,
  verdictOf,
  withAuth,
} from './keys';

const key = (kid: string, state: string, signed = 0): KeyInfo => ({ kid, alg: 'EdDSA', state, created: '2026-11-25T10:00:00Z', signed });

describe('key moves', () => {
  it.each([
    ['standby', ['promote', 'retire', 'revoke']],
    ['current', ['retire', 'revoke']],
    ['previous', ['promote', 'revoke']],
    ['revoked', []],
    ['unknown', []],
  ])('a %s key allows %j', (state, want) => {
    expect(actionsFor(state)).toEqual(want);
  });

  it('calls promoting a previous key bringing it back', () => {
    expect(actionLabel('promote', 'previous')).toBe('Promote back');
    expect(actionLabel('promote', 'standby')).toBe('Promote');
  });
});

describe('confirmations', () => {
  it('says revoking refuses every token the key signed, with the count', () => {
    const k = key('a1b2', 'previous', 42);
    const c = confirmationFor('revoke', k, [k]);
    expect(c?.message).toBe('Every token signed by a1b2 is refused at once, including 42 it signed since start; it leaves the JWKS.');
    expect(c?.danger).toBe(true);
  });

  it('says revoking the current key stops signing too', () => {
    const k = key('cur', 'current', 3);
    expect(confirmationFor('revoke', k, [k])?.message).toMatch(/including 3 it signed since start; it leaves the JWKS\. Nothing will sign new tokens until you promote another key\.$/);
  });

  it('warns that retiring the only key leaves nothing to sign', () => {
    const k = key('cur', 'current');
    const c = confirmationFor('retire', k, [k, key('old', 'revoked')]);
    expect(c?.message).toContain('Nothing will sign new tokens until you promote another key.');
    expect(c?.message).toContain('generate one first');
  });

  it('points at a key to promote instead when there is one', () => {
    const k = key('cur', 'current');
    const c = confirmationFor('retire', k, [key('next', 'standby'), k]);
    expect(c?.message).toContain('promote next instead');
    expect(c?.message).not.toContain('generate one first');
  });

  it.each([
    ['promote', 'standby'],
    ['promote', 'previous'],
    ['retire', 'standby'],
  ] as const)('asks nothing to %s a %s key', (action, state) => {
    const k = key('k', state);
    expect(confirmationFor(action, k, [k])).toBeNull();
  });
});

describe('times', () => {
  const now = Date.parse('2026-11-25T10:00:00Z');
  it.each([
    ['2026-11-25T09:58:55Z', '1m 5s ago'],
    ['2026-11-26T10:00:00Z', 'in 1d 0h 0m'],
    ['2026-11-25T10:00:00.400Z', 'now'],
    ['not a time', ''],
  ])('%s', (iso, want) => expect(relativeTime(iso, now)).toBe(want));

  it('reads numeric time claims only', () => {
    expect(claimTimes({ iat: 1795600000, exp: 1795600300, nbf: 'x', sub: 'u1' })).toEqual([
      { name: 'iat', iso: '2026-11-25T09:46:40.000Z' },
      { name: 'exp', iso: '2026-11-25T09:51:40.000Z' },
    ]);
    expect(claimTimes(null)).toEqual([]);
  });
});

describe('mint form', () => {
  it.each([
    ['', []],
    ['admin', ['admin']],
    [' admin , user,,admin ', ['admin', 'user']],
  ])('roles %j', (text, want) => expect(parseRoles(text)).toEqual(want));

  it.each([
    ['', {}],
    ['  ', {}],
    ['{"tenant": "acme", "n": 1}', { claims: { tenant: 'acme', n: 1 } }],
  ])('claims %j', (text, want) => expect(parseClaims(text)).toEqual(want));

  it.each([
    ['{tenant: 1}', /not valid JSON/],
    ['[1, 2]', /must be a JSON object.*not an array/],
    ['null', /not null/],
    ['"x"', /not a string/],
    ['{"sub": "u2", "exp": 1}', /cannot set "sub", "exp"/],
  ])('refuses claims %j', (text, want) => {
    const got = parseClaims(text);
    expect(got.claims).toBeUndefined();
    expect(got.error).toMatch(want);
  });
});

const S = 1_000_000_000n;
describe("durations, as Go's time.ParseDuration", () => {
  // Cases from Go's own time/time_test.go.
  it.each<[string, bigint]>([
    ['0', 0n],
    ['5s', 5n * S],
    ['30s', 30n * S],
    ['1478s', 1478n * S],
    ['-5s', -5n * S],
    ['+5s', 5n * S],
    ['-0', 0n],
    ['+0', 0n],
    ['5.0s', 5n * S],
    ['5.6s', 5n * S + 600_000_000n],
    ['5.s', 5n * S],
    ['.5s', 500_000_000n],
    ['1.004s', 1_004_000_000n],
    ['100.00100s', 100n * S + 1_000_000n],
    ['10ns', 10n],
    ['11us', 11_000n],
    ['12µs', 12_000n],
    ['12μs', 12_000n],
    ['13ms', 13_000_000n],
    ['15m', 900n * S],
    ['16h', 16n * 3600n * S],
    ['3h30m', 12600n * S],
    ['10.5s4m', 250n * S + 500_000_000n],
    ['-2m3.4s', -(123n * S + 400_000_000n)],
    ['1h2m3s4ms5us6ns', 3723n * S + 4_005_006n],
    ['39h9m14.425s', 140_954n * S + 425_000_000n],
    ['52763797000ns', 52_763_797_000n],
    ['0.3333333333333333333h', 1200n * S],
    ['9007199254740993ns', 9_007_199_254_740_993n],
    ['9223372036854775807ns', 9_223_372_036_854_775_807n],
    ['9223372036854775.807us', 9_223_372_036_854_775_807n],
    ['9223372036s854ms775us807ns', 9_223_372_036_854_775_807n],
    ['-9223372036854775808ns', -9_223_372_036_854_775_808n],
    ['-9223372036854775.808us', -9_223_372_036_854_775_808n],
    ['-2562047h47m16.854775808s', -9_223_372_036_854_775_808n],
    ['0.100000000000000000000h', 360n * S],
    ['0.830103483285477580700h', 2988n * S + 372_539_827n],
  ])('%s', (text, want) => {
    const got = parseDuration(text);
    expect(got.error).toBeUndefined();
    expect(got.ns).toBe(want);
  });

  it.each([
    ['', 'time: invalid duration ""'],
    ['3', 'time: missing unit in duration "3"'],
    ['-', 'time: invalid duration "-"'],
    ['s', 'time: invalid duration "s"'],
    ['.', 'time: invalid duration "."'],
    ['-.', 'time: invalid duration "-."'],
    ['.s', 'time: invalid duration ".s"'],
    ['+.s', 'time: invalid duration "+.s"'],
    ['1d', 'time: unknown unit "d" in duration "1d"'],
    ['5 m', 'time: unknown unit " m" in duration "5 m"'],
    ['1h 30m', 'time: unknown unit "h " in duration "1h 30m"'],
    ['9223372036854775808ns', 'time: invalid duration "9223372036854775808ns"'],
    ['9223372036854775.808us', 'time: invalid duration "9223372036854775.808us"'],
    ['9223372036854ms775us808ns', 'time: invalid duration "9223372036854ms775us808ns"'],
    ['-9223372036854775809ns', 'time: invalid duration "-9223372036854775809ns"'],
  ])('refuses %j', (text, want) => {
    expect(parseDuration(text)).toEqual({ error: want });
  });

  it.each([
    ['5m', false, ''],
    ['', false, 'required'],
    ['5', false, 'missing unit'],
    ['0', false, 'more than 0'],
    ['-1m', false, 'more than 0'],
    ['59m59s', true, 'at least 1h'],
    ['1h', true, ''],
    ['24h', true, ''],
  ])('field %j (at least 1h: %s) → %j', (text, hour, want) => {
    const got = durationProblem(text, hour ? { ns: MIN_ROTATION_EVERY, label: '1h' } : undefined);
    if (want === '') expect(got).toBe('');
    else expect(got).toContain(want);
  });

  it.each([
    ['1s', ''],
    ['2160h', ''],
    ['999ms', 'at least 1s'],
    ['2160h1s', 'at most 2160h'],
  ])('token lifetime %j → %j', (text, want) => {
    const got = durationProblem(text, TOKEN_TTL.min, TOKEN_TTL.max);
    if (want === '') expect(got).toBe('');
    else expect(got).toContain(want);
  });

  it.each([
    ['24h', '24h0m0s', true],
    ['1h30m', '90m', true],
    ['24h', '25h', false],
    ['x', 'x', true],
    ['x', '24h', false],
  ])('%j and %j are the same duration: %s', (a, b, want) => expect(sameDuration(a, b)).toBe(want));
});

describe('inspector', () => {
  it('says valid tokens are accepted, and as what', () => {
    expect(verdictOf({ header: {}, claims: {}, type: 'access', valid: true, reason: '' })).toEqual({ ok: true, text: 'Valid — accepted as an access token' });
    expect(verdictOf({ header: {}, claims: {}, type: 'refresh', valid: true, reason: '' }).text).toBe('Valid — accepted as a refresh token');
  });

  it("gives the server's reason verbatim", () => {
    expect(verdictOf({ header: {}, claims: {}, type: 'access', valid: false, reason: 'signature invalid' })).toEqual({ ok: false, text: 'Rejected: signature invalid' });
  });

  it.each([
    ['', 'Paste a token first.'],
    ['abc', 'three parts'],
    ['a.b', 'this has 2'],
    ['a.b.c', ''],
    ['Bearer a.b.c', ''],
  ])('shape of %j', (text, want) => {
    if (want === '') expect(tokenShapeProblem(text)).toBe('');
    else expect(tokenShapeProblem(text)).toContain(want);
  });

  it('drops a copied Bearer prefix', () => expect(bareToken('  bearer a.b.c ')).toBe('a.b.c'));
});

describe('header lines', () => {
  it.each([
    ['', 'Bearer t', 'Authorization: Bearer t'],
    ['Accept: */*', 'Bearer t', 'Authorization: Bearer t\nAccept: */*'],
    ['authorization: Basic x\nAccept: */*', 'Bearer t', 'Authorization: Bearer t\nAccept: */*'],
    ['Accept: */*\nAuthorization: Bearer old\n', null, 'Accept: */*'],
    ['Authorization: Bearer old', null, ''],
  ])('%j with Authorization %j', (lines, value, want) => {
    expect(setHeaderLine(lines, 'Authorization', value)).toBe(want);
  });

  it('reads a header case-insensitively', () => {
    expect(headerLine('Accept: x\nAUTHORIZATION:  Bearer t ', 'Authorization')).toBe('Bearer t');
    expect(headerLine('Accept: x', 'Authorization')).toBe('');
  });
});

describe('route auth policy form', () => {
  const route: Route = { id: 's', method: 'GET', path: '/secret', kind: 'mock', mock: { status: 200 }, policy: { timeout: '2s' } };

  it.each<AuthPolicy>([
    { required: true },
    { required: true, roles: ['admin'] },
    { required: true, roles: ['admin', 'ops'], scopes: ['read:all'] },
    { required: false },
    { required: true, source: 'cookie' },
    { required: true, source: 'cookie', cookie: 'session' },
    { required: true, source: 'header' },
  ])('round-trips %j', (p) => {
    expect(authPolicyFrom(authFormFrom(p), p)).toEqual(p);
  });

  it('is off without a policy and on with required by default', () => {
    const f = authFormFrom(undefined);
    expect(f.enabled).toBe(false);
    expect(authPolicyFrom(f)).toBeUndefined();
    expect(authPolicyFrom({ ...f, enabled: true, roles: 'admin' })).toEqual({ required: true, roles: ['admin'] });
  });

  it('drops the cookie name unless the source is a cookie', () => {
    expect(authPolicyFrom({ ...authFormFrom(null), enabled: true, cookie: 'c' })).toEqual({ required: true });
  });

  it('sets and removes policy.auth, keeping the rest of the policy', () => {
    const on = withAuth(route, { required: true, roles: ['admin'] });
    expect(on.policy).toEqual({ timeout: '2s', auth: { required: true, roles: ['admin'] } });
    expect(withAuth(on, undefined)).toEqual(route);
    expect(withAuth({ ...route, policy: undefined }, undefined).policy).toBeUndefined();
    expect(route.policy).toEqual({ timeout: '2s' }); // not mutated
  });

  it("sorts the server's errors about this route's auth onto the form", () => {
    const { auth, rest } = authFieldErrors(
      [
        { path: 'routes[2].policy.auth.roles[1]', message: '"a b" must be 1 to 128 characters without spaces or quotes' },
        { path: 'routes[2].policy.auth.required', message: 'must be true when roles or scopes are listed' },
        { path: 'routes[2].policy.auth.cookie', message: 'only applies when source is "cookie"' },
        { path: 'routes[2].policy.auth', message: 'lists more than 64 roles or scopes' },
        { path: 'routes[1].policy.auth.roles[0]', message: 'other route' },
        { path: 'routes[2].path', message: 'bad path' },
      ],
      2,
    );
    expect(auth).toEqual({
      roles: '"a b" must be 1 to 128 characters without spaces or quotes',
      required: 'must be true when roles or scopes are listed',
      cookie: 'only applies when source is "cookie"',
      enabled: 'lists more than 64 roles or scopes',
    });
    expect(rest.map((e) => e.path)).toEqual(['routes[1].policy.auth.roles[0]', 'routes[2].path']);
  });

  it('puts rotation errors next to their fields', () => {
    expect(
      rotationFieldErrors([
        { path: 'auth.rotation.every', message: '30m0s is too short: rotate at most once every 1h0m0s' },
        { path: 'auth.rotation.alg', message: '"X" is not an algorithm' },
        { path: 'auth.issuer', message: 'blank' },
      ]),
    ).toEqual({ every: '30m0s is too short: rotate at most once every 1h0m0s', alg: '"X" is not an algorithm', other: ['auth.issuer: blank'] });
  });
});
