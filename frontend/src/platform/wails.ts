import type { Connection, Platform } from './platform';

/** The methods the desktop shell binds (main.App in app.go). */
export interface WailsApp {
  Info(): Promise<{ url: string; token: string; project: string; version: string }>;
  OpenProjectDialog(): Promise<void>;
  RevealProject(): Promise<void>;
  OpenExternal(url: string): Promise<void>;
  RecentProjects(): Promise<string[]>;
  OpenProject(path: string): Promise<void>;
}

export function wailsPlatform(app: WailsApp): Platform {
  return {
    kind: 'desktop',
    async connection(): Promise<Connection> {
      const info = await app.Info();
      return { url: info.url, token: info.token };
    },
    openProject: () => app.OpenProjectDialog(),
    revealProject: () => app.RevealProject(),
    openExternal: (url) => void app.OpenExternal(url),
  };
}
