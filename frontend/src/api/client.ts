// The only code that calls the admin API over HTTP (docs/admin-api.md).
import type { Connection } from '../platform';
import type { Info, MetricSample, RequestEvent } from './types.gen';

/** An admin API answer other than 2xx, with the problem's detail. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Fetch = typeof fetch;

export class ApiClient {
  constructor(
    private readonly conn: Connection,
    private readonly fetcher: Fetch = (...a) => fetch(...a),
  ) {}

  /** Headers and credentials for a request: the bearer token when the
   * shell has one (desktop), else the same-origin session cookie. */
  init(extra: RequestInit = {}): RequestInit {
    const headers = new Headers(extra.headers);
    if (this.conn.token) headers.set('Authorization', `Bearer ${this.conn.token}`);
    return { ...extra, headers, credentials: this.conn.token ? 'omit' : 'same-origin' };
  }

  private async get<T>(path: string): Promise<T> {
    let res: Response;
    try {
      res = await this.fetcher(this.conn.url + path, this.init());
    } catch (e) {
      throw new ApiError(0, `the server at ${this.conn.url} is unreachable`);
    }
    if (!res.ok) {
      let detail = res.statusText;
      try {
        const p = await res.json();
        detail = p.detail || p.title || detail;
      } catch {
        /* not problem+json */
      }
      throw new ApiError(res.status, detail);
    }
    return (await res.json()) as T;
  }

  info = () => this.get<Info>('/_covet/api/info');
  requests = (limit: number) => this.get<RequestEvent[]>(`/_covet/api/requests?limit=${limit}`);
  series = () => this.get<MetricSample[]>('/_covet/api/metrics/series');

  /** The event stream's URL and WebSocket subprotocols. */
  streamTarget(): { url: string; protocols: string[] } {
    const url = this.conn.url.replace(/^http/, 'ws') + '/_covet/api/events';
    const protocols = ['covet.v1'];
    if (this.conn.token) protocols.push('covet.token.' + this.conn.token);
    return { url, protocols };
  }
}
