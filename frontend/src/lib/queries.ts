// The Query Inspector's model: executed statements grouped under the
// request that ran them, the filters over them, and the flat rows the
// virtual list draws.
import type { QueryEvent, QueryStat, RequestEvent } from '../api/types.gen';

/** A statement as the inspector keeps it: with a local id for list keys. */
export interface Query extends QueryEvent {
  id: number;
}

/** The key of the group of statements that ran outside any request. */
export const BACKGROUND = 'background';

/** The statements of one request (or of the background), newest first. */
export interface RequestGroup {
  /** The request id, or BACKGROUND. */
  key: string;
  route: string;
  queries: Query[];
  /** Sum of the statements' durations. */
  totalMs: number;
  slow: number;
  errors: number;
  /** Statements flagged as N+1, and the largest repeat count of a verdict. */
  nPlusOne: number;
  nPlusOneCount: number;
  /** Time of the newest statement. */
  time: string;
  /** The request itself, when its event was seen. */
  request?: RequestEvent;
}

/** Groups statements (newest first) by request id, the group of the newest
 * statement first. Statements without a request id form one BACKGROUND
 * group. */
export function groupQueries(queries: Query[], requests?: ReadonlyMap<string, RequestEvent>): RequestGroup[] {
  const byKey = new Map<string, RequestGroup>();
  const out: RequestGroup[] = [];
  for (const q of queries) {
    const key = q.requestId || BACKGROUND;
    let g = byKey.get(key);
    if (!g) {
      g = { key, route: q.requestId ? q.route : '', queries: [], totalMs: 0, slow: 0, errors: 0, nPlusOne: 0, nPlusOneCount: 0, time: q.time, request: requests?.get(key) };
      byKey.set(key, g);
      out.push(g);
    }
    g.queries.push(q);
    g.totalMs += q.durationMs;
    if (q.slow) g.slow++;
    if (q.error) g.errors++;
    if (q.nPlusOne) {
      g.nPlusOne++;
      g.nPlusOneCount = Math.max(g.nPlusOneCount, q.verdict?.count ?? 0);
    }
    if (!g.route && q.route) g.route = q.route;
  }
  return out;
}

export interface QueryFilter {
  /** Exact route ("GET /books"); BACKGROUND for statements outside requests; '' for all. */
  route: string;
  /** Case-insensitive text in the SQL, the fingerprint or the caller. */
  text: string;
  /** Minimum duration in milliseconds (0 for none). */
  minMs: number;
  nPlusOneOnly: boolean;
  slowOnly: boolean;
}

export const NO_FILTER: QueryFilter = { route: '', text: '', minMs: 0, nPlusOneOnly: false, slowOnly: false };

export function isFiltering(f: QueryFilter): boolean {
  return !!(f.route || f.text.trim() || f.minMs > 0 || f.nPlusOneOnly || f.slowOnly);
}

export function matchesQuery(q: QueryEvent, f: QueryFilter): boolean {
  if (f.route && (f.route === BACKGROUND ? !!q.requestId : q.route !== f.route || !q.requestId)) return false;
  if (f.minMs > 0 && q.durationMs < f.minMs) return false;
  if (f.nPlusOneOnly && !q.nPlusOne) return false;
  if (f.slowOnly && !q.slow) return false;
  const t = f.text.trim().toLowerCase();
  if (t && !q.sql.toLowerCase().includes(t) && !q.fingerprint.toLowerCase().includes(t) && !q.caller.toLowerCase().includes(t)) return false;
  return true;
}

/** The routes statements ran under, sorted, for the route filter. */
export function routesOf(queries: QueryEvent[]): string[] {
  const set = new Set<string>();
  for (const q of queries) if (q.requestId && q.route) set.add(q.route);
  return [...set].sort();
}

/** A row of the inspector's list: a request header or one of its statements. */
export type Row = { kind: 'request'; key: string; group: RequestGroup } | { kind: 'query'; key: string; group: RequestGroup; query: Query };

/** The list's rows: each group's header followed by its statements, unless
 * the group is collapsed. */
export function rowsOf(groups: RequestGroup[], collapsed: ReadonlySet<string> = new Set()): Row[] {
  const rows: Row[] = [];
  for (const g of groups) {
    rows.push({ kind: 'request', key: 'r:' + g.key, group: g });
    if (collapsed.has(g.key)) continue;
    for (const q of g.queries) rows.push({ kind: 'query', key: 'q:' + q.id, group: g, query: q });
  }
  return rows;
}

export type StatColumn = Exclude<keyof QueryStat, never>;

/** Sorts statistics by a column; text sorts alphabetically, numbers
 * largest first when descending. */
export function sortStats(stats: QueryStat[], column: StatColumn, descending: boolean): QueryStat[] {
  const dir = descending ? -1 : 1;
  return [...stats].sort((a, b) => {
    const x = a[column];
    const y = b[column];
    const c = typeof x === 'string' ? x.localeCompare(y as string) : (x as number) - (y as number);
    return c * dir || a.fingerprint.localeCompare(b.fingerprint);
  });
}

/** What the server sends in place of a sensitive column's value
 * (orm.Redacted): the value itself is never kept. */
export const REDACTED = '[redacted]';

/** The positions of args that were redacted. */
export function redactedArgs(args: readonly unknown[]): number[] {
  return args.flatMap((a, i) => (a === REDACTED ? [i] : []));
}

/** The args to EXPLAIN a statement with: each redacted one replaced by the
 * value the user typed for its position (a number when it reads as one),
 * or null when they typed nothing. */
export function explainArgs(args: readonly unknown[], typed: Readonly<Record<number, string>>): unknown[] {
  return args.map((a, i) => {
    if (a !== REDACTED) return a;
    const v = (typed[i] ?? '').trim();
    if (v === '') return null;
    return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
  });
}
