import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatUptime } from './format';

describe('format', () => {
  it.each([
    [0.25, '250 µs'],
    [3.456, '3.46 ms'],
    [42.04, '42.0 ms'],
    [1500, '1.50 s'],
  ])('duration %d ms', (ms, want) => expect(formatDuration(ms)).toBe(want));

  it.each([
    [13, '13 B'],
    [2048, '2.0 KiB'],
    [3 * 1024 * 1024, '3.0 MiB'],
  ])('bytes %d', (n, want) => expect(formatBytes(n)).toBe(want));

  it.each([
    [5.9, '5s'],
    [65, '1m 5s'],
    [3725, '1h 2m 5s'],
    [90061, '1d 1h 1m'],
  ])('uptime %d s', (s, want) => expect(formatUptime(s)).toBe(want));
});
