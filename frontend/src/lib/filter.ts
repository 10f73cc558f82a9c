import type { RequestEvent } from '../api/types.gen';

/** A status filter: exact codes and whole classes ("2xx"). */
export interface StatusFilter {
  codes: Set<number>;
  classes: Set<number>;
}

/** Parses "404", "5xx", "2xx, 404" and the like; blank means no filter.
 * Returns an error message for anything else. */
export function parseStatusFilter(text: string): StatusFilter | null | string {
  const parts = text
    .split(/[\s,]+/)
    .map((p) => p.trim().toLowerCase())
    .filter(Boolean);
  if (parts.length === 0) return null;
  const f: StatusFilter = { codes: new Set(), classes: new Set() };
  for (const p of parts) {
    if (/^[1-5]xx$/.test(p)) f.classes.add(Number(p[0]));
    else if (/^[1-5]\d\d$/.test(p)) f.codes.add(Number(p));
    else return `"${p}" is not a status: use a code (404) or a class (5xx)`;
  }
  return f;
}

export function matchesRequest(r: RequestEvent, path: string, status: StatusFilter | null): boolean {
  if (path && !r.path.toLowerCase().includes(path.toLowerCase())) return false;
  if (status && !status.codes.has(r.status) && !status.classes.has(Math.floor(r.status / 100))) return false;
  return true;
}
