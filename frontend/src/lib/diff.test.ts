import { describe, expect, it } from 'vitest';
import { diffLines } from './diff';

describe('diffLines', () => {
  it('marks changed lines', () => {
    const got = diffLines('a\nb\nc', 'a\nB\nc\nd');
    expect(got).toEqual([
      { op: ' ', text: 'a' },
      { op: '-', text: 'b' },
      { op: '+', text: 'B' },
      { op: ' ', text: 'c' },
      { op: '+', text: 'd' },
    ]);
  });
  it('handles empty sides', () => {
    expect(diffLines('', 'x')).toEqual([{ op: '+', text: 'x' }]);
    expect(diffLines('x', '')).toEqual([{ op: '-', text: 'x' }]);
    expect(diffLines('', '')).toEqual([]);
  });
});

describe('stableJSON', () => {
  it('ignores key order', async () => {
    const { stableJSON } = await import('./diff');
    expect(stableJSON({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } })).toBe(stableJSON({ a: { c: null, d: [{ y: 2, z: 1 }] }, b: 1 }));
  });
});
