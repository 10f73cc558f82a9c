// A shell the studio runs in: the desktop window (Wails) or a browser.
// Only src/platform/ knows which; the rest of the UI asks this interface.

/** Where the admin API is and how to authenticate to it. */
export interface Connection {
  /** Base URL of the server, e.g. http://127.0.0.1:18080 */
  url: string;
  /** Bearer token; empty in the browser, which uses the session cookie. */
  token: string;
}

export interface Platform {
  kind: 'desktop' | 'browser';
  connection(): Promise<Connection>;
  /** Desktop only: open another project folder. */
  openProject?(): Promise<void>;
  /** Desktop only: show the project folder in the file manager. */
  revealProject?(): Promise<void>;
  /** Open an http(s) link outside the studio. */
  openExternal(url: string): void;
}
