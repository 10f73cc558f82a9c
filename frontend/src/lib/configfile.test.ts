import { describe, expect, it } from 'vitest';
import type { Event } from '../api/types.gen';
import { changedBy, fileProblemAfter, fileProblemOf, type FileProblem } from './configfile';

const ev = (type: string, data: unknown, time = '2026-11-25T02:00:01.123456789Z'): Event => ({ type, seq: 1, time, data });

describe('fileProblemAfter', () => {
  const shown: FileProblem = { errors: [{ path: 'routes[0].path', message: 'parameter {y} declared twice' }], time: '2026-11-25T02:00:00Z' };

  it.each<[string, FileProblem | null, Event, FileProblem | null]>([
    [
      'a config.error shows its problems with their paths',
      null,
      ev('config.error', { source: 'file', errors: [{ path: 'routes[1].path', message: 'parameter {y} declared twice' }] }),
      { errors: [{ path: 'routes[1].path', message: 'parameter {y} declared twice' }], time: '2026-11-25T02:00:01.123456789Z' },
    ],
    [
      'a config.error without problems still says the file is invalid',
      null,
      ev('config.error', { source: 'file', errors: [] }),
      { errors: [{ path: '', message: 'covet.json is invalid' }], time: '2026-11-25T02:00:01.123456789Z' },
    ],
    ['a later config.error replaces the earlier one', shown, ev('config.error', { source: 'file', errors: [{ path: '', message: 'bad JSON' }] }), { errors: [{ path: '', message: 'bad JSON' }], time: '2026-11-25T02:00:01.123456789Z' }],
    ['a config.changed clears it', shown, ev('config.changed', { version: 4, etag: '"y"', source: 'file', restartRequired: [], dryRun: false }), null],
    ['other events leave it', shown, ev('request', {}), shown],
  ])('%s', (_name, current, event, want) => {
    expect(fileProblemAfter(current, event)).toEqual(want);
  });
});

describe('fileProblemOf', () => {
  it('shows what the server reports, and nothing when the file is what runs', () => {
    const errors = [{ path: 'routes[1].path', message: 'parameter {y} declared twice' }];
    expect(fileProblemOf({ source: 'file', errors }, 't')).toEqual({ errors, time: 't' });
    expect(fileProblemOf({ source: 'file', errors: [] }, 't')).toBeNull();
  });
});

describe('changedBy', () => {
  it.each([
    ['file', 'covet.json was edited on disk'],
    ['undo', 'a change was undone'],
    ['api', 'a change was applied from another window or client'],
    ['', 'the configuration changed'],
  ])('%s', (source, want) => expect(changedBy(source)).toBe(want));
});
