/** Prepends items (newest first) and keeps at most cap of them. */
export function prependBounded<T>(list: T[], items: T[], cap: number): T[] {
  if (items.length === 0) return list;
  const out = items.length >= cap ? items.slice(0, cap) : items.concat(list.slice(0, cap - items.length));
  return out;
}

/** Appends items (oldest first) and keeps the last cap of them. */
export function appendBounded<T>(list: T[], items: T[], cap: number): T[] {
  const out = list.concat(items);
  return out.length > cap ? out.slice(out.length - cap) : out;
}
