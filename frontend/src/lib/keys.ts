// The Keys page's model: which moves a key's state allows and what each
// stops, the mint form's parsing (roles, extra claims, Go durations), the
// inspector's verdict, and the auth policy of a route as a flat form.
import type { AuthPolicy, FieldError, KeyInfo, Route, TokenInspection } from '../api/types.gen';
import { formatUptime } from './format';

export const ALGORITHMS = ['EdDSA', 'ES256', 'RS256', 'HS256'] as const;
export type KeyAction = 'promote' | 'retire' | 'revoke';

/** The moves a key's state allows, in the order the table shows them:
 * standby → current (promote) or previous (retire); current → previous;
 * previous → current again; any but revoked → revoked. */
export function actionsFor(state: string): KeyAction[] {
  switch (state) {
    case 'standby':
      return ['promote', 'retire', 'revoke'];
    case 'current':
      return ['retire', 'revoke'];
    case 'previous':
      return ['promote', 'revoke'];
  }
  return [];
}

/** Button text of a move; promoting a previous key brings it back. */
export function actionLabel(action: KeyAction, state: string): string {
  if (action === 'promote') return state === 'previous' ? 'Promote back' : 'Promote';
  return action === 'retire' ? 'Retire' : 'Revoke';
}

/** Keys that could become current instead of `kid`. */
export function promotable(keys: KeyInfo[], kid: string): KeyInfo[] {
  return keys.filter((k) => k.kid !== kid && (k.state === 'standby' || k.state === 'previous'));
}

export interface Confirmation {
  title: string;
  message: string;
  confirmLabel: string;
  danger: boolean;
}

const NOTHING_SIGNS = 'Nothing will sign new tokens until you promote another key.';

/** What to ask before a move, saying exactly what stops working; null
 * when the move loses nothing (promoting, retiring a key that does not
 * sign). */
export function confirmationFor(action: KeyAction, key: KeyInfo, keys: KeyInfo[]): Confirmation | null {
  const others = promotable(keys, key.kid);
  if (action === 'revoke') {
    let message = `Every token signed by ${key.kid} is refused at once, including ${key.signed} it signed since start; it leaves the JWKS.`;
    if (key.state === 'current') message += ' ' + NOTHING_SIGNS;
    return { title: `Revoke key ${key.kid}?`, message, confirmLabel: 'Revoke', danger: true };
  }
  if (action === 'retire' && key.state === 'current') {
    let message = `Tokens signed by ${key.kid} stay valid until they expire. ${NOTHING_SIGNS}`;
    message += others.length
      ? ` To switch without a gap, promote ${others[0].kid} instead: the current key then retires by itself.`
      : ' There is no other key yet: generate one first.';
    return { title: `Retire the current key ${key.kid}?`, message, confirmLabel: 'Retire', danger: true };
  }
  return null;
}

/** "3m 5s ago", "in 23h 59m 0s" or "now", from an RFC 3339 time. */
export function relativeTime(iso: string, now: number): string {
  const s = (Date.parse(iso) - now) / 1000;
  if (Number.isNaN(s)) return '';
  if (Math.abs(s) < 1) return 'now';
  return s > 0 ? `in ${formatUptime(s)}` : `${formatUptime(-s)} ago`;
}

/** What protects the key store, in words. */
export function kekDescription(kek: string): string {
  switch (kek) {
    case 'os-keyring':
      return 'a key-encryption key kept in the operating system keyring';
    case 'passphrase':
      return 'a key-encryption key derived from a passphrase (argon2id)';
    case 'key-file':
      return 'a key-encryption key in a key file';
  }
  return `a key-encryption key from ${kek}`;
}

/** Numeric time claims (exp, iat, nbf) of decoded claims as RFC 3339
 * times, for the inspector. */
export function claimTimes(claims: Record<string, unknown> | null | undefined): { name: string; iso: string }[] {
  const out: { name: string; iso: string }[] = [];
  for (const name of ['iat', 'nbf', 'exp']) {
    const v = claims?.[name];
    if (typeof v === 'number' && Number.isFinite(v)) out.push({ name, iso: new Date(v * 1000).toISOString() });
  }
  return out;
}

/** Roles typed comma-separated: trimmed, blanks and repeats dropped. */
export function parseRoles(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(',')) {
    const r = part.trim();
    if (r && !out.includes(r)) out.push(r);
  }
  return out;
}

/** Claims the mint form or the server sets; extra claims cannot. */
export const RESERVED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'roles', 'scope', 'fam'];

/** The extra-claims textarea: empty is none; otherwise a JSON object
 * without the claims the form or the server sets. */
export function parseClaims(text: string): { claims?: Record<string, unknown>; error?: string } {
  if (text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { error: `Extra claims are not valid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    return { error: `Extra claims must be a JSON object like {"tenant": "acme"}, not ${v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`}` };
  }
  const reserved = Object.keys(v).filter((k) => RESERVED_CLAIMS.includes(k));
  if (reserved.length) {
    return { error: `Extra claims cannot set ${reserved.map((k) => `"${k}"`).join(', ')}: the form's fields and the server set those` };
  }
  return { claims: v as Record<string, unknown> };
}

// Go's time.ParseDuration, in nanoseconds: [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+
// with the units ns, us (µs, μs), ms, s, m, h, or "0" alone.
const UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5
  'μs': 1_000n, // U+03BC
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const MAX = 1n << 63n;
const isDigit = (c: string) => c >= '0' && c <= '9';

/** Parses a duration exactly as Go's time.ParseDuration does, with its
 * error messages; ns is in nanoseconds. */
export function parseDuration(text: string): { ns: bigint; error?: undefined } | { ns?: undefined; error: string } {
  const quote = (s: string) => JSON.stringify(s);
  const invalid = { error: `time: invalid duration ${quote(text)}` };
  let s = text;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return { ns: 0n };
  if (s === '') return invalid;
  let d = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || isDigit(s[0]))) return invalid;
    // The integer part, refusing overflow.
    let i = 0;
    let v = 0n;
    for (; i < s.length && isDigit(s[i]); i++) {
      v = v * 10n + BigInt(s[i]);
      if (v > MAX) return invalid;
    }
    const pre = i > 0;
    s = s.slice(i);
    // The fraction: digits past what fits are read and ignored, as in Go.
    let f = 0n;
    let scale = 1;
    let post = false;
    if (s[0] === '.') {
      let overflow = false;
      for (i = 1; i < s.length && isDigit(s[i]); i++) {
        if (overflow) continue;
        if (f > (MAX - 1n) / 10n) {
          overflow = true;
          continue;
        }
        const next = f * 10n + BigInt(s[i]);
        if (next > MAX) {
          overflow = true;
          continue;
        }
        f = next;
        scale *= 10;
      }
      post = i > 1;
      s = s.slice(i);
    }
    if (!pre && !post) return invalid;
    for (i = 0; i < s.length && s[i] !== '.' && !isDigit(s[i]); i++);
    if (i === 0) return { error: `time: missing unit in duration ${quote(text)}` };
    const u = s.slice(0, i);
    s = s.slice(i);
    const unit = UNITS[u];
    if (unit === undefined) return { error: `time: unknown unit ${quote(u)} in duration ${quote(text)}` };
    if (v > MAX / unit) return invalid;
    v *= unit;
    if (f > 0n) {
      v += BigInt(Math.floor(Number(f) * (Number(unit) / scale)));
      if (v > MAX) return invalid;
    }
    d += v;
    if (d > MAX) return invalid;
  }
  if (neg) return { ns: -d };
  if (d > MAX - 1n) return invalid;
  return { ns: d };
}

/** Whether two texts are the same duration ("24h" and "24h0m0s"). */
export function sameDuration(a: string, b: string): boolean {
  const x = parseDuration(a.trim());
  const y = parseDuration(b.trim());
  return x.ns !== undefined && y.ns !== undefined ? x.ns === y.ns : a.trim() === b.trim();
}

const HOUR = UNITS.h;
/** Rotation runs at most once an hour (the server's MinRotationEvery). */
export const MIN_ROTATION_EVERY = HOUR;

/** A duration bound for durationProblem, with how to say it. */
export interface DurationBound {
  ns: bigint;
  label: string;
}
/** Minted tokens live from 1s to 2160h (90 days), as the server checks. */
export const TOKEN_TTL = { min: { ns: UNITS.s, label: '1s' }, max: { ns: 2160n * HOUR, label: '2160h (90 days)' } };

/** A duration field's problem, or '' when it is fine: a Go duration,
 * more than zero, at least min and at most max when given. */
export function durationProblem(text: string, min?: DurationBound, max?: DurationBound): string {
  const t = text.trim();
  if (t === '') return 'required, for example "5m" or "1h30m"';
  const p = parseDuration(t);
  if (p.error !== undefined) return p.error.replace(/^time: /, '') + ' (use a number and a unit: ns, us, ms, s, m, h, as in "90s" or "1h30m")';
  if (p.ns <= 0n) return 'must be more than 0';
  if (min && p.ns < min.ns) return `must be at least ${min.label}`;
  if (max && p.ns > max.ns) return `must be at most ${max.label}`;
  return '';
}

/** The inspector's verdict: accepted (and as what), or the server's
 * reason, verbatim. */
export function verdictOf(t: TokenInspection): { ok: boolean; text: string } {
  if (t.valid) {
    const type = t.type || 'access';
    return { ok: true, text: `Valid — accepted as ${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type} token` };
  }
  return { ok: false, text: `Rejected: ${t.reason}` };
}

/** A JWT's three dot-separated parts are base64url; anything else cannot
 * be one (the inspector says so before asking the server). */
export function tokenShapeProblem(text: string): string {
  const t = bareToken(text);
  if (t === '') return 'Paste a token first.';
  const parts = t.split('.');
  if (parts.length !== 3) return `A JWT has three parts separated by dots; this has ${parts.length}.`;
  return '';
}

/** The token without a "Bearer " prefix someone copied along. */
export function bareToken(text: string): string {
  return text.trim().replace(/^bearer\s+/i, '');
}

/** Replaces (or, with value null, removes) header `name` in "Name: value"
 * lines, case-insensitively; a new header goes first. */
export function setHeaderLine(lines: string, name: string, value: string | null): string {
  const lower = name.toLowerCase();
  const kept = lines.split('\n').filter((l) => {
    const i = l.indexOf(':');
    return !(i > 0 && l.slice(0, i).trim().toLowerCase() === lower);
  });
  const rest = kept.join('\n').replace(/^\n+|\n+$/g, '');
  if (value === null) return rest;
  return rest ? `${name}: ${value}\n${rest}` : `${name}: ${value}`;
}

/** The value of header `name` in "Name: value" lines, or ''. */
export function headerLine(lines: string, name: string): string {
  const lower = name.toLowerCase();
  for (const l of lines.split('\n')) {
    const i = l.indexOf(':');
    if (i > 0 && l.slice(0, i).trim().toLowerCase() === lower) return l.slice(i + 1).trim();
  }
  return '';
}

/** A route's policy.auth as form fields. */
export interface AuthForm {
  enabled: boolean;
  required: boolean;
  roles: string; // comma-separated
  scopes: string; // comma-separated
  source: 'header' | 'cookie';
  cookie: string;
}

export function authFormFrom(p?: AuthPolicy | null): AuthForm {
  return {
    enabled: !!p,
    required: p?.required ?? true,
    roles: (p?.roles ?? []).join(', '),
    scopes: (p?.scopes ?? []).join(', '),
    source: p?.source === 'cookie' ? 'cookie' : 'header',
    cookie: p?.cookie ?? '',
  };
}

/** The policy a form describes; undefined when auth is off. Defaults are
 * left out, so an unchanged policy diffs as unchanged. */
export function authPolicyFrom(f: AuthForm, original?: AuthPolicy | null): AuthPolicy | undefined {
  if (!f.enabled) return undefined;
  const p: AuthPolicy = { required: f.required };
  const roles = parseRoles(f.roles);
  const scopes = parseRoles(f.scopes);
  if (roles.length) p.roles = roles;
  if (scopes.length) p.scopes = scopes;
  if (f.source === 'cookie') {
    p.source = 'cookie';
    if (f.cookie.trim()) p.cookie = f.cookie.trim();
  } else if (original?.source === 'header') p.source = 'header';
  return p;
}

/** route with policy.auth set to auth (removed when undefined; an empty
 * policy is dropped). */
export function withAuth(route: Route, auth: AuthPolicy | undefined): Route {
  const policy = { ...(route.policy ?? {}) };
  if (auth) policy.auth = auth;
  else delete policy.auth;
  const out: Route = { ...route };
  if (Object.keys(policy).length) out.policy = policy;
  else delete out.policy;
  return out;
}

/** Takes the errors about route number index's policy.auth out of
 * errors, onto the auth form's fields; the rest are returned as they
 * came. */
export function authFieldErrors(errors: FieldError[], index: number): { auth: Partial<Record<keyof AuthForm, string>>; rest: FieldError[] } {
  const prefix = `routes[${index}].policy.auth`;
  const auth: Partial<Record<keyof AuthForm, string>> = {};
  const rest: FieldError[] = [];
  for (const e of errors) {
    if (e.path !== prefix && !e.path.startsWith(prefix + '.') && !e.path.startsWith(prefix + '[')) {
      rest.push(e);
      continue;
    }
    const field = e.path.slice(prefix.length + 1).split(/[.[]/)[0];
    const key: keyof AuthForm =
      field === 'roles' || field === 'scopes' || field === 'source' || field === 'cookie' || field === 'required' ? field : 'enabled';
    auth[key] = auth[key] ? `${auth[key]}; ${e.message}` : e.message;
  }
  return { auth, rest };
}

/** The errors of a rotation PUT, by field: auth.rotation.every and
 * .alg; anything else under `other`. */
export function rotationFieldErrors(errors: FieldError[]): { every?: string; alg?: string; other: string[] } {
  const out: { every?: string; alg?: string; other: string[] } = { other: [] };
  for (const e of errors) {
    if (e.path === 'auth.rotation.every') out.every = e.message;
    else if (e.path === 'auth.rotation.alg') out.alg = e.message;
    else out.other.push(e.path ? `${e.path}: ${e.message}` : e.message);
  }
  return out;
}
