// The Routes page's model: a flat form for one route, and the mapping of
// the server's validation errors (JSON paths) onto its fields.
import type { FieldError, Policy, Route } from '../api/types.gen';
import { stableJSON } from './diff';

export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
export const KINDS = ['mock', 'handler', 'redirect', 'static', 'proxy'] as const;
export const REDIRECT_STATUSES = [308, 307, 301, 302, 303];
/** What a rate limit counts by: policy.rateLimit.key, where "header" stands
 * for "header:<Name>" (the name is in the form's rateHeader). */
export const RATE_KEYS = [
  { value: 'ip', label: 'IP' },
  { value: 'route', label: 'route' },
  { value: 'subject', label: 'token subject' },
  { value: 'header', label: 'header' },
] as const;
const HEADER_KEY = 'header:';

export interface RouteForm {
  id: string;
  method: string;
  path: string;
  kind: string;
  handlerName: string;
  redirectTo: string;
  redirectStatus: string;
  staticDir: string;
  staticIndex: string;
  proxyUpstream: string;
  proxyStripPrefix: string;
  proxyRewrite: string; // excludes proxyStripPrefix
  proxyTimeout: string;
  proxySetHeaders: string; // "Name: value" lines; "Name:" removes the header
  proxyResponseHeaders: string; // likewise, on the upstream's answer
  status: string;
  headers: string; // "Name: value" lines
  body: string;
  delay: string;
  timeout: string;
  rateRate: string;
  ratePer: string;
  rateBurst: string;
  rateKey: string; // ip, route, subject or header
  rateHeader: string; // the header's name when rateKey is header
  bodyLimit: string;
  cacheMaxAge: string;
  cachePublic: boolean;
  cacheNoStore: boolean;
  corsOrigins: string; // comma-separated
  compress: boolean;
  csrf: boolean;
  csrfOrigins: string; // comma-separated trusted origins
}

/** A header map as "Name: value" lines ("Name:" for an empty value). */
function headerLines(headers?: Record<string, string> | null): string {
  return Object.entries(headers ?? {})
    .map(([k, v]) => (v === '' ? `${k}:` : `${k}: ${v}`))
    .join('\n');
}

/** The header map "Name: value" lines describe. A line without a colon is
 * dropped, or, with bare set, taken as a name with an empty value (sent
 * as it is, so the server names a bad one). A value that differs from the
 * original's only in surrounding space keeps the original's, so that an
 * untouched form gives the route back unchanged. */
function headerMap(text: string, original?: Record<string, string> | null, bare = false): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    const name = (i < 0 ? line : line.slice(0, i)).trim();
    if (!name || (i < 0 && !bare)) continue;
    const value = i < 0 ? '' : line.slice(i + 1).trim();
    const was = original?.[name];
    headers[name] = was !== undefined && was.trim() === value ? was : value;
  }
  return headers;
}

/** Comma-separated origins as a list. */
function originList(text: string): string[] {
  return text
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
}

export function formFromRoute(r?: Route): RouteForm {
  const p = r?.policy ?? undefined;
  const key = p?.rateLimit?.key || 'ip';
  const byHeader = key.startsWith(HEADER_KEY);
  return {
    id: r?.id ?? '',
    method: r?.method ?? 'GET',
    path: r?.path ?? '/',
    kind: r?.kind ?? 'mock',
    handlerName: r?.handler?.name ?? '',
    redirectTo: r?.redirect?.to ?? '',
    redirectStatus: String(r?.redirect?.status ?? 308),
    staticDir: r?.static?.dir ?? 'public',
    staticIndex: r?.static?.index ?? 'index.html',
    proxyUpstream: r?.proxy?.upstream ?? 'http://127.0.0.1:9000',
    proxyStripPrefix: r?.proxy?.stripPrefix ?? '',
    proxyRewrite: r?.proxy?.rewrite ?? '',
    proxyTimeout: r?.proxy?.timeout ?? '30s',
    proxySetHeaders: headerLines(r?.proxy?.setHeaders),
    proxyResponseHeaders: headerLines(r?.proxy?.responseHeaders),
    status: String(r?.mock?.status ?? 200),
    headers: headerLines(r?.mock?.headers),
    body: r?.mock?.body ?? '',
    delay: r?.mock?.delay ?? '',
    timeout: p?.timeout ?? '',
    rateRate: p?.rateLimit ? String(p.rateLimit.rate) : '',
    ratePer: p?.rateLimit?.per ?? '1s',
    rateBurst: p?.rateLimit?.burst ? String(p.rateLimit.burst) : '',
    rateKey: byHeader ? 'header' : key,
    rateHeader: byHeader ? key.slice(HEADER_KEY.length) : '',
    bodyLimit: p?.bodyLimit ? String(p.bodyLimit) : '',
    cacheMaxAge: p?.cache?.maxAge ?? '',
    cachePublic: p?.cache?.public ?? false,
    cacheNoStore: p?.cache?.noStore ?? false,
    corsOrigins: (p?.cors?.allowOrigins ?? []).join(', '),
    compress: !!p?.compress,
    csrf: !!p?.csrf,
    csrfOrigins: (p?.csrf?.trustedOrigins ?? []).join(', '),
  };
}

/** Builds the route a form describes; what the form does not edit (CORS
 * details, say) is kept from the original route. Numbers and header names
 * the user typed badly are sent as they are, so the server's validator
 * names them. */
export function routeFromForm(f: RouteForm, original?: Route): Route {
  const num = (s: string) => (s.trim() === '' ? undefined : Number(s.trim()));
  const headers = headerMap(f.headers, original?.mock?.headers);
  const route: Route = { id: f.id.trim(), method: f.method, path: f.path.trim(), kind: f.kind };
  switch (f.kind) {
    case 'handler':
      route.handler = { name: f.handlerName.trim() };
      break;
    case 'redirect':
      route.redirect = { to: f.redirectTo.trim(), status: num(f.redirectStatus) };
      break;
    case 'static':
      route.static = { dir: f.staticDir.trim(), index: f.staticIndex.trim() };
      break;
    case 'proxy': {
      const strip = f.proxyStripPrefix.trim();
      const rewrite = f.proxyRewrite.trim();
      const set = headerMap(f.proxySetHeaders, original?.proxy?.setHeaders, true);
      const answer = headerMap(f.proxyResponseHeaders, original?.proxy?.responseHeaders, true);
      route.proxy = {
        upstream: f.proxyUpstream.trim(),
        ...(strip ? { stripPrefix: strip } : {}),
        ...(rewrite ? { rewrite } : {}),
        timeout: f.proxyTimeout.trim(),
        ...(Object.keys(set).length ? { setHeaders: set } : {}),
        ...(Object.keys(answer).length ? { responseHeaders: answer } : {}),
      };
      break;
    }
    default:
      route.mock = {
        status: num(f.status),
        ...(Object.keys(headers).length ? { headers } : {}),
        ...(f.body ? { body: f.body } : {}),
        ...(f.delay.trim() ? { delay: f.delay.trim() } : {}),
      };
  }
  const policy: NonNullable<Route['policy']> = {};
  if (f.timeout.trim()) policy.timeout = f.timeout.trim();
  if (f.rateRate.trim())
    policy.rateLimit = {
      rate: num(f.rateRate) as number,
      per: f.ratePer.trim() || '1s',
      ...(f.rateBurst.trim() ? { burst: num(f.rateBurst) } : {}),
      key: f.rateKey === 'header' ? HEADER_KEY + f.rateHeader.trim() : f.rateKey || 'ip',
    };
  if (f.bodyLimit.trim()) policy.bodyLimit = num(f.bodyLimit);
  const cache: NonNullable<Policy['cache']> = {};
  if (f.cacheMaxAge.trim()) cache.maxAge = f.cacheMaxAge.trim();
  if (f.cachePublic) cache.public = true;
  if (f.cacheNoStore) cache.noStore = true;
  if (Object.keys(cache).length) policy.cache = cache;
  const origins = originList(f.corsOrigins);
  if (origins.length) policy.cors = { ...(original?.policy?.cors ?? {}), allowOrigins: origins };
  if (f.compress) policy.compress = original?.policy?.compress ?? {};
  if (f.csrf) {
    // Enabled with no trusted origins is {}: same-origin requests only.
    const csrf: NonNullable<Policy['csrf']> = { ...(original?.policy?.csrf ?? {}) };
    const trusted = originList(f.csrfOrigins);
    if (trusted.length) csrf.trustedOrigins = trusted;
    else delete csrf.trustedOrigins;
    policy.csrf = csrf;
  }
  if (Object.keys(policy).length) route.policy = policy;
  return route;
}

const FIELD_OF: [string, keyof RouteForm][] = [
  ['handler.name', 'handlerName'],
  ['handler', 'handlerName'],
  ['redirect.to', 'redirectTo'],
  ['redirect.status', 'redirectStatus'],
  ['redirect', 'redirectTo'],
  ['static.dir', 'staticDir'],
  ['static.index', 'staticIndex'],
  ['static', 'staticDir'],
  ['proxy.upstream', 'proxyUpstream'],
  ['proxy.stripPrefix', 'proxyStripPrefix'],
  ['proxy.rewrite', 'proxyRewrite'],
  ['proxy.timeout', 'proxyTimeout'],
  ['proxy.setHeaders', 'proxySetHeaders'],
  ['proxy.responseHeaders', 'proxyResponseHeaders'],
  ['proxy', 'proxyUpstream'],
  ['kind', 'kind'],
  ['mock.status', 'status'],
  ['mock.headers', 'headers'],
  ['mock.body', 'body'],
  ['mock.delay', 'delay'],
  ['policy.timeout', 'timeout'],
  ['policy.rateLimit.rate', 'rateRate'],
  ['policy.rateLimit.per', 'ratePer'],
  ['policy.rateLimit.burst', 'rateBurst'],
  ['policy.rateLimit.key', 'rateKey'],
  ['policy.bodyLimit', 'bodyLimit'],
  ['policy.cache', 'cacheMaxAge'],
  ['policy.cors', 'corsOrigins'],
  ['policy.compress', 'compress'],
  ['policy.csrf.trustedOrigins', 'csrfOrigins'],
  ['policy.csrf', 'csrf'],
  ['id', 'id'],
  ['method', 'method'],
  ['path', 'path'],
];

/** Sorts the server's errors for route number index onto form fields; the
 * rest (other routes, the document) come back in `other`. */
export function fieldErrorsFor(errors: FieldError[], index: number): { fields: Partial<Record<keyof RouteForm, string>>; other: string[] } {
  const fields: Partial<Record<keyof RouteForm, string>> = {};
  const other: string[] = [];
  const prefix = `routes[${index}].`;
  for (const e of errors) {
    const rest = e.path.startsWith(prefix) ? e.path.slice(prefix.length) : null;
    const hit = rest === null ? undefined : FIELD_OF.find(([p]) => rest === p || rest.startsWith(p + '.') || rest.startsWith(p + '['));
    if (hit && !fields[hit[1]]) fields[hit[1]] = e.message;
    else other.push(e.path ? `${e.path}: ${e.message}` : e.message);
  }
  return { fields, other };
}

/** What an open editor does when the configuration changes under it,
 * given the route as the editor holds it (undefined when adding one), the
 * routes now and whether the form has edits:
 * - follow: the route was not changed elsewhere (or a new one is being
 *   added): the draft applies to the new configuration as it is;
 * - refresh: the route was changed elsewhere and the form has no edits:
 *   show the route as it is now;
 * - conflict: the route was changed elsewhere and the form has edits;
 * - deleted: the route was deleted elsewhere.
 * The last two ask the user; now is the route as it is now. */
export function afterConfigChange(
  original: Route | undefined,
  routes: Route[],
  edited: boolean,
): { action: 'follow' | 'refresh' | 'conflict' | 'deleted'; now?: Route } {
  if (!original) return { action: 'follow' };
  const now = routes.find((r) => r.id === original.id);
  if (!now) return { action: 'deleted' };
  if (stableJSON(now) === stableJSON(original)) return { action: 'follow', now };
  return { action: edited ? 'conflict' : 'refresh', now };
}

/** What a route answers, in a few words, for the table. */
export function routeTarget(r: Route): string {
  switch (r.kind) {
    case 'mock':
      return `${r.mock?.status ?? 200} · ${JSON.stringify((r.mock?.body ?? '').slice(0, 40))}${r.mock?.delay ? ` · after ${r.mock.delay}` : ''}`;
    case 'redirect':
      return `${r.redirect?.status ?? 308} → ${r.redirect?.to ?? ''}`;
    case 'static':
      return `files in ${r.static?.dir ?? ''}/`;
    case 'proxy':
      return `→ ${r.proxy?.upstream ?? ''}`;
    case 'handler':
      return `Go handler ${r.handler?.name ?? ''}`;
    case 'resource':
      return `resource ${r.resource ?? ''} at ${r.path} and ${r.path}/{id}`;
  }
  return r.kind;
}

/** "file.go:12" from a full "…/dir/file.go:12" source, for the table (the
 * title shows the whole path). */
export function shortSource(source: string): string {
  return source.slice(source.lastIndexOf('/') + 1);
}
