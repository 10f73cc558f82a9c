import { browserPlatform } from './browser';
import type { Platform } from './platform';
import { wailsPlatform, type WailsApp } from './wails';

export type { Connection, Platform } from './platform';

/** Picks the shell at run time: Wails injects window.go.main.App. */
export function detectPlatform(w: Window & { go?: { main?: { App?: WailsApp } } } = window): Platform {
  const app = w.go?.main?.App;
  return app ? wailsPlatform(app) : browserPlatform(w.location);
}
