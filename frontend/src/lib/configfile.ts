// What the studio shows about changes to the configuration made
// elsewhere: a covet.json edit on disk the server refused (config.error),
// and who changed the configuration (config.changed).
import type { ConfigChange, ConfigError, Event, FieldError } from '../api/types.gen';

/** The problems of the last edit of covet.json the server refused, and
 * when it reported them (the server's clock). */
export interface FileProblem {
  errors: FieldError[];
  time: string;
}

/** The file problem after ev: a config.error shows the problems, a
 * config.changed clears them (the file was fixed or reverted); other
 * events change nothing. */
export function fileProblemAfter(current: FileProblem | null, ev: Event): FileProblem | null {
  switch (ev.type) {
    case 'config.error': {
      const errors = (ev.data as ConfigError | null)?.errors ?? [];
      return { errors: errors.length ? errors : [{ path: '', message: 'covet.json is invalid' }], time: ev.time };
    }
    case 'config.changed':
      return null;
  }
  return current;
}

/** The file problem the server reports now (GET /_covet/api/config/file),
 * for a studio that opened, or whose stream reconnected, after the
 * config.error. */
export function fileProblemOf(state: ConfigError, now: string): FileProblem | null {
  return state.errors?.length ? { errors: state.errors, time: now } : null;
}

/** Who changed the configuration, in words, from a config.changed's
 * source. */
export function changedBy(source: ConfigChange['source'] | ''): string {
  switch (source) {
    case 'file':
      return 'covet.json was edited on disk';
    case 'api':
      return 'a change was applied from another window or client';
    case 'undo':
      return 'a change was undone';
  }
  return 'the configuration changed';
}
