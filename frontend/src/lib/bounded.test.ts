import { describe, expect, it } from 'vitest';
import { appendBounded, prependBounded } from './bounded';

describe('prependBounded', () => {
  const cases: [string, number[], number[], number, number[]][] = [
    ['empty', [], [1], 3, [1]],
    ['newest first', [2, 1], [4, 3], 5, [4, 3, 2, 1]],
    ['drops the oldest', [3, 2, 1], [5, 4], 3, [5, 4, 3]],
    ['more new than fits', [1], [9, 8, 7, 6], 2, [9, 8]],
    ['nothing new', [1], [], 2, [1]],
  ];
  it.each(cases)('%s', (_n, list, items, cap, want) => {
    expect(prependBounded(list, items, cap)).toEqual(want);
  });
});

describe('appendBounded', () => {
  it('keeps the last cap items in order', () => {
    expect(appendBounded([1, 2, 3], [4, 5], 4)).toEqual([2, 3, 4, 5]);
    expect(appendBounded([], [1], 4)).toEqual([1]);
  });
});
